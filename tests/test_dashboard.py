"""The dashboard (a PMO's home page) against the hand-computed PMO of tests/insight_fixtures.py.

Every figure is checked twice: in the view's context and as the page shows it
(the elements carrying data-figure attributes).
"""

import html
import re
from datetime import date

import pytest
from django.urls import reverse

from agenda.dashboard import AT_RISK_SHOWN
from pmo5p.domain import Element
from stakeholders.models import SurveyStatus
from tests.agenda_data import at_risk_person
from tests.factories import ResponseFactory, StakeholderFactory, every
from tests.helpers import text, visible
from tests.insight_fixtures import (
    AT_RISK,
    AUTUMN,
    AUTUMN_GAP,
    AUTUMN_NPS,
    AUTUMN_PRIORITY,
    AUTUMN_QUADRANT,
    AUTUMN_RANKING,
    AUTUMN_RESPONSES,
    AUTUMN_SENT,
    FINANCE,
    FINANCE_AT_RISK,
    FINANCE_GAP,
    FINANCE_MATURITY,
    FINANCE_NPS,
    FINANCE_QUADRANT,
    FINANCE_RANKING,
    FINANCE_RESPONSES,
    FINANCE_SENT,
    FINANCE_TREND,
    MATURITY,
    SELF,
    SPRING_PERCEPTION,
    SUMMER_PERCEPTION,
    at,
    build_survey,
    element_rows,
    figures,
    fmt,
    fmt_change,
    ranking,
)

# The `known` fixture: the hand-computed PMO.
pytest_plugins = ["tests.known_pmo"]

P, E, C, PE, PR = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS


def approx(value):
    return None if value is None else pytest.approx(value, abs=1e-9)


def home(pmo, **query):
    url = reverse("pmo_home", kwargs={"slug": pmo.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def dashboard(known, client_for):
    def get(user=None, **query):
        response = client_for(user or known.world.viewer).get(home(known.world.pmo, **query))
        assert response.status_code == 200
        return response

    return get


def check_elements(response, perception_and_importance, gap, quadrant, self_scores=SELF):
    """The five P's, in context and in the table, equal the expected figures."""
    rows = {row.element: row for row in response.context["elements"]}
    shown = element_rows(response.content.decode())
    assert list(shown) == [e.value for e in Element]
    for element in Element:
        expected = perception_and_importance[element]
        row = rows[element]
        assert row.perception == approx(expected["perception"]), element
        assert row.importance == approx(expected["importance"]), element
        assert row.self_score == approx(self_scores[element][1]), element
        assert row.gap == approx(gap[element]), element
        assert (row.quadrant.label if row.quadrant else None) == quadrant[element], element
        assert shown[element] == {
            "perception": fmt(expected["perception"]),
            "importance": fmt(expected["importance"]),
            "self": fmt(self_scores[element][1]),
            "gap": fmt_change(gap[element]),
            "quadrant": quadrant[element] or "—",
        }, element


def check_ranking(response, expected):
    assert [row.element for row in response.context["ranking"]] == expected
    # The page lists the top three.
    assert ranking(response.content.decode()) == [e.value for e in expected[:3]]


def at_risk_in(response):
    return [(item.stakeholder.name, item.reasons) for item in response.context["at_risk"]]


# The default view: the latest closed survey ----------------------------------------------------------


def test_default_survey_is_the_latest_closed(known, dashboard):
    response = dashboard()
    assert response.context["survey"] == known.autumn
    assert "Autumn" in visible(response)


def test_every_element_figure_of_the_latest_closed_survey(dashboard):
    response = dashboard()
    check_elements(response, AUTUMN, AUTUMN_GAP, AUTUMN_QUADRANT)
    rows = {row.element: row for row in response.context["elements"]}
    assert {e: rows[e].priority for e in Element} == {e: approx(v) for e, v in AUTUMN_PRIORITY.items()}


def test_each_element_says_how_many_answers_it_rests_on(dashboard):
    response = dashboard()
    page = response.content.decode()
    table = page[page.index('id="element-table"') : page.index("</table>", page.index('id="element-table"'))]
    for element, expected in AUTUMN.items():
        row = table[table.index(f'data-element="{element.value}"') :]
        row = " ".join(row[: row.index("</tr>")].split())
        assert f"{expected['perception_answers']} ans." in row
        assert f"{expected['importance_answers']} ans." in row


def test_priority_ranking(dashboard):
    response = dashboard()
    check_ranking(response, AUTUMN_RANKING)
    page = visible(response)
    # Physical evidence first: 50 × (100 − 47.5) / 100 = 26.25 → 26
    assert "Physical Evidence · realising benefits Concentrate here" in page


def test_nps_and_response_rate(dashboard):
    response = dashboard()
    nps = response.context["nps"]
    assert (nps.answers, nps.promoters, nps.passives, nps.detractors) == (4, 2, 1, 1)
    assert nps.score == AUTUMN_NPS["score"]
    participation = response.context["participation"]
    assert (participation.responses, participation.sent) == (AUTUMN_RESPONSES, AUTUMN_SENT)
    assert participation.response_rate == approx(AUTUMN_RESPONSES / AUTUMN_SENT * 100)
    shown = figures(response.content.decode())
    assert shown["nps"] == "25"
    assert shown["response-rate"] == "71%"
    page = visible(response)
    # The figures say what they rest on: 5 responses (one without an NPS answer), 4 NPS answers.
    assert "5 responses of 7 sent" in page
    assert "4 answers: 2 promoters · 1 passive · 1 detractor" in page


def test_at_risk_list_with_reasons(dashboard):
    response = dashboard()
    assert at_risk_in(response) == AT_RISK
    shown = figures(response.content.decode())
    assert shown["at-risk-count"] == "3"
    page = visible(response)
    section = page[page.index("At-risk stakeholders") : page.index("Relationship maturity")]
    for name, reasons in AT_RISK:
        assert f"{name} · influence" in section
        assert "; ".join(reasons) in section
    for name in ("Cara", "Eve", "Fay", "Gus", "Hal"):
        assert f"{name} · influence" not in section


def test_maturity_totals_and_grid(dashboard):
    response = dashboard()
    assert response.context["maturity"] == MATURITY
    assert response.context["stakeholder_count"] == 9
    shown = figures(response.content.decode())
    for stage, count in MATURITY.items():
        assert shown[f"maturity-{stage or 'none'}"] == str(count), stage
    grid = response.context["grid"]
    assert sum(sum(counts.values()) for counts in grid.values()) == 9


def test_chart_data(known, dashboard):
    data = dashboard().context["chart_data"]
    assert data["labels"] == [e.label for e in Element]
    assert data["perception"] == [50.0, 47.5, None, 25.0, 75.0]
    assert data["self"] == [75.0, 50.0, 100.0, None, 100.0]
    # Price has no figures, so no point.
    assert data["ipa"] == [
        {"label": "Product", "x": 50.0, "y": 50.0},
        {"label": "Physical Evidence", "x": 47.5, "y": 50.0},
        {"label": "People", "x": 25.0, "y": 25.0},
        {"label": "Process", "x": 75.0, "y": 25.0},
    ]
    assert data["trend"]["labels"] == ["Spring", "Summer", "Autumn"]
    series = {s["label"]: s["data"] for s in data["trend"]["series"]}
    for element in Element:
        expected = [SPRING_PERCEPTION[element], SUMMER_PERCEPTION[element], AUTUMN[element]["perception"]]
        assert series[element.label] == [None if v is None else round(v, 1) for v in expected], element


def test_charts_are_on_the_page_with_what_they_rest_on(dashboard):
    response = dashboard()
    page = response.content.decode()
    assert figures(page)["trend-answers"] == "Spring: 38 answers · Summer: 24 answers · Autumn: 36 answers"
    assert "From 5 responses; the answers behind each P are in the table above." in visible(response)
    for chart in ("radar-chart", "ipa-chart", "trend-chart"):
        assert f'id="{chart}"' in page
    assert 'id="dashboard-data"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page


# Choosing the survey ---------------------------------------------------------------------------------


def test_another_survey_can_be_chosen(known, dashboard):
    response = dashboard(survey=known.spring.pk)
    assert response.context["survey"] == known.spring
    rows = {row.element: row for row in response.context["elements"]}
    for element in Element:
        assert rows[element].perception == approx(SPRING_PERCEPTION[element]), element
        assert rows[element].importance == 62.5, element
    # 8, 6, 9 and none: 1 promoter, 1 detractor of 3 → 0; 4 of 4 sent answered.
    shown = figures(response.content.decode())
    assert (shown["nps"], shown["response-rate"]) == ("0", "100%")
    assert element_rows(response.content.decode())["price"]["perception"] == "66.7"
    assert f'<option value="{known.spring.pk}" selected>' in response.content.decode()


def test_an_open_survey_can_be_chosen(known, dashboard):
    response = dashboard(survey=known.anonymous.pk)
    assert response.context["survey"] == known.anonymous
    rows = {row.element: row for row in response.context["elements"]}
    assert all(rows[e].perception == 0.0 for e in Element)


@pytest.mark.parametrize(
    "value", ["other_pmo", "draft", "nonsense", "-1", "99999999", "99999999999999999999999", "²", "١"]
)
def test_a_survey_not_shown_here_falls_back_to_the_default(known, dashboard, value):
    draft = build_survey(known.world.pmo, known.world.lead, "Draft one", status=SurveyStatus.DRAFT)
    survey = {"other_pmo": known.other_survey.pk, "draft": draft.pk}.get(value, value)
    response = dashboard(survey=survey)
    assert response.context["survey"] == known.autumn
    check_elements(response, AUTUMN, AUTUMN_GAP, AUTUMN_QUADRANT)
    page = text(response)
    assert "Beta survey" not in page
    assert "Draft one" not in page


def test_the_survey_list_holds_this_pmos_launched_surveys_only(known, dashboard):
    build_survey(known.world.pmo, known.world.lead, "Draft one", status=SurveyStatus.DRAFT)
    response = dashboard()
    assert list(response.context["surveys"]) == sorted(
        [known.spring, known.summer, known.autumn, known.anonymous], key=lambda s: (s.launched_at, s.pk), reverse=True
    )


# Filtering by segment --------------------------------------------------------------------------------


def test_a_segment_at_the_threshold_filters_every_figure(known, dashboard):
    response = dashboard(segment=known.world.segment.pk)
    assert response.context["segment"] == known.world.segment
    assert not response.context["segment_hidden"]
    check_elements(response, FINANCE, FINANCE_GAP, FINANCE_QUADRANT)
    check_ranking(response, FINANCE_RANKING)
    nps = response.context["nps"]
    assert (nps.answers, nps.promoters, nps.passives, nps.detractors) == tuple(FINANCE_NPS.values())
    shown = figures(response.content.decode())
    assert shown["nps"] == "67"
    assert shown["response-rate"] == f"{FINANCE_RESPONSES / FINANCE_SENT * 100:.0f}%"
    assert f"{FINANCE_RESPONSES} responses of {FINANCE_SENT} sent" in visible(response)
    assert at_risk_in(response) == FINANCE_AT_RISK
    assert shown["at-risk-count"] == "2"
    assert response.context["maturity"] == FINANCE_MATURITY
    for stage, count in FINANCE_MATURITY.items():
        assert shown[f"maturity-{stage or 'none'}"] == str(count), stage
    assert shown["trend-answers"] == "Spring: 28 answers · Summer: hidden or none · Autumn: 24 answers"
    trend = response.context["chart_data"]["trend"]
    series = {s["label"]: s["data"] for s in trend["series"]}
    for element in Element:
        expected = [point[element] for point in FINANCE_TREND]
        assert series[element.label] == [None if v is None else round(v, 1) for v in expected], element


def test_response_rate_of_a_segment_counts_who_answered_in_it(known, dashboard):
    # Ada answered Autumn in Finance, then moved to IT: her answer, and her invitation, stay Finance's.
    ada = known.people["Ada"]
    ada.segment = known.it
    ada.save()
    response = dashboard(segment=known.world.segment.pk)
    participation = response.context["participation"]
    assert (participation.responses, participation.sent) == (FINANCE_RESPONSES, FINANCE_SENT)
    assert figures(response.content.decode())["response-rate"] == "75%"


def test_a_segment_under_the_threshold_is_hidden(known, dashboard):
    # IT: Dan and Eve answered Autumn, 2 < MIN_GROUP_SIZE = 3.
    response = dashboard(segment=known.it.pk)
    assert response.context["segment_hidden"] is True
    assert "elements" not in response.context
    assert "nps" not in response.context
    assert "chart_data" not in response.context
    page = response.content.decode()
    assert 'id="element-table"' not in page
    assert 'id="dashboard-data"' not in page
    assert 'data-figure="nps"' not in page
    assert 'data-figure="perception"' not in page
    assert "“IT” has fewer than 3 responses to “Autumn”" in text(response)
    # Maturity and risks are about named people of the register, not answers: still shown.
    assert at_risk_in(response) == [AT_RISK[2]]


def test_a_hidden_segment_shows_once_the_threshold_is_lowered(known, dashboard, settings):
    settings.MIN_GROUP_SIZE = 2
    response = dashboard(segment=known.it.pk)
    assert not response.context["segment_hidden"]
    rows = {row.element: row for row in response.context["elements"]}
    # Dan 2,- and Eve -,4 → 3 → 50
    assert rows[P].perception == 50.0


@pytest.mark.parametrize("value", ["other_pmo", "²", "x", ""])
def test_another_pmos_segment_or_nonsense_is_ignored(known, dashboard, value):
    response = dashboard(segment=known.world.other_segment.pk if value == "other_pmo" else value)
    assert response.context["segment"] is None
    check_elements(response, AUTUMN, AUTUMN_GAP, AUTUMN_QUADRANT)
    assert "Beta segment" not in text(response)


def test_segment_and_survey_together(known, dashboard):
    response = dashboard(survey=known.summer.pk, segment=known.world.segment.pk)
    # Only Ben answered Summer in Finance.
    assert response.context["segment_hidden"] is True
    response = dashboard(survey=known.spring.pk, segment=known.world.segment.pk)
    rows = {row.element: row for row in response.context["elements"]}
    assert all(rows[e].perception == 50.0 for e in Element)


# No data yet --------------------------------------------------------------------------------------------


def test_empty_pmo_says_what_to_do_next(world, client_for):
    response = client_for(world.member).get(home(world.pmo))
    assert response.context["survey"] is None
    page = visible(response)
    assert "No survey results yet" in page
    assert "Draft a survey" in page
    assert "Record a self-assessment" in page
    html = response.content.decode()
    for absent in ('id="dashboard-data"', "<canvas", 'data-figure="perception"', 'data-figure="nps"', "chart.umd"):
        assert absent not in html
    assert "chart_data" not in response.context
    # The register's own figures still show.
    assert figures(html)["maturity-none"] == "1"
    assert "Record maturity stages" in page


def test_empty_pmo_for_a_viewer_offers_no_buttons(world, client_for):
    response = client_for(world.viewer).get(home(world.pmo))
    page = visible(response)
    assert "No survey results yet" in page
    assert "Draft a survey" not in page


def test_the_other_pmo_sees_only_its_own_figures(known, client_for, world):
    response = client_for(world.outsider).get(home(world.other_pmo))
    # The other PMO has a closed survey: its own figures, never alpha's.
    assert response.context["survey"] == known.other_survey
    rows = {row.element: row for row in response.context["elements"]}
    assert rows[P].perception == 100.0
    assert rows[P].self_score == 0.0  # its own rating of 1, not alpha's 4
    assert [item.stakeholder.name for item in response.context["at_risk"]] == []


def test_an_open_survey_with_responses_is_used_when_none_is_closed(world, client_for):
    empty = build_survey(world.pmo, world.lead, "Open, nobody yet", status=SurveyStatus.OPEN)
    response = client_for(world.viewer).get(home(world.pmo))
    assert response.context["survey"] is None
    answered = build_survey(world.pmo, world.lead, "Open now", status=SurveyStatus.OPEN)
    for rating in (2, 3, 4):
        ResponseFactory(
            survey=answered,
            stakeholder=StakeholderFactory(pmo=world.pmo),
            ratings=every(rating),
            submitted_at=at(date(2025, 1, 1)),
        )
    response = client_for(world.viewer).get(home(world.pmo))
    assert response.context["survey"] == answered
    assert empty != answered
    rows = {row.element: row for row in response.context["elements"]}
    assert rows[P].perception == 50.0
    assert rows[P].perception_answers == 6
    assert response.context["trend"] == []
    assert "The trend appears once two surveys have closed." in visible(response)


def test_without_a_self_assessment_members_are_asked_for_one_and_viewers_told_why(world, client_for):
    built = build_survey(world.pmo, world.lead, "Only one", closed_on=date(2025, 1, 1))
    ResponseFactory(survey=built, stakeholder=world.stakeholder, ratings=every(4), submitted_at=at(date(2025, 1, 1)))
    link = f'href="{reverse("self_assessment_new", kwargs={"slug": world.pmo.slug})}"'
    member = client_for(world.member).get(home(world.pmo))
    assert link in member.content.decode()
    assert "Record a self-assessment to see the gaps." in visible(member)
    assert all(row.gap is None for row in member.context["elements"])
    viewer = client_for(world.viewer).get(home(world.pmo))
    assert link not in viewer.content.decode()
    assert "The gaps appear once the PMO has rated itself." in visible(viewer)


def test_only_one_closed_survey_shows_no_trend_chart(world, client_for):
    built = build_survey(world.pmo, world.lead, "Only one", closed_on=date(2025, 1, 1))
    ResponseFactory(survey=built, stakeholder=world.stakeholder, ratings=every(4), submitted_at=at(date(2025, 1, 1)))
    response = client_for(world.viewer).get(home(world.pmo))
    assert len(response.context["trend"]) == 1
    assert 'id="trend-chart"' not in response.content.decode()
    assert "The trend appears once two surveys have closed." in visible(response)


def test_a_long_at_risk_list_shows_the_most_influential_and_links_to_the_rest(world, client_for):
    people = [at_risk_person(world, f"Risk{n:02d} Person") for n in range(AT_RISK_SHOWN + 3)]
    people[-1].influence = 4  # the least influential comes last, so it is behind the link
    people[-1].save()
    client = client_for(world.lead)
    response = client.get(home(world.pmo))
    names = [item.stakeholder.name for item in response.context["at_risk"]]
    assert names == [p.name for p in people[:AT_RISK_SHOWN]]
    page = response.content.decode()
    shown = figures(page)
    assert shown["at-risk-count"] == str(AT_RISK_SHOWN + 3)
    assert shown["at-risk-more"] == "and 3 more"
    at_risk_list = page[page.index('id="at-risk"') : page.index("</ul>", page.index('id="at-risk"'))]
    assert at_risk_list.count("· influence") == AT_RISK_SHOWN

    link = html.unescape(re.search(r'href="([^"]*)"[^>]*data-figure="at-risk-more"', page).group(1))
    everyone = client.get(home(world.pmo) + link.split("#")[0])
    assert [item.stakeholder.name for item in everyone.context["at_risk"]] == [p.name for p in people]
    assert "at-risk-more" not in figures(everyone.content.decode())
    assert figures(everyone.content.decode())["at-risk-count"] == str(AT_RISK_SHOWN + 3)
