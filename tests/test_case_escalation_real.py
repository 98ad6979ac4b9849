"""An overdue follow-up case's escalation with real parts: `celery beat` and `celery worker` on
Redis, the test database in PostgreSQL and an aiosmtpd sink (tests/service_fixtures.py).

What is checked is stakeholders/cases/escalation.py's promise: each lead gets one e-mail per
overdue case, through the outbox, however often beat runs the escalation; a case not due yet
in its PMO's time zone, and a contacted one, are not escalated."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from pmo5p.models import OutgoingEmail, Role
from stakeholders.cases.opening import open_for_response
from stakeholders.models import FollowUpCase
from tests.factories import MembershipFactory, PmoFactory, ResponseFactory, StakeholderFactory
from tests.service_fixtures import wait_until
from tests.survey_helpers import open_survey

pytestmark = pytest.mark.django_db(transaction=True)


def results(worker) -> list[str]:
    pattern = r"Task stakeholders\.tasks\.escalate_overdue_cases\[[\w-]+\] succeeded in [\d.e-]+s: (.+)"
    return [value.strip() for value in re.findall(pattern, worker.log_text())]


@pytest.mark.services
def test_an_overdue_case_is_escalated_once_to_each_lead(celery_worker, celery_beat, smtp_sink):
    pmo = PmoFactory(name="Epsilon PMO", slug="epsilon", time_zone="Europe/London")
    MembershipFactory(pmo=pmo, role=Role.LEAD, user__email="lea@epsilon.example")
    MembershipFactory(pmo=pmo, role=Role.LEAD, user__email="leo@epsilon.example")
    late, fresh, called = (
        StakeholderFactory(pmo=pmo, name=name) for name in ("Olga <Overdue>", "Nina New", "Carl Called")
    )
    survey, invitations = open_survey(pmo, [late, fresh, called])
    now = timezone.now()
    opened = {late: now - timedelta(days=30), fresh: now, called: now - timedelta(days=30)}
    cases = {
        person: open_for_response(ResponseFactory(invitation=invitation, nps=2), now=opened[person])
        for person, invitation in zip((late, fresh, called), invitations, strict=True)
    }
    FollowUpCase.objects.filter(pk=cases[called].pk).update(status="contacted", first_contact_at=now)

    celery_beat.start(extra_env={"PMO5P_CASE_ESCALATION_SECONDS": "1", "PMO5P_OUTBOX_SWEEP_SECONDS": "1"})
    mails = smtp_sink.wait_for(2, timeout=45)

    assert sorted(mail.recipients[0] for mail in mails) == ["lea@epsilon.example", "leo@epsilon.example"]
    for mail in mails:
        assert mail.subject.strip() == "Overdue follow-up: Olga <Overdue> (Epsilon PMO)"
        assert f"http://testserver/pmo/epsilon/follow-up/{cases[late].pk}/" in mail.text
        assert "Olga &lt;Overdue&gt;" in mail.html and "<Overdue>" not in mail.html

    # Beat goes on escalating every second: nothing more is queued or sent.
    sent_so_far = celery_beat.sent("escalate-overdue-cases")
    wait_until(
        lambda: len(results(celery_worker)) >= sent_so_far + 3,
        timeout=20,
        message=lambda: f"Escalations: {results(celery_worker)}\n{celery_beat.tail()}",
    )
    celery_beat.stop()
    celery_worker.wait_until_idle()
    assert results(celery_worker).count("1") == 1
    assert len(smtp_sink.messages) == 2
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.CASE_ESCALATION).count() == 2
    escalated = set(FollowUpCase.objects.filter(escalated_at__isnull=False).values_list("pk", flat=True))
    assert escalated == {cases[late].pk}
