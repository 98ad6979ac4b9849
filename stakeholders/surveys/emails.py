"""The survey's e-mails, through the outbox (pmo5p/outbox.py): invitations, reminders and
detractor alerts. Each is queued in the transaction that makes it due (the launch, the
reminder's claim, the batch's count), so none can be lost in between; a named detractor's
alert is due from its response's row (nps 0–6, not yet alerted, in a named survey), and is
composed by a worker, woken once the answer commits, or else by the outbox's sweep.

What the invitation's own fields show (send_status, send_attempts, last_error, sent_at)
is the outbox row's, copied in the same transaction as every change of that row. A
reminder's attempts and errors are not copied: reminders go only to those who have not
answered, so a count that grew with them would say who had not answered an anonymous
survey (docs/security.md, "Anonymous surveys"). Only its sending stamps `reminded_at`.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from pmo5p import outbox
from pmo5p.domain import DETRACTOR_MAX
from pmo5p.models import OutgoingEmail, Role
from stakeholders.cases import opening
from stakeholders.models import FollowUpCase, Response, Survey, SurveyInvitation
from stakeholders.surveys import anonymity, figure_source

Kind, Status = OutgoingEmail.Kind, OutgoingEmail.Status


def context(invitation: SurveyInvitation) -> dict:
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


def queue_invitation(invitation: SurveyInvitation) -> OutgoingEmail:
    return _queue(invitation, Kind.SURVEY_INVITATION, "survey-invitation")


def queue_reminder(invitation: SurveyInvitation) -> OutgoingEmail:
    return _queue(invitation, Kind.SURVEY_REMINDER, "survey-reminder")


def _queue(invitation: SurveyInvitation, kind: str, template: str) -> OutgoingEmail:
    pmo = invitation.survey.pmo
    return outbox.queue(kind, [invitation.email], template, context(invitation), pmo=pmo, source=invitation)


def invitation_email(invitation: SurveyInvitation) -> OutgoingEmail | None:
    return outbox.for_source(invitation, Kind.SURVEY_INVITATION).first()


def lead_addresses(survey: Survey) -> list[str]:
    return list(survey.pmo.memberships.filter(role=Role.LEAD).values_list("user__email", flat=True))


# A named survey's detractor whose alert is not queued yet. The answer's own request only
# wakes a worker (lifecycle.submit): composing the alert there (its lowest elements, the
# leads, two renders, the outbox rows) cost more than the rest of the answer. An anonymous
# survey's detractors wait for their batch instead (lifecycle.alert_anonymous_detractors).
ALERT_DUE = Q(nps__lte=DETRACTOR_MAX, detractor_alerted_at__isnull=True, survey__anonymous=False)


def alert_detractor(response_id: int) -> list[OutgoingEmail] | None:
    """Open a named detractor's follow-up case and queue their alert, if it is still due; None
    if it is not (or another run holds it). The response is claimed under FOR UPDATE SKIP
    LOCKED and stamped in the transaction that opens its case and queues its rows: two runs at
    once (the wake-up and a sweep, a redelivered task) open and queue it once, and a run that
    fails leaves it due for the next."""
    with transaction.atomic():
        response = (
            Response.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("survey__pmo", "invitation__stakeholder__owner__user")
            .filter(ALERT_DUE, pk=response_id)
            .first()
        )
        if response is None:
            return None
        now = timezone.now()
        Response.objects.filter(pk=response.pk).update(detractor_alerted_at=now)
        lowest = figure_source.source().lowest_elements(response)
        case = opening.open_for_response(response, now=now, lowest=lowest)
        return queue_detractor_alert(response, case=case, lowest=lowest)


def alert_overdue_detractors(limit: int) -> int:
    """Queue the named detractors' alerts still due: those whose wake-up was lost (a broker
    restart) or whose run failed. Run by the outbox's sweep; returns the number queued."""
    due = Response.objects.filter(ALERT_DUE).order_by("pk").values_list("pk", flat=True)[:limit]
    return sum(alert_detractor(response_id) is not None for response_id in list(due))


def case_url(case: FollowUpCase) -> str:
    return settings.SITE_URL + reverse("case_detail", kwargs={"slug": case.pmo.slug, "case_id": case.pk})


def queue_detractor_alert(
    response: Response, *, case: FollowUpCase | None = None, lowest: list | None = None
) -> list[OutgoingEmail]:
    """Tell the relationship owner (else each lead) that a stakeholder of a named survey
    scored the PMO 0–6, and of the follow-up case it opened (`case`: its due date, its link);
    in the transaction that stamps the response (alert_detractor). One row per recipient (as
    the outbox requires): a server that refuses one lead leaves that row to retry."""
    survey = response.survey
    stakeholder = response.invitation.stakeholder
    owner = stakeholder.owner
    recipients = [owner.user.email] if owner is not None else lead_addresses(survey)
    alert = {
        "survey": survey,
        "pmo": survey.pmo,
        "response": response,
        "stakeholder": stakeholder,
        "owner": owner,
        "lowest": figure_source.source().lowest_elements(response) if lowest is None else lowest,
        "case": case,
        "case_url": case_url(case) if case is not None else "",
    }
    return [
        outbox.queue(Kind.DETRACTOR_ALERT, [to], "detractor-alert", alert, pmo=survey.pmo, source=response)
        for to in recipients
    ]


def queue_anonymous_detractor_alert(survey: Survey, new: int) -> list[OutgoingEmail]:
    """Tell the leads how many detractor answers an anonymous survey has had since its last
    alert: a count, never who; one row per lead. The caller stamps those answers once, for
    the batch, in the same transaction."""
    alert = {
        "survey": survey,
        "pmo": survey.pmo,
        "new": new,
        "detractors": figure_source.source().nps(survey.responses.all()).detractors,
        "responses": survey.responses.count(),
        "min_group_size": anonymity.min_group_size(),
    }
    return [
        outbox.queue(
            Kind.DETRACTOR_ALERT_BATCH, [to], "detractor-alert-anonymous", alert, pmo=survey.pmo, source=survey
        )
        for to in lead_addresses(survey)
    ]


def alert_emails(survey: Survey):
    """The survey's detractor alerts: one per named detractor, or the anonymous survey's batches."""
    named = Q(
        kind=Kind.DETRACTOR_ALERT,
        source_type=ContentType.objects.get_for_model(Response),
        source_id__in=survey.responses.values("pk"),
    )
    batched = Q(
        kind=Kind.DETRACTOR_ALERT_BATCH, source_type=ContentType.objects.get_for_model(Survey), source_id=survey.pk
    )
    return OutgoingEmail.objects.filter(named | batched)


def detractor_alerts(survey: Survey) -> dict:
    """How the survey's detractor alerts fared, by status, and those a lead may send again.
    Counts and errors only: an alert of an anonymous survey says nothing of who, or when."""
    rows = alert_emails(survey)
    counts = rows.aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(status=Status.SENT)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        waiting=Count("pk", filter=Q(status__in=[Status.QUEUED, Status.SENDING])),
    )
    counts["stuck"] = [email for email in rows.order_by("pk") if email.can_send_again]
    return counts


# Hooks ------------------------------------------------------------------------------------


def _invitation(email: OutgoingEmail) -> SurveyInvitation | None:
    return SurveyInvitation.objects.select_related("survey").filter(pk=email.source_id).first()


def _check_invitation(email: OutgoingEmail) -> str | None:
    invitation = _invitation(email)
    if invitation is None or not invitation.survey.is_open:
        return Status.CANCELLED
    if invitation.responded_at:
        # They have the link: they answered. No e-mail, but the row ends as any sent one
        # does, so that it does not tell who answered an anonymous survey.
        return Status.SENT
    return None


def _record_invitation(email: OutgoingEmail) -> None:
    shown = {
        Status.SENT: SurveyInvitation.SendStatus.SENT,
        Status.FAILED: SurveyInvitation.SendStatus.FAILED,
        Status.CANCELLED: SurveyInvitation.SendStatus.CANCELLED,
    }
    SurveyInvitation.objects.filter(pk=email.source_id).update(
        send_status=shown.get(email.status, SurveyInvitation.SendStatus.PENDING),
        send_attempts=email.attempts,
        last_error=email.last_error,
        sent_at=email.sent_at,
    )


def _check_reminder(email: OutgoingEmail) -> str | None:
    invitation = _invitation(email)
    if invitation is None or not invitation.survey.is_open or invitation.responded_at or invitation.reminded_at:
        return Status.CANCELLED
    return None


def _record_reminder(email: OutgoingEmail) -> None:
    if email.status == Status.SENT:
        SurveyInvitation.objects.filter(pk=email.source_id, reminded_at__isnull=True).update(reminded_at=email.sent_at)


def _check_alert(email: OutgoingEmail) -> str | None:
    return None if Response.objects.filter(pk=email.source_id).exists() else Status.CANCELLED


outbox.register(Kind.SURVEY_INVITATION, check=_check_invitation, record=_record_invitation)
outbox.register(Kind.SURVEY_REMINDER, check=_check_reminder, record=_record_reminder)
outbox.register(Kind.DETRACTOR_ALERT, check=_check_alert, overdue=alert_overdue_detractors)
