"""The weekly "My week" digest with real parts: `celery beat` and `celery worker` on Redis, the
test database in PostgreSQL and an aiosmtpd sink (tests/service_fixtures.py).

What is checked is agenda/digests.py's promise: a member whose digest is due gets one e-mail
with their own lists, through the outbox, however often the dispatch runs, and two at once;
a member who opted out gets none."""

import re
import zoneinfo
from datetime import time, timedelta

import pytest
from django.utils import timezone

from agenda.digests import claim_due_digests
from agenda.models import Action
from agenda.tasks import dispatch_due_digests
from pmo5p.clock import next_weekly_moment
from pmo5p.models import Membership, OutgoingEmail, Role
from pmo5p.services import set_digest
from stakeholders.models import Stakeholder, Touchpoint, TouchpointOccurrence
from tests.factories import MembershipFactory, PmoFactory, StakeholderFactory
from tests.service_fixtures import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def results(worker, task: str) -> list[str]:
    pattern = rf"Task agenda\.tasks\.{task}\[[\w-]+\] succeeded in [\d.e-]+s: (.+)"
    return [value.strip() for value in re.findall(pattern, worker.log_text())]


def a_pmo_with_due_digests():
    """Ada's digest is due (a minute ago), with an overdue relationship, a touchpoint today and an
    action due; Ben's would be due too but he opted out; Cleo's is next week's."""
    pmo = PmoFactory(name="Gamma PMO", slug="gamma", time_zone="Europe/London")
    ada, ben, cleo = (
        MembershipFactory(pmo=pmo, role=role, user__email=f"{name}@gamma.example", user__name=name.title())
        for name, role in (("ada", Role.MEMBER), ("ben", Role.VIEWER), ("cleo", Role.LEAD))
    )
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(pmo.time_zone))
    for membership, name in ((ada, "Olga <Overdue>"), (ben, "Bruno Ben's"), (cleo, "Cara Cleo's")):
        stakeholder = StakeholderFactory(pmo=pmo, name=name, owner=membership, influence=5, interest=5)
        Stakeholder.objects.filter(pk=stakeholder.pk).update(last_touched_on=today - timedelta(days=45))
    tp = Touchpoint.objects.create(
        pmo=pmo, purpose="Steering committee", element="people", owner=ada, starts_on=today, at_time=time(23, 45)
    )
    TouchpointOccurrence.objects.create(touchpoint=tp, pmo=pmo, on=today)
    Action.objects.create(pmo=pmo, title="Send the benefits note", element="people", owner=ada, due_on=today)
    for membership in (ada, ben, cleo):
        set_digest(membership=membership, weekday=today.weekday(), at=time(8, 0))
    # Ada's and Ben's moment has come (a minute ago); Cleo's is still to come.
    Membership.objects.filter(pk__in=[ada.pk, ben.pk]).update(digest_next_at=timezone.now() - timedelta(minutes=1))
    set_digest(membership=Membership.objects.select_related("pmo").get(pk=ben.pk), weekday=None, at=None)
    return pmo, ada, ben, cleo, today


@pytest.mark.services
def test_a_due_digest_arrives_once_with_the_members_own_lists(celery_worker, celery_beat, smtp_sink):
    pmo, ada, ben, cleo, today = a_pmo_with_due_digests()
    cleo_next = Membership.objects.get(pk=cleo.pk).digest_next_at

    celery_beat.start(extra_env={"PMO5P_DIGEST_DISPATCH_SECONDS": "1", "PMO5P_OUTBOX_SWEEP_SECONDS": "1"})
    (mail,) = smtp_sink.wait_for(1, timeout=45)

    assert mail.recipients == ["ada@gamma.example"]
    assert mail.subject.strip() == "Gamma PMO: your week"
    text, html = mail.text, mail.html
    assert "Olga <Overdue>: No touch for 45 days (every 30 days)" in text
    assert f"{today:%a} {today.day} {today:%b}, 23:45: Steering committee" in text
    assert "Send the benefits note: due" in text
    assert "http://testserver/pmo/gamma/my-week/#digest" in text
    assert "Olga &lt;Overdue&gt;" in html and "<Overdue>" not in html
    for others in ("Bruno Ben's", "Cara Cleo's"):
        assert others not in text and others not in html

    row = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.WEEKLY_DIGEST)
    assert mail.message["Message-ID"] == row.message_id
    ada_row = Membership.objects.get(pk=ada.pk)
    assert ada_row.digest_last_sent_at is not None
    # Moved on to her next moment after the dispatch: her weekday at 08:00 in London.
    assert ada_row.digest_next_at > timezone.now()
    assert ada_row.digest_next_at == next_weekly_moment(
        "Europe/London", today.weekday(), time(8, 0), ada_row.digest_last_sent_at
    )

    # Beat goes on dispatching every second: nothing more is queued or sent.
    sent_so_far = celery_beat.sent("dispatch-due-digests")
    wait_until(
        lambda: len(results(celery_worker, "dispatch_due_digests")) >= sent_so_far + 3,
        timeout=20,
        message=lambda: f"Dispatches: {results(celery_worker, 'dispatch_due_digests')}\n{celery_beat.tail()}",
    )
    celery_beat.stop()
    celery_worker.wait_until_idle()
    assert results(celery_worker, "dispatch_due_digests").count("1") == 1
    assert len(smtp_sink.messages) == 1
    assert OutgoingEmail.objects.count() == 1
    # Ben opted out: nothing, and no moment. Cleo's is still next week's.
    assert Membership.objects.get(pk=ben.pk).digest_next_at is None
    assert Membership.objects.get(pk=cleo.pk).digest_next_at == cleo_next


@pytest.mark.services
def test_two_dispatches_at_once_send_one_digest(celery_worker, smtp_sink):
    a_pmo_with_due_digests()
    celery_worker.stop()
    celery_worker.start(concurrency=2)

    dispatch_due_digests.delay()
    dispatch_due_digests.delay()
    claimed_here = claim_due_digests()  # and a third, in this process
    (mail,) = smtp_sink.wait_for(1, timeout=45)
    celery_worker.wait_until_idle()

    assert mail.recipients == ["ada@gamma.example"]
    assert sorted(results(celery_worker, "dispatch_due_digests") + [str(claimed_here)]) == ["0", "0", "1"]
    wait_until(lambda: OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count() == 1)
    assert len(smtp_sink.messages) == 1
    assert OutgoingEmail.objects.count() == 1
