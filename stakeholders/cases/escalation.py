"""Escalating overdue follow-up cases to the leads (docs/follow-up.md, "Escalation").

A case still open (no first contact recorded) once its due date has passed in its PMO's time
zone is escalated once: beat runs escalate_overdue_cases, which claims each such case under
FOR UPDATE SKIP LOCKED and, in one transaction, stamps its escalated_at and queues one
CASE_ESCALATION e-mail per lead in the outbox. The database is the record, so:

- a run lost with the broker is made good by the next one (the case is still due);
- two runs at once take different cases, and a second run finds nothing due: no case is
  escalated twice;
- an e-mail whose case is contacted (or closed) before its turn is cancelled (_check).

The candidates are read through the partial index case_escalation_due (status "open",
escalated_at null), by due_on.
"""

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import Membership, OutgoingEmail, Role
from stakeholders.cases.opening import local_date
from stakeholders.models import CaseStatus, FollowUpCase
from stakeholders.surveys import emails as survey_emails

logger = logging.getLogger(__name__)

Kind, Status = OutgoingEmail.Kind, OutgoingEmail.Status

# The claim's condition, the partial index's (case_escalation_due).
OPEN_NOT_ESCALATED = {"status": CaseStatus.OPEN, "escalated_at__isnull": True}


def escalate_overdue_cases(now: datetime | None = None) -> int:
    """Escalate every open case past its due date in its PMO's time zone, once each; return
    how many were escalated."""
    now = now or timezone.now()
    # Every time zone's date is within a day of UTC's: a case due before its PMO's today is
    # due on UTC's today at the latest. Its own zone decides (_escalate).
    latest = timezone.localdate(now, timezone=UTC)
    candidates = (
        FollowUpCase.objects.filter(**OPEN_NOT_ESCALATED, due_on__lte=latest)
        .order_by("due_on", "pk")
        .values_list("pk", flat=True)
    )
    escalated = 0
    for case_id in list(candidates):
        try:
            escalated += _escalate(case_id, now)
        except Exception:  # one case's fault must not hold up the others; it is tried again next run
            logger.exception("Follow-up case %s could not be escalated", case_id)
    return escalated


def _escalate(case_id: int, now: datetime) -> bool:
    """Claim one case, if it is still open, not escalated and overdue in its PMO's zone, stamp
    it and queue its e-mails, in one transaction; False if another run holds it or it is not due."""
    with transaction.atomic():
        case = (
            FollowUpCase.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("pmo", "survey", "stakeholder", "segment", "owner__user")
            .filter(pk=case_id, **OPEN_NOT_ESCALATED)
            .first()
        )
        if case is None or case.due_on >= local_date(case.pmo, now):
            return False
        FollowUpCase.objects.filter(pk=case.pk).update(escalated_at=now)
        queue_escalation(case)
    return True


def lead_addresses(pmo) -> list[str]:
    return list(
        Membership.objects.filter(pmo=pmo, role=Role.LEAD, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def queue_escalation(case: FollowUpCase) -> list[OutgoingEmail]:
    """One e-mail per lead: who (the stakeholder, or for an anonymous group only its segment
    and P), the owner, the due date and the case's link."""
    context = {
        "case": case,
        "pmo": case.pmo,
        "survey": case.survey,
        "stakeholder": case.stakeholder,
        "segment_name": case.segment.name if case.segment_id else "No segment",
        "owner": case.owner,
        "element": case.get_root_element_display(),
        "case_url": survey_emails.case_url(case),
    }
    return [
        outbox.queue(Kind.CASE_ESCALATION, [to], "case-escalation", context, pmo=case.pmo, source=case)
        for to in lead_addresses(case.pmo)
    ]


def _check(email: OutgoingEmail) -> str | None:
    """Not sent if, by its turn, the case is no longer open: contacted, resolved, closed or gone."""
    still_open = FollowUpCase.objects.filter(pk=email.source_id, status=CaseStatus.OPEN)
    return None if still_open.exists() else Status.CANCELLED


outbox.register(Kind.CASE_ESCALATION, check=_check)
