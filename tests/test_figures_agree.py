"""Every output shows the same figures, and they are the figures of docs/figures.md.

A property-based test: hypothesis draws random survey data (tests/figures_oracle.py):
1–4 segments and stakeholders in none, anonymous and named surveys, "Don't know"
answers, unanswered NPS, invitations never sent, groups under the minimum group size,
and stakeholders who changed segment after the launch, answered or not. The figures of that data are
worked out in plain Python from docs/figures.md (the oracle) and compared with:

- the results page, the dashboard (for the whole survey and with each segment chosen)
  and the suggestions, as their lead reads them;
- the agenda report: its stored figures, its HTML, and its figures from the API;
- the survey's results from the API;
- the survey's CSV export, from whose rows the figures are worked out again;
- the results page, the API and the dashboard again once the survey's figures are kept, as
  closing keeps them (agenda/figures/kept.py);
- the engagement index (docs/engagement.md), of the whole PMO and per segment, on the
  dashboard and in the report, against the formula worked out in plain Python;
- the figures per service the survey asked about (agenda/figures/services.py, docs/services.md):
  the layer's own, per survey, segment and catalogue service, the heat map, the dashboard's
  three services to work on, the service suggestions and the report's services section.

Pages round for display: each is compared with the oracle rounded as docs/figures.md
("Rounding") says, except that at an exact tie (6.25 to one decimal) either neighbour is
taken; the tests after the property pin how ties are shown. The API and the report store
unrounded numbers, compared within 1e-9.

Where outputs used to disagree (ties rounded half to even in some outputs, half up in
others), a test of its own pins that they now agree.
"""

import csv
import io
import json
import os
import random
import re
from collections import Counter
from contextlib import contextmanager
from datetime import date
from fractions import Fraction

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings

from agenda.figures import kept
from agenda.figures import services as service_figures
from agenda.models import AgendaReport, KeptElementFigures, MaturityRecord
from agenda.reports import services as reports
from agenda.reports import snapshot
from pmo5p.domain import Element, ServiceUsage
from pmo5p.models import ApiToken
from stakeholders.models import QuestionKind, Stakeholder
from tests.factories import UserFactory
from tests.figures_oracle import (
    ELEMENTS,
    AskedService,
    GroupFigures,
    Oracle,
    Person,
    Reply,
    Scenario,
    ServiceReply,
    build,
    close,
    displays,
    read_figures,
    rounded,
    scenarios,
    signed_displays,
    text,
    texts,
)

# Thirty drawn examples (and the explicit ones) keep the file under a minute on one core;
# derandomized, every run tries the same ones. PMO5P_FIGURES_PROFILE=figures-explore
# draws ten times as many, at random, to look further.
settings.register_profile(
    "figures",
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    # One database, client and user serve every example: each example rolls back its rows.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("figures-explore", settings.get_profile("figures"), max_examples=300, derandomize=False)
PROFILE = settings.get_profile(os.environ.get("PMO5P_FIGURES_PROFILE", "figures"))


@pytest.fixture
def lead(db):
    return UserFactory(email="lead@figures.example")


@pytest.fixture
def browser(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def api(lead):
    _token, key = ApiToken.issue(user=lead, name="figures")
    return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    """The report's PDF holds no figure of its own; WeasyPrint would take most of the time."""
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")


@contextmanager
def rolled_back():
    """The rows made inside are gone afterwards, so that each example starts empty."""
    with transaction.atomic():
        cache.clear()  # the rate limits count requests in the cache
        yield
        transaction.set_rollback(True)


def reply(ratings=(4, 4), importance=4, nps=8, **by_element) -> Reply:
    """A reply rating every P's two statements `ratings`, but the P's given by value."""
    pairs = tuple(tuple(by_element.get(e.value, ratings)) for e in ELEMENTS)
    return Reply(pairs, (importance,) * len(ELEMENTS), nps)


def sent(segment, answer=None, *, launched_in="same") -> Person:
    return Person(segment, segment if launched_in == "same" else launched_in, "sent", answer)


DK = None
# Named: a segment of exactly the minimum (one of its three answered and moved on since, and
# one who did not answer moved too), one under it, "No segment" with enough, invitations not
# sent, an NPS left out.
NAMED = Scenario(
    anonymous=False,
    segment_count=3,
    people=(
        sent(0, reply((5, 4), 5, 10, product=(DK, 2))),
        sent(0, reply((1, 2), 5, None, price=(DK, DK))),
        sent(1, reply((2, 2), 2, 6), launched_in=0),
        sent(1, reply((4, 5), 3, 7)),
        sent(None, reply((3, 3), 1, 0)),
        sent(None, reply((4, 4), 2, 8)),
        sent(None, reply((5, 5), 3, 9, people=(DK, 1))),
        sent(2),
        sent(2, launched_in=0),
        Person(2, 2, "pending"),
        Person(None, None, "failed"),
    ),
    self_ratings=((3,), (2, 4), (), (5,), (1, 1)),
)
# Anonymous: small groups the CSV must not name, a P nobody rated, no NPS at all, and someone
# who did not answer moved out of a segment.
ANONYMOUS = Scenario(
    anonymous=True,
    segment_count=2,
    people=(
        sent(0, reply((2, 3), 5, None, process=(DK, DK))),
        sent(0, reply((4, 1), 4, None, process=(DK, DK))),
        sent(1, reply((5, 5), 1, None, process=(DK, DK))),
        sent(None, reply((3, 4), 3, None, process=(DK, DK)), launched_in=0),
        sent(1),
        sent(None, launched_in=1),
    ),
    self_ratings=((4,), (), (), (), ()),
)

USES, KNOWS, UNAWARE = (ServiceUsage.USES.value, ServiceUsage.KNOWS.value, ServiceUsage.UNAWARE.value)


def said(*replies) -> tuple:
    """A person's service answers: (usage, satisfaction, importance), a usage alone, or None."""
    return tuple(None if r is None else ServiceReply(r) if isinstance(r, str) else ServiceReply(*r) for r in replies)


# Services: one for everyone (Product), one for Segment 1 only (People and Process), one for
# Segment 2 only that too few answered. Someone in Segment 1 left the second unanswered.
SERVICES = Scenario(
    anonymous=True,
    segment_count=2,
    people=(
        Person(0, 0, "sent", reply((4, 4), 4), said((USES, 2, 5), (USES, 5, 4), None)),
        Person(0, 0, "sent", reply((3, 3), 5), said((USES, None, 4), (USES, 3, None), None)),
        Person(0, 0, "sent", reply((2, 5), 3), said(KNOWS, (USES, 1, 5), None)),
        Person(0, 0, "sent", reply((5, 5), 2), said(UNAWARE, None, None)),
        Person(1, 1, "sent", reply((1, 2), 1), said(UNAWARE, None, (USES, 4, 4))),
        Person(1, 1, "sent", reply((4, 1), 4), said((USES, 1, DK), None, KNOWS)),
        Person(None, None, "sent", reply((3, 3), 3), said(KNOWS, None, None)),
    ),
    self_ratings=((3,), (), (), (), ()),
    services=(
        AskedService((), (Element.PRODUCT,)),
        AskedService((0,), (Element.PEOPLE, Element.PROCESS)),
        AskedService((1,), ()),
    ),
)


@PROFILE
@example(scenario=NAMED)
@example(scenario=ANONYMOUS)
@example(scenario=SERVICES)
@given(scenario=scenarios())
def test_every_output_shows_the_figures_of_the_docs(scenario, browser, api, lead):
    oracle = Oracle(scenario, django_settings.MIN_GROUP_SIZE)
    with rolled_back():
        built = build(scenario, lead)
        check_results_page(browser, built, oracle)
        check_survey_api(api, built, oracle)
        check_csv_export(browser, built, oracle)
        check_dashboard(browser, built, oracle.survey())
        for index, segment in enumerate(built.segments):
            check_dashboard(browser, built, oracle.segment(index), segment=segment)
        suggested = check_suggestions(browser, built, oracle)
        check_services(browser, built, oracle)
        check_report(api, built, oracle, lead, suggested)
        # The survey's figures kept, as closing keeps them (agenda/figures/kept.py): the same
        # figures again, read from the kept rows instead of the answers.
        kept.keep_figures([built.survey.pk])
        assert KeptElementFigures.objects.filter(survey=built.survey).exists() == bool(oracle.respondents)
        check_results_page(browser, built, oracle)
        check_survey_api(api, built, oracle)
        check_dashboard(browser, built, oracle.survey())
        for index, segment in enumerate(built.segments):
            check_dashboard(browser, built, oracle.segment(index), segment=segment)
        check_engagement(browser, built)


# The results page ----------------------------------------------------------------------------


def survey_url(name, built) -> str:
    return reverse(name, kwargs={"slug": built.pmo.slug, "survey_id": built.survey.pk})


def get_page(client, address) -> str:
    response = client.get(address)
    assert response.status_code == 200, address
    return response.content.decode()


def check_results_page(client, built, oracle):
    page = get_page(client, survey_url("survey_results", built))
    found = read_figures(page)
    survey = oracle.survey()
    assert text(found, "response-rate") in displays(survey.response_rate, 0, suffix="%")
    assert text(found, "nps") in displays(survey.nps.score, 0)
    counts = [text(found, name) for name in ("promoters", "passives", "detractors")]
    assert counts == [str(survey.nps.promoters), str(survey.nps.passives), str(survey.nps.detractors)]
    if not oracle.respondents:
        assert not texts(found, "perception")  # "No response yet" instead of the tables
        return
    for element, expected in survey.elements.items():
        row = {"element": element.value}
        assert text(found, "perception", **row) in displays(expected.perception, 1), element
        assert text(found, "importance", **row) in displays(expected.importance, 1), element
        assert answer_counts(text(found, "perception-answers", **row)) == (
            expected.perception_answers,
            expected.dont_know,
        ), element
        assert answer_counts(text(found, "importance-answers", **row)) == (expected.importance_answers, 0), element
    check_segment_rows(found, oracle)
    check_per_stakeholder(found, built, oracle)
    chart = chart_data(page, "chart-data")
    assert chart["labels"] == [e.label for e in ELEMENTS]
    for element, perception, importance in zip(ELEMENTS, chart["perception"], chart["importance"], strict=True):
        assert charted(perception, survey.elements[element].perception), element
        assert charted(importance, survey.elements[element].importance), element
    assert chart["nps"] == [survey.nps.detractors, survey.nps.passives, survey.nps.promoters]


def chart_data(page: str, script_id: str) -> dict:
    """The figures a page hands its charts (json_script)."""
    (data,) = re.findall(rf'<script id="{script_id}" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(data)


def charted(value, exact) -> bool:
    """A chart's number: the figure rounded to one decimal (either neighbour at a tie), or null."""
    return value is None if exact is None else value in {float(v) for v in rounded(exact, 1)}


def answer_counts(shown: str) -> tuple[int, int]:
    """(answers, don't know) from "8 answers, 4 don't know" or "1 answer"."""
    match = re.fullmatch(r"(\d+) answers?(?:, (\d+) don't know)?", shown)
    return int(match.group(1)), int(match.group(2) or 0)


def check_segment_rows(found, oracle):
    rows = oracle.segment_rows()
    assert [s.context["segment"] for s in found if s.name == "segment-responses"] == [row.name for row in rows]
    for row in rows:
        responses = text(found, "segment-responses", segment=row.name)
        perceptions = texts(found, "segment-perception", segment=row.name)
        if row.hidden:
            assert (responses, perceptions) == (f"fewer than {oracle.minimum}", []), row.name
            assert not texts(found, "segment-response-rate", segment=row.name), row.name
            continue
        assert responses == str(row.responses), row.name
        rate = Fraction(row.responses * 100, row.sent) if row.sent else None
        assert text(found, "segment-response-rate", segment=row.name) in displays(rate, 0, suffix="%"), row.name
        # The columns are the five P's in Element order, as the table's header.
        assert len(perceptions) == len(ELEMENTS), row.name
        for element, shown in zip(ELEMENTS, perceptions, strict=True):
            assert shown in displays(row.perception[element], 1), (row.name, element)


def check_per_stakeholder(found, built, oracle):
    if oracle.scenario.anonymous:
        assert not texts(found, "response-perception") and not texts(found, "response-nps")
        return
    shown = {s.context["stakeholder"] for s in found if s.name == "response-nps"}
    answered = {
        str(stakeholder.pk): person
        for person, stakeholder in zip(oracle.scenario.people, built.stakeholders, strict=True)
        if person.reply
    }
    assert shown == set(answered)
    for pk, person in answered.items():
        perceptions = texts(found, "response-perception", stakeholder=pk)
        expected = oracle.response_perception(person.reply)
        assert len(perceptions) == len(ELEMENTS)
        for element, value, figure in zip(ELEMENTS, perceptions, expected, strict=True):
            assert value in displays(figure, 1), (pk, element)
        assert text(found, "response-nps", stakeholder=pk) == (
            "—" if person.reply.nps is None else str(person.reply.nps)
        )


# The API's survey results -----------------------------------------------------------------------


def check_survey_api(api, built, oracle):
    address = reverse("api-survey-results", kwargs={"slug": built.pmo.slug, "pk": built.survey.pk})
    response = api.get(address)
    assert response.status_code == 200
    data = response.json()
    survey = oracle.survey()
    assert (data["invited"], data["sent"], data["responses"]) == (oracle.invited, oracle.sent, len(oracle.respondents))
    assert close(data["response_rate"], survey.response_rate)
    nps = data["nps"]
    assert close(nps["score"], survey.nps.score)
    assert (nps["answers"], nps["promoters"], nps["passives"], nps["detractors"]) == (
        survey.nps.answers,
        survey.nps.promoters,
        survey.nps.passives,
        survey.nps.detractors,
    )
    assert [row["element"] for row in data["elements"]] == [e.value for e in ELEMENTS]
    for row in data["elements"]:
        expected = survey.elements[Element(row["element"])]
        assert close(row["perception"], expected.perception), row
        assert close(row["importance"], expected.importance), row
        assert (row["perception_answers"], row["dont_know"], row["importance_answers"]) == (
            expected.perception_answers,
            expected.dont_know,
            expected.importance_answers,
        ), row
    rows = oracle.segment_rows()
    assert [(s["name"], s["hidden"]) for s in data["segments"]] == [(row.name, row.hidden) for row in rows]
    for shown, row in zip(data["segments"], rows, strict=True):
        assert shown["segment"] == (None if row.index is None else built.segments[row.index].pk)
        if row.hidden:
            # A hidden group does not even say how small it is.
            assert (shown["responses"], shown["perception"]) == (None, {}), row.name
            continue
        assert shown["responses"] == row.responses, row.name
        assert set(shown["perception"]) == {e.value for e in ELEMENTS}
        for element in ELEMENTS:
            assert close(shown["perception"][element.value], row.perception[element]), (row.name, element)
    assert data["min_group_size"] == oracle.minimum


# The CSV export ------------------------------------------------------------------------------


def check_csv_export(client, built, oracle):
    response = client.get(survey_url("survey_export", built))
    assert response.status_code == 200
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    table = list(reader)
    replies = [(row["segment"], row.get("stakeholder"), reply_of(row, built.survey)) for row in table]
    every = [answer for _, _, answer in replies]
    assert len(every) == len(oracle.respondents)
    assert oracle.elements(every) == oracle.survey().elements
    assert oracle.nps(every) == oracle.survey().nps
    assert Counter(segment for segment, _, _ in replies) == oracle.csv_segments()
    for index, name in enumerate(oracle.names):
        in_segment = [answer for segment, _, answer in replies if segment == name]
        if in_segment:
            assert oracle.elements(in_segment) == oracle.elements(oracle.answered_in(index)), name
    if oracle.scenario.anonymous:
        assert not {"stakeholder", "email", "submitted_at"} & set(reader.fieldnames or [])
        return
    people = {f"Person {n:02d}": person for n, person in enumerate(oracle.scenario.people)}
    for _, name, answer in replies:
        assert answer == people[name].reply, name


def reply_of(row: dict, survey) -> Reply:
    """One CSV row back as a Reply: the cells of each P's statements and importance question."""
    kinds = dict(survey.questions.values_list("text", "kind"))
    ratings = {e: [] for e in ELEMENTS}
    importance = {}
    labels = {e.label: e for e in ELEMENTS}
    for header, cell in row.items():
        label, _, question = header.partition(": ")
        if label not in labels:
            continue
        element = labels[label]
        if kinds[question] == QuestionKind.IMPORTANCE:
            importance[element] = int(cell)
        else:
            ratings[element].append(None if cell == "don't know" else int(cell))
    return Reply(
        tuple(tuple(ratings[e]) for e in ELEMENTS),
        tuple(importance[e] for e in ELEMENTS),
        int(row["nps"]) if row["nps"] else None,
    )


# The dashboard --------------------------------------------------------------------------------


def check_dashboard(client, built, expected: GroupFigures | None, segment=None):
    address = reverse("pmo_home", kwargs={"slug": built.pmo.slug})
    page = get_page(client, address + (f"?segment={segment.pk}" if segment else ""))
    found = read_figures(page)
    if expected is None:
        for hidden in ("perception", "importance", "nps", "response-rate", "priority"):
            assert not texts(found, hidden), (segment.name, hidden)
        assert "so its figures are hidden to protect anonymity" in page
        return
    for element, figures in expected.elements.items():
        row = {"element": element.value}
        assert text(found, "perception", **row) in displays(figures.perception, 1), element
        assert text(found, "importance", **row) in displays(figures.importance, 1), element
        assert text(found, "self", **row) in displays(figures.self_score, 1), element
        assert text(found, "gap", **row) in signed_displays(figures.gap), element
        assert text(found, "quadrant", **row) == (figures.quadrant or "—"), element
    ranked = [(Element(s.context["element"]), s.text) for s in found if s.name == "priority"]
    assert len(ranked) == 3
    for place, (element, shown) in enumerate(ranked, start=1):
        assert place in expected.ranks(element), (place, element)
        assert shown in displays(expected.elements[element].priority, 0), element
    assert text(found, "nps") in displays(expected.nps.score, 0)
    assert text(found, "response-rate") in displays(expected.response_rate, 0, suffix="%")
    responses, sent = re.match(r"(\d+) responses? of (\d+) sent", text(found, "responses-of-sent")).groups()
    assert (int(responses), int(sent)) == (expected.responses, expected.sent)
    check_dashboard_charts(chart_data(page, "dashboard-data"), expected, built)


def check_dashboard_charts(chart, expected: GroupFigures, built):
    rows = [expected.elements[e] for e in ELEMENTS]
    assert chart["labels"] == [e.label for e in ELEMENTS]
    for row, perception, own in zip(rows, chart["perception"], chart["self"], strict=True):
        assert charted(perception, row.perception) and charted(own, row.self_score), row.element
    placed = [row for row in rows if row.perception is not None and row.importance is not None]
    assert [point["label"] for point in chart["ipa"]] == [row.element.label for row in placed]
    for point, row in zip(chart["ipa"], placed, strict=True):
        assert charted(point["x"], row.perception) and charted(point["y"], row.importance), row.element
    # The trend: one closed survey, the same perception again.
    assert chart["trend"]["labels"] == [built.survey.title]
    for series, row in zip(chart["trend"]["series"], rows, strict=True):
        assert series["label"] == row.element.label
        assert len(series["data"]) == 1 and charted(series["data"][0], row.perception), row.element


# The suggestions ---------------------------------------------------------------------------------

ALL_WHY = re.compile(
    r"(?P<label>.+) is priority (?P<rank>\d+): (?P<quadrant>.+) \(perception (?P<p>-?\d+\.\d), importance (?P<i>-?\d+\.\d)\)\."
)
SEGMENT_WHY = re.compile(
    r"For (?P<segment>.+), (?P<label>.+) is in “Concentrate here” \(perception (?P<p>-?\d+\.\d), importance (?P<i>-?\d+\.\d), (?P<n>\d+) responses\)\."
)


def check_suggestions(client, built, oracle) -> list[tuple[str, str]]:
    """The suggestions page: one suggestion at least per placed P, one per segment and P in
    "Concentrate here", each saying its figures; highest priority first. Returns (key, why)."""
    found = read_figures(get_page(client, reverse("suggestion_list", kwargs={"slug": built.pmo.slug})))
    suggested = [(s.context["suggestion"], s.text) for s in found if s.name == "why"]
    survey = oracle.survey()
    segment_of = {str(segment.pk): index for index, segment in enumerate(built.segments)}
    by_segment = oracle.segment_suggestions()
    placed, segments, priorities = set(), set(), []
    number_of = {f"service-{service.pk}": n for n, service in enumerate(built.services)}
    services = set()
    for key, why in suggested:
        if key.startswith("service-"):
            service, kind = key.split(":")
            services.add(f"{number_of[service]}:{kind}")
            continue
        value, _quadrant, audience, _n = key.split(":")
        element = Element(value)
        if audience == "all":
            figures = survey.elements[element]
            match = ALL_WHY.fullmatch(why)
            assert match["label"] == element.label and match["quadrant"] == figures.quadrant.lower(), why
            assert int(match["rank"]) in survey.ranks(element), why
            placed.add(element)
        else:
            index = segment_of[audience.removeprefix("segment-")]
            figures, responses = by_segment[index, element]
            match = SEGMENT_WHY.fullmatch(why)
            assert (match["segment"], match["label"], int(match["n"])) == (
                oracle.names[index],
                element.label,
                responses,
            )
            segments.add((index, element))
        assert match["p"] in displays(figures.perception, 1), why
        assert match["i"] in displays(figures.importance, 1), why
        priorities.append(figures.priority)
    assert placed == {e for e, figures in survey.elements.items() if figures.quadrant}
    assert segments == set(by_segment)
    assert services == oracle.service_suggestions()
    assert all(a >= b - Fraction(1, 10**9) for a, b in zip(priorities, priorities[1:], strict=False)), priorities
    return suggested


# The services ----------------------------------------------------------------------------------


def same_service_figures(actual, expected) -> bool:
    """The layer's ServiceFigures against the oracle's, unrounded."""
    if expected.hidden:
        return actual.suppressed and (actual.answered, actual.satisfaction, actual.importance) == (0, None, None)
    return (
        not actual.suppressed
        and (actual.answered, actual.aware, actual.users) == (expected.answered, expected.aware, expected.users)
        and (actual.satisfaction_n, actual.importance_n) == (expected.satisfaction_n, expected.importance_n)
        and all(
            close(getattr(actual, name), getattr(expected, name))
            for name in ("awareness", "usage", "satisfaction", "importance", "priority")
        )
        and (actual.quadrant.label if actual.quadrant else None) == expected.quadrant
    )


def top_services(oracle) -> list:
    """The oracle's priorities of the three services to work on, highest first."""
    return [f.priority for _n, f in oracle.services_ranked()[:3]]


def placed_as_oracle(shown_numbers: list[int], oracle) -> None:
    """Services shown in this order are the three to work on: their priorities, highest
    first, are the oracle's top three (services of equal priority may take either place)."""
    shown = [oracle.service(n).priority for n in shown_numbers]
    expected = top_services(oracle)
    assert len(shown) == len(expected) and all(close(a, b) for a, b in zip(shown, expected, strict=True)), (
        shown,
        expected,
    )


def check_services(client, built, oracle):
    check_service_layer(built, oracle)
    check_heat_map(client, built, oracle)
    # The dashboard's three services to work on.
    found = read_figures(get_page(client, reverse("pmo_home", kwargs={"slug": built.pmo.slug})))
    number_of = {str(service.pk): n for n, service in enumerate(built.services)}
    placed_as_oracle([number_of[s.context["service"]] for s in found if s.name == "service-why"], oracle)


def check_service_layer(built, oracle):
    """The layer's figures per survey, per segment, per catalogue service and its rows per segment."""
    whole = service_figures.survey_service_figures(built.survey)
    assert list(whole) == [asked.pk for asked in built.asked]
    for n, asked in enumerate(built.asked):
        assert same_service_figures(whole[asked.pk], oracle.service(n)), n
    for index, segment in enumerate(built.segments):
        mine = service_figures.survey_service_figures(built.survey, segment.pk)
        for n, asked in enumerate(built.asked):
            assert same_service_figures(mine[asked.pk], oracle.service(n, index)), (n, index)
    catalogue = service_figures.catalogue_figures(built.pmo)
    assert set(catalogue) == {service.pk for service in built.services}
    names = {name: index for index, name in enumerate(oracle.names)}
    for n, service in enumerate(built.services):
        assert same_service_figures(catalogue[service.pk], oracle.service(n)), n
        # Per segment ("No segment" included), each group as the oracle has it.
        for name, figures in service_figures.service_segment_figures(service):
            assert same_service_figures(figures, oracle.service(n, names.get(name))), (n, name)


def check_heat_map(client, built, oracle):
    """The heat map, as its reader sees it: each service's row, hidden or with its figures in
    the columns of the P's it serves."""
    count = len(built.services)
    page = get_page(client, reverse("service_heat_map", kwargs={"slug": built.pmo.slug}))
    found = read_figures(page)
    if not count:
        assert "This survey asked about no service." in page or "No survey has asked about services yet" in page
    for n, (asked, scenario_service) in enumerate(zip(built.asked, oracle.scenario.services, strict=True)):
        expected, row = oracle.service(n), {"service": str(asked.pk)}
        if expected.hidden:
            assert texts(found, "hidden", **row), n
            assert not texts(found, "satisfaction", **row), n
            continue
        assert text(found, "awareness", **row) in displays(expected.awareness, 0, suffix="%"), n
        assert text(found, "usage", **row) in displays(expected.usage, 0, suffix="%"), n
        for element in ELEMENTS:
            cells = texts(found, "satisfaction", element=element.value, **row)
            if element in scenario_service.elements:
                (cell,) = cells
                assert cell.split(" ")[0] in displays(expected.satisfaction, 1), (n, element)
            else:
                assert not cells, (n, element)


# The agenda report ----------------------------------------------------------------------------------


# The engagement index -------------------------------------------------------------------------

# docs/engagement.md: each power–interest quadrant's default target (high is 4 or 5).
DEFAULT_TARGETS = {(True, True): 5, (True, False): 4, (False, True): 3, (False, False): 2}


def check_engagement(client, built):
    """Give each stakeholder an influence, an interest and (three in four) a maturity stage,
    at random, then compare the dashboard's index and the report's, whole and
    per segment now, with reached / active from docs/engagement.md."""
    groups: dict = {}
    # Drawn from the scenario's shape, the same on every run of the same example.
    draw = random.Random(f"{len(built.stakeholders)}-{len(built.segments)}")
    for stakeholder in built.stakeholders:
        influence, interest = draw.randint(1, 5), draw.randint(1, 5)
        stage = None if draw.random() < 0.25 else draw.randint(1, 5)
        Stakeholder.objects.filter(pk=stakeholder.pk).update(influence=influence, interest=interest)
        if stage is not None:
            MaturityRecord.objects.create(pmo=built.pmo, stakeholder=stakeholder, stage=stage, rationale="Drawn")
        reached = stage is not None and stage >= DEFAULT_TARGETS[influence >= 4, interest >= 4]
        segment_now = Stakeholder.objects.get(pk=stakeholder.pk).segment_id
        for group in (None, segment_now or "none"):
            counted = groups.setdefault(group, [0, 0])
            counted[0] += reached
            counted[1] += 1
    if not built.stakeholders:
        return

    def index(group):
        reached, total = groups[group]
        return Fraction(reached, total) * 100

    page = read_figures(get_page(client, reverse("pmo_home", kwargs={"slug": built.pmo.slug})))
    report = AgendaReport.objects.create(
        pmo=built.pmo, frequency="monthly", period_start=date(2000, 1, 1), period_end=date(2000, 2, 1)
    )
    reports.build(report.pk)
    report.refresh_from_db()
    stored = report.figures["engagement"]
    shown_in_report = read_figures(report.html)
    assert close(stored["index"], index(None))
    assert text(page, "engagement-index") == text(shown_in_report, "engagement-index")
    assert text(page, "engagement-index") in displays(index(None), 0, suffix="%")
    for row in stored["segments"]:
        group = row["segment_id"] or "none"
        assert close(row["index"], index(group)), row["name"]
        key = str(row["segment_id"] or "none")
        assert text(page, "segment-index", segment=key) == text(shown_in_report, "segment-index", segment=key)
        assert text(page, "segment-index", segment=key) in displays(index(group), 0, suffix="%")
    assert {row["segment_id"] or "none" for row in stored["segments"]} == set(groups) - {None}


def check_report(api, built, oracle, lead, suggested):
    report, _made = reports.request_now(built.pmo, lead)
    reports.build(report.pk)
    report.refresh_from_db()
    survey = oracle.survey()
    stored = snapshot.dump(snapshot.load(report.figures, currency=built.pmo.currency))
    assert stored == report.figures  # stored in the current schema: nothing to upgrade
    check_report_figures(report.figures, built, survey)
    # The report lists the first five suggestions, as the suggestions page does; all new in a first report.
    assert [(s["key"], s["why"], s["new"]) for s in report.figures["suggestions"]] == [
        (key, why, True) for key, why in suggested[:5]
    ]
    number_of = {service.pk: n for n, service in enumerate(built.services)}
    placed_as_oracle([number_of[row["id"]] for row in report.figures["services"]], oracle)
    for row in report.figures["services"]:
        expected = oracle.service(number_of[row["id"]])
        for name in ("priority", "satisfaction", "importance", "awareness", "usage"):
            assert close(row[name], getattr(expected, name)), (row["name"], name)
        assert (row["answered"], row["quadrant"]) == (expected.answered, expected.quadrant)
    shown_services = [s.context["service"] for s in read_figures(report.html) if s.name == "service-why"]
    assert shown_services == [str(row["id"]) for row in report.figures["services"]]
    check_report_html(report.html, survey)
    response = api.get(reverse("api-report-detail", kwargs={"slug": built.pmo.slug, "pk": report.pk}))
    assert response.status_code == 200
    assert response.json()["figures"] == report.figures


def check_report_figures(figures: dict, built, survey: GroupFigures):
    shown = figures["survey"]
    assert (shown["id"], shown["responses"], shown["sent"]) == (built.survey.pk, survey.responses, survey.sent)
    assert close(shown["response_rate"], survey.response_rate)
    assert close(shown["nps"], survey.nps.score)
    nps = (shown["promoters"], shown["passives"], shown["detractors"])
    assert nps == (survey.nps.promoters, survey.nps.passives, survey.nps.detractors)
    assert [row["element"] for row in figures["elements"]] == [e.value for e in ELEMENTS]
    for row in figures["elements"]:
        expected = survey.elements[Element(row["element"])]
        for name in ("perception", "importance", "self_score", "gap", "priority"):
            assert close(row[name], getattr(expected, name)), (row["element"], name)
        assert row["quadrant"] == expected.quadrant, row
        # No earlier survey to compare with.
        assert (row["change"], row["compared_with"]) == (None, None), row
    assert figures["previous_survey"] is None
    placed = [e for e in survey.ranking() if e.priority is not None][:3]
    assert len(figures["focus"]) == len(placed)
    for place, row in enumerate(figures["focus"], start=1):
        element = Element(row["element"])
        expected = survey.elements[element]
        assert place in survey.ranks(element), (place, element)
        for name in ("priority", "perception", "importance"):
            assert close(row[name], getattr(expected, name)), (row["element"], name)
        assert row["quadrant"] == expected.quadrant


def check_report_html(html: str, survey: GroupFigures):
    found = read_figures(html)
    for element, expected in survey.elements.items():
        row = {"element": element.value}
        assert text(found, "perception", **row) in displays(expected.perception, 1), element
        assert text(found, "change", **row) == ("—" if expected.perception is None else "new"), element
        assert text(found, "gap", **row) in signed_displays(expected.gap), element
        assert text(found, "quadrant", **row) == (expected.quadrant or "—"), element
    focus = report_focus(found)
    assert len(focus) == len([e for e in survey.elements.values() if e.priority is not None][:3])
    for place, (element, shown) in enumerate(focus.items(), start=1):
        expected = survey.elements[element]
        assert place in survey.ranks(element), (place, element)
        assert shown["quadrant"] == expected.quadrant, element
        assert shown["priority"] in displays(expected.priority, 0), element
        for name in ("perception", "importance"):
            assert shown[name] in displays(getattr(expected, name), 1), (element, name)
    assert text(found, "nps") in displays(survey.nps.score, 0)
    assert text(found, "response-rate") in displays(survey.response_rate, 0, suffix="%")
    counts = SUMMARY.search(text(found, "survey-summary")).groups()
    nps = survey.nps
    assert tuple(map(int, counts)) == (nps.promoters, nps.passives, nps.detractors, survey.responses, survey.sent)
    charted_perceptions = [e.perception for e in survey.elements.values() if e.perception is not None]
    values = chart_values(html)
    assert len(values) == len(charted_perceptions)
    for value, perception in zip(values, charted_perceptions, strict=True):
        assert value in displays(perception, 1)


FOCUS = re.compile(
    r"(?P<quadrant>[^:]+): .* Perception (?P<perception>\S+), importance (?P<importance>\S+), priority (?P<priority>\S+)\."
)
SUMMARY = re.compile(
    r"\((\d+) promoters?, (\d+) passives?, (\d+) detractors?\) · response rate \S+ \((\d+) of (\d+)\)\.$"
)


def report_focus(found) -> dict:
    """The report's "Work on next", in its order: element → the quadrant and figures it gives."""
    return {Element(s.context["focus"]): FOCUS.fullmatch(s.text).groupdict() for s in found if s.name == "focus"}


def chart_values(html: str) -> list[str]:
    """The perception written beside each bar of the report's chart (agenda/reports/charts.py),
    in Element order: the chart's only text in font size 10."""
    return re.findall(r'<text [^>]*font-size="10">([^<]*)</text>', html)


# Ties ------------------------------------------------------------------------------------------
#
# A figure exactly halfway between two roundings. docs/figures.md ("Rounding") has every
# output round half up, through agenda/figures/present.py: these tests hold every output to
# that. Product: perception 6.25 (16 ratings averaging 1.25) and gap 6.25 (self-assessed 1,
# a score of 0), priority 93.75; Physical Evidence: perception 62.5 (ratings 3 and 4),
# priority 37.5; NPS 12.5 (2 promoters and 1 detractor of 8 answers).
TIES = Scenario(
    anonymous=False,
    segment_count=1,
    people=tuple(
        sent(None, reply((5, 5), 5, nps, product=product, physical_evidence=(3, 4)))
        for product, nps in [((1, 2), 10), ((1, 2), 9), ((1, 2), 0), ((1, 2), 7)]
        + [((1, 1), 7), ((1, 1), 8), ((1, 1), 7), ((1, 1), 8)]
    ),
    self_ratings=((1,), (), (), (), ()),
)
P, PE = Element.PRODUCT.value, Element.PHYSICAL_EVIDENCE.value


@pytest.fixture
def ties(browser, lead):
    return outputs(TIES, browser, lead)


def outputs(scenario, client, lead) -> dict:
    """The pages and the report of the scenario, as their lead sees them."""
    built = build(scenario, lead)
    report, _made = reports.request_now(built.pmo, lead)
    reports.build(report.pk)
    report.refresh_from_db()
    pages = {
        "results": get_page(client, survey_url("survey_results", built)),
        "dashboard": get_page(client, reverse("pmo_home", kwargs={"slug": built.pmo.slug})),
        "suggestions": get_page(client, reverse("suggestion_list", kwargs={"slug": built.pmo.slug})),
        "report": report.html,
    }
    return {name: (page, read_figures(page)) for name, page in pages.items()}


def test_pages_show_an_exact_tie_rounded_half_up_alike(ties):
    results, dashboard, report = ties["results"][1], ties["dashboard"][1], ties["report"][1]
    assert text(results, "perception", element=P) == text(dashboard, "perception", element=P) == "6.3"
    assert text(results, "nps") == text(dashboard, "nps") == text(report, "nps") == "13"
    assert text(results, "perception", element=PE) == text(dashboard, "perception", element=PE) == "62.5"
    focus = report_focus(report)
    assert text(report, "perception", element=PE) == focus[Element.PHYSICAL_EVIDENCE]["perception"] == "62.5"
    assert text(dashboard, "priority", element=P) == focus[Element.PRODUCT]["priority"] == "94"
    assert text(dashboard, "priority", element=PE) == focus[Element.PHYSICAL_EVIDENCE]["priority"] == "38"


def test_the_report_shows_a_tied_gap_as_the_dashboard_does(ties):
    assert text(ties["dashboard"][1], "gap", element=P) == text(ties["report"][1], "gap", element=P) == "+6.3"


def test_a_suggestion_gives_a_tied_perception_as_the_report_does(ties):
    assert report_focus(ties["report"][1])[Element.PHYSICAL_EVIDENCE]["perception"] == "62.5"
    (why,) = [s.text for s in ties["suggestions"][1] if s.name == "why" and s.context["suggestion"].startswith(PE)]
    assert "(perception 62.5, importance 100.0)" in why


def test_the_report_chart_gives_a_tied_perception_as_its_table(ties):
    page, found = ties["report"]
    assert text(found, "perception", element=P) == chart_values(page)[0] == "6.3"


def test_the_results_chart_gives_a_tied_perception_as_its_table(ties):
    page, found = ties["results"]
    assert text(found, "perception", element=P) == "6.3"
    assert chart_data(page, "chart-data")["perception"][0] == 6.3


def test_the_dashboard_chart_gives_a_tied_perception_as_its_table(ties):
    page, found = ties["dashboard"]
    assert text(found, "perception", element=P) == "6.3"
    chart = chart_data(page, "dashboard-data")
    assert chart["perception"][0] == chart["ipa"][0]["x"] == 6.3


# Product's 20 ratings average 1.15 (23 / 20): a perception of exactly 3.75, which the
# product computes in floating point as 3.749999999999998.
FLOAT_TIE = Scenario(
    anonymous=True,
    segment_count=1,
    people=tuple(sent(None, reply((4, 4), 4, 9, product=product)) for product in [(1, 2)] * 3 + [(1, 1)] * 7),
    self_ratings=((), (), (), (), ()),
)


def test_a_tie_reached_in_floating_point_is_rounded_as_the_formula_says(browser, lead):
    shown = outputs(FLOAT_TIE, browser, lead)
    assert text(shown["results"][1], "perception", element=P) == "3.8"
    assert text(shown["dashboard"][1], "perception", element=P) == "3.8"
