"""Tasks of the survey path run again (a retry, a redelivery after a crash) change nothing."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from stakeholders import surveys
from stakeholders.models import Invitation
from stakeholders.tasks import send_detractor_alert, send_survey_email
from tests.survey_helpers import open_survey, respond


def test_a_detractor_alert_run_twice_is_sent_once(world):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], sent_at=timezone.now())
    response = respond(invitation, nps=3)
    mail.outbox.clear()

    assert send_detractor_alert.apply(args=[response.pk]).get() == "sent"
    assert send_detractor_alert.apply(args=[response.pk]).get() == "sent already"

    assert len(mail.outbox) == 1
    response.refresh_from_db()
    assert response.detractor_alerted_at is not None


def test_a_reminder_that_fails_for_good_leaves_the_invitation_sent(world, monkeypatch, caplog):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], sent_at=timezone.now())
    Invitation.objects.filter(pk=invitation.pk).update(send_status=Invitation.SendStatus.SENT, send_attempts=1)

    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({invitation.email: (550, b"No such mailbox")})

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    assert send_survey_email.apply(args=[invitation.pk, "reminder"]).get() == "failed"

    invitation.refresh_from_db()
    assert invitation.send_status == Invitation.SendStatus.SENT
    assert invitation.reminded_at is None
    # The invitation's attempts and error are its own e-mail's: a reminder's, which only
    # those who have not answered get, would tell them apart in an anonymous survey.
    assert (invitation.send_attempts, invitation.last_error) == (1, "")
    assert "550" in caplog.text


def test_an_invitation_that_went_out_cannot_be_sent_again(world):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], sent_at=timezone.now())
    Invitation.objects.filter(pk=invitation.pk).update(send_status=Invitation.SendStatus.SENT)
    invitation.refresh_from_db()

    with pytest.raises(surveys.SurveyError, match="went out already"):
        surveys.resend(invitation)
    invitation.refresh_from_db()
    assert invitation.send_status == Invitation.SendStatus.SENT
