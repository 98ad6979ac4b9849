"""Figures per service (agenda/figures/services.py, docs/services.md): hand-computed for a
small known set of answers.

The known set, a closed survey with five respondents, three in Finance and two in Ops:

| respondent | Reporting (everyone)       | Help desk (Ops only)   |
| ---------- | -------------------------- | ---------------------- |
| F1         | uses, satisfaction 5, imp 4 | not asked              |
| F2         | uses, satisfaction 2, imp ? | not asked              |
| F3         | knows                       | not asked              |
| O1         | didn't know it              | uses, satisfaction 1, imp 5 |
| O2         | uses, satisfaction ?, imp 5 | knows                  |

(? is "Don't know".) Reporting, whole survey: 5 answered, 4 aware (80%), 3 users (60%);
satisfaction (5 + 2) / 2 = 3.5 → (3.5 − 1) / 4 × 100 = 62.5 on 2 ratings; importance
(4 + 5) / 2 = 4.5 → 87.5 on 2; quadrant "Keep up the good work" (both ≥ 50); priority
87.5 × (100 − 62.5) / 100 = 32.8125. In Finance: 3 answered, 3 aware (100%), 2 users
(66.7%), satisfaction 62.5 on 2, importance 4 → 75.0 on 1. Ops has 2 respondents, under the
minimum group size of 3: hidden. Help desk was answered by 2 (Ops only): hidden everywhere.
"""

from datetime import date, timedelta
from fractions import Fraction
from types import SimpleNamespace

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from agenda.figures import present
from agenda.figures import services as service_figures
from agenda.figures.elements import IpaQuadrant
from agenda.figures.services import ServiceCall
from agenda.models import AgendaReport
from agenda.plan import services as plan
from agenda.plan import suggestions
from agenda.reports import services as reports
from agenda.reports import snapshot as report_figures
from pmo5p.domain import Element, OfferingLevel, ServiceUsage
from stakeholders.models import Service, Survey, SurveyService, SurveyStatus
from tests.agenda_data import REPORT_FIGURES_V1
from tests.factories import (
    ResponseFactory,
    SegmentFactory,
    ServiceAnswerFactory,
    ServiceFactory,
    StakeholderFactory,
    SurveyFactory,
    SurveyServiceFactory,
    every,
)
from tests.figures_oracle import read_figures, text, texts
from tests.survey_helpers import open_survey
from tests.test_report_pdf_security import poppler

USES, KNOWS, UNAWARE = ServiceUsage.USES, ServiceUsage.KNOWS, ServiceUsage.UNAWARE


def answer(asked, response, usage, satisfaction=None, importance=None):
    return ServiceAnswerFactory(
        survey_service=asked, response=response, usage=usage, satisfaction=satisfaction, importance=importance
    )


def respondents(pmo, survey_kwargs, groups):
    """A launched survey and one response per stakeholder, in the segments given."""
    people = [StakeholderFactory(pmo=pmo, segment=segment) for segment in groups]
    survey, invitations = open_survey(pmo, people, **survey_kwargs)
    return survey, [ResponseFactory(invitation=invitation) for invitation in invitations]


@pytest.fixture
def known(world):
    finance = world.segment
    ops = SegmentFactory(pmo=world.pmo, name="Ops")
    reporting = ServiceFactory(pmo=world.pmo, name="Reporting")
    help_desk = ServiceFactory(pmo=world.pmo, name="Help desk", segments=[ops])
    survey, (f1, f2, f3, o1, o2) = respondents(world.pmo, {"title": "Spring"}, [finance] * 3 + [ops] * 2)
    asked_reporting = SurveyServiceFactory(survey=survey, service=reporting)
    asked_help = SurveyServiceFactory(survey=survey, service=help_desk)
    assert asked_help.segment_ids == [ops.pk]
    answer(asked_reporting, f1, USES, 5, 4)
    answer(asked_reporting, f2, USES, 2, None)
    answer(asked_reporting, f3, KNOWS)
    answer(asked_reporting, o1, UNAWARE)
    answer(asked_reporting, o2, USES, None, 5)
    answer(asked_help, o1, USES, 1, 5)
    answer(asked_help, o2, KNOWS)
    survey.status, survey.closed_at = SurveyStatus.CLOSED, timezone.now()
    survey.save(update_fields=["status", "closed_at"])
    return SimpleNamespace(
        survey=survey,
        finance=finance,
        ops=ops,
        reporting=reporting,
        help_desk=help_desk,
        asked_reporting=asked_reporting,
        asked_help=asked_help,
    )


def as_tuple(f):
    return (
        f.answered,
        f.aware,
        f.users,
        f.awareness,
        f.usage,
        f.satisfaction,
        f.satisfaction_n,
        f.importance,
        f.importance_n,
        f.quadrant,
        f.priority,
        f.suppressed,
    )


HIDDEN = (0, 0, 0, None, None, None, 0, None, 0, None, None, True)
REPORTING = (5, 4, 3, 80.0, 60.0, 62.5, 2, 87.5, 2, IpaQuadrant.KEEP_UP, 32.8125, False)


def test_a_surveys_service_figures_by_hand(known, django_assert_num_queries):
    with django_assert_num_queries(2):
        figures = service_figures.survey_service_figures(known.survey)
    assert list(figures) == [known.asked_reporting.pk, known.asked_help.pk]
    reporting = figures[known.asked_reporting.pk]
    assert (reporting.name, reporting.survey_id) == ("Reporting", known.survey.pk)
    assert as_tuple(reporting) == REPORTING
    # Help desk: two answered (Ops only), under the minimum group size.
    assert as_tuple(figures[known.asked_help.pk]) == HIDDEN


def test_a_segments_service_figures_by_hand(known):
    finance = service_figures.survey_service_figures(known.survey, known.finance.pk)[known.asked_reporting.pk]
    assert as_tuple(finance)[:9] == (3, 3, 2, 100.0, pytest.approx(200 / 3), 62.5, 2, 75.0, 1)
    assert finance.quadrant == IpaQuadrant.KEEP_UP and finance.priority == pytest.approx(75 * 37.5 / 100)
    ops = service_figures.survey_service_figures(known.survey, known.ops.pk)
    assert as_tuple(ops[known.asked_reporting.pk]) == HIDDEN
    assert as_tuple(ops[known.asked_help.pk]) == HIDDEN


def test_the_minimum_group_size_is_read_from_the_policy(known):
    with override_settings(MIN_GROUP_SIZE=2):
        help_desk = service_figures.survey_service_figures(known.survey)[known.asked_help.pk]
    # Satisfaction 1 → 0.0, importance 5 → 100.0: "Concentrate here", priority 100.
    assert as_tuple(help_desk) == (2, 2, 1, 100.0, 50.0, 0.0, 1, 100.0, 1, IpaQuadrant.CONCENTRATE, 100.0, False)


def test_the_catalogue_reads_each_service_from_its_latest_closed_survey(known, world, django_assert_num_queries):
    # A later open survey asked about Reporting and has answers: the closed one still counts.
    later, (r1, r2, r3) = respondents(world.pmo, {"title": "Summer"}, [known.finance] * 3)
    asked_later = SurveyServiceFactory(survey=later, service=known.reporting)
    for response in (r1, r2, r3):
        answer(asked_later, response, UNAWARE)
    # An open survey asked about a new service and nobody answered yet: absent.
    fresh = ServiceFactory(pmo=world.pmo, name="Training")
    SurveyServiceFactory(survey=later, service=fresh)
    never = ServiceFactory(pmo=world.pmo, name="Never asked")
    # Another PMO's service asked about in its own survey: never read.
    SurveyServiceFactory(survey=SurveyFactory(pmo=world.other_pmo, closed=True))
    with django_assert_num_queries(2):
        figures = service_figures.catalogue_figures(world.pmo)
    assert set(figures) == {known.reporting.pk, known.help_desk.pk}
    assert as_tuple(figures[known.reporting.pk]) == REPORTING
    assert figures[known.reporting.pk].survey_id == known.survey.pk
    assert never.pk not in figures and fresh.pk not in figures
    # Once answered, the open survey is the one for a service no closed survey asked about.
    answer(SurveyService.objects.get(survey=later, service=fresh), r1, KNOWS)
    assert service_figures.catalogue_figures(world.pmo)[fresh.pk].survey_id == later.pk


def test_a_service_renamed_or_deleted_keeps_its_snapshot(known):
    Service.objects.filter(pk=known.reporting.pk).update(name="Portfolio reporting")
    known.help_desk.delete()
    figures = service_figures.survey_service_figures(known.survey)
    assert [f.name for f in figures.values()] == ["Reporting", "Help desk"]
    assert as_tuple(figures[known.asked_reporting.pk]) == REPORTING
    assert set(service_figures.catalogue_figures(known.survey.pmo)) == {known.reporting.pk}


def test_a_services_trend_oldest_first_and_open_surveys_last(known, world, django_assert_num_queries):
    earlier, responses = respondents(world.pmo, {"title": "Winter"}, [known.finance] * 3)
    asked = SurveyServiceFactory(survey=earlier, service=known.reporting)
    for response, rating in zip(responses, (1, 1, 3), strict=True):
        answer(asked, response, USES, rating, 3)
    earlier.status, earlier.closed_at = SurveyStatus.CLOSED, known.survey.closed_at - timedelta(days=90)
    earlier.save(update_fields=["status", "closed_at"])
    later, (r1, *_rest) = respondents(world.pmo, {"title": "Summer"}, [known.finance] * 3)
    SurveyServiceFactory(survey=later, service=known.reporting)
    with django_assert_num_queries(2):
        trend = service_figures.service_trend(known.reporting)
    assert [f.survey_id for f in trend] == [earlier.pk, known.survey.pk, later.pk]
    # Winter: (1 + 1 + 3) / 3 = 5/3 → 16.7; importance 3 → 50.0, "Concentrate here".
    assert as_tuple(trend[0])[:9] == (3, 3, 3, 100.0, 100.0, pytest.approx(50 / 3), 3, 50.0, 3)
    assert trend[0].quadrant == IpaQuadrant.CONCENTRATE
    assert as_tuple(trend[1]) == REPORTING
    assert as_tuple(trend[2]) == HIDDEN  # nobody answered yet
    # The catalogue reads the latest closed of the two, not the earlier.
    assert as_tuple(service_figures.catalogue_figures(world.pmo)[known.reporting.pk]) == REPORTING


def test_a_services_figures_per_segment(known, world, django_assert_max_num_queries):
    # A segment invited but not served by Help desk gets no row; one served gets its row.
    with django_assert_max_num_queries(4):
        rows = service_figures.service_segment_figures(known.reporting)
    assert [name for name, _ in rows] == ["Finance", "Ops"]
    assert as_tuple(rows[0][1])[:9] == (3, 3, 2, 100.0, pytest.approx(200 / 3), 62.5, 2, 75.0, 1)
    assert rows[1][1].suppressed
    assert [name for name, _ in service_figures.service_segment_figures(known.help_desk)] == ["Ops"]
    # A segment deleted after the launch: its respondents count under "No segment", last.
    known.finance.delete()
    rows = service_figures.service_segment_figures(known.reporting)
    assert [name for name, _ in rows] == ["Ops", "No segment"]
    assert as_tuple(rows[1][1])[:3] == (3, 3, 2)
    assert service_figures.service_segment_figures(ServiceFactory(pmo=world.pmo)) == []


# The pages and the report, on a second known set ------------------------------------------
#
# Four respondents in Finance answer about four services of a closed survey, and rate every
# P's statements 3 (perception 50.0):
#
# | service (P's)              | R1            | R2            | R3            | R4            |
# | -------------------------- | ------------- | ------------- | ------------- | ------------- |
# | Methods & <templates> (Product) | uses 4, imp 3 | didn't know | didn't know | didn't know |
# | Assurance (People, Process), Standard now | uses 2, imp 5 | uses 1, imp 5 | uses 3, imp 4 | knows |
# | Help desk (Product)        | knows         | knows         | knows         | knows         |
# | Reporting (Product)        | uses 4, imp 5 | uses 5, imp 5 | uses 4, imp 4 | uses ?, imp ? |
#
# Methods: awareness 1/4 = 25%, satisfaction 4 → 75.0, importance 3 → 50.0, priority
# 50 × 25 / 100 = 12.5, "Keep up the good work": publicise it.
# Assurance: awareness 100%, usage 75%, satisfaction (2 + 1 + 3) / 3 = 2 → 25.0, importance
# 14/3 → 91.666…, priority 91.666… × 75 / 100 = 68.75, "Concentrate here": improve it (important,
# but it disappoints: improving it comes before raising its level).
# Help desk: awareness 100%, usage 0%, no rating and so no priority: retire or rethink it.
# Reporting: usage 100%, satisfaction 13/3 → 83.333…, importance 14/3 → 91.666…, priority
# 91.666… × 16.666… / 100 = 15.277…: raise it from Basic to Standard.
# The three to work on: Assurance (68.75), Reporting (15.28), Methods (12.5).

METHODS = "Methods & <templates>"


@pytest.fixture
def catalogue(world):
    pmo = world.pmo
    people = [StakeholderFactory(pmo=pmo, segment=world.segment) for _ in range(4)]
    survey, invitations = open_survey(pmo, people, title="Autumn")
    responses = [ResponseFactory(invitation=invitation, ratings=every(3)) for invitation in invitations]
    methods = ServiceFactory(pmo=pmo, name=METHODS, elements=[Element.PRODUCT.value])
    assurance = ServiceFactory(
        pmo=pmo,
        name="Assurance",
        elements=[Element.PEOPLE.value, Element.PROCESS.value],
        level_now=OfferingLevel.STANDARD,
        level_target=OfferingLevel.ADVANCED,
    )
    help_desk = ServiceFactory(pmo=pmo, name="Help desk", elements=[Element.PRODUCT.value])
    reporting = ServiceFactory(pmo=pmo, name="Reporting", elements=[Element.PRODUCT.value])
    said = {
        methods: [(USES, 4, 3), (UNAWARE,), (UNAWARE,), (UNAWARE,)],
        assurance: [(USES, 2, 5), (USES, 1, 5), (USES, 3, 4), (KNOWS,)],
        help_desk: [(KNOWS,)] * 4,
        reporting: [(USES, 4, 5), (USES, 5, 5), (USES, 4, 4), (USES, None, None)],
    }
    asked = {}
    for service, answers in said.items():
        asked[service] = SurveyServiceFactory(survey=survey, service=service)
        for response, given in zip(responses, answers, strict=True):
            answer(asked[service], response, *given)
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED, closed_at=timezone.now())
    return SimpleNamespace(
        pmo=pmo,
        survey=survey,
        methods=methods,
        assurance=assurance,
        help_desk=help_desk,
        reporting=reporting,
        asked=asked,
    )


ASSURANCE_WHY = (
    "Concentrate here: satisfaction 25.0 from 3 users, importance 91.7, priority 69; "
    "known to 100% and used by 75% of 4 asked."
)


def test_the_three_services_to_work_on_by_hand(catalogue, world, client_for):
    focus = service_figures.services_to_work_on(catalogue.pmo)
    assert [f.service.name for f in focus] == ["Assurance", "Reporting", METHODS]
    assert [f.figures.priority for f in focus] == [
        pytest.approx(68.75),
        pytest.approx(float(Fraction(275, 3) * Fraction(50, 3) / 100)),
        12.5,
    ]
    assert focus[0].why == ASSURANCE_WHY
    assert focus[1].why == (
        "Keep up the good work: satisfaction 83.3 from 3 users, importance 91.7, priority 15; "
        "known to 100% and used by 100% of 4 asked."
    )
    page = client_for(world.viewer).get(reverse("pmo_home", kwargs={"slug": world.pmo.slug})).content.decode()
    shown = [(s.context["service"], s.text) for s in read_figures(page) if s.name == "service-why"]
    assert shown == [(str(f.service.pk), f.why) for f in focus]
    # What to do first: Assurance disappoints its users, Reporting's users rate it highly on
    # importance, and only a quarter know Methods; not the quadrant's "protect it".
    advice = [s.text for s in read_figures(page) if s.name == "service-advice"]
    assert advice == [ServiceCall.IMPROVE.label, ServiceCall.RAISE.label, ServiceCall.PUBLICISE.label]
    assert "Methods &amp; &lt;templates&gt;" in page and METHODS not in page


def test_the_heat_map_by_hand(catalogue, world, client_for):
    page = client_for(world.viewer).get(reverse("service_heat_map", kwargs={"slug": world.pmo.slug}))
    assert page.context["survey"] == catalogue.survey
    found = read_figures(page.content.decode())
    assert [text(found, "perception", element=e.value) for e in Element] == ["50.0"] * 5

    def row(service):
        return {"service": str(catalogue.asked[service].pk)}

    assert (text(found, "awareness", **row(catalogue.methods)), text(found, "usage", **row(catalogue.methods))) == (
        "25%",
        "25%",
    )
    # Each service's satisfaction in the columns of the P's it serves, against their perception 50.0.
    assert texts(found, "satisfaction", **row(catalogue.methods)) == ["75.0 +25.0 vs P"]
    assert texts(found, "satisfaction", element="people", **row(catalogue.assurance)) == ["25.0 −25.0 vs P"]
    assert texts(found, "satisfaction", element="process", **row(catalogue.assurance)) == ["25.0 −25.0 vs P"]
    assert not texts(found, "satisfaction", element="product", **row(catalogue.assurance))
    assert texts(found, "satisfaction", **row(catalogue.help_desk)) == ["—"]  # used by nobody
    assert texts(found, "satisfaction", **row(catalogue.reporting)) == ["83.3 +33.3 vs P"]
    assert 'class="heat-5" data-element="product" data-figure="satisfaction"' in page.content.decode()


def test_the_heat_map_without_a_survey_says_what_to_do(world, client_for):
    page = client_for(world.viewer).get(reverse("service_heat_map", kwargs={"slug": world.pmo.slug}))
    assert page.context["survey"] is None
    assert "No survey has asked about services yet" in page.content.decode()


def test_service_suggestions_by_hand(catalogue, world):
    found = {s.key: s for s in suggestions.suggestions(world.pmo) if s.service_id}
    pk = {service.name: service.pk for service in (catalogue.methods, catalogue.assurance, catalogue.help_desk)}
    pk["Reporting"] = catalogue.reporting.pk
    assert {key: (s.title, s.why) for key, s in found.items()} == {
        f"service-{pk[METHODS]}:publicise": (
            f"Publicise {METHODS} to those it serves",
            f"Only 25% of those asked know {METHODS} (1 of 4).",
        ),
        f"service-{pk['Assurance']}:improve": (
            "Improve Assurance with those who use it",
            "3 use Assurance but rate it 25.0 (importance 91.7, 3 ratings).",
        ),
        f"service-{pk['Help desk']}:rethink": (
            "Retire or rethink Help desk",
            "100% of those asked know Help desk but only 0% use it (0 of 4).",
        ),
        f"service-{pk['Reporting']}:raise": (
            "Raise Reporting from Basic to Standard",
            "Its users rate Reporting 91.7 on importance (3 ratings); it is at Basic now.",
        ),
    }
    assert found[f"service-{pk['Assurance']}:improve"].element == Element.PEOPLE
    # Adopted, it becomes an action on that service, and is not proposed again.
    key = f"service-{pk['Assurance']}:improve"
    action = plan.adopt_suggestion(world.pmo, world.membership(world.lead), key)
    assert (action.service, action.title, action.element) == (
        catalogue.assurance,
        "Improve Assurance with those who use it",
        Element.PEOPLE,
    )
    assert key not in {s.key for s in suggestions.suggestions(world.pmo)}


def test_the_suggestions_page_lists_service_suggestions(catalogue, world, client_for):
    page = client_for(world.viewer).get(reverse("suggestion_list", kwargs={"slug": world.pmo.slug})).content.decode()
    assert f'data-service="{catalogue.help_desk.pk}"' in page
    assert "Retire or rethink Help desk" in page
    assert "Publicise Methods &amp; &lt;templates&gt; to those it serves" in page


def test_the_reports_services_section_by_hand(catalogue, world, monkeypatch):
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")
    report = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    report = reports.build(report.pk)
    rows = report.figures["services"]
    assert report.figures["schema_version"] == 5
    assert [(row["name"], row["quadrant"]) for row in rows] == [
        ("Assurance", "Concentrate here"),
        ("Reporting", "Keep up the good work"),
        (METHODS, "Keep up the good work"),
    ]
    assert rows[0]["priority"] == pytest.approx(68.75) and rows[0]["why"] == ASSURANCE_WHY
    assert (rows[0]["satisfaction"], rows[0]["awareness"], rows[0]["usage"], rows[0]["answered"]) == (
        25.0,
        100.0,
        75.0,
        4,
    )
    html = [s for s in read_figures(report.html) if s.name == "service-why"]
    assert [s.context["service"] for s in html] == [str(row["id"]) for row in rows]
    assert html[0].text == f"{ASSURANCE_WHY} {service_figures.ServiceCall.IMPROVE.label}"
    assert "Methods &amp; &lt;templates&gt;" in report.html
    assert f"1. Assurance: {ASSURANCE_WHY}" in report.text
    assert f"3. {METHODS}: " in report.text  # plain text, not escaped
    # Suggestions for services reach the report too, from the same figures.
    assert any(s["key"].startswith("service-") for s in report.figures["suggestions"])


def test_a_version_2_report_has_no_services_section():
    version_2 = report_figures.dump(report_figures.load(REPORT_FIGURES_V1, currency="GBP"))
    version_2.pop("services")
    version_2["schema_version"] = 2
    figures = report_figures.load(version_2, currency="GBP")
    assert (figures.schema_version, figures.services) == (5, None)


def test_a_heat_maps_band_is_of_the_score_as_shown():
    assert [present.band(v) for v in (None, 0, 19.94, 19.96, 40, 79.96, 100)] == [None, 1, 1, 2, 3, 5, 5]


def test_the_reports_pdf_has_the_services_section(catalogue, world, tmp_path):
    report = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    report = reports.build(report.pk)
    shown = " ".join(poppler("pdftotext", bytes(report.pdf), tmp_path, "-raw").split())
    assert "Services to work on" in shown
    assert f"Assurance {ASSURANCE_WHY}" in shown
    assert METHODS in shown  # the name as typed, drawn as text
