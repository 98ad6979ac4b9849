"""The outbox (pmo5p/outbox.py): one row per e-mail, one send policy, the sweeper, and every
kind of e-mail going through it. PostgreSQL: the concurrency test needs real row locks."""

import json
import re
import smtplib
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agenda.models import AgendaReport
from agenda.reports import services as reports
from pmo5p import outbox
from pmo5p.models import Membership, OutgoingEmail, Role
from pmo5p.services import invite_member
from stakeholders.models import SurveyInvitation
from stakeholders.surveys import lifecycle as surveys
from tests.factories import ResponseFactory, StakeholderFactory, SurveyFactory
from tests.survey_helpers import open_survey

Status, Kind = OutgoingEmail.Status, OutgoingEmail.Kind


@pytest.fixture
def stub_pdf(monkeypatch):
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")


@pytest.fixture
def t0():
    from datetime import UTC, datetime

    return datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def queued(t0, to="someone@example.org") -> OutgoingEmail:
    """A row about nothing, of a kind with no hooks: the policy alone (a member invitation's
    row is cancelled when there is no pending invitation behind it)."""
    with time_machine.travel(t0, tick=False):
        return outbox.queue(Kind.DETRACTOR_ALERT_BATCH, [to], "member-invitation", {"accept_path": "/x/"})


class Server:
    """The locmem backend with scripted replies: each entry an exception to raise, or None to accept."""

    def __init__(self, monkeypatch, *replies):
        self.replies = list(replies)
        self.calls = 0
        real = EmailBackend.send_messages
        server = self

        def send_messages(backend, messages):
            server.calls += 1
            reply = server.replies.pop(0) if server.replies else None
            if reply is not None:
                raise reply
            return real(backend, messages)

        monkeypatch.setattr(EmailBackend, "send_messages", send_messages)


def message_id_of(message) -> str:
    return message.message()["Message-ID"]


# The policy --------------------------------------------------------------------------------------


def test_a_4xx_is_retried_with_backoff_and_sent_once_with_the_same_message_id(db, t0, monkeypatch, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    email = queued(t0)
    Server(monkeypatch, smtplib.SMTPDataError(451, b"4.3.0 Try again later"))
    with time_machine.travel(t0, tick=False):
        assert outbox.send(email.pk) == Status.QUEUED
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.QUEUED, 1)
    assert email.last_error == "SMTPDataError: (451, b'4.3.0 Try again later')"
    # The wait is the row's, not a broker countdown: 1 × the base after the first attempt.
    assert email.next_attempt_at == t0 + timedelta(seconds=30)
    with time_machine.travel(t0 + timedelta(seconds=29), tick=False):
        assert outbox.send(email.pk) == "not due"
        assert outbox.sweep() == 0
    with time_machine.travel(t0 + timedelta(seconds=30), tick=False):
        assert outbox.sweep() == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Status.SENT, 2, "")
    assert email.sent_at == t0 + timedelta(seconds=30)
    (message,) = mail.outbox
    assert message_id_of(message) == email.message_id
    assert outbox.send(email.pk) == "sent already"
    assert len(mail.outbox) == 1


def test_every_attempt_carries_the_same_message_id(db, t0, monkeypatch, settings):
    seen = []
    real = EmailBackend.send_messages

    def send_messages(backend, messages):
        seen.extend(message_id_of(m) for m in messages)
        if len(seen) < 3:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    email = queued(t0)
    # Each attempt as the send task makes it when the row falls due (the sweep's own tests are
    # below; a sweep defers to any other holding its lock, which this test is not about).
    for seconds in (0, 60, 180):
        with time_machine.travel(t0 + timedelta(seconds=seconds), tick=False):
            outbox.send(email.pk)
    email.refresh_from_db()
    assert email.status == Status.SENT
    assert seen == [email.message_id] * 3


def test_the_backoff_doubles(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    assert [outbox.backoff(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]


def test_a_5xx_fails_at_once_with_the_error_shown(db, t0, monkeypatch):
    email = queued(t0)
    server = Server(monkeypatch, smtplib.SMTPRecipientsRefused({"someone@example.org": (550, b"5.1.1 No such user")}))
    assert outbox.send(email.pk) == Status.FAILED
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == (Status.FAILED, 1, None)
    assert "550" in email.last_error and "No such user" in email.last_error
    assert outbox.sweep() == 0
    assert server.calls == 1


@pytest.mark.parametrize(
    "error",
    [ConnectionRefusedError(111, "Connection refused"), TimeoutError("timed out"), smtplib.SMTPServerDisconnected()],
)
def test_connection_errors_and_timeouts_are_retried(db, t0, monkeypatch, error):
    email = queued(t0)
    Server(monkeypatch, error)
    assert outbox.send(email.pk) == Status.QUEUED
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.QUEUED, 1)
    assert email.last_error.startswith(type(error).__name__)


def test_after_the_last_attempt_it_is_failed(db, t0, monkeypatch):
    email = queued(t0)
    Server(monkeypatch, *[smtplib.SMTPServerDisconnected("gone")] * outbox.MAX_ATTEMPTS)
    moment = t0
    for _ in range(outbox.MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            outbox.send(email.pk)
        email.refresh_from_db()
        moment = email.next_attempt_at or moment
    assert (email.status, email.attempts) == (Status.FAILED, outbox.MAX_ATTEMPTS)
    assert email.last_error == "SMTPServerDisconnected: gone"


def test_send_again_gives_a_failed_row_a_new_budget_of_retries(db, t0, monkeypatch):
    """After "send again", a 451 is retried as on a new row, not failed at once; the
    attempts go on counting (the superseded-send check needs them to)."""
    email = queued(t0)
    Server(monkeypatch, *[smtplib.SMTPServerDisconnected("gone")] * outbox.MAX_ATTEMPTS)
    moment = t0
    for _ in range(outbox.MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            outbox.send(email.pk)
        email.refresh_from_db()
        moment = email.next_attempt_at or moment
    assert email.status == Status.FAILED

    assert outbox.send_again(email) is True
    Server(monkeypatch, smtplib.SMTPDataError(451, b"4.3.0 Try again later"))
    outbox.sweep()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.QUEUED, outbox.MAX_ATTEMPTS + 1)
    assert email.next_attempt_at > timezone.now()
    OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    outbox.sweep()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.SENT, outbox.MAX_ATTEMPTS + 2)
    assert [message_id_of(m) for m in mail.outbox] == [email.message_id]


def test_a_fault_of_ours_fails_at_once_and_is_logged(db, t0, monkeypatch, caplog):
    email = queued(t0)
    Server(monkeypatch, ValueError("a bug"))
    assert outbox.send(email.pk) == Status.FAILED
    email.refresh_from_db()
    assert email.last_error == "ValueError: a bug"
    assert "failed for good" in caplog.text


def test_a_row_already_sent_sends_nothing(db, t0):
    email = queued(t0)
    OutgoingEmail.objects.filter(pk=email.pk).update(status=Status.SENT)
    assert outbox.send(email.pk) == "sent already"
    assert outbox.send(987654321) == "gone"
    assert mail.outbox == []


# The sweeper ---------------------------------------------------------------------------------------


def test_the_sweeper_sends_what_is_due_and_nothing_else(db, t0):
    never_attempted = queued(t0, "never@example.org")
    retry_due = queued(t0, "retry@example.org")
    not_yet = queued(t0, "later@example.org")
    stuck = queued(t0, "stuck@example.org")
    sending = queued(t0, "sending@example.org")
    now = t0 + timedelta(minutes=30)
    OutgoingEmail.objects.filter(pk=retry_due.pk).update(attempts=2, last_error="451", next_attempt_at=now)
    OutgoingEmail.objects.filter(pk=not_yet.pk).update(attempts=2, next_attempt_at=now + timedelta(seconds=1))
    # A worker died mid-send: its lease ended. Another is sending now: its lease runs.
    OutgoingEmail.objects.filter(pk=stuck.pk).update(status=Status.SENDING, attempts=1, next_attempt_at=now)
    OutgoingEmail.objects.filter(pk=sending.pk).update(
        status=Status.SENDING, attempts=1, next_attempt_at=now + timedelta(minutes=5)
    )
    with time_machine.travel(now, tick=False):
        assert outbox.sweep() == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["never@example.org", "retry@example.org", "stuck@example.org"]
    assert OutgoingEmail.objects.get(pk=stuck.pk).attempts == 2
    assert OutgoingEmail.objects.get(pk=not_yet.pk).status == Status.QUEUED
    assert OutgoingEmail.objects.get(pk=sending.pk).status == Status.SENDING
    assert OutgoingEmail.objects.get(pk=never_attempted.pk).status == Status.SENT


def test_a_row_that_breaks_does_not_stop_the_sweep(db, t0, monkeypatch, caplog):
    broken = queued(t0, "broken@example.org")
    fine = queued(t0, "fine@example.org")

    def check(email):
        if email.pk == broken.pk:
            raise RuntimeError("a bug of ours")
        return None

    monkeypatch.setitem(outbox._hooks, Kind.DETRACTOR_ALERT_BATCH, outbox.Hooks(check=check))
    with time_machine.travel(t0 + timedelta(minutes=1), tick=False):
        assert outbox.sweep() == 1
    assert [m.to for m in mail.outbox] == [["fine@example.org"]]
    assert OutgoingEmail.objects.get(pk=fine.pk).status == Status.SENT
    assert OutgoingEmail.objects.get(pk=broken.pk).status == Status.QUEUED  # tried again next sweep
    assert f"E-mail {broken.pk}: the sweep could not send it" in caplog.text
    assert "RuntimeError: a bug of ours" in caplog.text


def test_a_row_lost_mid_send_at_its_last_attempt_fails_instead_of_being_sent_again(world, stub_pdf, t0, caplog):
    """A message that kills its worker each time is failed once its last lease runs out, and
    its delivery shows it."""
    from agenda.models import DeliveryStatus

    report = october_report(world)
    with time_machine.travel(t0, tick=False):
        reports.build(report.pk)
    (delivery,) = report.deliveries.all()
    email = OutgoingEmail.objects.get()
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=Status.SENDING, attempts=outbox.MAX_ATTEMPTS, next_attempt_at=t0
    )
    with time_machine.travel(t0 + timedelta(minutes=1), tick=False):
        assert outbox.sweep() == 0
    assert mail.outbox == []
    email.refresh_from_db()
    error = f"Lost mid-send at its last attempt ({outbox.MAX_ATTEMPTS} of {outbox.MAX_ATTEMPTS})"
    assert (email.status, email.next_attempt_at, email.attempts) == (Status.FAILED, None, outbox.MAX_ATTEMPTS)
    assert email.last_error.startswith(error)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert delivery.last_error.startswith(error)
    assert email.message_id in caplog.text
    # One attempt short of the last: the lost send is made again.
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=Status.SENDING, attempts=outbox.MAX_ATTEMPTS - 1, next_attempt_at=t0
    )
    with time_machine.travel(t0 + timedelta(minutes=1), tick=False):
        assert outbox.sweep() == 1
    assert [m.to for m in mail.outbox] == [[world.lead.email]]


@pytest.mark.parametrize(
    ("environment", "refusal"),
    [
        ({"PMO5P_OUTBOX_SWEEP_SECONDS": "0"}, "PMO5P_OUTBOX_SWEEP_SECONDS=0 is out of range [1, 3600]"),
        ({"PMO5P_OUTBOX_SWEEP_SECONDS": "soon"}, "PMO5P_OUTBOX_SWEEP_SECONDS='soon' is not a whole number"),
        (
            {"EMAIL_TIMEOUT": "30", "PMO5P_OUTBOX_LEASE_SECONDS": "300"},
            "PMO5P_OUTBOX_LEASE_SECONDS=300 must exceed 10 × EMAIL_TIMEOUT=30 (300 s)",
        ),
    ],
)
def test_the_sweep_interval_and_the_lease_are_checked_settings(environment, refusal):
    result = subprocess.run(  # noqa: S603 (the project's settings, in a fresh interpreter)
        [sys.executable, "-c", "import pmo5p.settings"],
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1", **environment},
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode != 0
    assert refusal in result.stderr


def test_the_beat_schedule_sweeps_at_the_set_interval(settings):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-outbox"] == {
        "task": "pmo5p.tasks.sweep_outbox",
        "schedule": settings.OUTBOX_SWEEP_SECONDS,
        "options": {"expires": settings.OUTBOX_SWEEP_SECONDS},  # one not started in time is dropped
    }


def test_a_sweep_stops_after_its_time_budget_and_the_next_one_sends_the_rest(db, t0, monkeypatch, settings, caplog):
    settings.OUTBOX_SWEEP_SECONDS = 60  # a budget of 5 × 60 s
    for n in range(3):
        queued(t0, f"{n}@example.org")
    real = EmailBackend.send_messages
    with time_machine.travel(t0 + timedelta(minutes=1), tick=False) as clock:

        def slow(backend, messages):
            clock.shift(timedelta(seconds=200))  # a mail server that takes its time
            return real(backend, messages)

        monkeypatch.setattr(EmailBackend, "send_messages", slow)
        assert outbox.sweep() == 2  # 200 s, then 400 s: over the budget, the third waits
        assert "ran out of time" in caplog.text
        assert OutgoingEmail.objects.filter(status=Status.QUEUED).count() == 1
        assert outbox.sweep() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["0@example.org", "1@example.org", "2@example.org"]


@pytest.mark.django_db(transaction=True)
def test_a_sweep_straight_after_another_finds_the_lock_free(monkeypatch):
    """A sweep releases its lock before it closes the lock's connection: the server process
    of a closed connection lets its locks go only when it ends, some time after close()
    returns, and a sweep straight after (the next beat, a test's next line) found the lock
    taken now and then. Modelled here by connections whose close() leaves them open."""
    assert connection.vendor == "postgresql"
    opened = []
    create = connections.create_connection

    def lingering(alias):
        made = create(alias)
        opened.append(made)
        monkeypatch.setattr(made, "close", lambda: None)  # its server process lives on a while
        return made

    monkeypatch.setattr(connections, "create_connection", lingering)
    try:
        for _ in range(2):
            with outbox._only_sweep() as alone:
                assert alone
    finally:
        for made in opened:
            type(made).close(made)


@pytest.mark.django_db(transaction=True)
def test_one_sweep_runs_at_a_time(monkeypatch):
    assert connection.vendor == "postgresql"
    for to in ("a@example.org", "b@example.org"):
        OutgoingEmail.objects.create(kind=Kind.DETRACTOR_ALERT_BATCH, to=[to], subject="s", text="t")
    inside, release = threading.Event(), threading.Event()
    real = EmailBackend.send_messages

    def slow(backend, messages):
        inside.set()
        release.wait(10)  # the second sweep starts while the first is at the mail server
        return real(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)
    outcomes = {}

    def run(name):
        try:
            outcomes[name] = outbox.sweep()
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    second.join(10)
    assert outcomes == {"second": 0}  # it left the second row to the sweep under way
    release.set()
    first.join(10)
    assert outcomes == {"first": 2, "second": 0}
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "b@example.org"]
    # The lock went with the first sweep.
    OutgoingEmail.objects.create(kind=Kind.DETRACTOR_ALERT_BATCH, to=["c@example.org"], subject="s", text="t")
    try:
        assert outbox.sweep() == 1
    finally:
        connection.close()


# Exactly once under two sends at once ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_send_once(t0, monkeypatch):
    assert connection.vendor == "postgresql"
    # Made directly, without queue()'s wake-up: in autocommit it would send at once.
    email = OutgoingEmail.objects.create(kind=Kind.DETRACTOR_ALERT_BATCH, to=["a@example.org"], subject="s", text="t")
    inside = threading.Event()
    release = threading.Event()
    real = EmailBackend.send_messages

    def slow(backend, messages):
        inside.set()
        release.wait(10)  # the second send starts while the first is at the mail server
        return real(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)
    outcomes = []

    def run():
        try:
            outcomes.append(outbox.send(email.pk))
        finally:
            connection.close()

    first = threading.Thread(target=run)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=run)
    second.start()
    second.join(10)
    release.set()
    first.join(10)
    assert sorted(outcomes) == ["not due", "sent"]
    assert len(mail.outbox) == 1
    assert OutgoingEmail.objects.get(pk=email.pk).attempts == 1


# Recording the outcome -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_outcome_whose_recording_fails_once_is_recorded_and_sent_once(t0, monkeypatch):
    """The database connection drops while the mail server says 250: the outcome is recorded
    on a new connection, not left "sending" for a second send once the lease ends."""
    assert connection.vendor == "postgresql"
    monkeypatch.setattr(outbox, "FINISH_PAUSE_SECONDS", 0)
    email = OutgoingEmail.objects.create(kind=Kind.DETRACTOR_ALERT_BATCH, to=["a@example.org"], subject="s", text="t")
    real, calls = outbox._finish, []

    def finish(*args):
        calls.append(args)
        if len(calls) == 1:
            connection.connection.close()  # the server side of the connection is gone
        return real(*args)

    monkeypatch.setattr(outbox, "_finish", finish)
    try:
        assert outbox.send(email.pk) == Status.SENT
    finally:
        connection.close()
    assert len(calls) == 2
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == (Status.SENT, 1, None)


def test_an_outcome_that_cannot_be_recorded_is_logged_with_its_message_id(db, t0, monkeypatch, caplog):
    from django.db import OperationalError

    monkeypatch.setattr(outbox, "FINISH_PAUSE_SECONDS", 0)
    email = queued(t0)

    def finish(*args):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(outbox, "_finish", finish)
    with time_machine.travel(t0, tick=False), pytest.raises(OperationalError):
        outbox.send(email.pk)
    assert len(mail.outbox) == 1
    (record,) = [r for r in caplog.records if r.levelname == "CRITICAL"]
    assert email.message_id in record.getMessage()
    assert "accepted by the mail server but its outcome could not be recorded" in record.getMessage()
    assert sum("trying again" in r.getMessage() for r in caplog.records) == outbox.FINISH_TRIES - 1


# Every kind goes through the outbox -------------------------------------------------------------------


def kinds():
    return sorted(OutgoingEmail.objects.values_list("kind", flat=True))


def test_a_member_invitation_is_an_outbox_row_and_forgets_its_link_once_sent(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite_member(pmo=world.pmo, email="new@alpha.example", role=Role.MEMBER, invited_by=world.lead)
    (email,) = OutgoingEmail.objects.all()
    assert (email.kind, email.to, email.status, email.pmo) == (
        Kind.MEMBER_INVITATION,
        ["new@alpha.example"],
        "sent",
        world.pmo,
    )
    assert email.source == invitation
    (message,) = mail.outbox
    assert "/invitations/" in message.body and message_id_of(message) == email.message_id
    assert email.text == email.html == ""  # the database keeps only the token's hash


def test_a_member_invitation_refused_for_now_is_retried(world, monkeypatch, django_capture_on_commit_callbacks):
    Server(monkeypatch, smtplib.SMTPServerDisconnected("down"))
    with django_capture_on_commit_callbacks(execute=True):
        invite_member(pmo=world.pmo, email="new@alpha.example", role=Role.MEMBER, invited_by=world.lead)
    (email,) = OutgoingEmail.objects.all()
    assert (email.status, email.attempts) == (Status.QUEUED, 1)
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    outbox.sweep()
    assert [m.to for m in mail.outbox] == [["new@alpha.example"]]


def test_survey_invitations_reminders_and_alerts_are_outbox_rows(world, django_capture_on_commit_callbacks):
    frank = StakeholderFactory(pmo=world.pmo, name="Frank", email="frank@corp.example")
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    survey.target_segments.clear()
    survey.target_stakeholders.add(world.stakeholder, frank)
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(survey)
    assert kinds() == [Kind.SURVEY_INVITATION] * 2
    assert set(SurveyInvitation.objects.values_list("send_status", flat=True)) == {"sent"}

    SurveyInvitation.objects.update(sent_at=timezone.now() - timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        surveys.claim_due_reminders()
    assert kinds().count(Kind.SURVEY_REMINDER) == 2
    assert SurveyInvitation.objects.filter(reminded_at__isnull=False).count() == 2

    invitation = SurveyInvitation.objects.get(stakeholder=frank)
    with django_capture_on_commit_callbacks(execute=True):
        surveys.submit(invitation, values={}, nps=2, comment="")
    assert kinds().count(Kind.DETRACTOR_ALERT) == 1
    assert [m.subject for m in mail.outbox].count(mail.outbox[-1].subject) == 1
    assert OutgoingEmail.objects.get(kind=Kind.DETRACTOR_ALERT).status == Status.SENT


def test_an_anonymous_surveys_batched_alert_is_an_outbox_row(world):
    others = [StakeholderFactory(pmo=world.pmo, email=f"p{n}@corp.example") for n in range(3)]
    survey, invitations = open_survey(world.pmo, others, anonymous=True)
    for invitation in invitations:
        ResponseFactory(invitation=invitation, nps=1)
    (email,) = surveys.alert_anonymous_detractors(survey.pk)
    assert (email.kind, email.source, email.to) == (Kind.DETRACTOR_ALERT_BATCH, survey, [world.lead.email])


def october_report(world) -> AgendaReport:
    """October's report of Alpha, which the lead receives."""
    Membership.objects.filter(pmo=world.pmo, user=world.lead).update(receives_reports=True)
    return AgendaReport.objects.create(
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
    )


def test_a_report_delivery_is_an_outbox_row_with_its_pdf_read_at_send_time(world, stub_pdf):
    report = october_report(world)
    reports.build(report.pk)
    (delivery_id,) = report.deliveries.values_list("pk", flat=True)
    (email,) = OutgoingEmail.objects.all()
    assert (email.kind, email.source.pk, email.message_id) == (Kind.REPORT, delivery_id, email.source.message_id)
    AgendaReport.objects.filter(pk=report.pk).update(pdf=b"%PDF-changed")
    outbox.send(email.pk)
    ((name, content, mimetype),) = mail.outbox[0].attachments
    assert (content, mimetype) == (b"%PDF-changed", "application/pdf")


def test_a_stale_report_queues_no_more_sends(world, stub_pdf):
    """A report built again, or its deliveries made again, queue nothing: only a new delivery does."""
    from agenda import tasks

    report = october_report(world)
    for _ in range(5):
        tasks.build_report.delay(report.pk)
    assert OutgoingEmail.objects.count() == 1
    assert reports.create_deliveries(report) == []


# Send again ------------------------------------------------------------------------------------------


def test_send_again_queues_a_failed_row_now_with_the_same_message_id(db, t0):
    email = queued(t0)
    OutgoingEmail.objects.filter(pk=email.pk).update(status=Status.FAILED, attempts=6, next_attempt_at=None)
    email.refresh_from_db()
    assert email.can_send_again
    assert outbox.send_again(email) is True
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.QUEUED, 6)
    outbox.sweep()
    assert message_id_of(mail.outbox[0]) == email.message_id
    email.refresh_from_db()
    assert not email.can_send_again
    assert outbox.send_again(email) is False


def test_the_members_page_shows_an_invitations_email_and_sends_a_failed_one_again(
    world, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    Server(monkeypatch, smtplib.SMTPRecipientsRefused({"new@alpha.example": (550, b"5.1.1 No such user")}))
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite_member(pmo=world.pmo, email="new@alpha.example", role=Role.MEMBER, invited_by=world.lead)
    url = reverse("member_invitation_resend", kwargs={"slug": world.pmo.slug, "invitation_id": invitation.pk})
    assert client_for(world.member).post(url).status_code == 403
    client = client_for(world.lead)
    page = client.get(reverse("members", kwargs={"slug": world.pmo.slug})).content.decode()
    assert "Failed" in page and "No such user" in page and url in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["new@alpha.example"]]
    page = client.get(reverse("members", kwargs={"slug": world.pmo.slug})).content.decode()
    assert url not in page


# The survey page: detractor alerts, for leads ------------------------------------------------------


def test_the_survey_page_shows_leads_how_the_detractor_alerts_fared_and_sends_a_failed_one_again(
    world, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    Server(monkeypatch, smtplib.SMTPRecipientsRefused({world.lead.email: (550, b"5.2.2 Mailbox full")}))
    with django_capture_on_commit_callbacks(execute=True):
        surveys.submit(invitation, values={}, nps=1, comment="")
    (alert,) = OutgoingEmail.objects.filter(kind=Kind.DETRACTOR_ALERT)
    page_url = reverse("survey_detail", kwargs={"slug": world.pmo.slug, "survey_id": survey.pk})
    url = reverse(
        "detractor_alert_resend", kwargs={"slug": world.pmo.slug, "survey_id": survey.pk, "email_id": alert.pk}
    )
    member_page = client_for(world.member).get(page_url).content.decode()
    assert "Detractor alerts" not in member_page
    assert client_for(world.member).post(url).status_code == 403
    client = client_for(world.lead)
    page = client.get(page_url).content.decode()
    assert "Detractor alerts" in page and "0 sent · 0 on the way · 1 failed" in page
    assert "Mailbox full" in page and url in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assert [m.to for m in mail.outbox] == [[world.lead.email]]
    page = client.get(page_url).content.decode()
    assert "1 sent · 0 on the way · 0 failed" in page and url not in page


def test_an_anonymous_surveys_alerts_show_as_a_count_only(world, client_for):
    others = [StakeholderFactory(pmo=world.pmo, email=f"p{n}@corp.example") for n in range(3)]
    survey, invitations = open_survey(world.pmo, others, anonymous=True)
    for invitation in invitations:
        ResponseFactory(invitation=invitation, nps=1)
    surveys.alert_anonymous_detractors(survey.pk)
    outbox.sweep()
    page = (
        client_for(world.lead)
        .get(reverse("survey_detail", kwargs={"slug": world.pmo.slug, "survey_id": survey.pk}))
        .content.decode()
    )
    assert "1 sent · 0 on the way · 0 failed" in page


# Upgrading: the e-mails in flight become rows -----------------------------------------------------


def test_the_migrations_make_rows_of_the_emails_in_flight(world, stub_pdf):
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    survey, (queued_invitation, claimed) = open_survey(
        world.pmo, [world.stakeholder, StakeholderFactory(pmo=world.pmo, email="cat@corp.example")]
    )
    SurveyInvitation.objects.filter(pk=queued_invitation.pk).update(
        send_status="pending", sent_at=None, send_attempts=2, last_error="451 later"
    )
    SurveyInvitation.objects.filter(pk=claimed.pk).update(reminder_claimed_at=timezone.now())
    report = AgendaReport.objects.create(  # nobody subscribed: its delivery is one made before the outbox
        pmo=world.pmo, frequency="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 11, 1)
    )
    reports.build(report.pk)
    delivery = report.deliveries.create(user=world.lead, email=world.lead.email, attempts=1, last_error="timeout")

    # Each runs against the models as they stood at its own migration, as `migrate` runs it.
    for app, name in [
        ("stakeholders", "0007_survey_emails_into_the_outbox"),
        ("agenda", "0004_report_deliveries_into_the_outbox"),
    ]:
        historical = MigrationLoader(connection).project_state((app, name)).apps
        with CaptureQueriesContext(connection) as queries:
            import_module(f"{app}.migrations.{name}").into_the_outbox(historical, None)
        # The live code it calls reads no invitation column added after it (0010's segment):
        # on a database upgraded from before, that column does not exist yet.
        there = {f.column for f in historical.get_model("stakeholders", "Invitation")._meta.concrete_fields}
        read = {c for q in queries for c in re.findall(r'"stakeholders_invitation"\."(\w+)"', q["sql"])}
        assert read <= there, f"{name} reads {read - there}"

    rows = {(row.kind, row.source_id): row for row in OutgoingEmail.objects.all()}
    assert sorted(rows) == sorted(
        [(Kind.SURVEY_INVITATION, queued_invitation.pk), (Kind.SURVEY_REMINDER, claimed.pk), (Kind.REPORT, delivery.pk)]
    )
    invitation_row = rows[(Kind.SURVEY_INVITATION, queued_invitation.pk)]
    assert (invitation_row.status, invitation_row.attempts, invitation_row.last_error) == ("queued", 2, "451 later")
    assert rows[(Kind.REPORT, delivery.pk)].message_id == delivery.message_id
    assert rows[(Kind.REPORT, delivery.pk)].attempts == 1
    assert outbox.sweep() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["cat@corp.example", world.lead.email, world.stakeholder.email]
    )


def test_the_full_export_has_the_emails_without_bodies_or_an_anonymous_surveys_reminders(world, client_for):
    from tests.test_full_export import download, json_rows

    named, named_invitations = open_survey(world.pmo, [world.stakeholder], sent_at=timezone.now() - timedelta(days=30))
    people = [StakeholderFactory(pmo=world.pmo, email=f"p{n}@corp.example") for n in range(2)]
    hidden, _ = open_survey(world.pmo, people, anonymous=True, sent_at=timezone.now() - timedelta(days=30))
    assert len(surveys.claim_due_reminders()) == 3
    archive = download(client_for(world.lead), world.pmo)
    manifest = json.loads(archive.read("manifest.json"))
    rows = json_rows(archive, manifest, OutgoingEmail)
    assert [(row["kind"], row["source_id"]) for row in rows] == [(Kind.SURVEY_REMINDER, named_invitations[0].pk)]
    assert "text" not in rows[0] and "html" not in rows[0]


def test_the_admin_shows_staff_no_reminder_and_no_body(world):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from tests.factories import UserFactory

    open_survey(world.pmo, [world.stakeholder], anonymous=True, sent_at=timezone.now() - timedelta(days=30))
    surveys.claim_due_reminders()
    invite_member(pmo=world.pmo, email="new@alpha.example", role=Role.MEMBER, invited_by=world.lead)
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_outgoingemail"))
    client = Client()
    client.force_login(staff)
    listed = client.get("/admin/pmo5p/outgoingemail/").context["cl"].result_list
    assert [email.kind for email in listed] == [Kind.MEMBER_INVITATION]
    page = client.get(f"/admin/pmo5p/outgoingemail/{listed[0].pk}/change/").content.decode()
    assert "/invitations/" not in page  # the link is in the body, which the admin leaves out
    reminder = OutgoingEmail.objects.get(kind=Kind.SURVEY_REMINDER)
    assert client.get(f"/admin/pmo5p/outgoingemail/{reminder.pk}/change/").status_code == 302
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listed = client.get("/admin/pmo5p/outgoingemail/").context["cl"].result_list
    assert sorted(email.kind for email in listed) == [Kind.MEMBER_INVITATION, Kind.SURVEY_REMINDER]


def test_the_report_page_sends_a_delivery_waiting_for_its_retry_now(
    world, stub_pdf, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    report = october_report(world)
    reports.build(report.pk)
    (delivery_id,) = report.deliveries.values_list("pk", flat=True)
    Server(monkeypatch, smtplib.SMTPDataError(451, b"4.3.0 Try again later"))
    outbox.send(OutgoingEmail.objects.get().pk)
    detail = reverse("report_detail", kwargs={"slug": world.pmo.slug, "report_id": report.pk})
    url = reverse(
        "delivery_resend", kwargs={"slug": world.pmo.slug, "report_id": report.pk, "delivery_id": delivery_id}
    )
    client = client_for(world.member)
    page = client.get(detail).content.decode()
    assert "Queued" in page and "Try again later" in page and url in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert [m.to for m in mail.outbox] == [[world.lead.email]]
    assert url not in client.get(detail).content.decode()


def test_the_data_migrations_into_the_outbox_keep_their_dependencies(db):
    """A database that has run them refuses any dependency added to them afterwards
    (InconsistentMigrationHistory): a later Pmo column is deferred by their code instead."""
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(connection).graph
    for node in [
        ("stakeholders", "0007_survey_emails_into_the_outbox"),
        ("agenda", "0004_report_deliveries_into_the_outbox"),
    ]:
        assert ("pmo5p", "0008_outgoing_email_budget_start") in graph.node_map[node].parents
        assert not {p for p in graph.node_map[node].parents if p[0] == "pmo5p" and p[1][:4] > "0008"}


def test_the_survey_migration_reads_no_column_added_after_it_for_a_detractor_in_flight(world):
    """A named detractor's alert not yet sent becomes a row. The live code that 0007 runs
    must not read a response column added after it (0012's perception_rating): on a
    database upgraded from before, that column does not exist yet."""
    from importlib import import_module

    from django.db.migrations.loader import MigrationLoader

    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    ResponseFactory(invitation=invitation, nps=3, ratings={}, detractor_alerted_at=None)  # no alert queued
    name = "0007_survey_emails_into_the_outbox"
    historical = MigrationLoader(connection).project_state(("stakeholders", name)).apps
    with CaptureQueriesContext(connection) as queries:
        import_module(f"stakeholders.migrations.{name}").into_the_outbox(historical, None)

    for model, table in [(("stakeholders", "Response"), "stakeholders_response"), (("pmo5p", "Pmo"), "pmo5p_pmo")]:
        there = {f.column for f in historical.get_model(*model)._meta.concrete_fields}
        read = {c for q in queries for c in re.findall(rf'"{table}"\."(\w+)"', q["sql"])}
        assert read and read <= there, f"{name} reads {read - there} of {table}"
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT).exists()


@pytest.mark.services
def test_wake_ups_keep_their_broker_connection_and_get_a_new_one_after_a_redis_restart(
    db, redis_server, django_capture_on_commit_callbacks, caplog
):
    """A new broker connection for each wake-up cost about 2 ms of CPU, as much as the rest of
    a survey answer: the thread keeps one. After a Redis restart the next wake-up is not lost
    (the kept connection reconnects, or is dropped for a new one: pmo5p/celery.py)."""
    import kombu
    import redis

    from pmo5p import celery as pmo5p_celery
    from pmo5p.tasks import send_email
    from tests.service_fixtures import _free_port, celery_app_on

    queue = "pmo5p-test-kept-connection"

    def wake(email_id):
        with django_capture_on_commit_callbacks(execute=True):
            send_email.delay_on_commit(email_id)

    with celery_app_on(redis_server.url, queue):
        wake(1)
        kept = pmo5p_celery._broker.held[1]
        wake(2)
        assert pmo5p_celery._broker.held[1] is kept
        redis_server.kill()
        redis_server.restart()  # empty, on the same port
        wake(3)
        assert redis.Redis.from_url(redis_server.url).llen(queue) == 1  # the third, since the restart
        # A kept connection that cannot publish any more is dropped, and the wake-up goes on a new one.
        key, _ = pmo5p_celery._broker.held
        dead = kombu.Connection(f"redis://127.0.0.1:{_free_port()}/0", transport_options={"max_retries": 0})
        pmo5p_celery._broker.held = (key, dead)
        wake(4)
        assert pmo5p_celery._broker.held[1] is not dead
        assert redis.Redis.from_url(redis_server.url).llen(queue) == 2
    assert "Could not enqueue" not in caplog.text
