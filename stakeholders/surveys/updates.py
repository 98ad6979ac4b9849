""" "You said, we did" (docs/follow-up.md): the one write path of SurveyUpdate, who receives
it, its sending through the outbox, and the unsubscribe link its e-mails carry.

- save() keeps the lead's draft of a closed survey's update; once sent it is the archive
  and nothing changes it.
- send() queues one outbox row per recipient and stamps the update in the same
  transaction, under a row lock on the update: two sends at once queue the e-mails once.
- recipients(): everyone invited, anonymous surveys included (being invited says nothing
  of answering), less those who unsubscribed, one per address.
- The unsubscribe token is django.core.signing with a salt of its own, naming the
  stakeholder. It never expires: a link in an old e-mail must still work (RFC 8058 asks the
  sender to honour it; an expired one leaves "report spam" as the only way out), and all it
  can do is stop that stakeholder's updates, which unsubscribe() does once however often.
  Rotating SECRET_KEY (with SECRET_KEY_FALLBACKS) keeps old links working.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import OutgoingEmail
from stakeholders.models import Stakeholder, Survey, SurveyInvitation, SurveyUpdate

Kind, Status = OutgoingEmail.Kind, OutgoingEmail.Status

UNSUBSCRIBE_SALT = "pmo5p.survey-updates.unsubscribe"
SUBJECT_MAX = SurveyUpdate._meta.get_field("subject").max_length
BODY_MAX = SurveyUpdate._meta.get_field("body").max_length


class UpdateRefused(Exception):
    """The update cannot be saved or sent now; str() says why, for the page."""


# Unsubscribe tokens -------------------------------------------------------------------------


def _signer() -> signing.Signer:
    return signing.Signer(salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(stakeholder: Stakeholder) -> str:
    return _signer().sign(str(stakeholder.pk))


def stakeholder_for_token(token: str) -> Stakeholder | None:
    """The stakeholder the token names, or None if it was tampered with or names nobody."""
    if len(token) > 200:
        return None
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    if not value.isdigit():
        return None
    return Stakeholder.objects.select_related("pmo").filter(pk=int(value)).first()


def unsubscribe_url(stakeholder: Stakeholder) -> str:
    return (
        f"{settings.SITE_URL}{reverse('survey_updates_unsubscribe', kwargs={'token': unsubscribe_token(stakeholder)})}"
    )


def unsubscribe(stakeholder: Stakeholder) -> bool:
    """Stop every later update to this stakeholder; True if this call did (idempotent: a second
    click keeps the first time)."""
    return bool(
        Stakeholder.objects.filter(pk=stakeholder.pk, updates_unsubscribed_at__isnull=True).update(
            updates_unsubscribed_at=timezone.now()
        )
    )


# Draft --------------------------------------------------------------------------------------


def clean_subject(subject: str) -> str:
    """One line, whatever was typed: a newline in a subject would be a header of its own."""
    return " ".join((subject or "").split())


def save(survey: Survey, *, subject: str, body: str, by) -> SurveyUpdate:
    """Keep the draft of the survey's update: only for a closed survey, only until it is sent."""
    subject, body = clean_subject(subject), (body or "").replace("\r\n", "\n").strip()
    if not subject or not body:
        raise UpdateRefused("Write a subject and a message.")
    if len(subject) > SUBJECT_MAX:
        raise UpdateRefused(f"The subject is {len(subject)} characters long: keep it to {SUBJECT_MAX}.")
    if len(body) > BODY_MAX:
        raise UpdateRefused(f"The message is {len(body)} characters long: keep it to {BODY_MAX}.")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if not survey.is_closed:
            raise UpdateRefused("An update can be written once the survey has closed.")
        update = SurveyUpdate.objects.select_for_update().filter(survey=survey).first()
        if update is None:
            return SurveyUpdate.objects.create(
                pmo_id=survey.pmo_id, survey=survey, subject=subject, body=body, created_by=by
            )
        if update.is_sent:
            raise UpdateRefused("This update was sent: it is kept as it went out and cannot be changed.")
        update.subject, update.body = subject, body
        update.save(update_fields=["subject", "body", "updated_at"])
        return update


# Recipients ---------------------------------------------------------------------------------


@dataclass
class Recipients:
    invitations: list[SurveyInvitation]  # one per address, by stakeholder name
    unsubscribed: int  # addresses invited but left out

    @property
    def count(self) -> int:
        return len(self.invitations)


def recipients(survey: Survey) -> Recipients:
    """Everyone invited to the survey, anonymous or not, less those who unsubscribed; one
    invitation per address (two stakeholders may share one)."""
    chosen: dict[str, SurveyInvitation] = {}
    left_out: set[str] = set()
    invitations = survey.invitations.select_related("stakeholder").order_by("stakeholder__name", "pk")
    for invitation in invitations:
        address = invitation.email.strip().lower()
        if not address:
            continue
        if invitation.stakeholder.updates_unsubscribed_at is not None:
            left_out.add(address)
        elif address not in chosen:
            chosen[address] = invitation
    return Recipients(list(chosen.values()), len(left_out - chosen.keys()))


# Sending ------------------------------------------------------------------------------------


def context(update: SurveyUpdate, invitation: SurveyInvitation) -> dict:
    return {
        "update": update,
        "survey": update.survey,
        "pmo": update.survey.pmo,
        "stakeholder": invitation.stakeholder,
        "unsubscribe_url": unsubscribe_url(invitation.stakeholder),
    }


def headers(stakeholder: Stakeholder) -> dict[str, str]:
    """RFC 8058: a mail provider's "unsubscribe" button POSTs List-Unsubscribe=One-Click to the link."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(stakeholder)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def send(update: SurveyUpdate, *, by) -> list[OutgoingEmail]:
    """Queue the update to its recipients and stamp it sent, in one transaction; refused for
    an update already sent (a second send) or a survey not closed."""
    with transaction.atomic():
        update = SurveyUpdate.objects.select_for_update().select_related("survey__pmo").get(pk=update.pk)
        if update.is_sent:
            raise UpdateRefused(
                f"This update was sent on {timezone.localtime(update.sent_at):%d %B %Y}: "
                "an update sent twice for one survey would reach everyone twice."
            )
        survey = update.survey
        if not survey.is_closed:
            raise UpdateRefused("An update can be sent once the survey has closed.")
        chosen = recipients(survey)
        rows = [
            outbox.queue(
                Kind.SURVEY_UPDATE,
                [invitation.email],
                "survey-update",
                context(update, invitation),
                pmo=survey.pmo,
                source=invitation,
                headers=headers(invitation.stakeholder),
            )
            for invitation in chosen.invitations
        ]
        update.sent_at, update.sent_by = timezone.now(), by
        update.recipients, update.unsubscribed = chosen.count, chosen.unsubscribed
        update.save(update_fields=["sent_at", "sent_by", "recipients", "unsubscribed", "updated_at"])
    return rows


def _check_update(email: OutgoingEmail) -> str | None:
    """Cancel an update whose stakeholder unsubscribed (or left) after it was queued."""
    invitation = SurveyInvitation.objects.select_related("stakeholder").filter(pk=email.source_id).first()
    if invitation is None or invitation.stakeholder.updates_unsubscribed_at is not None:
        return Status.CANCELLED
    return None


outbox.register(Kind.SURVEY_UPDATE, check=_check_update)
