"""The disagreements the one figures layer (agenda/figures/, docs/figures.md) removed: where two
pages computed or rounded the same figure each their own way, they now read the same.

Each test below failed on the code before the layer (commit 16e5a51): the suggestions'
segment figures counted no "Don't know"; the results page had no response rate per segment;
the survey list rounded the response rate half to even (widthratio) where the results page
rounded half up; the report showed perception as a whole number and the dashboard showed the
gap without its sign; a chart's point was rounded half to even beside its table's half up;
the suggestions used segments the results page does not list. Then the one rounding itself.
"""

import re
from datetime import datetime

import pytest
from django.urls import reverse

from agenda.figures import present, segments
from agenda.figures.present import Kind
from agenda.models import AgendaReport
from agenda.plan import suggestions
from agenda.reports import services as reports
from pmo5p.domain import Element
from stakeholders.models import Stakeholder
from tests.agenda_data import known_survey
from tests.factories import ResponseFactory, SegmentFactory, SelfAssessmentFactory, StakeholderFactory
from tests.insight_fixtures import figures as page_figures
from tests.survey_helpers import open_survey, survey_url

P, E = Element.PRODUCT, Element.PHYSICAL_EVIDENCE


def cells(page: str, row_attribute: str) -> list[str]:
    """The text of each cell of the table row carrying this attribute."""
    row = re.search(rf"<tr {row_attribute}>(.*?)</tr>", page, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def finance(world):
    """Four Finance stakeholders invited to an open survey; the first three answer."""
    people = [StakeholderFactory(pmo=world.pmo, segment=world.segment) for _ in range(4)]
    survey, invitations = open_survey(world.pmo, people, title="Pulse")
    return survey, people, invitations


def test_the_suggestions_segment_figures_count_dont_know(world, finance):
    survey, _people, invitations = finance
    for invitation in invitations[:3]:
        ResponseFactory(invitation=invitation, ratings={P: (1, None)}, importance={P: 5})
    (row,) = segments.segment_figures(survey)
    assert (row.name, row.responses, row.hidden) == ("Finance", 3, False)
    assert (row.elements[P].perception, row.elements[P].perception_answers, row.elements[P].dont_know) == (0.0, 3, 3)
    # The suggestion rests on that very row.
    (proposed,) = [s for s in suggestions.suggestions(world.pmo, survey) if s.segment_id == world.segment.pk]
    assert (
        proposed.why == "For Finance, Product is in “Concentrate here” (perception 0.0, importance 100.0, 3 responses)."
    )


def test_suggestions_use_the_segment_rows_of_the_results_page(world, finance, client_for):
    """Three answered in Finance, then all moved to Ops: the audience's segments are those of
    the launch, so the results page and the suggestions still give Finance its figures, and
    Ops, where nobody was at the launch, has no row."""
    survey, people, invitations = finance
    for invitation in invitations[:3]:
        ResponseFactory(invitation=invitation, ratings={P: (1, 1)}, importance={P: 5})
    assert [s.segment_id for s in suggestions.suggestions(world.pmo, survey) if s.segment_id] == [world.segment.pk]
    Stakeholder.objects.filter(pk__in=[p.pk for p in people]).update(segment=SegmentFactory(pmo=world.pmo, name="Ops"))
    page = client_for(world.viewer).get(survey_url("survey_results", survey)).content.decode()
    assert 'data-segment="Ops"' not in page
    assert cells(page, 'data-segment="Finance"')[:2] == ["3", "75%"]
    assert [s.segment_id for s in suggestions.suggestions(world.pmo, survey) if s.segment_id] == [world.segment.pk]


def test_a_segments_response_rate_reads_the_same_on_the_dashboard_and_the_results_page(world, finance, client_for):
    survey, people, invitations = finance
    for invitation in invitations[:3]:
        ResponseFactory(invitation=invitation, ratings={P: (4, 4)})
    # The first answered in Finance and moved: their invitation stays Finance's (the launch's), as their answer.
    it = SegmentFactory(pmo=world.pmo, name="IT")
    Stakeholder.objects.filter(pk=people[0].pk).update(segment=it)
    client = client_for(world.viewer)
    results = client.get(survey_url("survey_results", survey)).content.decode()
    dashboard = client.get(reverse("pmo_home", kwargs={"slug": world.pmo.slug}) + f"?segment={world.segment.pk}")
    # 3 responses of 4 sent: 75%.
    assert cells(results, 'data-segment="Finance"')[:2] == ["3", "75%"]
    assert page_figures(dashboard.content.decode())["response-rate"] == "75%"
    assert "3 responses of 4 sent" in words(dashboard.content.decode())


def test_the_survey_list_rounds_the_response_rate_as_the_results_page(world, client_for):
    people = [StakeholderFactory(pmo=world.pmo) for _ in range(8)]
    survey, invitations = open_survey(world.pmo, people)
    ResponseFactory(invitation=invitations[0], ratings={P: (4, 4)})
    client = client_for(world.viewer)
    listing = words(client.get(reverse("survey_list", kwargs={"slug": world.pmo.slug})).content.decode())
    detail = words(client.get(survey_url("survey_detail", survey)).content.decode())
    results = client.get(survey_url("survey_results", survey)).content.decode()
    # 1 of 8: 12.5%, half up.
    assert page_figures(results)["response-rate"] == "13%"
    assert "8 1 (13%)" in listing
    assert "Response rate 13%" in detail


def test_the_report_shows_perception_and_gap_as_the_dashboard(world, client_for, monkeypatch):
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")
    known_survey(world)
    SelfAssessmentFactory(pmo=world.pmo, element=P, rating=4)  # 75: gap 62.5 − 75 = −12.5
    page = client_for(world.viewer).get(reverse("pmo_home", kwargs={"slug": world.pmo.slug})).content.decode()
    product = re.search(r'<tr data-element="product">(.*?)</tr>', page, re.S).group(1)
    shown = dict(re.findall(r'data-figure="(\w+)"[^>]*>([^<]*)<', product))
    assert (shown["perception"], shown["gap"]) == ("62.5", "−12.5")

    report = AgendaReport.objects.create(
        pmo=world.pmo,
        frequency="monthly",
        period_start=datetime(2026, 11, 1).date(),
        period_end=datetime(2026, 12, 1).date(),
    )
    report = reports.build(report.pk)
    assert "Product 62.5 new −12.5 Keep up the good work" in words(report.html)


def test_a_chart_point_is_the_number_in_its_table(world, client_for):
    """Perception 6.25 (ratings 2, 1, 1, 1): 6.3 in the table and on the chart, on both pages."""
    people = [StakeholderFactory(pmo=world.pmo) for _ in range(2)]
    survey, invitations = open_survey(world.pmo, people)
    ResponseFactory(invitation=invitations[0], ratings={P: (2, 1)})
    ResponseFactory(invitation=invitations[1], ratings={P: (1, 1)})
    client = client_for(world.viewer)
    results = client.get(survey_url("survey_results", survey))
    assert re.search(r'<tr data-element="product">.*?data-figure="perception">6\.3<', results.content.decode(), re.S)
    assert results.context["chart_data"]["perception"][0] == 6.3
    dashboard = client.get(reverse("pmo_home", kwargs={"slug": world.pmo.slug}) + f"?survey={survey.pk}")
    assert dashboard.context["chart_data"]["perception"][0] == 6.3


# The one rounding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (62.25, Kind.SCORE, "62.3"),  # half up, not to even
        ((1.15 - 1) / 4 * 100, Kind.SCORE, "3.8"),  # 3.749999999999998: a tie, in floating point
        (6.25, Kind.SCORE, "6.3"),
        (75, Kind.SCORE, "75.0"),
        (None, Kind.SCORE, "—"),
        (37.5, Kind.PRIORITY, "38"),
        (100 / 6, Kind.NPS, "17"),
        (-100 / 6, Kind.NPS, "-17"),
        (-0.04, Kind.NPS, "0"),  # never "-0"
        (85.714, Kind.PERCENT, "86%"),
        (12.5, Kind.PERCENT, "13%"),
    ],
)
def test_each_kind_of_figure_is_shown_with_its_decimals(value, kind, text):
    assert present.shown(value, kind) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.5, "+12.5"), (-12.5, "−12.5"), (2.25, "+2.3"), (-0.04, "0.0"), (0, "0.0"), (None, "—")],
)
def test_a_change_has_its_sign_and_a_true_minus(value, text):
    assert present.signed(value) == text


def test_a_chart_gets_the_number_shown():
    assert [present.rounded(v, Kind.SCORE) for v in (6.25, 62.25, None, -0.04)] == [6.3, 62.3, None, 0.0]
