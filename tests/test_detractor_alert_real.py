"""A named detractor's alert with real parts: a `celery worker` on Redis, `celery beat`, the
test database in PostgreSQL and an aiosmtpd sink that holds the alert unanswered while the
worker's pool process is killed. The alert is composed by the worker once the answer commits
(stakeholders/surveys/emails.py, alert_detractor) and sent through the outbox: it arrives
once, from the outbox's sweep after the dead send's lease (tests/test_outbox_redis_restart.py
holds the same alert through a restart of Redis)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pmo5p.models import OutgoingEmail, Role
from stakeholders.models import Response
from stakeholders.surveys import lifecycle as surveys
from tests.factories import MembershipFactory, PmoFactory, StakeholderFactory
from tests.service_fixtures import SmtpSink, wait_until
from tests.survey_helpers import open_survey, rated_questions

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_SECONDS = 31  # the least the settings allow with EMAIL_TIMEOUT=3
KILL_ENV = {
    "PMO5P_TASK_VISIBILITY_TIMEOUT": "3",
    "EMAIL_TIMEOUT": "3",
    "PMO5P_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
}


@pytest.mark.services
@pytest.mark.parametrize("celery_worker_env", [KILL_ENV])
def test_a_detractor_alert_whose_sender_is_killed_arrives_once(celery_worker, celery_beat, smtp_sink):
    pmo = PmoFactory(name="Delta PMO", slug="delta")
    lead = MembershipFactory(pmo=pmo, role=Role.LEAD, user__email="lead@delta.example").user
    critic = StakeholderFactory(pmo=pmo, name="Carla Critic", email="carla@corp.example", owner=None)
    survey, (invitation,) = open_survey(pmo, [critic])
    smtp_sink.hold_next(1)

    # In this process, as the public form does: the worker is woken once the answer commits.
    surveys.submit(invitation, values={q.pk: 1 for q in rated_questions(survey)}, nps=1, comment="Slow")

    (held,) = smtp_sink.wait_for_held(1, timeout=45)
    assert held.recipients == [lead.email]
    alert = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.DETRACTOR_ALERT)
    assert (alert.status, alert.attempts) == (OutgoingEmail.Status.SENDING, 1)
    assert Response.objects.get(invitation=invitation).detractor_alerted_at is not None

    assert celery_worker.kill_pool_process(), "The worker has no pool process to kill"
    killed_at = timezone.now()
    wait_until(
        lambda: held.outcome == SmtpSink.CLIENT_GONE,
        message=lambda: f"The held SMTP session did not end with the client gone: {held.outcome}",
    )
    wait_until(lambda: "WorkerLostError" in celery_worker.log_text(), message=celery_worker.tail)
    assert smtp_sink.messages == []
    celery_beat.start(extra_env={"PMO5P_OUTBOX_SWEEP_SECONDS": "1"})

    (mail,) = smtp_sink.wait_for(1, timeout=LEASE_SECONDS + 20)
    assert timezone.now() - killed_at >= timedelta(seconds=LEASE_SECONDS - 2)  # not before the lease ran out
    assert mail.recipients == [lead.email]
    assert mail.message["Message-ID"] == alert.message_id
    assert "Carla Critic" in mail.message["Subject"]
    # Composed once, sent once: more sweeps and the redelivered task add nothing.
    celery_beat.stop()
    celery_worker.wait_until_idle()
    assert len(smtp_sink.messages) == 1
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT).count() == 1
    assert OutgoingEmail.objects.get(pk=alert.pk).status == OutgoingEmail.Status.SENT
