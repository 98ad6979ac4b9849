"""The recovery pulse (docs/follow-up.md, "Recovery pulse"): once a named case is resolved,
one question to its stakeholder, 0 to 10 and a comment, through a link of their own.

The one write path of RecoveryPulse. Sending makes the row and queues its e-mail through
the outbox in one transaction; answering is one conditional UPDATE, so that of two racing
submits exactly one stores anything. A pulse is never a survey's Response: its score stays
on its own row and enters no survey figure (agenda/figures/follow_up.py counts pulses).
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import OutgoingEmail
from stakeholders.models import CaseStatus, FollowUpCase, RecoveryPulse

Kind, Status = OutgoingEmail.Kind, OutgoingEmail.Status

QUESTION = "How likely are you now to recommend the PMO to a colleague?"
COMMENT_MAX = RecoveryPulse._meta.get_field("comment").max_length
ALREADY_SENT = "A recovery pulse was already sent for this case: each case has one."


class PulseError(Exception):
    """Why a pulse cannot be sent; its message is shown to the member as it is."""


def path(pulse: RecoveryPulse) -> str:
    return reverse("pulse_answer", kwargs={"token": pulse.token})


def _refusal(case: FollowUpCase) -> str | None:
    if case.is_anonymous:
        return "An anonymous group's case has nobody to ask: a recovery pulse goes to a named stakeholder."
    if case.status != CaseStatus.RESOLVED:
        return "A recovery pulse is sent once the case is resolved."
    if not case.stakeholder.email:
        return f"{case.stakeholder.name} has no e-mail address: add one to their record to send a pulse."
    if RecoveryPulse.objects.filter(case=case).exists():
        return ALREADY_SENT
    return None


def send_pulse(case: FollowUpCase, *, by) -> RecoveryPulse:
    """Make the case's pulse and queue its e-mail; PulseError, with nothing changed, if it cannot."""
    with transaction.atomic():
        # Locked and read again: a case reopened (or a pulse sent) since the page was shown counts.
        case = FollowUpCase.objects.select_for_update(of=("self",)).select_related("pmo", "stakeholder").get(pk=case.pk)
        refusal = _refusal(case)
        if refusal:
            raise PulseError(refusal)
        pulse = RecoveryPulse.new(case, case.stakeholder.email, sent_by=by)
        try:
            with transaction.atomic():
                pulse.save()
        except IntegrityError as error:
            # Two sends at once that both passed the check: the one-to-one decides.
            raise PulseError(ALREADY_SENT) from error
        outbox.queue(Kind.RECOVERY_PULSE, [pulse.email], "recovery-pulse", context(pulse), pmo=case.pmo, source=pulse)
    return pulse


def context(pulse: RecoveryPulse) -> dict:
    link = f"{settings.SITE_URL}{path(pulse)}"
    return {
        "pulse": pulse,
        "pmo": pulse.case.pmo,
        "stakeholder": pulse.case.stakeholder,
        "question": QUESTION,
        "link": link,
        # The survey invitation's 0–10 links: a click opens the page with the score chosen,
        # never stores it (GET changes nothing).
        "score_links": [(value, f"{link}?score={value}") for value in range(11)],
    }


def answer_pulse(pulse: RecoveryPulse, score: int, comment: str) -> bool:
    """Store the answer if the pulse has none yet; False (nothing stored) if it has one."""
    if not 0 <= score <= 10:
        raise ValueError(f"A pulse's score is 0 to 10, not {score}.")
    now = timezone.now()
    stored = RecoveryPulse.objects.filter(pk=pulse.pk, answered_at__isnull=True).update(
        score=score, comment=comment[:COMMENT_MAX], answered_at=now
    )
    if stored:
        pulse.score, pulse.comment, pulse.answered_at = score, comment[:COMMENT_MAX], now
    return bool(stored)


def _check_pulse(email: OutgoingEmail) -> str | None:
    """Cancel the e-mail of a pulse gone (its case deleted) or answered already (the link
    opened from an earlier copy, or a retry after the stakeholder answered)."""
    pulse = RecoveryPulse.objects.filter(pk=email.source_id).only("answered_at").first()
    if pulse is None or pulse.answered_at:
        return Status.CANCELLED
    return None


outbox.register(Kind.RECOVERY_PULSE, check=_check_pulse)
