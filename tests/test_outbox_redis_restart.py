"""The fault drill of issue #10: a real worker, beat and Redis, an SMTP sink that refuses
with 451, and Redis restarted (killed, started again empty on the same port) while
e-mails wait for a retry, reminders are claimed and a named detractor answers. The outbox's rows are the record, so
each e-mail arrives exactly once, within the sweeper's interval of Redis coming back, and
the worker lives on (pmo5p/outbox.py; README, "E-mail: what is guaranteed")."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from pmo5p.models import OutgoingEmail, Role
from pmo5p.services import invite_member
from stakeholders.cases import escalation, pulses
from stakeholders.models import Response
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys import updates
from tests.factories import FollowUpCaseFactory, MembershipFactory, PmoFactory, StakeholderFactory
from tests.pulse_helpers import named_case
from tests.service_fixtures import wait_until
from tests.survey_helpers import open_survey, rated_questions

pytestmark = pytest.mark.django_db(transaction=True)

SWEEP_SECONDS = 2
RETRY_BASE_SECONDS = 3
Status = OutgoingEmail.Status


@pytest.fixture
def celery_broker_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    return {"PMO5P_TEST_EMAIL_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS)}


def states():
    return list(OutgoingEmail.objects.order_by("pk").values_list("kind", "to", "status", "attempts", "last_error"))


@pytest.mark.services
def test_a_redis_restart_loses_no_email_and_sends_none_twice(redis_server, celery_worker, celery_beat, smtp_sink):
    pmo = PmoFactory(slug="drill")
    lead = MembershipFactory(pmo=pmo, role=Role.LEAD, user__email="lead@drill.example").user
    celery_beat.start(extra_env={"PMO5P_OUTBOX_SWEEP_SECONDS": str(SWEEP_SECONDS)})
    worker_pid = celery_worker.pid

    # Three invitations refused for now (451): each waits for its retry, written on its row.
    smtp_sink.refuse_next(3)
    invited = [f"colleague{n}@drill.example" for n in range(3)]
    for address in invited:
        invite_member(pmo=pmo, email=address, role=Role.MEMBER, invited_by=lead)
    wait_until(
        lambda: OutgoingEmail.objects.filter(status=Status.QUEUED, attempts=1).count() == 3,
        timeout=20,
        message=lambda: f"Not all refused once and waiting: {states()}\n{celery_worker.tail(20)}",
    )
    assert len(smtp_sink.refused) == 3 and smtp_sink.messages == []

    # Redis goes down; meanwhile two reminders are claimed, so their wake-ups go nowhere.
    redis_server.kill()
    people = [StakeholderFactory(pmo=pmo, email=f"stakeholder{n}@corp.example") for n in range(2)]
    open_survey(pmo, people, sent_at=timezone.now() - timedelta(days=30), reminder_delay_days=7)
    assert len(surveys.claim_due_reminders()) == 2
    # And a named detractor answers a later survey: the wake-up of the worker that composes
    # their alert is lost too; only the response's row says the alert is due.
    survey, (answered,) = open_survey(pmo, [StakeholderFactory(pmo=pmo, email="critic@corp.example")])
    surveys.submit(answered, values={q.pk: 1 for q in rated_questions(survey)}, nps=2, comment="Too slow")
    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT).exists()
    time.sleep(1)
    redis_server.restart()
    back = time.monotonic()

    expected = sorted(invited + [p.email for p in people] + [lead.email])
    mails = smtp_sink.wait_for(6, timeout=RETRY_BASE_SECONDS + 4 * SWEEP_SECONDS + 10)
    took = time.monotonic() - back
    assert sorted(r for m in mails for r in m.recipients) == expected
    # The waits are the rows': the retries and the lost wake-ups came with the sweeps.
    assert took < RETRY_BASE_SECONDS + 3 * SWEEP_SECONDS + 5, f"{took:.1f} s after Redis came back"

    # A few more sweeps: nothing is sent twice, and every row says what happened.
    time.sleep(3 * SWEEP_SECONDS)
    assert len(smtp_sink.messages) == 6
    alert = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.DETRACTOR_ALERT)
    assert alert.to == [lead.email] and Response.objects.get(invitation=answered).detractor_alerted_at
    rows = OutgoingEmail.objects.all()
    assert {(row.status, row.last_error) for row in rows} == {(Status.SENT, "")}
    for mail in smtp_sink.messages:
        (address,) = mail.recipients
        assert mail.message["Message-ID"] == OutgoingEmail.objects.get(to=[address]).message_id
    # The refused ones carried the same Message-ID as the one accepted later.
    refused_ids = sorted(str(m["Message-ID"]) for m in smtp_sink.refused_messages)
    assert refused_ids == sorted(OutgoingEmail.objects.filter(attempts=2).values_list("message_id", flat=True))

    # The worker lived through it: the same process, still consuming.
    assert celery_worker.running and celery_worker.pid == worker_pid, celery_worker.tail(30)
    assert celery_beat.running, celery_beat.tail()


@pytest.mark.services
def test_issue_14s_emails_queued_while_redis_is_down_arrive_once(redis_server, celery_worker, celery_beat, smtp_sink):
    """An escalation, a recovery pulse and a "you said, we did" update are queued while Redis
    is down, so every wake-up is lost: their rows are the record, and the sweeps send each once."""
    pmo = PmoFactory(slug="drill14")
    lead = MembershipFactory(pmo=pmo, role=Role.LEAD, user__email="lead@drill14.example").user
    celery_beat.start(extra_env={"PMO5P_OUTBOX_SWEEP_SECONDS": str(SWEEP_SECONDS)})
    late = FollowUpCaseFactory(
        for_stakeholder=StakeholderFactory(pmo=pmo, email="late@corp.example"),
        due_on=timezone.localdate() - timedelta(days=10),
    )
    resolved = named_case(pmo, StakeholderFactory(pmo=pmo, email="pulse@corp.example"))
    survey, _ = open_survey(pmo, [StakeholderFactory(pmo=pmo, email="told@corp.example")])
    surveys.close(survey)

    redis_server.kill()
    assert escalation.escalate_overdue_cases() == 1
    pulses.send_pulse(resolved, by=lead)
    updates.send(updates.save(survey, subject="You said, we did", body="We listened.", by=lead), by=lead)
    assert OutgoingEmail.objects.filter(status=Status.QUEUED).count() == 3
    time.sleep(1)
    redis_server.restart()

    mails = smtp_sink.wait_for(3, timeout=4 * SWEEP_SECONDS + 10)
    assert sorted(r for m in mails for r in m.recipients) == [lead.email, "pulse@corp.example", "told@corp.example"]
    time.sleep(3 * SWEEP_SECONDS)
    assert len(smtp_sink.messages) == 3
    assert set(OutgoingEmail.objects.values_list("kind", "status")) == {
        (OutgoingEmail.Kind.CASE_ESCALATION, Status.SENT),
        (OutgoingEmail.Kind.RECOVERY_PULSE, Status.SENT),
        (OutgoingEmail.Kind.SURVEY_UPDATE, Status.SENT),
    }
    late.refresh_from_db()
    assert late.escalated_at is not None
    assert celery_worker.running and celery_beat.running, celery_worker.tail(30)
