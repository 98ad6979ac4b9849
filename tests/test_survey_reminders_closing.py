"""Reminders (once, after the delay, never to who answered) and closing, by hand and at
the close date in the PMO's own time zone."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import OutgoingEmail
from stakeholders import tasks
from stakeholders.models import Survey, SurveyInvitation, SurveyStatus
from stakeholders.surveys import lifecycle as surveys
from tests.factories import PmoFactory, ResponseFactory, StakeholderFactory, SurveyFactory, SurveyInvitationFactory
from tests.survey_helpers import open_survey, survey_url

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


@pytest.fixture
def due(world):
    """A survey sent 7 days ago (delay 7) to Fiona, Frank and Anna; Anna has answered.
    Paul was invited to it 6 days ago."""
    frank = StakeholderFactory(pmo=world.pmo, name="Frank", email="frank@corp.example")
    anna = StakeholderFactory(pmo=world.pmo, name="Anna", email="anna@corp.example")
    paul = StakeholderFactory(pmo=world.pmo, name="Paul", email="paul@corp.example")
    survey, (fiona_inv, frank_inv, anna_inv) = open_survey(
        world.pmo, [world.stakeholder, frank, anna], sent_at=NOW - timedelta(days=7), reminder_delay_days=7
    )
    ResponseFactory(invitation=anna_inv, nps=9)
    paul_inv = SurveyInvitationFactory(survey=survey, stakeholder=paul, sent_at=NOW - timedelta(days=6))
    return {"survey": survey, "fiona": fiona_inv, "frank": frank_inv, "anna": anna_inv, "paul": paul_inv}


def reminded_to():
    return sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Reminder:"))


def run_reminders(at):
    """The beat's round at `at`: claim the reminders due, then the outbox's sweep sends them."""
    with time_machine.travel(at, tick=False):
        claimed = tasks.send_due_reminders()
        outbox.sweep()
        return claimed


def reminder_of(invitation) -> OutgoingEmail:
    return OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.SURVEY_REMINDER, source_id=invitation.pk)


def test_after_the_delay_each_invitee_who_has_not_answered_gets_one_reminder(world, due):
    assert run_reminders(NOW) == 2
    assert reminded_to() == ["fiona@corp.example", "frank@corp.example"]
    for key in ("fiona", "frank"):
        invitation = SurveyInvitation.objects.get(pk=due[key].pk)
        assert invitation.reminder_claimed_at == NOW and invitation.reminded_at == NOW
    for key in ("anna", "paul"):
        invitation = SurveyInvitation.objects.get(pk=due[key].pk)
        assert invitation.reminder_claimed_at is None and invitation.reminded_at is None


def test_the_reminder_holds_the_same_link_as_the_invitation(world, due):
    run_reminders(NOW)
    (message,) = [m for m in mail.outbox if m.to == ["fiona@corp.example"]]
    link = f"http://testserver/s/{due['fiona'].token}/"
    assert link in message.body and link in message.alternatives[0][0]
    assert "Alpha PMO" in message.subject


def test_no_reminder_before_the_delay(world, due):
    assert run_reminders(NOW - timedelta(seconds=1)) == 0
    assert mail.outbox == []
    # Paul's delay ends a day later.
    run_reminders(NOW)
    mail.outbox.clear()
    assert run_reminders(NOW + timedelta(days=1)) == 1
    assert reminded_to() == ["paul@corp.example"]


def test_never_a_second_reminder(world, due):
    run_reminders(NOW)
    mail.outbox.clear()
    assert run_reminders(NOW + timedelta(days=1)) == 1  # only Paul, now due
    assert run_reminders(NOW + timedelta(days=30)) == 0
    assert reminded_to() == ["paul@corp.example"]


def test_a_reminder_claimed_but_not_sent_is_not_claimed_again(world, due):
    SurveyInvitation.objects.filter(pk=due["fiona"].pk).update(reminder_claimed_at=NOW - timedelta(hours=1))
    assert surveys.claim_due_reminders(now=NOW) == [due["frank"].pk]
    assert surveys.claim_due_reminders(now=NOW) == []
    assert run_reminders(NOW + timedelta(days=3)) == 1  # Paul
    assert "fiona@corp.example" not in reminded_to()


def test_sending_a_claimed_reminder_twice_sends_it_once(world, due):
    surveys.claim_due_reminders(now=NOW)
    reminder = reminder_of(due["fiona"])
    assert outbox.send(reminder.pk) == "sent"
    assert outbox.send(reminder.pk) == "sent already"
    assert len(mail.outbox) == 1


def test_no_reminder_to_someone_who_answered_after_the_claim(world, due):
    surveys.claim_due_reminders(now=NOW)
    ResponseFactory(invitation=SurveyInvitation.objects.get(pk=due["fiona"].pk), nps=10)
    outbox.sweep()
    assert reminded_to() == ["frank@corp.example"]
    assert reminder_of(due["fiona"]).status == OutgoingEmail.Status.CANCELLED


def test_no_reminder_for_a_closed_survey(world, due):
    with time_machine.travel(NOW, tick=False):
        surveys.claim_due_reminders()
    surveys.close(due["survey"])
    # Neither those claimed before it closed, nor any later.
    assert run_reminders(NOW + timedelta(days=1)) == 0
    assert mail.outbox == []
    assert reminder_of(due["fiona"]).status == OutgoingEmail.Status.CANCELLED


def test_no_reminder_once_the_close_date_has_passed(world, due):
    """Closing runs on the beat like reminders: a survey past its date is not reminded about."""
    Survey.objects.filter(pk=due["survey"].pk).update(closes_on=date(2026, 5, 19))
    assert run_reminders(NOW) == 0
    assert mail.outbox == []


def test_no_reminder_to_who_never_got_the_invitation(world, due):
    SurveyInvitation.objects.filter(pk=due["frank"].pk).update(
        sent_at=None, send_status=SurveyInvitation.SendStatus.FAILED
    )
    run_reminders(NOW)
    assert reminded_to() == ["fiona@corp.example"]


# Closing ------------------------------------------------------------------------------


def test_closing_by_hand_closes_only_an_open_survey(world):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    assert surveys.close(survey, now=NOW) is True
    survey.refresh_from_db()
    assert (survey.status, survey.closed_at) == (SurveyStatus.CLOSED, NOW)
    assert surveys.close(survey) is False
    assert Survey.objects.get(pk=survey.pk).closed_at == NOW


@pytest.fixture
def two_zones(world):
    """Two open surveys with the same close date, in PMOs on either side of the world."""
    closes = date(2026, 3, 10)
    out = {}
    for zone in ("Pacific/Auckland", "America/New_York"):
        pmo = PmoFactory(time_zone=zone)
        survey, _ = open_survey(pmo, [StakeholderFactory(pmo=pmo)], closes_on=closes, title=zone)
        out[zone] = survey
    return out


def local_midnight_after(day, zone):
    """The instant the day after `day` begins in `zone`, in UTC."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def statuses(two_zones):
    return {zone: Survey.objects.get(pk=s.pk).status for zone, s in two_zones.items()}


def test_surveys_close_at_the_end_of_their_close_date_in_the_pmos_time_zone(world, two_zones):
    auckland = local_midnight_after(date(2026, 3, 10), "Pacific/Auckland")
    new_york = local_midnight_after(date(2026, 3, 10), "America/New_York")
    assert auckland < new_york  # Auckland's day ends some 17 hours earlier in UTC terms
    second = timedelta(seconds=1)

    assert surveys.close_due_surveys(now=auckland - second) == 0
    assert statuses(two_zones) == {"Pacific/Auckland": "open", "America/New_York": "open"}

    assert surveys.close_due_surveys(now=auckland + second) == 1
    assert statuses(two_zones) == {"Pacific/Auckland": "closed", "America/New_York": "open"}

    assert surveys.close_due_surveys(now=new_york - second) == 0
    assert statuses(two_zones) == {"Pacific/Auckland": "closed", "America/New_York": "open"}

    assert surveys.close_due_surveys(now=new_york + second) == 1
    assert statuses(two_zones) == {"Pacific/Auckland": "closed", "America/New_York": "closed"}
    assert Survey.objects.get(pk=two_zones["America/New_York"].pk).closed_at == new_york + second


def test_the_beat_task_closes_due_surveys(world, two_zones):
    with time_machine.travel(local_midnight_after(date(2026, 3, 10), "Pacific/Auckland") + timedelta(minutes=1)):
        assert tasks.close_due_surveys() == 1
    assert statuses(two_zones) == {"Pacific/Auckland": "closed", "America/New_York": "open"}


def test_a_now_given_in_another_zone_means_the_same_instant(world, two_zones):
    instant = local_midnight_after(date(2026, 3, 10), "Pacific/Auckland") + timedelta(minutes=1)
    assert surveys.close_due_surveys(now=instant.astimezone(ZoneInfo("Etc/GMT+12"))) == 1
    assert statuses(two_zones) == {"Pacific/Auckland": "closed", "America/New_York": "open"}


def test_the_link_stops_at_the_end_of_the_close_date_even_before_the_beat_closes_it(world, client):
    pmo = PmoFactory(time_zone="Pacific/Auckland")
    survey, (invitation,) = open_survey(pmo, [StakeholderFactory(pmo=pmo)], closes_on=date(2026, 3, 10))
    end = local_midnight_after(date(2026, 3, 10), "Pacific/Auckland")
    with time_machine.travel(end - timedelta(seconds=1), tick=False):
        assert client.get(invitation.path).status_code == 200
    with time_machine.travel(end + timedelta(seconds=1), tick=False):
        assert client.get(invitation.path).status_code == 410
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.OPEN


def test_launch_checks_the_close_date_in_the_pmos_time_zone(world):
    pmo = PmoFactory(time_zone="Pacific/Auckland")
    survey = SurveyFactory(pmo=pmo, closes_on=date(2026, 3, 10))
    survey.target_stakeholders.add(StakeholderFactory(pmo=pmo))
    # 12:00 UTC on the 10th is already the 11th in Auckland: the survey would be born closed.
    with pytest.raises(surveys.SurveyError, match="close date has passed"):
        surveys.launch(survey, now=datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.DRAFT


def test_the_detail_page_of_a_closed_survey(world, client_for):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    surveys.close(survey, now=NOW)
    page = client_for(world.lead).get(survey_url("survey_detail", survey))
    assert "Closed on 20 May 2026" in page.content.decode()
    assert survey_url("survey_close", survey) not in page.content.decode()


def test_an_invitation_waiting_for_a_retry_when_the_survey_closes_shows_not_needed(
    world, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    def busy(backend, messages):
        raise smtplib.SMTPDataError(451, b"4.3.0 Try again later")

    monkeypatch.setattr(EmailBackend, "send_messages", busy)
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    survey.target_segments.clear()
    survey.target_stakeholders.add(world.stakeholder)
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(survey)
    page = client_for(world.lead).get(survey_url("survey_detail", survey)).content.decode()
    assert "Queued, retrying (1 attempt" in page

    surveys.close(survey)
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    outbox.sweep()
    (email,) = OutgoingEmail.objects.all()
    assert email.status == OutgoingEmail.Status.CANCELLED
    invitation = SurveyInvitation.objects.get(survey=survey)
    assert (invitation.send_status, invitation.last_error) == (SurveyInvitation.SendStatus.CANCELLED, "")
    page = client_for(world.lead).get(survey_url("survey_detail", survey)).content.decode()
    assert "Not needed (the survey closed before it went out)" in page
    assert "Queued" not in page and "retrying" not in page
    assert mail.outbox == []


def test_the_migration_marks_the_invitations_whose_email_was_cancelled_already(world):
    from importlib import import_module

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    survey, (cancelled, waiting) = open_survey(
        world.pmo, [world.stakeholder, StakeholderFactory(pmo=world.pmo, email="cat@corp.example")]
    )
    SurveyInvitation.objects.update(send_status="pending", sent_at=None, send_attempts=1, last_error="451 later")
    # Its content type as it was named when the migration ran (0009 renamed the model).
    source_type = ContentType.objects.get_or_create(app_label="stakeholders", model="invitation")[0]
    for invitation, status in ((cancelled, "cancelled"), (waiting, "queued")):
        OutgoingEmail.objects.create(
            kind=OutgoingEmail.Kind.SURVEY_INVITATION,
            to=[invitation.email],
            subject="s",
            text="t",
            status=status,
            source_type=source_type,
            source_id=invitation.pk,
        )
    name = "0008_invitation_send_status_not_needed"
    historical = MigrationLoader(connection).project_state(("stakeholders", name)).apps
    import_module(f"stakeholders.migrations.{name}").mark_cancelled(historical, None)
    cancelled.refresh_from_db()
    waiting.refresh_from_db()
    assert (cancelled.send_status, cancelled.last_error) == ("cancelled", "")
    assert (waiting.send_status, waiting.last_error) == ("pending", "451 later")
