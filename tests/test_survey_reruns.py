"""The survey path's e-mails sent again (a retry, a redelivery after a crash) change nothing."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import OutgoingEmail
from stakeholders.models import SurveyInvitation
from stakeholders.surveys import emails as survey_emails
from stakeholders.surveys import lifecycle as surveys
from tests.factories import ResponseFactory
from tests.survey_helpers import open_survey


def test_a_detractor_alert_sent_twice_is_sent_once(world):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], sent_at=timezone.now())
    response = ResponseFactory(invitation=invitation, nps=3)
    (email,) = survey_emails.queue_detractor_alert(response)
    mail.outbox.clear()

    assert outbox.send(email.pk) == "sent"
    assert outbox.send(email.pk) == "sent already"

    assert len(mail.outbox) == 1


def test_a_reminder_that_fails_for_good_leaves_the_invitation_sent(world, monkeypatch):
    sent_at = timezone.now() - timezone.timedelta(days=30)
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], sent_at=sent_at)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(send_attempts=1)
    assert surveys.claim_due_reminders() == [invitation.pk]
    reminder = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.SURVEY_REMINDER)

    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({invitation.email: (550, b"No such mailbox")})

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    assert outbox.send(reminder.pk) == "failed"

    invitation.refresh_from_db()
    assert invitation.send_status == SurveyInvitation.SendStatus.SENT
    assert invitation.reminded_at is None
    # The invitation's attempts and error are its own e-mail's: a reminder's, which only
    # those who have not answered get, would tell them apart in an anonymous survey.
    assert (invitation.send_attempts, invitation.last_error) == (1, "")
    reminder.refresh_from_db()
    assert "550" in reminder.last_error


def test_an_invitation_that_went_out_cannot_be_sent_again(world):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], sent_at=timezone.now())
    SurveyInvitation.objects.filter(pk=invitation.pk).update(send_status=SurveyInvitation.SendStatus.SENT)
    invitation.refresh_from_db()

    with pytest.raises(surveys.SurveyError, match="went out already"):
        surveys.resend(invitation)
    invitation.refresh_from_db()
    assert invitation.send_status == SurveyInvitation.SendStatus.SENT
