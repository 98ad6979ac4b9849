"""Celery tasks of the survey path. Each takes ids, reloads its rows and calls the
plain functions that hold the logic; each is safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pmo5p import emails
from pmo5p.emails import is_permanent
from pmo5p.models import Role
from stakeholders import scores, surveys
from stakeholders.models import Invitation, Response, Survey

logger = logging.getLogger(__name__)

# Errors of sending mail. Worth another try when the mail server refused for now (4xx)
# or could not be reached; a refusal for good (5xx, see is_permanent) is not retried.
# SMTPException, timeouts and refused or dropped connections are all OSError subclasses.
TRANSIENT_MAIL_ERRORS = (OSError,)
MAX_SEND_RETRIES = 5


def retry_countdown(retries: int) -> int:
    """Exponential backoff: 1, 2, 4, 8, 16 times EMAIL_RETRY_BASE_SECONDS."""
    return settings.EMAIL_RETRY_BASE_SECONDS * 2**retries


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_SEND_RETRIES)
def send_survey_email(self, invitation_id: int, kind: str) -> str:
    """Send an invitation or a reminder once; record the invitation e-mail's attempts,
    errors and outcome, and that the reminder went out."""
    with transaction.atomic():
        invitation = (
            # of=self: lock the invitation only, not the survey, PMO and stakeholder joined to it.
            Invitation.objects.select_for_update(of=("self",))
            .select_related("survey__pmo", "stakeholder")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None:
            return "gone"
        skip = _reason_to_skip(invitation, kind)
        if skip:
            return skip
        outcome = _send_reminder(self, invitation) if kind == "reminder" else _send_invitation(self, invitation)
        if outcome != "retry":
            return outcome
    # Outside the transaction, so that the recorded attempt stays committed.
    raise self.retry(countdown=retry_countdown(self.request.retries))


def _send_invitation(task, invitation: Invitation) -> str:
    invitation.send_attempts += 1
    if invitation.responded_at:
        # They have the link: they answered. No e-mail, but the row ends as any sent one
        # does, so that it does not tell who answered an anonymous survey (a resend, or
        # a send queued again after a success that was not recorded).
        _mark_sent(invitation)
        return "answered"
    try:
        emails.send("survey-invitation", [invitation.email], survey_email_context(invitation))
    except TRANSIENT_MAIL_ERRORS as error:
        invitation.last_error = f"{type(error).__name__}: {error}"[:1000]
        final = task.request.retries >= task.max_retries or is_permanent(error)
        if final:
            invitation.send_status = Invitation.SendStatus.FAILED
        invitation.save(update_fields=["send_attempts", "last_error", "send_status"])
        if final:
            logger.warning("Giving up on the invitation e-mail %s: %s", invitation.pk, error)
            return "failed"
        return "retry"
    _mark_sent(invitation)
    return "sent"


def _mark_sent(invitation: Invitation) -> None:
    invitation.sent_at = timezone.now()
    invitation.send_status = Invitation.SendStatus.SENT
    invitation.last_error = ""
    invitation.save(update_fields=["send_attempts", "last_error", "send_status", "sent_at"])


def _send_reminder(task, invitation: Invitation) -> str:
    """Send the one reminder; record only that it went out.

    Its attempts and errors are logged, not added to the invitation's: reminders go
    only to those who have not answered, so a count that grew with them would say who
    had not answered an anonymous survey. A failed reminder leaves the invitation as it
    was: the invitation itself went out.
    """
    try:
        emails.send("survey-reminder", [invitation.email], survey_email_context(invitation))
    except TRANSIENT_MAIL_ERRORS as error:
        if task.request.retries >= task.max_retries or is_permanent(error):
            logger.warning("Giving up on the reminder e-mail of invitation %s: %s", invitation.pk, error)
            return "failed"
        logger.info("The reminder e-mail of invitation %s failed, to be tried again: %s", invitation.pk, error)
        return "retry"
    invitation.reminded_at = timezone.now()
    invitation.save(update_fields=["reminded_at"])
    return "sent"


def _reason_to_skip(invitation: Invitation, kind: str) -> str | None:
    if not invitation.survey.is_open:
        return "survey not open"
    if kind == "reminder":
        if invitation.responded_at:
            return "answered"
        return "reminded already" if invitation.reminded_at else None
    return "sent already" if invitation.send_status == Invitation.SendStatus.SENT else None


def survey_email_context(invitation: Invitation) -> dict:
    survey = invitation.survey
    link = f"{settings.SITE_URL}{invitation.path}"
    nps_question = survey.questions.filter(kind="nps").values_list("text", flat=True).first()
    return {
        "invitation": invitation,
        "survey": survey,
        "pmo": survey.pmo,
        "stakeholder": invitation.stakeholder,
        "link": link,
        "nps_question": nps_question,
        "nps_links": [(value, f"{link}?nps={value}") for value in range(11)],
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_due_reminders() -> int:
    ids = surveys.claim_due_reminders()
    for invitation_id in ids:
        send_survey_email.delay(invitation_id, "reminder")
    # Invitations whose e-mail was never queued (the broker was down when the launch
    # committed) are queued again; sending skips any that went out meanwhile.
    for invitation_id in surveys.stale_unsent_invitations():
        send_survey_email.delay(invitation_id, "invitation")
    return len(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_due_surveys() -> int:
    return surveys.close_due_surveys()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_SEND_RETRIES)
def send_detractor_alert(self, response_id: int) -> str:
    """Tell the relationship owner (else the leads) that a stakeholder of a named survey
    scored the PMO 0–6, at once. Anonymous surveys are batched: send_anonymous_detractor_alerts."""
    with transaction.atomic():
        # The row lock and the stamp make a rerun (acks_late after a crash) send nothing more.
        response = (
            Response.objects.select_for_update(of=("self",))
            .select_related("survey__pmo", "invitation__stakeholder__owner__user")
            .filter(pk=response_id)
            .first()
        )
        if response is None:
            return "gone"
        if response.survey.anonymous:
            return "batched"  # queued before an upgrade: the periodic task counts it
        if response.detractor_alerted_at is not None:
            return "sent already"
        survey = response.survey
        stakeholder = response.invitation.stakeholder
        owner = stakeholder.owner
        recipients = [owner.user.email] if owner is not None else _lead_addresses(survey)
        context = {
            "survey": survey,
            "pmo": survey.pmo,
            "response": response,
            "stakeholder": stakeholder,
            "owner": owner,
            "lowest": scores.lowest_elements(response),
        }
        outcome = _send_alert(self, "detractor-alert", recipients, context, f"response {response.pk}")
        if outcome == "sent":
            response.detractor_alerted_at = timezone.now()
            response.save(update_fields=["detractor_alerted_at"])
        return outcome


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_anonymous_detractor_alerts() -> int:
    """Periodic: one batched alert per anonymous survey with detractor answers not counted yet."""
    due = surveys.anonymous_detractor_alerts_due()
    for survey_id in due:
        send_anonymous_detractor_alert.delay(survey_id)
    return len(due)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_SEND_RETRIES)
def send_anonymous_detractor_alert(self, survey_id: int) -> str:
    """Tell the leads how many detractor answers an anonymous survey has had since its last
    alert: a count, never who, and never at the time of an answer.

    The detractor responses counted are locked, and stamped in the same transaction as the
    e-mail is sent: a second run at once (two beats, a redelivered task) waits for the
    first, then finds them stamped and sends nothing. Each is counted in one alert.
    """
    with transaction.atomic():
        survey = Survey.objects.select_related("pmo").filter(pk=survey_id, anonymous=True).first()
        if survey is None:
            return "gone"
        pending = list(
            Response.objects.select_for_update()
            .filter(survey=survey, nps__lte=6, detractor_alerted_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not pending:
            return "nothing new"
        responses = survey.responses.count()
        if responses < settings.MIN_GROUP_SIZE:
            return "too few responses"
        context = {
            "survey": survey,
            "pmo": survey.pmo,
            "new": len(pending),
            "detractors": survey.responses.filter(nps__lte=6).count(),
            "responses": responses,
            "min_group_size": settings.MIN_GROUP_SIZE,
        }
        outcome = _send_alert(
            self, "detractor-alert-anonymous", _lead_addresses(survey), context, f"survey {survey_id}"
        )
        # Refused for good: those answers count as alerted, rather than be refused every
        # round. Failed for now, even after the retries: the next round counts them again.
        if outcome in ("sent", "refused"):
            Response.objects.filter(pk__in=pending).update(detractor_alerted_at=timezone.now())
        return outcome


def _lead_addresses(survey) -> list[str]:
    return list(survey.pmo.memberships.filter(role=Role.LEAD).values_list("user__email", flat=True))


def _send_alert(task, template: str, recipients: list[str], context: dict, subject: str) -> str:
    """Send, retrying a failure for now with backoff: "sent", "refused" (for good) or "failed"."""
    try:
        emails.send(template, recipients, context)
    except TRANSIENT_MAIL_ERRORS as error:
        if is_permanent(error) or task.request.retries >= task.max_retries:
            logger.warning("Giving up on the detractor alert of %s: %s", subject, error)
            return "refused" if is_permanent(error) else "failed"
        raise task.retry(countdown=retry_countdown(task.request.retries), exc=error) from error
    return "sent"
