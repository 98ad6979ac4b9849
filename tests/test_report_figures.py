"""The agenda report's stored figures (a versioned schema, agenda/reports/snapshot.py), its
"change" column against the previous survey, and its chart of the five P's (docs/figures.md,
"The agenda report")."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from agenda.models import AgendaReport, ReportDelivery
from agenda.reports import charts as report_charts
from agenda.reports import services as reports
from agenda.reports import snapshot as report_figures
from pmo5p.domain import Element
from tests.agenda_data import REPORT_FIGURES_V1, known_survey, respond_per_element
from tests.factories import StakeholderFactory, SurveyFactory
from tests.test_report_pdf_security import poppler

P, E, C, PE, PR = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS

V1 = REPORT_FIGURES_V1  # tests/fixtures/report_figures_v1.json, stored by the code before version 2


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def stub_pdf(monkeypatch):
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")


def build_report(pmo, start=date(2026, 11, 1), end=date(2026, 12, 1)) -> AgendaReport:
    report = AgendaReport.objects.create(pmo=pmo, frequency="monthly", period_start=start, period_end=end)
    with time_machine.travel(utc(end.year, end.month, end.day, 8, 3), tick=False):
        return reports.build(report.pk)


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# The schema ---------------------------------------------------------------------------------


def test_a_version_1_report_is_read_in_the_current_schema_and_renders(world):
    assert "schema_version" not in V1
    report = AgendaReport.objects.create(
        pmo=world.pmo,
        frequency="monthly",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 12, 1),
        status="ready",
        figures=V1,
    )
    f = report_figures.load(V1, currency="EUR")
    assert f.schema_version == report_figures.SCHEMA_VERSION == 5
    assert f.currency == "EUR"  # version 1 had none: the PMO's is given
    assert f.change_basis == "report"
    assert f.survey.title == "Winter" and f.survey.nps == 100.0
    assert [(m.name, m.stage_from, m.stage_to) for m in f.maturity.movers][0] == ("Ann", "Aware", "Respect")
    assert [row.change for row in f.elements] == [12.5, 50.0, 25.0, 50.0, 0.0]
    # Stored again, it reads back the same.
    assert report_figures.load(report_figures.dump(f), currency="GBP") == f

    world.pmo.currency = "EUR"
    world.pmo.save()
    html, text = reports.render(AgendaReport.objects.select_related("pmo").get(pk=report.pk))
    page = words(html)
    assert "Change since the previous report." in page
    assert "Product 75.0 +12.5 0.0 Keep up the good work" in page
    assert "Ann: Aware → Respect" in page
    assert "2 incidents, about €3,500 in cost, 1.5 days lost." in page
    assert "<svg" in html  # the chart, from the stored numbers
    assert "- Product: perception 75.0 (+12.5), gap 0.0, Keep up the good work" in text
    assert "change since the previous report" in text


def test_figures_of_a_newer_schema_are_refused_not_misread():
    with pytest.raises(ValueError, match="schema version 6"):
        report_figures.load({**V1, "schema_version": 6}, currency="GBP")


def test_a_new_report_stores_the_current_version_unrounded(world, stub_pdf):
    known_survey(world)
    report = build_report(world.pmo)
    assert report.figures["schema_version"] == 5
    assert report.figures["currency"] == "GBP"
    assert report.figures["survey"]["response_rate"] == pytest.approx(600 / 7)
    priorities = {row["element"]: row["priority"] for row in report.figures["elements"]}
    assert priorities["physical_evidence"] == 56.25
    # Rounded once, on the way out: 85.71…% shows as 86%, 56.25 as 56.
    assert "response rate 86% (6 of 7)" in words(report.html)
    assert "priority 56." in words(report.html)


# The change column ----------------------------------------------------------------------------


@pytest.fixture
def three_surveys(world):
    """Spring (IT), Summer (Finance) and Autumn (everyone, tests/agenda_data.py), all closed.

    Summer: the three Finance people rate Product 3 (score 50), Physical Evidence 4 (75) and
    Process 5 (100); only two of them rate Price and People (the third answers "Don't know"),
    fewer than MIN_GROUP_SIZE = 3. Spring: the three IT people rate Price 1 (0) and Product
    1 (0). Autumn: 62.5, 25, 50, 25, 75.

    Changes in a report on Autumn: Product 62.5 − 50 = +12.5, Physical Evidence 25 − 75 =
    −50, Process 75 − 100 = −25 (all since Summer), Price 50 − 0 = +50 (since Spring: too
    few answers in Summer), People "new" (no earlier survey with enough answers).
    """
    known = known_survey(world)
    summer = SurveyFactory(
        pmo=world.pmo, created_by=world.lead, title="Summer", closed=True, closed_at=utc(2026, 7, 1, 12)
    )
    for index, person in enumerate(known.finance_people):
        few = (5, 3) if index < 2 else (None, 3)
        respond_per_element(summer, person, {P: (3, 4), E: (4, 4), PR: (5, 4), C: few, PE: few})
    spring = SurveyFactory(
        pmo=world.pmo, created_by=world.lead, title="Spring", closed=True, closed_at=utc(2026, 4, 1, 12)
    )
    for person in known.it_people:
        respond_per_element(spring, person, {C: (1, 3), P: (1, 3)})
    # Not earlier surveys: another PMO's, and one still open.
    theirs = SurveyFactory(
        pmo=world.other_pmo, created_by=world.outsider, title="Theirs", closed=True, closed_at=utc(2026, 9, 1, 12)
    )
    for n in range(3):
        outsider = StakeholderFactory(pmo=world.other_pmo, name=f"B{n}", email=f"b{n}@beta.example")
        respond_per_element(theirs, outsider, dict.fromkeys(Element, (5, 5)))
    open_one = SurveyFactory(
        pmo=world.pmo, created_by=world.lead, title="Still open", open=True, launched_at=utc(2026, 8, 18, 12)
    )
    for person in known.it_people:
        respond_per_element(open_one, person, dict.fromkeys(Element, (5, 5)))
    return known


def test_change_is_against_the_previous_survey_without_any_earlier_report(world, three_surveys, stub_pdf):
    report = build_report(world.pmo)
    f = report.figures
    assert f["previous_report"] is None
    assert f["survey"]["title"] == "Autumn"
    assert f["previous_survey"]["title"] == "Summer"
    change = {row["element"]: row["change"] for row in f["elements"]}
    assert change == {"product": 12.5, "physical_evidence": -50.0, "process": -25.0, "price": 50.0, "people": None}
    since = {row["element"]: (row["compared_with"] or {}).get("title") for row in f["elements"]}
    assert since == {
        "product": "Summer",
        "physical_evidence": "Summer",
        "process": "Summer",
        "price": "Spring",
        "people": None,
    }

    page = words(report.html)
    assert "Change since “Summer”." in page
    assert "Product 62.5 +12.5" in page
    assert "Physical Evidence 25.0 −50.0" in page
    assert "Price 50.0 +50.0 since “Spring”" in page
    assert "People 25.0 new" in page
    assert 'change since "Summer"' in report.text
    assert '- Price: perception 50.0 (+50.0 since "Spring")' in report.text
    assert "- People: perception 25.0 (new)" in report.text


def test_with_no_earlier_survey_every_change_is_new(world, stub_pdf):
    known_survey(world)
    report = build_report(world.pmo)
    assert {row["change"] for row in report.figures["elements"]} == {None}
    assert report.figures["previous_survey"] is None
    assert "No earlier survey to compare with." in words(report.html)


def test_the_demo_report_shows_the_change_since_its_previous_survey(db, stub_pdf):
    from django.core.management import call_command

    from agenda.demo import DEMO_SLUG
    from pmo5p.models import Pmo

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 (quiet)
    pmo = Pmo.objects.get(slug=DEMO_SLUG)
    report, _made = reports.request_now(pmo, pmo.memberships.first().user)
    report = reports.build(report.pk)
    f = report.figures
    assert f["previous_survey"] is not None
    assert all(row["change"] is not None for row in f["elements"] if row["perception"] is not None)
    assert " new " not in words(report.html).split("The five P's")[1].split("Net Promoter Score")[0]
    assert f"Change since “{f['previous_survey']['title']}”." in words(report.html)


# The chart ------------------------------------------------------------------------------------


def test_the_chart_holds_numbers_and_element_labels_only(world, stub_pdf):
    known = known_survey(world, title='<script>alert("x")</script> Autumn')
    known.survey.save()
    report = build_report(world.pmo)
    svg = re.search(r"<svg.*?</svg>", report.html, re.S).group(0)
    texts = re.findall(r">([^<]+)</text>", svg)
    allowed = {e.label for e in Element} | {"0", "25", "50", "75", "100", "Perception", "Importance to stakeholders"}
    assert set(texts) - allowed <= {f"{n / 10:.1f}" for n in range(1001)}  # the values drawn, as scores
    assert {e.label for e in Element} <= set(texts)
    assert "script" not in svg and "Autumn" not in svg
    # Outlook is kept from the SVG (it would show its text as loose words).
    assert report.html.count("<!--[if !mso]><!-->") == 1


def test_no_chart_without_figures():
    assert report_charts.five_ps_svg([]) == ""


def test_the_pdf_draws_the_chart(world, tmp_path):
    known_survey(world)
    report = build_report(world.pmo)
    shown = " ".join(poppler("pdftotext", bytes(report.pdf), tmp_path, "-raw").split())
    # The chart's scale and legend are drawn in the PDF (they are nowhere else in the report).
    assert "0 25 50 75 100" in shown
    assert "Importance to stakeholders" in shown


def test_the_email_has_the_chart_and_its_fallback(world, stub_pdf):
    known_survey(world)
    report = build_report(world.pmo)
    delivery = ReportDelivery.objects.create(report=report, user=world.lead, email=world.lead.email)
    html = reports.queue_delivery(delivery).html
    assert "<svg" in html  # for the clients that show inline SVG
    # The fallback where it is dropped (Gmail, Outlook): the five P's as bars of CSS widths.
    assert len(re.findall(r"width:\d+px;height:9px;background:#1f3a5f", html)) == 5


def test_the_pdf_chart_follows_its_heading_without_a_blank_band(world, tmp_path):
    known_survey(world)
    report = build_report(world.pmo)
    words = re.findall(
        r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
        poppler("pdftotext", bytes(report.pdf), tmp_path, "-bbox", "-f", "1", "-l", "1"),
    )
    intro_bottom = next(float(y_max) for _, y_max, word in words if word == "Scores")  # "Scores 0–100; …"
    scale_top = min(float(y_min) for y_min, _, word in words if word == "100")
    # The chart's scale starts just below the paragraph above it: an SVG at height:auto once
    # left some 40 mm blank there.
    assert 0 < scale_top - intro_bottom < 40, (intro_bottom, scale_top)
