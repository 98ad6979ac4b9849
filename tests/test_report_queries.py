"""Building the agenda report takes a fixed number of queries, whatever the PMO's size:
the same for 10 stakeholders and 10 services as for 5,000 stakeholders with 50,000 answers
and a catalogue of 1,000 services, each asked about.

scripts/benchmark_report.py times the same build on the same data (not a test)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agenda.models import AgendaReport, ReportDelivery
from agenda.models.reports import ReportStatus
from agenda.reports import services as reports
from agenda.reports import snapshot as report_figures
from pmo5p import outbox
from stakeholders.models import Answer
from tests.factories import MembershipFactory, PmoFactory
from tests.large_pmo import add_services, build_large_pmo
from tests.test_follow_up_figures import many_cases

TODAY = date(2026, 12, 1)
# What building the figures may take at most: a ceiling, so that a new N+1 fails here
# even if it happened to cost the same at both sizes.
# 35 measured today, 32 before the follow-up section (the at-risk perceptions take 4: kept, then
# live; the services 4; the engagement section 2; the follow-up section 3: open cases, the
# period's cases, its pulses; the suggestions to get back in touch 2: their latest answers,
# then their lowest P).
MAX_FIGURE_QUERIES = 37


@pytest.fixture
def stub_pdf(monkeypatch):
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")


def pmo_of_size(stakeholders: int, answers: int, services: int = 10, per_response: int = 10, cases: int = 10):
    pmo = PmoFactory(time_zone="Europe/London")
    lead = MembershipFactory(pmo=pmo, role="lead", receives_reports=True).user
    build_large_pmo(pmo, lead, stakeholders=stakeholders, answers=answers, today=TODAY)
    add_services(pmo, services=services, per_response=per_response)
    # Follow-up cases over the 120 days to the report's date, half of them with a pulse.
    many_cases(pmo, cases, now=datetime(2026, 11, 30, 12, tzinfo=UTC))
    # A third of the register last touched in June: the influential among them are overdue,
    # at risk for it, and each gets a suggestion to get back in touch.
    stakeholders = list(pmo.stakeholders.order_by("pk").values_list("pk", flat=True))
    pmo.stakeholders.filter(pk__in=stakeholders[::3]).update(last_touched_on=date(2026, 6, 1))
    # A previous report, so that "change since the last report" is worked out too.
    previous = AgendaReport.objects.create(
        pmo=pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
    )
    reports.build(previous.pk)
    report = AgendaReport.objects.create(pmo=pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=TODAY)
    return pmo, lead, report


def figure_queries(report) -> tuple[int, dict]:
    report = AgendaReport.objects.select_related("pmo").get(pk=report.pk)
    with CaptureQueriesContext(connection) as queries, timezone.override(report.pmo.time_zone):
        figures = reports.build_figures(report)
    return len(queries), report_figures.dump(figures)


def build_queries(report) -> int:
    with CaptureQueriesContext(connection) as queries:
        reports.build(report.pk)
    return len(queries)


def test_building_the_report_takes_the_same_queries_at_10_and_at_5000_stakeholders(
    db, stub_pdf, django_assert_max_num_queries
):
    small_pmo, _lead, small = pmo_of_size(10, 100)
    big_pmo, big_lead, big = pmo_of_size(5000, 50_000, services=1000, per_response=5, cases=2000)
    assert big_pmo.stakeholders.count() == 5000
    assert Answer.objects.filter(response__survey__pmo=big_pmo).count() == 50_010  # 3,334 responses of 15

    small_figures, small_data = figure_queries(small)
    big_figures, big_data = figure_queries(big)
    assert small_figures == big_figures, (small_figures, big_figures)
    print(f"\nThe report's figures: {big_figures} queries")
    assert big_figures <= MAX_FIGURE_QUERIES
    # The big PMO really has figures in every part of the report.
    assert big_data["survey"]["responses"] == 3334
    assert len(big_data["focus"]) == 3
    assert len(big_data["services"]) == len(small_data["services"]) == 3
    assert big_data["maturity"]["up"] + big_data["maturity"]["down"] > 100
    assert len(big_data["at_risk"]) > 100
    assert sum("No touch for" in "; ".join(row["reasons"]) for row in big_data["at_risk"]) > 100
    assert big_data["engagement"]["total"] > 4000 and big_data["engagement"]["reached"] > 0
    assert big_data["engagement"]["compared_with"] == "report"
    follow_up = big_data["follow_up"]
    assert follow_up["opened"] > 300 and follow_up["contacted"] > 0 and follow_up["open"] > 500
    assert follow_up["pulses_sent"] > 100 and follow_up["pulses_compared"] > 0
    assert small_data["follow_up"]["opened"] > 0
    assert big_data["incidents"]["count"] == 30
    assert big_data["actions"]["done"] and big_data["actions"]["overdue"] and big_data["actions"]["due_next"]
    assert big_data["previous_report"] is not None
    assert small_data["previous_report"] is not None

    small_build = build_queries(small)
    with django_assert_max_num_queries(small_build):
        reports.build(big.pk)
    big.refresh_from_db()
    assert big.status == ReportStatus.READY
    assert "Stakeholder " in big.html


def test_sending_a_delivery_takes_the_same_queries_at_any_size(db, stub_pdf):
    counts = []
    for size, answers in ((10, 100), (2000, 15_000)):
        _pmo, lead, report = pmo_of_size(size, answers)
        reports.build(report.pk)  # which makes the lead's delivery and queues its e-mail
        email = reports.delivery_email(ReportDelivery.objects.get(report=report, user=lead))
        with CaptureQueriesContext(connection) as queries:
            assert outbox.send(email.pk) == "sent"
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12, [q["sql"] for q in queries.captured_queries]
