"""The weekly "My week" digest (docs/engagement.md, "The weekly digest").

Membership.digest_next_at is the record of each member's next digest. The dispatcher
(agenda.tasks.dispatch_due_digests, run by beat) claims each membership whose moment has
come under FOR UPDATE SKIP LOCKED and, in the same transaction, queues the e-mail in the
outbox and moves digest_next_at to the next week's moment. So:

- a dispatch lost with the broker is made good by the next one (the row is still due);
- two dispatches at once take different rows, and a second dispatch finds nothing due: no
  digest is queued twice;
- an e-mail queued but never sent is the outbox's sweep's to send (pmo5p/outbox.py).

A week with nothing to say (no overdue touch, no touchpoint date, no action due) sends no
e-mail; its moment still moves on. A member who left the PMO has no membership, hence no
digest; one whose account is deactivated gets none either, and their moment moves on, so
that reactivating the account resumes the digest.
"""

import logging
import zoneinfo
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from agenda.my_week import my_week
from pmo5p import outbox
from pmo5p.models import Membership, OutgoingEmail
from pmo5p.services import next_digest_at

logger = logging.getLogger(__name__)

# A digest that could not be composed (a bug, the database gone mid-way) is tried again this
# much later, without holding up the others.
DIGEST_RETRY = timedelta(hours=1)


def claim_due_digests(*, now: datetime | None = None) -> int:
    """Queue the digest of every membership whose moment has come, once each; return how many
    e-mails were queued."""
    now = now or timezone.now()
    queued = 0
    while True:
        claimed = None
        try:
            with transaction.atomic():
                membership = (
                    Membership.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("pmo", "user")
                    .filter(digest_next_at__lte=now)
                    .order_by("digest_next_at")
                    .first()
                )
                if membership is None:
                    return queued
                claimed = membership.pk
                if _send(membership, now):
                    membership.digest_last_sent_at = now
                    queued += 1
                membership.digest_next_at = next_digest_at(membership, now)
                membership.save(update_fields=["digest_next_at", "digest_last_sent_at"])
        except Exception:
            if claimed is None:
                raise
            logger.exception("The weekly digest of membership %s could not be sent", claimed)
            Membership.objects.filter(pk=claimed).update(digest_next_at=now + DIGEST_RETRY)


def _send(membership: Membership, now: datetime) -> bool:
    """Queue the member's digest in the outbox; False when there is nothing to send."""
    user = membership.user
    if not user.is_active or not user.email or membership.digest_weekday is None:
        return False
    today = now.astimezone(zoneinfo.ZoneInfo(membership.pmo.time_zone)).date()
    week = my_week(membership, today, next_seven_days=True)
    if week.is_empty:
        return False
    outbox.queue(
        OutgoingEmail.Kind.WEEKLY_DIGEST,
        [user.email],
        "weekly-digest",
        {"pmo": membership.pmo, "membership": membership, "week": week},
        pmo=membership.pmo,
        source=membership,
    )
    return True


def _check(email: OutgoingEmail) -> str | None:
    """Not sent if, by its turn, the member left the PMO, was deactivated or turned the digest off."""
    wanted = Membership.objects.filter(pk=email.source_id, user__is_active=True, digest_weekday__isnull=False)
    return None if wanted.exists() else OutgoingEmail.Status.CANCELLED


outbox.register(OutgoingEmail.Kind.WEEKLY_DIGEST, check=_check)
