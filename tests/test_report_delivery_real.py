"""The scheduled agenda report with real parts: `celery beat` and `celery worker` processes
on Redis, the test database in PostgreSQL, and an aiosmtpd sink that can refuse a
delivery, or hold one unanswered.

What is checked is the promise of agenda/reports/services.py and the outbox (pmo5p/outbox.py):
one report per PMO and period, one e-mail per recipient, whatever is dispatched twice,
queued again, refused, or killed. The one duplicate that cannot be ruled out (a worker
killed after the SMTP server said 250 and before the commit) is documented in the README
and not provoked here; what is checked is that it would carry the same Message-ID: every
attempt of a delivery does, on the wire (refused, held and accepted alike).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from agenda.models import AgendaReport, DeliveryStatus, Frequency, ReportDelivery, ReportSchedule
from agenda.models.reports import ReportStatus
from agenda.reports import periods
from agenda.tasks import build_report, dispatch_due_reports
from pmo5p.models import OutgoingEmail, Pmo, Role, User
from pmo5p.outbox import MAX_ATTEMPTS
from pmo5p.tasks import send_email
from tests.factories import MembershipFactory, PmoFactory, StakeholderFactory
from tests.service_fixtures import SmtpSink, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PMO_NAME = "Gamma PMO"
# A broker message delivered to a worker that died goes back to the queue after this many seconds.
VISIBILITY_TIMEOUT = 3
# The outbox's sweep, in the tests that start beat: retries come with it.
SWEEP = {"PMO5P_OUTBOX_SWEEP_SECONDS": "1"}


@dataclass
class Setup:
    pmo: Pmo
    schedule: ReportSchedule
    due: datetime  # the schedule's next_run_at: the last run moment, in the past
    period: tuple[date, date]
    subscribed: list[User]
    unsubscribed: list[User]

    @property
    def lead(self) -> User:
        return self.subscribed[0]


def due_weekly_report(subscribed: int = 2, unsubscribed: int = 1) -> Setup:
    """A PMO whose weekly report is due (its run moment has passed) and members, the first its lead,
    `subscribed` of whom receive the report."""
    pmo = PmoFactory(name=PMO_NAME, slug="gamma", time_zone="Europe/London")
    users = []
    for number in range(subscribed + unsubscribed):
        membership = MembershipFactory(
            pmo=pmo,
            role=Role.LEAD if number == 0 else Role.MEMBER,
            receives_reports=number < subscribed,
            user__email=f"member{number}@gamma.example",
        )
        users.append(membership.user)
    StakeholderFactory(pmo=pmo, name="Fiona Finance")
    schedule = ReportSchedule(pmo=pmo, frequency=Frequency.WEEKLY, weekday=0, send_at=time(8, 0))
    # The last run moment before now: due, and the period it closes is the one reported on.
    now = timezone.now()
    due = periods.next_run_at(schedule, now - timedelta(days=8))
    while (following := periods.next_run_at(schedule, due)) <= now:
        due = following
    schedule.next_run_at = due
    schedule.save()
    run_date = periods.local_run_date(schedule, due)
    return Setup(pmo, schedule, due, (run_date - timedelta(days=7), run_date), users[:subscribed], users[subscribed:])


def results(worker, task: str, app: str = "agenda") -> list[str]:
    """What each run of the task returned, from the worker's log, in order."""
    pattern = rf"Task {app}\.tasks\.{task}\[[\w-]+\] succeeded in [\d.e-]+s: (.+)"
    return [value.strip() for value in re.findall(pattern, worker.log_text())]


def is_locked(model, pk) -> bool:
    """Whether another transaction holds the row's lock (FOR UPDATE NOWAIT fails)."""
    try:
        with transaction.atomic():
            list(model.objects.select_for_update(nowait=True).filter(pk=pk))
    except OperationalError:
        return True
    return False


def message_ids(messages) -> list[str]:
    return [str(m["Message-ID"]) for m in messages]


def pdf_of(mail) -> tuple[str, bytes]:
    (attachment,) = list(mail.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    return attachment.get_filename(), attachment.get_content()


# 1. A due schedule, beat and worker: one e-mail per recipient --------------------------------


@pytest.mark.services
def test_a_due_schedule_sends_one_email_with_the_pdf_to_each_subscriber(celery_worker, celery_beat, smtp_sink):
    setup = due_weekly_report(subscribed=2, unsubscribed=1)
    start, end = setup.period
    last_day = end - timedelta(days=1)

    celery_beat.start(extra_env={"PMO5P_REPORT_DISPATCH_SECONDS": "1"})
    mails = smtp_sink.wait_for(2, timeout=45)

    # The report: one, of the period that ended on the run date, built.
    (report,) = AgendaReport.objects.all()
    assert (report.pmo_id, report.kind, report.frequency) == (setup.pmo.pk, "scheduled", Frequency.WEEKLY)
    assert (report.period_start, report.period_end) == (start, end)
    assert report.status == ReportStatus.READY and bytes(report.pdf).startswith(b"%PDF")

    # The e-mails: to the two subscribers only, each with a text and an HTML part and the PDF.
    deliveries = {d.email: d for d in ReportDelivery.objects.filter(report=report)}
    assert sorted(r for m in mails for r in m.recipients) == sorted(u.email for u in setup.subscribed)
    assert sorted(deliveries) == sorted(u.email for u in setup.subscribed)
    for mail in mails:
        (address,) = mail.recipients
        delivery = deliveries[address]
        assert mail.message["To"].addresses[0].addr_spec == address
        assert mail.message["Message-ID"] == delivery.message_id
        # Django 5.2 folds a long non-ASCII subject after "Subject:", which parses with a leading space.
        assert mail.subject.strip() == (
            f"{PMO_NAME}: Relationship Marketing Agenda, {start.day} {start:%b} – {last_day.day} {last_day:%b %Y}"
        )
        assert mail.message.get_content_type() == "multipart/mixed"
        assert mail.text and PMO_NAME in mail.text
        assert mail.html and PMO_NAME in mail.html and "<html" in mail.html.lower()
        filename, pdf = pdf_of(mail)
        assert filename == f"agenda-report-gamma-{last_day.isoformat()}.pdf"
        assert pdf.startswith(b"%PDF") and pdf == bytes(report.pdf)

    wait_until(
        lambda: all(d.status == DeliveryStatus.SENT for d in ReportDelivery.objects.all()),
        message=lambda: f"Not all sent: {list(ReportDelivery.objects.values('email', 'status', 'attempts'))}",
    )
    assert sorted(ReportDelivery.objects.values_list("email", "status", "attempts", "last_error")) == [
        (u.email, DeliveryStatus.SENT, 1, "") for u in sorted(setup.subscribed, key=lambda u: u.email)
    ]
    setup.schedule.refresh_from_db()
    assert setup.schedule.next_run_at > timezone.now()
    assert setup.schedule.last_run_at > setup.due

    # Beat goes on sending the dispatch every second: nothing more is made or sent.
    sent_so_far = celery_beat.sent("dispatch-due-reports")
    wait_until(
        lambda: len(results(celery_worker, "dispatch_due_reports")) >= sent_so_far + 3,
        timeout=20,
        message=lambda: (
            f"Beat sent {celery_beat.sent('dispatch-due-reports')} dispatches; the worker ran "
            f"{results(celery_worker, 'dispatch_due_reports')}\n{celery_beat.tail()}"
        ),
    )
    celery_beat.stop()
    celery_worker.wait_until_idle()
    dispatches = results(celery_worker, "dispatch_due_reports")
    assert dispatches.count("1") == 1 and set(dispatches) == {"0", "1"}, dispatches
    assert len(smtp_sink.messages) == 2
    assert AgendaReport.objects.count() == 1
    assert ReportDelivery.objects.count() == 2


# 2. Dispatches twice, a rerun of the period, tasks queued again: still one of each ----------------


@pytest.mark.services
def test_dispatching_twice_rerunning_and_requeuing_make_no_second_report_or_email(celery_worker, smtp_sink):
    setup = due_weekly_report(subscribed=2, unsubscribed=0)
    celery_worker.stop()
    celery_worker.start(concurrency=2)

    # Two dispatches at the same time (two beats): while the one that claimed the schedule is held
    # up creating the report (the table is locked here), the other finishes, having claimed nothing.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {AgendaReport._meta.db_table} IN SHARE MODE")
        dispatch_due_reports.delay()
        dispatch_due_reports.delay()
        wait_until(
            lambda: results(celery_worker, "dispatch_due_reports") == ["0"],
            timeout=20,
            message=lambda: f"Not one dispatch done and one waiting: {celery_worker.tail(10)}",
        )
        assert not AgendaReport.objects.exists()
    mails = smtp_sink.wait_for(2, timeout=45)
    celery_worker.wait_until_idle()
    assert results(celery_worker, "dispatch_due_reports") == ["0", "1"]
    (report,) = AgendaReport.objects.all()
    deliveries = list(ReportDelivery.objects.filter(report=report))
    assert sorted(d.email for d in deliveries) == sorted(r for m in mails for r in m.recipients)
    setup.schedule.refresh_from_db()
    first_claim = setup.schedule.last_run_at

    # The same period once more, as if the claim had been lost (the schedule due again at the
    # same moment): the schedule is claimed and moved on again, the report is the one there is.
    ReportSchedule.objects.filter(pk=setup.schedule.pk).update(next_run_at=setup.due)
    dispatch_due_reports.delay()
    dispatch_due_reports.delay()
    wait_until(lambda: len(results(celery_worker, "dispatch_due_reports")) == 4, timeout=20)
    setup.schedule.refresh_from_db()
    assert setup.schedule.last_run_at > first_claim
    assert setup.schedule.next_run_at > timezone.now()

    # A build and sends of the same ids, queued again (a retry, a redelivery) while the worker
    # is down, run after its restart: nothing is built or sent again.
    celery_worker.stop()
    for _ in range(2):
        build_report.delay(report.pk)
        for email in OutgoingEmail.objects.all():
            send_email.delay(email.pk)
    celery_worker.start(concurrency=2)
    celery_worker.wait_until_idle()
    assert results(celery_worker, "dispatch_due_reports") == ["0", "1", "0", "0"]
    # A build queues a send per delivery it makes, and a build again makes none.
    assert results(celery_worker, "build_report") == ["2", "0", "0"]
    assert sorted(results(celery_worker, "send_email", "pmo5p")) == ["'sent already'"] * 4 + ["'sent'"] * 2
    assert OutgoingEmail.objects.count() == 2

    assert AgendaReport.objects.count() == 1
    assert sorted(ReportDelivery.objects.values_list("email", "status", "attempts")) == sorted(
        (u.email, DeliveryStatus.SENT, 1) for u in setup.subscribed
    )
    assert sorted(r for m in smtp_sink.messages for r in m.recipients) == sorted(u.email for u in setup.subscribed)


# 3. The SMTP server refusing: retried with backoff, or given up and resent ----------------------


@pytest.mark.services
def test_a_delivery_refused_for_now_is_retried_with_backoff_until_accepted(celery_worker, celery_beat, smtp_sink):
    setup = due_weekly_report(subscribed=1, unsubscribed=0)
    smtp_sink.refuse_next(2)  # 451 twice
    celery_beat.start(extra_env=SWEEP)
    dispatch_due_reports.delay()

    # Between the attempts the delivery shows the attempt made and the refusal.
    failing = wait_until(
        lambda: (
            ReportDelivery.objects.filter(status=DeliveryStatus.PENDING, attempts__gte=1).exclude(last_error="").first()
        ),
        timeout=45,
        message=lambda: f"No failed attempt recorded: {list(ReportDelivery.objects.values())}",
    )
    assert failing.last_error.startswith("SMTPDataError") and "451" in failing.last_error

    (mail,) = smtp_sink.wait_for(1, timeout=30)
    delivery = wait_until(lambda: ReportDelivery.objects.filter(status=DeliveryStatus.SENT).first())
    assert (delivery.email, delivery.attempts, delivery.last_error) == (setup.lead.email, 3, "")
    assert delivery.sent_at is not None
    assert [recipients for _, recipients in smtp_sink.refused] == [[setup.lead.email]] * 2
    # Every attempt was the same message: one Message-ID, the delivery's.
    assert message_ids([*smtp_sink.refused_messages, mail.message]) == [delivery.message_id] * 3
    # The retries waited on the row (1 s, then 2 s), not in the broker: no countdown message.
    assert "retry: Retry in" not in celery_worker.log_text()
    celery_beat.stop()
    celery_worker.wait_until_idle()
    assert len(smtp_sink.messages) == 1


# The backoff itself is the test above's; here the retries follow one another at once.
@pytest.mark.services
@pytest.mark.parametrize("celery_worker_env", [{"PMO5P_TEST_EMAIL_RETRY_BASE_SECONDS": "0"}])
def test_a_delivery_refused_on_every_retry_fails_and_a_resend_delivers_it(
    celery_worker, celery_beat, smtp_sink, client
):
    setup = due_weekly_report(subscribed=1, unsubscribed=0)
    attempts = MAX_ATTEMPTS
    smtp_sink.refuse_next(attempts)
    celery_beat.start(extra_env=SWEEP)
    dispatch_due_reports.delay()

    delivery = wait_until(
        lambda: ReportDelivery.objects.filter(status=DeliveryStatus.FAILED).first(),
        timeout=45,
        message=lambda: f"Not failed: {list(ReportDelivery.objects.values('status', 'attempts', 'last_error'))}",
    )
    delivery.refresh_from_db()
    assert delivery.attempts == attempts
    assert delivery.last_error.startswith("SMTPDataError") and "451" in delivery.last_error
    assert delivery.sent_at is None
    assert (len(smtp_sink.refused), smtp_sink.messages) == (attempts, [])

    # The lead resends it from the report's page.
    client.force_login(setup.lead)
    url = reverse(
        "delivery_resend", kwargs={"slug": "gamma", "report_id": delivery.report_id, "delivery_id": delivery.pk}
    )
    assert client.post(url).status_code == 302
    (mail,) = smtp_sink.wait_for(1, timeout=20)
    assert mail.recipients == [setup.lead.email]
    assert mail.message["Message-ID"] == delivery.message_id
    delivery = wait_until(lambda: ReportDelivery.objects.filter(status=DeliveryStatus.SENT).first())
    assert (delivery.attempts, delivery.last_error) == (attempts + 1, "")
    celery_beat.stop()
    celery_worker.wait_until_idle()
    assert len(smtp_sink.messages) == 1


# 4. A worker killed while the SMTP server has not answered: one e-mail in the end ------------------

LEASE_SECONDS = 31  # the least the settings allow with EMAIL_TIMEOUT=3: more than 10 × 3 s
KILL_ENV = {
    "PMO5P_TASK_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    "EMAIL_TIMEOUT": "3",
    "PMO5P_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
}


@pytest.mark.services
@pytest.mark.parametrize("celery_worker_env", [KILL_ENV])
@pytest.mark.parametrize("killed", ["worker", "pool process"])
def test_a_worker_killed_before_the_server_accepted_sends_the_email_once(celery_worker, celery_beat, smtp_sink, killed):
    """The sink receives the whole message and never answers its DATA; the worker is killed while
    it waits for that answer, its e-mail "sending" under a lease. The sink only keeps a message
    when it answers 250, and this session ends with the client gone and no answer at all: the
    e-mail was not accepted, so it must be sent, once, afterwards: by the sweeper, once the
    lease of the dead send has run out."""
    setup = due_weekly_report(subscribed=1, unsubscribed=0)
    smtp_sink.hold_next(1)
    dispatch_due_reports.delay()

    (held,) = smtp_sink.wait_for_held(1, timeout=45)
    delivery = ReportDelivery.objects.get()
    email = OutgoingEmail.objects.get()
    assert held.recipients == [setup.lead.email]
    assert held.message["Message-ID"] == delivery.message_id == email.message_id
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENDING, 1)
    # No row lock is held while the server takes its time: the lease says the send is under way.
    assert not is_locked(OutgoingEmail, email.pk) and not is_locked(ReportDelivery, delivery.pk)
    # Meanwhile the PMO's other work goes on: nothing else of the PMO or the report is locked.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        StakeholderFactory(pmo=setup.pmo, name="Added while the report was being sent")
        ReportDelivery.objects.create(report=delivery.report, email="added@gamma.example")
    ReportDelivery.objects.filter(email="added@gamma.example").delete()

    if killed == "worker":
        celery_worker.kill()
    else:
        assert celery_worker.kill_pool_process(), "The worker has no pool process to kill"
    killed_at = timezone.now()
    wait_until(
        lambda: held.outcome == SmtpSink.CLIENT_GONE,
        message=lambda: f"The held SMTP session did not end with the client gone: {held.outcome}",
    )
    assert smtp_sink.messages == []

    if killed == "worker":
        # The task was never acknowledged (acks_late): the broker holds it for redelivery, and a
        # new worker hands it back to the queue when it starts, once older than the visibility
        # timeout. Run again, it finds the send's lease still running, or the e-mail sent.
        assert celery_worker.backlog() == {"waiting": 0, "unacked": 1}
        wait_until(lambda: min(celery_worker.unacked_ages()) > VISIBILITY_TIMEOUT + 0.5, timeout=10)
        celery_worker.start()
    else:
        # The worker's main process saw its pool process die and put the task back on the
        # queue; run again, it finds the send's lease still running and leaves the row alone.
        wait_until(lambda: "WorkerLostError" in celery_worker.log_text(), message=celery_worker.tail)
    celery_beat.start(extra_env=SWEEP)

    (mail,) = smtp_sink.wait_for(1, timeout=LEASE_SECONDS + 20)
    assert timezone.now() - killed_at >= timedelta(seconds=LEASE_SECONDS - 2)  # not before the lease ran out
    assert mail.recipients == [setup.lead.email]
    assert mail.message["Message-ID"] == delivery.message_id
    delivery = wait_until(lambda: ReportDelivery.objects.filter(status=DeliveryStatus.SENT).first())
    # Two attempts counted: the killed one, then the one that was accepted.
    assert (delivery.attempts, delivery.last_error) == (2, "")
    celery_beat.stop()
    celery_worker.wait_until_idle()
    assert len(smtp_sink.messages) == 1


# 5. The Message-ID a resend after a crash would carry ----------------------------------------


def test_the_message_id_of_a_delivery_is_stable(db):
    from django.core import mail

    from agenda.reports import services as reports
    from pmo5p import outbox

    setup = due_weekly_report(subscribed=2, unsubscribed=0)
    report, _ = reports.request_now(setup.pmo, setup.lead)
    report = reports.build(report.pk)
    reports.create_deliveries(report)
    first, second = ReportDelivery.objects.filter(report=report)
    emails = {email.source_id: email for email in OutgoingEmail.objects.all()}
    assert emails[first.pk].message_id == first.message_id != second.message_id == emails[second.pk].message_id
    assert re.fullmatch(r"<report-[0-9a-f]{32}@pmo5p>", first.message_id)

    outbox.send(emails[first.pk].pk)  # sent already, when the deliveries' wake-ups ran at their commit
    (sent,) = [m for m in mail.outbox if m.to == [first.email]]
    built = sent.message()
    assert built["Message-ID"] == first.message_id
    assert str(built).count("Message-ID:") == 1
