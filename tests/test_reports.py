"""The scheduled agenda report: claiming due schedules, building each report once,
delivering it once per recipient, and the pages of the archive (eager Celery, locmem mail).

The PDF is stubbed except in the few tests whose point is the PDF.
"""

import re
import smtplib
import subprocess
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import IntegrityError, transaction
from django.urls import reverse

from agenda import tasks
from agenda.models import (
    Action,
    AgendaReport,
    DeliveryStatus,
    Incident,
    ReportDelivery,
    ReportKind,
    ReportSchedule,
)
from agenda.models.reports import ReportStatus
from agenda.reports import periods
from agenda.reports import services as reports
from pmo5p import outbox
from pmo5p.domain import Element
from pmo5p.models import Membership, OutgoingEmail
from tests.agenda_data import (
    KNOWN_PERCEPTION,
    KNOWN_RANKING,
    at_risk_person,
    known_survey,
    respond_per_element,
)
from tests.factories import MaturityRecordFactory, MembershipFactory, SelfAssessmentFactory, SurveyFactory
from tests.helpers import messages_of, text, visible
from tests.outbox_helpers import settle

P, E, C, PE, PR = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def stub_pdf(monkeypatch):
    """render_pdf without WeasyPrint: the calls are recorded."""
    calls = []

    def fake(report):
        calls.append(report.pk)
        return b"%PDF-1.7 stub of " + report.pmo.name.encode()

    monkeypatch.setattr(reports, "render_pdf", fake)
    return calls


@pytest.fixture
def eager_retries():
    """Eager tasks that retry run again at once, as a worker would after the countdown.

    The test settings propagate an eager task's errors, under which its Retry is raised
    to the caller instead of being run again; these tests follow the worker's path.
    """
    from pmo5p.celery import app

    before = app.conf.task_eager_propagates
    app.conf.update(task_eager_propagates=False)
    yield
    app.conf.update(task_eager_propagates=before)


def subscribe(world, *users):
    Membership.objects.filter(pmo=world.pmo, user__in=users).update(receives_reports=True)


def make_schedule(pmo, *, next_run_at, frequency="monthly", day=1, weekday=0, at=time(8, 0), active=True):
    return ReportSchedule.objects.create(
        pmo=pmo,
        frequency=frequency,
        day_of_month=day,
        weekday=weekday,
        send_at=at,
        is_active=active,
        next_run_at=next_run_at,
    )


def periods_of(pmo):
    return sorted((r.period_start, r.period_end) for r in AgendaReport.objects.filter(pmo=pmo))


# Claiming due schedules ------------------------------------------------------------------------------


def test_claim_creates_one_report_per_due_schedule_and_moves_the_next_run(world):
    alpha = make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    beta = make_schedule(
        world.other_pmo, frequency="weekly", weekday=0, next_run_at=utc(2026, 11, 30, 8, 0)
    )  # a Monday
    now = utc(2026, 12, 1, 8, 5)
    created = reports.claim_due_schedules(now=now)
    assert len(created) == 2
    a = AgendaReport.objects.get(pmo=world.pmo)
    b = AgendaReport.objects.get(pmo=world.other_pmo)
    assert set(created) == {a.pk, b.pk}
    assert (a.kind, a.frequency, a.period_start, a.period_end) == (
        "scheduled",
        "monthly",
        date(2026, 11, 1),
        date(2026, 12, 1),
    )
    assert (b.frequency, b.period_start, b.period_end) == ("weekly", date(2026, 11, 23), date(2026, 11, 30))
    assert a.status == ReportStatus.BUILDING
    alpha.refresh_from_db()
    beta.refresh_from_db()
    assert alpha.next_run_at == utc(2027, 1, 1, 8, 0)
    assert beta.next_run_at == utc(2026, 12, 7, 8, 0)
    assert alpha.last_run_at == beta.last_run_at == now


def test_a_schedule_not_yet_due_or_paused_is_left_alone(world):
    waiting = make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    paused = make_schedule(world.other_pmo, next_run_at=utc(2026, 11, 1, 8, 0), active=False)
    assert reports.claim_due_schedules(now=utc(2026, 12, 1, 7, 59)) == []
    assert not AgendaReport.objects.exists()
    waiting.refresh_from_db()
    paused.refresh_from_db()
    assert waiting.next_run_at == utc(2026, 12, 1, 8, 0)
    assert waiting.last_run_at is None
    assert paused.next_run_at == utc(2026, 11, 1, 8, 0)


def test_the_due_moment_itself_is_due(world):
    make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    assert len(reports.claim_due_schedules(now=utc(2026, 12, 1, 8, 0))) == 1


def test_claiming_twice_makes_no_duplicate(world):
    make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    first = reports.claim_due_schedules(now=utc(2026, 12, 1, 8, 5))
    second = reports.claim_due_schedules(now=utc(2026, 12, 1, 8, 10))
    assert len(first) == 1
    assert second == []
    assert AgendaReport.objects.count() == 1


def test_a_report_of_the_period_that_exists_already_is_not_made_again(world):
    # As if a dispatcher had created the report and died before moving the schedule on.
    existing = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    schedule = make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    assert reports.claim_due_schedules(now=utc(2026, 12, 1, 8, 5)) == []
    assert list(AgendaReport.objects.values_list("pk", flat=True)) == [existing.pk]
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2027, 1, 1, 8, 0)  # moved on all the same


def test_get_or_create_report_returns_the_existing_row_on_a_conflict(world):
    first, made = reports._get_or_create_report(world.pmo, "scheduled", "monthly", date(2026, 11, 1), date(2026, 12, 1))
    again, made_again = reports._get_or_create_report(
        world.pmo, "scheduled", "monthly", date(2026, 11, 1), date(2026, 12, 1)
    )
    assert (made, made_again) == (True, False)
    assert again.pk == first.pk
    # An on-demand report of the same dates is another row.
    other, made_other = reports._get_or_create_report(
        world.pmo, "on_demand", "monthly", date(2026, 11, 1), date(2026, 12, 1)
    )
    assert made_other and other.pk != first.pk


def test_a_late_claim_reports_on_the_same_period_as_one_on_time(world):
    make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    make_schedule(world.other_pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    reports.claim_due_schedules(now=utc(2026, 12, 1, 8, 0))
    AgendaReport.objects.filter(pmo=world.other_pmo).delete()
    ReportSchedule.objects.filter(pmo=world.other_pmo).update(next_run_at=utc(2026, 12, 1, 8, 0))
    reports.claim_due_schedules(now=utc(2026, 12, 3, 17, 0))  # beat was down two days
    assert periods_of(world.pmo) == periods_of(world.other_pmo) == [(date(2026, 11, 1), date(2026, 12, 1))]


def test_after_downtime_one_report_of_the_first_missed_run(world):
    # As docs/operations.md says: missed runs are not caught up one by one.
    schedule = make_schedule(world.pmo, next_run_at=utc(2026, 9, 1, 7, 0))  # 08:00 BST
    created = reports.claim_due_schedules(now=utc(2026, 12, 15, 10, 0))
    assert len(created) == 1
    assert periods_of(world.pmo) == [(date(2026, 8, 1), date(2026, 9, 1))]
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2027, 1, 1, 8, 0)  # the first run after now
    assert reports.claim_due_schedules(now=utc(2026, 12, 15, 10, 5)) == []


def test_claim_uses_the_local_run_date_in_auckland(world):
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    # 1 January 2027 08:00 NZDT is 31 December 19:00 UTC.
    schedule = make_schedule(world.pmo, next_run_at=utc(2026, 12, 31, 19, 0))
    reports.claim_due_schedules(now=utc(2026, 12, 31, 19, 1))
    assert periods_of(world.pmo) == [(date(2026, 12, 1), date(2027, 1, 1))]
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2027, 1, 31, 19, 0)


def test_claim_on_the_night_the_clocks_go_back_runs_once(world):
    # Weekly on Sundays at 01:30 London: 25 October 2026 has two 01:30s.
    schedule = make_schedule(world.pmo, frequency="weekly", weekday=6, at=time(1, 30), next_run_at=None)
    schedule.next_run_at = periods.next_run_at(schedule, utc(2026, 10, 24, 12, 0))
    schedule.save()
    assert schedule.next_run_at == utc(2026, 10, 25, 0, 30)
    reports.claim_due_schedules(now=utc(2026, 10, 25, 0, 30))
    assert reports.claim_due_schedules(now=utc(2026, 10, 25, 1, 30)) == []  # the second 01:30
    assert periods_of(world.pmo) == [(date(2026, 10, 18), date(2026, 10, 25))]
    schedule.refresh_from_db()
    assert schedule.next_run_at == utc(2026, 11, 1, 1, 30)


def test_a_failing_schedule_is_recorded_and_does_not_hold_up_the_others(world, monkeypatch):
    broken = make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 7, 0))  # the first in line
    fine = make_schedule(world.other_pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    real = periods.period_ending

    def period_ending(schedule, run_date):
        if schedule.pmo_id == world.pmo.pk:
            raise ValueError("bad schedule")
        return real(schedule, run_date)

    monkeypatch.setattr(periods, "period_ending", period_ending)
    now = utc(2026, 12, 1, 8, 5)
    created = reports.claim_due_schedules(now=now)
    assert [AgendaReport.objects.get(pk=pk).pmo for pk in created] == [world.other_pmo]
    broken.refresh_from_db()
    assert broken.failure_count == 1
    assert broken.last_error == "ValueError: bad schedule"
    assert broken.next_run_at == now + reports.SCHEDULE_RETRY
    assert not AgendaReport.objects.filter(pmo=world.pmo).exists()
    fine.refresh_from_db()
    assert fine.next_run_at == utc(2027, 1, 1, 8, 0)
    # Once it works again, the failure is cleared.
    monkeypatch.setattr(periods, "period_ending", real)
    reports.claim_due_schedules(now=now + timedelta(hours=2))
    broken.refresh_from_db()
    assert (broken.failure_count, broken.last_error) == (0, "")
    assert periods_of(world.pmo) == [(date(2026, 11, 1), date(2026, 12, 1))]


def test_reschedule_of_a_paused_schedule_has_no_next_run(world):
    schedule = ReportSchedule(pmo=world.pmo, is_active=False, next_run_at=utc(2026, 1, 1))
    reports.reschedule(schedule, now=utc(2026, 11, 25))
    assert schedule.next_run_at is None
    schedule.is_active = True
    reports.reschedule(schedule, now=utc(2026, 11, 25))
    assert schedule.next_run_at == utc(2026, 12, 1, 8, 0)


# The whole chain, end to end (eager) -----------------------------------------------------------------------


def pdf_title(pdf: bytes) -> str:
    """The document title in the PDF's info dictionary, as poppler's pdfinfo reads it (a regex
    over the compressed streams broke when a stream's bytes ended in a carriage return)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        info = subprocess.run(["pdfinfo", file.name], capture_output=True, check=True, timeout=60)  # noqa: S603, S607
    for line in info.stdout.decode().splitlines():
        if line.startswith("Title:"):
            return line.removeprefix("Title:").strip()
    raise AssertionError("The PDF has no title")


@pytest.fixture
def due(world):
    """Alpha's monthly report is due; the lead and the viewer subscribe, the member does not."""
    subscribe(world, world.lead, world.viewer)
    known_survey(world)
    return make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))


def test_dispatch_builds_the_report_and_mails_each_subscriber_once_with_the_pdf(world, due):
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        tasks.dispatch_due_reports.delay()
        outbox.sweep()

    report = AgendaReport.objects.get()
    assert report.status == ReportStatus.READY
    assert report.built_at == utc(2026, 12, 1, 8, 3)
    assert (report.period_start, report.period_end) == (date(2026, 11, 1), date(2026, 12, 1))
    assert report.figures["pmo"] == "Alpha PMO"
    assert report.figures["period"] == {"start": "2026-11-01", "end": "2026-12-01", "last_day": "2026-11-30"}
    assert "Alpha PMO" in report.html
    assert "RELATIONSHIP MARKETING AGENDA · Alpha PMO" in report.text
    pdf = bytes(report.pdf)
    assert pdf.startswith(b"%PDF")
    assert pdf_title(pdf) == "Relationship Marketing Agenda · Alpha PMO"

    deliveries = list(report.deliveries.order_by("email"))
    assert [(d.email, d.status, d.attempts, d.last_error) for d in deliveries] == [
        ("lead@alpha.example", DeliveryStatus.SENT, 1, ""),
        ("viewer@alpha.example", DeliveryStatus.SENT, 1, ""),
    ]
    assert all(d.sent_at == utc(2026, 12, 1, 8, 3) for d in deliveries)

    assert sorted(m.to[0] for m in mail.outbox) == ["lead@alpha.example", "viewer@alpha.example"]
    for message in mail.outbox:
        delivery = next(d for d in deliveries if d.email == message.to[0])
        assert message.subject == "Alpha PMO: Relationship Marketing Agenda, 1 Nov – 30 Nov 2026"
        assert "RELATIONSHIP MARKETING AGENDA · Alpha PMO" in message.body
        assert f"http://testserver/pmo/alpha/reports/{report.pk}/" in message.body
        assert "unsubscribe at http://testserver/pmo/alpha/reports/schedule/" in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert "Work on next" in html
        assert f'href="http://testserver/pmo/alpha/reports/{report.pk}/"' in html
        [(filename, content, attachment_type)] = message.attachments
        assert filename == "agenda-report-alpha-2026-11-30.pdf"
        assert attachment_type == "application/pdf"
        assert content == pdf
        assert content.startswith(b"%PDF")
        assert message.extra_headers["Message-ID"] == delivery.message_id
        assert message.message()["Message-ID"] == delivery.message_id
        parts = [part.get_content_type() for part in message.message().walk()]
        assert parts[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
        assert "application/pdf" in parts

    # Everything again: nothing more is built or sent.
    built_at = report.built_at
    with time_machine.travel(utc(2026, 12, 1, 9, 0), tick=False):
        tasks.dispatch_due_reports.delay()
        tasks.build_report.delay(report.pk)
        for email in OutgoingEmail.objects.all():
            outbox.send(email.pk)
        outbox.sweep()
    assert len(mail.outbox) == 2
    assert OutgoingEmail.objects.count() == 2
    assert AgendaReport.objects.count() == 1
    assert ReportDelivery.objects.count() == 2
    report.refresh_from_db()
    assert report.built_at == built_at
    assert [d.attempts for d in report.deliveries.all()] == [1, 1]


def test_the_report_html_escapes_what_people_typed(world, stub_pdf):
    Incident.objects.create(
        pmo=world.pmo, title="<script>alert(1)</script> & R&D", problem="recruiting", occurred_on=date(2026, 11, 3)
    )
    report = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    reports.build(report.pk)
    report.refresh_from_db()
    assert "<script>" not in report.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; R&amp;D" in report.html
    assert "<script>alert(1)</script> & R&D" in report.text  # the text part is plain text


def test_build_leaves_a_built_report_as_it_is(world, stub_pdf):
    report = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    reports.build(report.pk)
    Incident.objects.create(pmo=world.pmo, title="Later", problem="recruiting", occurred_on=date(2026, 11, 3))
    reports.build(report.pk)
    report.refresh_from_db()
    assert report.figures["incidents"]["count"] == 0  # the snapshot did not change
    assert stub_pdf == [report.pk]
    assert reports.build(987654321) is None


def test_a_report_that_cannot_be_built_is_marked_failed_after_its_retries(
    world, due, stub_pdf, monkeypatch, eager_retries
):
    calls = []

    def broken(report):
        calls.append(report.pk)
        raise RuntimeError("figures exploded")

    monkeypatch.setattr(reports, "build_figures", broken)
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        tasks.dispatch_due_reports.delay()
    report = AgendaReport.objects.get()
    assert report.status == ReportStatus.FAILED
    assert report.build_error == "RuntimeError: figures exploded"
    assert len(calls) == tasks.MAX_BUILD_RETRIES + 1
    assert not ReportDelivery.objects.exists()
    assert mail.outbox == []


def test_dispatch_requeues_work_lost_between_a_commit_and_its_enqueue(world, stub_pdf):
    subscribe(world, world.lead)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        lost_report = AgendaReport.objects.create(
            pmo=world.pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
        )
        fresh = AgendaReport.objects.create(
            pmo=world.other_pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
        )
    with time_machine.travel(utc(2026, 12, 1, 8, 5), tick=False):
        tasks.dispatch_due_reports.delay()
    # Five minutes old: maybe still in a queue, left alone.
    assert AgendaReport.objects.get(pk=lost_report.pk).status == ReportStatus.BUILDING
    with time_machine.travel(utc(2026, 12, 1, 8, 11), tick=False):
        tasks.dispatch_due_reports.delay()
        outbox.sweep()
    lost_report.refresh_from_db()
    assert lost_report.status == ReportStatus.READY
    assert AgendaReport.objects.get(pk=fresh.pk).status == ReportStatus.READY
    assert [m.to for m in mail.outbox] == [["lead@alpha.example"]]


def failing_once(monkeypatch, on_call=2):
    """outbox.queue, whose `on_call`-th call meets a database error (a connection dropped)."""
    from django.db import OperationalError

    real, calls = outbox.queue, []

    def queue(*args, **kwargs):
        calls.append(kwargs.get("source"))
        if len(calls) == on_call:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox, "queue", queue)
    return calls


def test_a_report_is_never_ready_without_its_deliveries(world, due, stub_pdf, monkeypatch):
    """The worker dies mid-build (no retry): nothing of it stays, and the stale scan builds it again."""
    failing_once(monkeypatch)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        (report_id,) = reports.claim_due_schedules()
        with pytest.raises(Exception, match="closed the connection"):
            reports.build(report_id)
    report = AgendaReport.objects.get(pk=report_id)
    assert (report.status, report.built_at) == (ReportStatus.BUILDING, None)
    assert not ReportDelivery.objects.exists()
    assert not OutgoingEmail.objects.exists()

    with time_machine.travel(utc(2026, 12, 1, 8, 11), tick=False):
        tasks.dispatch_due_reports.delay()
        outbox.sweep()
    report.refresh_from_db()
    assert report.status == ReportStatus.READY
    assert sorted(report.deliveries.values_list("email", "status")) == [
        ("lead@alpha.example", DeliveryStatus.SENT),
        ("viewer@alpha.example", DeliveryStatus.SENT),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["lead@alpha.example", "viewer@alpha.example"]


def test_a_database_error_making_the_deliveries_is_retried_and_each_is_sent_once(
    world, due, stub_pdf, monkeypatch, eager_retries
):
    calls = failing_once(monkeypatch)
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        tasks.dispatch_due_reports.delay()
        outbox.sweep()
    report = AgendaReport.objects.get()
    assert report.status == ReportStatus.READY
    assert len(calls) == 4  # two recipients, the second failed once: the build ran again
    assert ReportDelivery.objects.count() == OutgoingEmail.objects.count() == 2
    assert sorted(report.deliveries.values_list("email", "status")) == [
        ("lead@alpha.example", DeliveryStatus.SENT),
        ("viewer@alpha.example", DeliveryStatus.SENT),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["lead@alpha.example", "viewer@alpha.example"]


def test_the_sweep_sends_a_delivery_whose_wake_up_was_lost(world, stub_pdf):
    report = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
    )
    reports.build(report.pk)
    with time_machine.travel(utc(2026, 12, 1, 8, 0), tick=False):
        delivery = ReportDelivery.objects.create(report=report, user=world.lead, email=world.lead.email)
        reports.queue_delivery(delivery)  # its wake-up never runs: no commit in this test
    with time_machine.travel(utc(2026, 12, 1, 8, 1), tick=False):
        assert outbox.sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert len(mail.outbox) == 1


# Deliveries ------------------------------------------------------------------------------------------------


@pytest.fixture
def built(world, stub_pdf):
    report = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    return reports.build(report.pk)


def test_create_deliveries_makes_one_per_active_subscriber_once(world, built):
    subscribe(world, world.lead, world.member)
    gone = MembershipFactory(pmo=world.pmo, user__email="Gone@Alpha.example", user__is_active=False)
    gone.receives_reports = True
    gone.save()
    shouty = MembershipFactory(pmo=world.pmo, user__email="Shouty@Alpha.Example", receives_reports=True)
    MembershipFactory(pmo=world.other_pmo, receives_reports=True)

    first = reports.create_deliveries(built)
    again = reports.create_deliveries(built)
    emails = sorted(built.deliveries.values_list("email", flat=True))
    assert emails == ["lead@alpha.example", "member@alpha.example", "shouty@alpha.example"]
    assert (len(first), again) == (3, [])
    assert ReportDelivery.objects.count() == 3
    assert OutgoingEmail.objects.filter(kind="report").count() == 3  # one e-mail each, queued once
    assert built.deliveries.get(email="shouty@alpha.example").user == shouty.user


def test_create_deliveries_queues_only_the_new(world, built):
    subscribe(world, world.lead)
    reports.create_deliveries(built)
    subscribe(world, world.member)
    assert reports.create_deliveries(built) == [built.deliveries.get(email="member@alpha.example").pk]
    assert OutgoingEmail.objects.count() == 2


class DisconnectedBackend(BaseEmailBackend):
    """An SMTP server that hangs up."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class FlakyBackend(LocmemBackend):
    """Hangs up on the first `failures` messages, then delivers to the locmem outbox."""

    failures = 1

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def delivery(world, built):
    delivery = ReportDelivery.objects.create(report=built, user=world.lead, email=world.lead.email)
    reports.queue_delivery(delivery)
    return delivery


def email_of(delivery):
    return OutgoingEmail.objects.get(kind="report", source_id=delivery.pk)


def test_each_failed_attempt_is_recorded_and_the_last_marks_it_failed(world, delivery, settings):
    settings.EMAIL_BACKEND = "tests.test_reports.DisconnectedBackend"
    assert outbox.send(email_of(delivery).pk) == "queued"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert delivery.sent_at is None

    settle()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert delivery.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mail.outbox == []


def test_a_retry_after_a_failure_sends_once_and_clears_the_error(world, delivery, settings):
    settings.EMAIL_BACKEND = "tests.test_reports.FlakyBackend"
    FlakyBackend.failures = 1
    outbox.send(email_of(delivery).pk)
    settle()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 2, "")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == delivery.message_id


def test_a_sent_delivery_is_skipped(world, delivery):
    assert outbox.send(email_of(delivery).pk) == "sent"
    assert outbox.send(email_of(delivery).pk) == "sent already"
    assert outbox.send(987654321) == "gone"
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_every_delivery_has_its_own_message_id(world, built):
    subscribe(world, world.lead, world.member, world.viewer)
    reports.create_deliveries(built)
    ids = list(built.deliveries.values_list("message_id", flat=True))
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"<report-[0-9a-f]{32}@pmo5p>", i) for i in ids)
    assert sorted(OutgoingEmail.objects.values_list("message_id", flat=True)) == sorted(ids)


# The report page: deliveries and resend -----------------------------------------------------------------


def detail_url(world, report):
    return reverse("report_detail", kwargs={"slug": world.pmo.slug, "report_id": report.pk})


def resend_url(world, report, delivery):
    return reverse(
        "delivery_resend", kwargs={"slug": world.pmo.slug, "report_id": report.pk, "delivery_id": delivery.pk}
    )


@pytest.fixture
def failed(world, built, settings):
    """One delivery sent, one that failed for good."""
    subscribe(world, world.lead, world.member)
    ids = reports.create_deliveries(built)
    sent = ReportDelivery.objects.get(pk__in=ids, email="lead@alpha.example")
    outbox.send(email_of(sent).pk)
    settings.EMAIL_BACKEND = "tests.test_reports.DisconnectedBackend"
    failing = ReportDelivery.objects.get(pk__in=ids, email="member@alpha.example")
    outbox.send(email_of(failing).pk)
    OutgoingEmail.objects.filter(pk=email_of(failing).pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    settle()  # the last attempt fails too
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    return built, sent, failing


def test_the_report_page_lists_deliveries_with_status_attempts_and_error(world, client_for, failed):
    report, sent, failing = failed
    page = client_for(world.member).get(detail_url(world, report))
    assert page.status_code == 200
    listing = visible(page)
    assert "1 sent · 0 queued · 1 failed" in listing
    assert "lead@alpha.example Sent 1 attempt · sent" in listing
    assert "member@alpha.example Failed 6 attempts SMTPServerDisconnected: Connection unexpectedly closed" in listing
    assert resend_url(world, report, failing) in text(page)
    assert resend_url(world, report, sent) not in text(page)


def test_resend_sends_a_failed_delivery(world, client_for, failed, django_capture_on_commit_callbacks):
    report, _sent, failing = failed
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.member).post(resend_url(world, report, failing))
    assert response.status_code == 302
    assert response["Location"] == detail_url(world, report)
    assert messages_of(response) == ["Sending the report to member@alpha.example again."]
    failing.refresh_from_db()
    assert (failing.status, failing.attempts, failing.last_error) == (DeliveryStatus.SENT, 7, "")
    assert [m.to for m in mail.outbox] == [["member@alpha.example"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == failing.message_id


def test_resending_a_sent_delivery_sends_nothing(world, client_for, failed, django_capture_on_commit_callbacks):
    report, sent, _failing = failed
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(world.lead).post(resend_url(world, report, sent))
    assert messages_of(response) == ["The report was delivered to lead@alpha.example already."]
    assert callbacks == []
    assert mail.outbox == []
    sent.refresh_from_db()
    assert sent.attempts == 1


def test_viewer_cannot_resend(world, client_for, failed, django_capture_on_commit_callbacks):
    report, _sent, failing = failed
    client = client_for(world.viewer)
    page = client.get(detail_url(world, report))
    assert resend_url(world, report, failing) not in text(page)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resend_url(world, report, failing)).status_code == 403
    failing.refresh_from_db()
    assert failing.status == DeliveryStatus.FAILED
    assert mail.outbox == []


def test_resend_of_another_reports_delivery_is_not_found(world, client_for, failed):
    report, _sent, failing = failed
    other = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
    )
    assert client_for(world.lead).post(resend_url(world, other, failing)).status_code == 404


def test_resend_is_post_only(world, client_for, failed):
    report, _sent, failing = failed
    assert client_for(world.lead).get(resend_url(world, report, failing)).status_code == 405


# Send now --------------------------------------------------------------------------------------------------


def send_now(client, world):
    return client.post(reverse("report_send_now", kwargs={"slug": world.pmo.slug}))


def test_send_now_builds_the_period_to_date_and_sends_it(
    world, client_for, stub_pdf, django_capture_on_commit_callbacks
):
    subscribe(world, world.lead, world.viewer)
    with time_machine.travel(utc(2026, 11, 25, 12, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        response = send_now(client_for(world.member), world)
    report = AgendaReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(world, report)
    assert messages_of(response) == [
        "The report of the period to date is being built and sent; it appears below in a moment."
    ]
    assert (report.kind, report.frequency) == (ReportKind.ON_DEMAND, "monthly")
    assert (report.period_start, report.period_end) == (date(2026, 11, 1), date(2026, 11, 26))
    assert report.requested_by == world.member
    assert report.status == ReportStatus.READY
    assert sorted(m.to[0] for m in mail.outbox) == ["lead@alpha.example", "viewer@alpha.example"]
    assert "(to date, sent on demand)" in report.html
    assert mail.outbox[0].subject == "Alpha PMO: Relationship Marketing Agenda, 1 Nov – 25 Nov 2026"


def test_send_now_twice_the_same_day_makes_one_report_and_no_duplicate_mail(
    world, client_for, stub_pdf, django_capture_on_commit_callbacks
):
    subscribe(world, world.lead)
    client = client_for(world.lead)
    with time_machine.travel(utc(2026, 11, 25, 9, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        send_now(client, world)
    with (
        time_machine.travel(utc(2026, 11, 25, 17, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = send_now(client, world)
    assert callbacks == []
    assert AgendaReport.objects.count() == 1
    assert len(mail.outbox) == 1
    assert messages_of(response)[-1] == (
        "Today's report of this period exists already: it is below. Resend a delivery from it if needed."
    )
    assert response["Location"] == detail_url(world, AgendaReport.objects.get())
    # The next day is another period to date.
    with time_machine.travel(utc(2026, 11, 26, 9, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        send_now(client, world)
    assert periods_of(world.pmo) == [(date(2026, 11, 1), date(2026, 11, 26)), (date(2026, 11, 1), date(2026, 11, 27))]
    assert len(mail.outbox) == 2


def test_a_task_that_cannot_be_enqueued_does_not_break_send_now(
    world, client_for, stub_pdf, monkeypatch, django_capture_on_commit_callbacks
):
    subscribe(world, world.lead)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.build_report, "apply_async", broker_down)  # what delay() calls too
    with django_capture_on_commit_callbacks(execute=True):
        response = send_now(client_for(world.lead), world)
    report = AgendaReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(world, report)
    # Committed, and waiting for the dispatcher to queue it again.
    assert report.status == ReportStatus.BUILDING
    assert mail.outbox == []


def test_send_now_follows_the_schedule(world, client_for, stub_pdf, django_capture_on_commit_callbacks):
    subscribe(world, world.lead)
    make_schedule(world.pmo, frequency="weekly", weekday=4, next_run_at=utc(2026, 11, 27, 8, 0))  # Fridays
    with time_machine.travel(utc(2026, 11, 25, 12, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        send_now(client_for(world.lead), world)
    report = AgendaReport.objects.get()
    assert report.frequency == "weekly"
    assert (report.period_start, report.period_end) == (date(2026, 11, 20), date(2026, 11, 26))


def test_send_now_uses_the_pmos_today(world, client_for, stub_pdf, django_capture_on_commit_callbacks):
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    subscribe(world, world.lead)
    # 25 November 12:00 UTC is 26 November 01:00 in Auckland.
    with time_machine.travel(utc(2026, 11, 25, 12, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        send_now(client_for(world.lead), world)
    assert periods_of(world.pmo) == [(date(2026, 11, 1), date(2026, 11, 27))]


def test_send_now_without_recipients_builds_nothing(world, client_for, stub_pdf, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = send_now(client_for(world.lead), world)
    assert response.status_code == 302
    assert response["Location"] == reverse("report_list", kwargs={"slug": world.pmo.slug})
    assert messages_of(response) == [
        "Nobody receives the report yet: a lead chooses the recipients on the schedule page."
    ]
    assert callbacks == []
    assert not AgendaReport.objects.exists()
    assert stub_pdf == []
    assert mail.outbox == []


def test_send_now_with_only_inactive_recipients_builds_nothing(world, client_for, stub_pdf):
    gone = MembershipFactory(pmo=world.pmo, user__is_active=False, receives_reports=True)
    assert gone.receives_reports
    response = send_now(client_for(world.lead), world)
    assert "Nobody receives the report yet" in messages_of(response)[0]
    assert not AgendaReport.objects.exists()


def test_viewer_cannot_send_now(world, client_for, stub_pdf):
    subscribe(world, world.viewer)
    client = client_for(world.viewer)
    page = client.get(reverse("report_list", kwargs={"slug": world.pmo.slug}))
    assert reverse("report_send_now", kwargs={"slug": world.pmo.slug}) not in text(page)
    assert "Send now</button>" not in text(page)
    assert send_now(client, world).status_code == 403
    assert not AgendaReport.objects.exists()


def test_send_now_is_post_only(world, client_for):
    assert client_for(world.lead).get(reverse("report_send_now", kwargs={"slug": world.pmo.slug})).status_code == 405


# The figures -------------------------------------------------------------------------------------------------


def build_report(pmo, start, end, kind=ReportKind.SCHEDULED, frequency="monthly") -> AgendaReport:
    report = AgendaReport.objects.create(pmo=pmo, kind=kind, frequency=frequency, period_start=start, period_end=end)
    return reports.build(report.pk)


@pytest.fixture
def story(world, stub_pdf):
    """Autumn (hand-worked in tests/agenda_data.py), self-assessments, maturity, incidents and actions."""
    known = known_survey(world)
    for element, rating in {P: 4, E: 2, PE: 3, PR: 5}.items():
        SelfAssessmentFactory(pmo=world.pmo, element=element, rating=rating, assessed_on=date(2026, 9, 1))
    hank = at_risk_person(world, on=date(2026, 9, 1))

    def person(name, *records):
        stakeholder = known.finance_people[0].__class__.objects.create(
            pmo=world.pmo, name=name, email=f"{name.lower()}@corp.example", influence=3
        )
        for day, stage in records:
            MaturityRecordFactory(pmo=world.pmo, stakeholder=stakeholder, stage=stage, rationale="x", recorded_on=day)
        return stakeholder

    person("Ann", (date(2026, 10, 1), 2), (date(2026, 11, 10), 4))  # up
    person("Bob", (date(2026, 9, 1), 4), (date(2026, 11, 15), 2))  # down
    person("Cid", (date(2026, 11, 5), 3))  # first judged in the period: up from "Not assessed"
    person("Dee", (date(2026, 10, 1), 3), (date(2026, 11, 20), 3))  # judged again, same stage
    person("Eli", (date(2026, 10, 1), 1), (date(2026, 10, 20), 5))  # moved before the period

    def incident(title, day, cost=None, days=None, pmo=world.pmo):
        Incident.objects.create(
            pmo=pmo, title=title, problem="cost_and_delay", occurred_on=day, estimated_cost=cost, days_lost=days
        )

    incident("Before", date(2026, 10, 31), 99999, 9)
    incident("First day", date(2026, 11, 1), 1000, Decimal("1.5"))
    incident("Last day", date(2026, 11, 30), 2500)
    incident("After", date(2026, 12, 1), 88888, 8)
    incident("Theirs", date(2026, 11, 10), 77777, 7, pmo=world.other_pmo)

    owner = world.membership(world.member)

    def action(title, due, status="planned", completed=None):
        return Action.objects.create(
            pmo=world.pmo,
            title=title,
            element="product",
            due_on=due,
            status=status,
            completed_at=completed,
            owner=owner,
        )

    action("Done in the period", date(2026, 11, 20), "done", utc(2026, 11, 15, 10, 0))
    action("Done on the last evening", date(2026, 12, 20), "done", utc(2026, 11, 30, 23, 30))
    action("Done before", date(2026, 10, 20), "done", utc(2026, 10, 31, 23, 30))
    action("Late planned", date(2026, 11, 30))
    action("Late in progress", date(2026, 10, 1), "in_progress")
    action("Dropped late", date(2026, 11, 1), "dropped")
    action("Due on the run date", date(2026, 12, 1))
    action("Due at the end of next period", date(2026, 12, 31), "in_progress")
    action("Due later", date(2027, 1, 1))
    Action.objects.create(pmo=world.other_pmo, title="Theirs", element="product", due_on=date(2026, 11, 1))
    return known, hank


def rows_perception_product(f):
    return next(row["perception"] for row in f["elements"] if row["element"] == "product")


def test_report_figures_for_a_hand_built_pmo(world, story):
    known, hank = story
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        report = build_report(world.pmo, date(2026, 11, 1), date(2026, 12, 1))
    f = report.figures

    # The three elements to work on next, in priority order, and why.
    assert [row["element"] for row in f["focus"]] == [e.value for e in KNOWN_RANKING[:3]]
    first = f["focus"][0]
    assert first == {
        "element": "physical_evidence",
        "label": "Physical Evidence",
        "aim": "realising benefits",
        "quadrant": "Concentrate here",
        "advice": "Important to stakeholders and seen as weak: work on this first.",
        "priority": 56.25,  # stored unrounded: the templates round
        "perception": 25.0,
        "importance": 75.0,
    }
    # Product's perception is 62.5: shown the same way in the focus and in the table.
    assert f["focus"][1]["perception"] == rows_perception_product(f) == 62.5
    assert [row["quadrant"] for row in f["focus"]] == ["Concentrate here", "Keep up the good work", "Low priority"]

    # Perception and gap per P; the first report has nothing to compare with.
    rows = {row["element"]: row for row in f["elements"]}
    assert [row["element"] for row in f["elements"]] == [e.value for e in Element]
    assert {e.value: rows[e.value]["perception"] for e in Element} == {e.value: v for e, v in KNOWN_PERCEPTION.items()}
    assert {k: row["gap"] for k, row in rows.items()} == {
        "product": -12.5,  # 62.5 − 75
        "physical_evidence": 0.0,  # 25 − 25
        "price": None,  # never self-assessed
        "people": -25.0,  # 25 − 50
        "process": -25.0,  # 75 − 100
    }
    assert {row["change"] for row in f["elements"]} == {None}  # Autumn is the PMO's first survey
    assert f["previous_report"] is None
    assert f["previous_survey"] is None
    assert f["schema_version"] == 5

    # NPS and response rate.
    assert f["survey"]["title"] == "Autumn"
    assert f["survey"]["closed_at"] == "2026-10-20"
    assert {k: f["survey"][k] for k in ("nps", "promoters", "passives", "detractors")} == {
        "nps": 20.0,
        "promoters": 2,
        "passives": 2,
        "detractors": 1,
    }
    assert (f["survey"]["responses"], f["survey"]["sent"]) == (6, 7)
    assert f["survey"]["response_rate"] == pytest.approx(600 / 7)  # unrounded; the page shows 86%

    # Maturity movement within the period.
    assert (f["maturity"]["up"], f["maturity"]["down"]) == (2, 1)
    assert f["maturity"]["movers"] == [
        {"id": f["maturity"]["movers"][0]["id"], "name": "Ann", "stage_from": "Aware", "stage_to": "Respect"},
        {"id": f["maturity"]["movers"][1]["id"], "name": "Bob", "stage_from": "Respect", "stage_to": "Aware"},
        {
            "id": f["maturity"]["movers"][2]["id"],
            "name": "Cid",
            "stage_from": "Not assessed",
            "stage_to": "Understanding",
        },
    ]
    assert f["maturity"]["more"] == 0

    # At risk.
    assert f["at_risk"] == [{"id": hank.pk, "name": "Hank Heavy", "reasons": ["Maturity only Aware"]}]

    # Incidents of the period only, with totals.
    assert f["incidents"]["count"] == 2
    assert f["incidents"]["cost"] == 3500.0
    assert f["incidents"]["days"] == 1.5
    assert [(i["title"], i["date"], i["cost"], i["days"]) for i in f["incidents"]["items"]] == [
        ("First day", "2026-11-01", 1000.0, 1.5),
        ("Last day", "2026-11-30", 2500.0, None),
    ]

    # Actions done in the period, overdue on the run date, due before the next one.
    titles = {key: [a["title"] for a in f["actions"][key]] for key in ("done", "overdue", "due_next")}
    assert titles == {
        "done": ["Done in the period", "Done on the last evening"],
        "overdue": ["Late in progress", "Late planned"],
        "due_next": ["Due on the run date", "Due at the end of next period"],
    }
    assert f["actions"]["next_period_end"] == "2026-12-31"
    late = f["actions"]["overdue"][1]
    assert late["owner"] == str(world.member)
    assert (late["due_on"], late["status"], late["element"]) == ("2026-11-30", "Planned", "Product")

    # Suggestions: the five highest, all new in a first report.
    assert [s["title"] for s in f["suggestions"]] == [
        "Review the PMO's service catalogue with Finance",
        "Show stakeholders the benefits the portfolio has realised",
        "Add a benefits summary to the reports stakeholders receive",
        "Show Finance the benefits the portfolio has realised",
        "Show IT the benefits the portfolio has realised",
    ]
    assert all(s["new"] for s in f["suggestions"])

    # The HTML and text say the same.
    page = " ".join(re.sub(r"<[^>]+>", " ", report.html).split())
    assert "1 Physical Evidence · realising benefits" in page
    assert (
        "Keep up the good work: Important and seen as strong: protect it. Perception 62.5, importance 100.0, priority 38."
        in page
    )
    assert "Product 62.5 new −12.5 Keep up the good work" in page
    assert "Net Promoter Score 20 (2 promoters, 2 passives, 1 detractor) · response rate 86% (6 of 7)" in page
    assert "Maturity this period: 2 moved up, 1 moved down." in page
    assert "2 incidents, about £3,500 in cost, 1.5 days lost." in page  # the PMO's currency: GBP
    assert "Overdue (2)" in page
    assert "Due by 31 Dec (2)" in page
    assert "Hank Heavy: Maturity only Aware" in page
    assert "Before" not in page.split("What poor perception cost")[1].split("Actions")[0]
    assert "NPS 20 · response rate 86% (6 of 7)" in report.text
    assert "2 incidents, about £3,500 in cost, 1.5 days lost.\n- 2026-11-01 First day" in report.text
    assert "- Physical Evidence: perception 25.0 (new), gap 0.0, Concentrate here" in report.text


def test_a_second_report_shows_the_change_since_the_first(world, story):
    known, _hank = story
    with time_machine.travel(utc(2026, 11, 1, 8, 3), tick=False):
        october = build_report(world.pmo, date(2026, 10, 1), date(2026, 11, 1))
    # A later survey: the three Finance people rate everything 4, importance 4.
    winter = SurveyFactory(
        pmo=world.pmo, created_by=world.lead, title="Winter", closed=True, closed_at=utc(2026, 11, 25, 12, 0)
    )
    for person in known.finance_people:
        respond_per_element(winter, person, dict.fromkeys(Element, (4, 4)), nps=9)
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        november = build_report(world.pmo, date(2026, 11, 1), date(2026, 12, 1))
    f = november.figures
    assert f["previous_report"] == october.pk
    assert f["survey"]["title"] == "Winter"
    change = {row["element"]: row["change"] for row in f["elements"]}
    assert change == {"product": 12.5, "physical_evidence": 50.0, "price": 25.0, "people": 50.0, "process": 0.0}
    assert {row["element"]: row["perception"] for row in f["elements"]} == dict.fromkeys(Element.values, 75.0)
    assert (f["survey"]["nps"], f["survey"]["response_rate"]) == (100.0, 100.0)
    assert "+50.0" in november.html
    assert "(+12.5)" in november.text


def test_the_previous_report_is_the_latest_earlier_built_one(world, story):
    """The previous report (which suggestions are new) is the latest built one of the PMO;
    the change column does not depend on it: one survey only, nothing to compare with."""
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        older = build_report(world.pmo, date(2026, 9, 1), date(2026, 10, 1))
        newer = build_report(world.pmo, date(2026, 10, 1), date(2026, 11, 1))
        # Not yet built: not a previous report.
        AgendaReport.objects.create(
            pmo=world.pmo,
            frequency="monthly",
            period_start=date(2026, 10, 15),
            period_end=date(2026, 11, 1),
            kind="on_demand",
        )
        # Another PMO's: never.
        AgendaReport.objects.create(
            pmo=world.other_pmo,
            frequency="monthly",
            period_start=date(2026, 10, 1),
            period_end=date(2026, 11, 1),
            status="ready",
        )
        latest = build_report(world.pmo, date(2026, 11, 1), date(2026, 12, 1))
    assert newer.figures["previous_report"] == older.pk
    assert latest.figures["previous_report"] == newer.pk
    assert {row["change"] for row in latest.figures["elements"]} == {None}


def test_suggestions_new_since_the_previous_report_are_marked(world, story):
    with time_machine.travel(utc(2026, 11, 1, 8, 3), tick=False):
        build_report(world.pmo, date(2026, 10, 1), date(2026, 11, 1))
    # The top suggestion is adopted in between: the next in line moves into the five.
    Action.objects.create(
        pmo=world.pmo,
        title="Adopted",
        element="product",
        due_on=date(2026, 12, 1),
        suggestion_key=f"product:concentrate:segment-{world.segment.pk}:0",
    )
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        report = build_report(world.pmo, date(2026, 11, 1), date(2026, 12, 1))
    listed = [(s["title"], s["new"]) for s in report.figures["suggestions"]]
    assert listed == [
        ("Show stakeholders the benefits the portfolio has realised", False),
        ("Add a benefits summary to the reports stakeholders receive", False),
        ("Show Finance the benefits the portfolio has realised", False),
        ("Show IT the benefits the portfolio has realised", False),
        ("Publish a one-page guide to the PMO's services for stakeholders", True),
    ]
    assert "New: Publish a one-page guide" in " ".join(re.sub(r"<[^>]+>", " ", report.html).split())
    assert "- New: Publish a one-page guide to the PMO's services for stakeholders (Product)" in report.text


def test_an_on_demand_report_counts_overdue_as_of_today_and_due_until_the_next_run(world, story):
    # Asked on 25 November: due today is not overdue yet; due next runs to the next run date (1 December).
    with time_machine.travel(utc(2026, 11, 25, 12, 0), tick=False):
        report, _ = reports.request_now(world.pmo, world.lead)
        report = reports.build(report.pk)
    Action.objects.create(pmo=world.pmo, title="x", element="price", due_on=date(2026, 11, 25))
    f = report.figures
    assert (report.period_start, report.period_end) == (date(2026, 11, 1), date(2026, 11, 26))
    assert f["actions"]["as_of"] == "2026-11-25"
    assert [a["title"] for a in f["actions"]["overdue"]] == ["Late in progress"]
    assert [a["title"] for a in f["actions"]["due_next"]] == ["Late planned"]
    assert f["actions"]["next_period_end"] == "2026-11-30"
    assert [a["title"] for a in f["actions"]["done"]] == ["Done in the period"]


def test_a_monthly_report_on_the_31st_looks_ahead_to_the_next_run_not_a_month_of_equal_length(world, stub_pdf):
    make_schedule(world.pmo, day=31, next_run_at=utc(2027, 3, 31, 7, 0))
    Action.objects.create(pmo=world.pmo, title="Due 30 March", element="price", due_on=date(2027, 3, 30))
    report = build_report(world.pmo, date(2027, 1, 31), date(2027, 2, 28))
    assert report.figures["actions"]["next_period_end"] == "2027-03-30"
    assert [a["title"] for a in report.figures["actions"]["due_next"]] == ["Due 30 March"]


def test_a_weekly_report_looks_one_week_ahead(world, stub_pdf):
    make_schedule(world.pmo, frequency="weekly", weekday=0, next_run_at=utc(2026, 12, 7, 8, 0))
    Action.objects.create(pmo=world.pmo, title="In a week", element="price", due_on=date(2026, 12, 6))
    Action.objects.create(pmo=world.pmo, title="In eight days", element="price", due_on=date(2026, 12, 7))
    report = build_report(world.pmo, date(2026, 11, 23), date(2026, 11, 30), frequency="weekly")
    assert report.figures["actions"]["next_period_end"] == "2026-12-06"
    assert [a["title"] for a in report.figures["actions"]["due_next"]] == ["In a week"]


def test_actions_done_in_the_period_follow_the_pmos_time_zone(world, stub_pdf):
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    # 30 November 23:30 UTC is 1 December 12:30 in Auckland: not in November's report there.
    Action.objects.create(
        pmo=world.pmo,
        title="Late evening",
        element="price",
        due_on=date(2026, 12, 1),
        status="done",
        completed_at=utc(2026, 11, 30, 23, 30),
    )
    Action.objects.create(
        pmo=world.pmo,
        title="Early morning",
        element="price",
        due_on=date(2026, 12, 1),
        status="done",
        completed_at=utc(2026, 10, 31, 12, 30),  # 1 November 01:30 NZDT
    )
    report = build_report(world.pmo, date(2026, 11, 1), date(2026, 12, 1))
    assert [a["title"] for a in report.figures["actions"]["done"]] == ["Early morning"]


def test_a_pmo_without_survey_or_data_still_gets_a_report(world, stub_pdf):
    report = build_report(world.pmo, date(2026, 11, 1), date(2026, 12, 1))
    f = report.figures
    assert report.status == ReportStatus.READY
    assert (f["survey"], f["elements"], f["focus"]) == (None, [], [])
    assert f["incidents"] == {"count": 0, "cost": None, "days": None, "items": []}
    assert (f["maturity"]["up"], f["maturity"]["down"], f["at_risk"], f["suggestions"]) == (0, 0, [], [])
    assert "No survey results yet to rank the elements." in report.html
    assert "No incident logged in the period." in report.text


def test_maturity_movers_are_capped_at_fifteen(world, stub_pdf):
    for n in range(17):
        person = known_person(world, f"Mover {n:02d}")
        MaturityRecordFactory(pmo=world.pmo, stakeholder=person, stage=2, rationale="x", recorded_on=date(2026, 11, 2))
    report = build_report(world.pmo, date(2026, 11, 1), date(2026, 12, 1))
    assert report.figures["maturity"]["up"] == 17
    assert len(report.figures["maturity"]["movers"]) == 15
    assert report.figures["maturity"]["more"] == 2
    assert "and 2 more" in report.html


def known_person(world, name):
    from stakeholders.models import Stakeholder

    return Stakeholder.objects.create(pmo=world.pmo, name=name, email=f"{name.replace(' ', '').lower()}@corp.example")


def test_a_rerun_period_builds_the_figures_of_that_period_whatever_the_build_day(world, story):
    # Built on the run date or three days late: the same figures (the snapshot is of the period).
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        on_time = reports.build_figures(
            AgendaReport(
                pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
            )
        )
    with time_machine.travel(utc(2026, 12, 4, 8, 3), tick=False):
        late = reports.build_figures(
            AgendaReport(
                pmo=world.pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
            )
        )
    assert on_time == late


# The archive, the detail page and the PDF ------------------------------------------------------------------


def list_url(world):
    return reverse("report_list", kwargs={"slug": world.pmo.slug})


def pdf_url(world, report):
    return reverse("report_pdf", kwargs={"slug": world.pmo.slug, "report_id": report.pk})


def test_the_archive_lists_reports_with_their_deliveries(world, client_for, failed):
    report, _sent, _failing = failed
    AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 12, 1), period_end=date(2027, 1, 1)
    )
    AgendaReport.objects.create(
        pmo=world.other_pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    page = client_for(world.viewer).get(list_url(world))
    assert page.status_code == 200
    listing = visible(page)
    assert "1 Dec 2026 – 31 Dec 2026 Scheduled Being built 0 of 0" in listing
    assert "1 Nov 2026 – 30 Nov 2026 Scheduled Ready 1 of 2 1 failed PDF" in listing
    assert [r.pk for r in page.context["reports"]].index(report.pk) == 1  # newest first
    assert len(page.context["reports"]) == 2
    assert pdf_url(world, report) in text(page)
    assert "No schedule yet." in listing


def frame_url(world, report):
    return reverse("report_frame", kwargs={"slug": world.pmo.slug, "report_id": report.pk})


def test_the_detail_page_shows_the_stored_report_in_a_sandboxed_frame(world, client_for, built):
    client = client_for(world.viewer)
    page = client.get(detail_url(world, built))
    assert page.status_code == 200
    assert built.html not in page.content.decode()
    assert f'<iframe class="report-frame" sandbox="" src="{frame_url(world, built)}"' in page.content.decode()
    assert pdf_url(world, built) in text(page)
    frame = client.get(frame_url(world, built))
    assert frame.status_code == 200
    assert built.html in frame.content.decode()


def test_the_detail_page_keeps_the_strict_policy(world, client_for, built):
    response = client_for(world.viewer).get(detail_url(world, built))
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_the_detail_page_of_a_report_being_built_or_failed(world, client_for):
    building = AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
    )
    failed_report = AgendaReport.objects.create(
        pmo=world.pmo,
        frequency="monthly",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 10, 1),
        status=ReportStatus.FAILED,
        build_error="RuntimeError: boom",
    )
    client = client_for(world.member)
    assert "The report is being built; reload the page in a moment." in text(client.get(detail_url(world, building)))
    page = client.get(detail_url(world, failed_report))
    assert "This report could not be built: RuntimeError: boom" in text(page)
    assert pdf_url(world, failed_report) not in text(page)
    assert client.get(pdf_url(world, building)).status_code == 404


def test_the_pdf_view_serves_the_stored_pdf(world, client_for, built):
    response = client_for(world.viewer).get(pdf_url(world, built))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="agenda-report-alpha-2026-11-30.pdf"'
    assert response.content == bytes(built.pdf)
    assert response.content.startswith(b"%PDF")


def test_the_pdf_view_builds_a_real_pdf_of_the_pmo(world, client_for):
    report = AgendaReport.objects.create(
        pmo=world.pmo, frequency="quarterly", period_start=date(2026, 7, 1), period_end=date(2026, 10, 1)
    )
    report = reports.build(report.pk)
    response = client_for(world.viewer).get(pdf_url(world, report))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert pdf_title(response.content) == "Relationship Marketing Agenda · Alpha PMO"
    assert "Alpha PMO" in report.html
    assert "1 July 2026 – 30 September 2026" in report.html


def test_another_pmos_report_is_not_found(world, client_for, built):
    client = client_for(world.outsider)
    assert client.get(detail_url(world, built)).status_code == 404
    assert client.get(pdf_url(world, built)).status_code == 404


# What the database holds ------------------------------------------------------------------------------------


def test_the_database_holds_one_report_per_pmo_kind_and_period(world):
    values = {
        "pmo": world.pmo,
        "frequency": "monthly",
        "period_start": date(2026, 11, 1),
        "period_end": date(2026, 12, 1),
    }
    AgendaReport.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaReport.objects.create(**{**values, "frequency": "weekly"})
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaReport.objects.create(**{**values, "period_end": date(2026, 11, 1)})  # an empty period
    assert AgendaReport.objects.count() == 1


def test_the_database_holds_one_delivery_per_report_and_recipient(world, built):
    ReportDelivery.objects.create(report=built, user=world.lead, email="lead@alpha.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportDelivery.objects.create(report=built, user=world.lead, email="lead@alpha.example")
    assert built.deliveries.count() == 1


@pytest.mark.parametrize(("field", "value"), [("weekday", 7), ("day_of_month", 0), ("day_of_month", 32)])
def test_the_database_refuses_a_schedule_out_of_range(world, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportSchedule.objects.create(pmo=world.pmo, **{field: value})
    assert not ReportSchedule.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("estimated_cost", -1), ("days_lost", Decimal("-0.5"))])
def test_the_database_refuses_a_negative_incident_cost(world, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(pmo=world.pmo, title="x", problem="recruiting", **{field: value})
    assert not Incident.objects.exists()
