"""Launching a survey: one invitation per stakeholder, e-mails once the launch is
committed, the NPS links of the e-mail, failed sends retried and resent."""

import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from django.utils.dateformat import format as date_format

from stakeholders.models import Response, Survey, SurveyInvitation, SurveyStatus
from stakeholders.surveys import lifecycle as surveys
from tests.factories import ResponseFactory, SegmentFactory, StakeholderFactory, SurveyFactory
from tests.helpers import messages_of, text, visible
from tests.outbox_helpers import settle
from tests.survey_helpers import checked_values, links_in, open_survey, survey_url


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def ready(world):
    """A draft aimed at Fiona and Frank, both in Finance."""
    StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Frank Finance", email="frank@corp.example")
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead, title="Spring pulse", intro="Five minutes, promise.")
    survey.target_segments.add(world.segment)
    return survey


def launch_by_post(client, survey, capture, **data):
    with capture(execute=True):
        return client.post(survey_url("survey_launch", survey), data)


def test_launch_creates_one_invitation_per_stakeholder_and_opens_the_survey(
    world, ready, client_for, django_capture_on_commit_callbacks
):
    response = launch_by_post(client_for(world.lead), ready, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert messages_of(response) == ["Survey launched: 2 invitations on their way."]
    survey = Survey.objects.get(pk=ready.pk)
    assert survey.status == SurveyStatus.OPEN and survey.launched_at is not None
    invitations = list(SurveyInvitation.objects.filter(survey=survey).select_related("stakeholder"))
    assert sorted(i.stakeholder.name for i in invitations) == ["Fiona Finance", "Frank Finance"]
    for invitation in invitations:
        assert invitation.email == invitation.stakeholder.email
        assert invitation.send_status == SurveyInvitation.SendStatus.SENT
        assert invitation.sent_at is not None and invitation.send_attempts == 1
    assert len(mail.outbox) == 2


def test_the_launch_keeps_each_stakeholders_segment_and_the_response_counts_there(world, ready):
    """Frank moves to IT after the launch, then answers: his invitation and his response stay
    in Finance, the segment he was asked in (docs/figures.md, "Which segment")."""
    loose = StakeholderFactory(pmo=world.pmo, segment=None, name="Lou Loose", email="lou@corp.example")
    ready.target_stakeholders.add(loose)
    surveys.launch(ready)
    invitations = {i.stakeholder.name: i for i in SurveyInvitation.objects.filter(survey=ready)}
    assert {name: i.segment for name, i in invitations.items()} == {
        "Fiona Finance": world.segment,
        "Frank Finance": world.segment,
        "Lou Loose": None,
    }
    frank = invitations["Frank Finance"]
    frank.stakeholder.segment = SegmentFactory(pmo=world.pmo, name="IT")
    frank.stakeholder.save()
    loose.segment = world.segment
    loose.save()
    response = surveys.submit(SurveyInvitation.objects.get(pk=frank.pk), values={}, nps=9, comment="")
    assert response.segment == world.segment
    assert surveys.submit(invitations["Lou Loose"], values={}, nps=9, comment="").segment is None


def test_the_emails_go_only_once_the_launch_is_committed(world, ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        surveys.launch(ready)
        assert mail.outbox == []
    assert mail.outbox == [] and len(callbacks) == 2  # one per invitation
    assert not SurveyInvitation.objects.filter(sent_at__isnull=False).exists()
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 2
    assert SurveyInvitation.objects.filter(sent_at__isnull=False).count() == 2


def test_a_refused_second_launch_queues_no_email(world, ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        surveys.launch(ready)
        with pytest.raises(surveys.SurveyError):
            surveys.launch(ready)
    assert len(callbacks) == 2
    assert len(mail.outbox) == 2


def test_the_invitation_email(world, ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(ready)
    invitation = SurveyInvitation.objects.get(stakeholder=world.stakeholder)
    (message,) = [m for m in mail.outbox if m.to == ["fiona@corp.example"]]
    link = f"http://testserver/s/{invitation.token}/"
    assert invitation.path == f"/s/{invitation.token}/"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    close_date = date_format(ready.closes_on, "l j F Y")
    for part in (message.body, html):
        assert "Alpha PMO" in part
        assert close_date in part
        assert link in part
        assert "Five minutes, promise." in part
    assert "Alpha PMO" in message.subject and "Spring pulse" in message.subject


def test_each_nps_link_of_the_email_opens_the_form_with_that_score_and_answers_nothing(
    world, ready, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(ready)
    (message,) = [m for m in mail.outbox if m.to == ["fiona@corp.example"]]
    html = message.alternatives[0][0]
    text_links = dict(re.findall(r"^(\d+): (\S+)$", message.body, re.M))
    html_links = [u for u in links_in(html) if "?nps=" in u]
    assert sorted(text_links, key=int) == [str(n) for n in range(11)]
    assert html_links == [text_links[str(n)] for n in range(11)]
    for value, url in text_links.items():
        page = client.get(url.removeprefix("http://testserver"))
        assert page.status_code == 200
        assert checked_values(page.content.decode(), "nps") == [value]
    assert not Response.objects.exists()
    assert SurveyInvitation.objects.get(stakeholder=world.stakeholder).responded_at is None


@pytest.mark.parametrize("nps", ["11", "-1", "abc", "5.5"])
def test_an_nps_link_out_of_range_preselects_nothing(world, client, nps):
    _, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    page = client.get(f"{invitation.path}?nps={nps}")
    assert page.status_code == 200
    assert checked_values(page.content.decode(), "nps") == []


def test_launching_with_nobody_to_ask_is_refused(world, client_for, django_capture_on_commit_callbacks):
    survey = SurveyFactory(pmo=world.pmo)
    StakeholderFactory(pmo=world.pmo, segment=world.segment, is_active=False)
    survey.target_stakeholders.add(world.stakeholder)
    world.stakeholder.is_active = False
    world.stakeholder.save()
    response = launch_by_post(client_for(world.lead), survey, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Nobody would be asked" in visible(response)
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.DRAFT
    assert not SurveyInvitation.objects.exists() and mail.outbox == []


def test_launching_past_the_close_date_is_refused(world, ready):
    Survey.objects.filter(pk=ready.pk).update(closes_on=timezone.localdate() - timezone.timedelta(days=1))
    with pytest.raises(surveys.SurveyError, match="close date has passed"):
        surveys.launch(Survey.objects.get(pk=ready.pk))
    assert Survey.objects.get(pk=ready.pk).status == SurveyStatus.DRAFT
    assert not SurveyInvitation.objects.exists()


def test_launching_twice_is_refused(world, ready, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.lead)
    launch_by_post(client, ready, django_capture_on_commit_callbacks)
    second = launch_by_post(client, ready, django_capture_on_commit_callbacks)
    assert second.status_code == 404
    with pytest.raises(surveys.SurveyError, match="launched already"):
        surveys.launch(ready)
    assert SurveyInvitation.objects.count() == 2 and len(mail.outbox) == 2


# Failed sends ----------------------------------------------------------------------------


@pytest.fixture
def eager_retries():
    """Eager tasks that retry run again at once, as a worker would after the countdown.

    The project sets task_eager_propagates, under which an eager task's Retry is raised
    to the caller instead of being run again; these tests follow the worker's path.
    """
    from pmo5p.celery import app

    before = app.conf.task_eager_propagates
    app.conf.update(task_eager_propagates=False)
    yield
    app.conf.update(task_eager_propagates=before)


@pytest.fixture
def smtp_down(monkeypatch, eager_retries):
    calls = []

    def refuse(self, messages):
        calls.append(messages)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    return calls


def test_a_failed_send_is_retried_then_marked_failed(world, ready, smtp_down, django_capture_on_commit_callbacks):
    ready.target_segments.clear()
    ready.target_stakeholders.add(world.stakeholder)
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(ready)
    settle()
    invitation = SurveyInvitation.objects.get()
    assert len(smtp_down) == 6
    assert invitation.send_status == SurveyInvitation.SendStatus.FAILED
    assert invitation.send_attempts == 6
    assert invitation.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert invitation.sent_at is None
    assert Survey.objects.get(pk=ready.pk).status == SurveyStatus.OPEN


def test_a_send_that_fails_then_works_is_sent(
    world, ready, monkeypatch, eager_retries, django_capture_on_commit_callbacks
):
    ready.target_segments.clear()
    ready.target_stakeholders.add(world.stakeholder)
    real = EmailBackend.send_messages
    failures = iter([True, True])

    def flaky(self, messages):
        if next(failures, False):
            raise smtplib.SMTPServerDisconnected("try later")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(ready)
    settle()
    invitation = SurveyInvitation.objects.get()
    assert (invitation.send_status, invitation.send_attempts, invitation.last_error) == ("sent", 3, "")
    assert len(mail.outbox) == 1


def test_the_detail_page_shows_the_failure_and_resend_sends_it(
    world, ready, smtp_down, monkeypatch, client_for, django_capture_on_commit_callbacks
):
    ready.target_segments.clear()
    ready.target_stakeholders.add(world.stakeholder)
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(ready)
    settle()
    invitation = SurveyInvitation.objects.get()
    client = client_for(world.lead)
    page = client.get(survey_url("survey_detail", ready))
    shown = visible(page)
    assert "Failed" in shown and "SMTPServerDisconnected: Connection unexpectedly closed" in shown
    resend_url = survey_url("invitation_resend", ready, survey_invitation_id=invitation.pk)
    assert resend_url in text(page)

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend_url)
    assert response.status_code == 302
    assert messages_of(response) == ["The invitation to Fiona Finance is being sent again."]
    invitation.refresh_from_db()
    assert invitation.send_status == SurveyInvitation.SendStatus.SENT and invitation.sent_at is not None
    assert invitation.last_error == ""
    assert [m.to for m in mail.outbox] == [["fiona@corp.example"]]
    assert invitation.path in mail.outbox[0].body


def test_resend_is_refused_once_answered(world, client_for, django_capture_on_commit_callbacks):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    ResponseFactory(invitation=invitation, nps=9)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.lead).post(
            survey_url("invitation_resend", survey, survey_invitation_id=invitation.pk)
        )
    assert messages_of(response) == ["Fiona Finance has answered already."]
    assert mail.outbox == []


def test_resend_is_refused_on_a_closed_survey(world, client_for, django_capture_on_commit_callbacks):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        send_status=SurveyInvitation.SendStatus.FAILED, sent_at=None
    )
    surveys.close(survey)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.lead).post(
            survey_url("invitation_resend", survey, survey_invitation_id=invitation.pk)
        )
    assert messages_of(response) == ["Only invitations of an open survey can be sent again."]
    assert mail.outbox == []
    assert SurveyInvitation.objects.get(pk=invitation.pk).send_status == SurveyInvitation.SendStatus.FAILED


def test_resend_of_another_surveys_invitation_is_not_found(world, client_for):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    other_survey, (other,) = open_survey(world.pmo, [StakeholderFactory(pmo=world.pmo)], title="Other")
    response = client_for(world.lead).post(survey_url("invitation_resend", survey, survey_invitation_id=other.pk))
    assert response.status_code == 404


def test_with_the_projects_eager_settings_a_failed_send_breaks_neither_the_launch_nor_the_others(
    world, ready, monkeypatch, client_for, django_capture_on_commit_callbacks
):
    """Embedded mode runs tasks eagerly and propagates their errors: one address the
    mail server refuses must not turn the launch into an error page, nor stop the rest."""
    real = EmailBackend.send_messages

    def refuse_fiona(self, messages):
        if messages[0].to == ["fiona@corp.example"]:
            raise smtplib.SMTPRecipientsRefused({"fiona@corp.example": (450, b"try later")})
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_fiona)
    response = launch_by_post(client_for(world.lead), ready, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["frank@corp.example"]]
    fiona = SurveyInvitation.objects.get(stakeholder=world.stakeholder)
    assert fiona.send_attempts >= 1 and "SMTPRecipientsRefused" in fiona.last_error
    assert fiona.sent_at is None


@pytest.fixture
def dead_broker(monkeypatch):
    """Celery publishing for real (not eagerly) to a Redis port nobody listens on."""
    from pmo5p.celery import app
    from tests.service_fixtures import _free_port

    before = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    app.conf.update(task_always_eager=False, broker_url=f"redis://127.0.0.1:{_free_port()}/0")
    monkeypatch.setattr(app, "_pool", None)  # the pools connect to the URL above from now on
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield
    app.conf.update(before)


def test_a_launch_with_the_broker_down_answers_at_once_and_leaves_the_emails_to_the_sweeper(
    world, client_for, dead_broker, django_capture_on_commit_callbacks
):
    """Each wake-up that cannot be published waits for the broker; one per invitation
    would hold the request past gunicorn's timeout. After the first failure, the commit's
    other wake-ups are skipped: the rows are there, and the sweeper sends them."""
    import time

    for n in range(40):
        StakeholderFactory(pmo=world.pmo, segment=world.segment, email=f"s{n}@corp.example")
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    survey.target_segments.add(world.segment)
    started = time.monotonic()
    response = launch_by_post(client_for(world.lead), survey, django_capture_on_commit_callbacks)
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 3, f"the launch took {elapsed:.1f} s"
    from pmo5p.models import OutgoingEmail

    rows = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.SURVEY_INVITATION)
    assert rows.count() == 41  # the 40 and Fiona
    assert set(rows.values_list("status", "attempts")) == {("queued", 0)}
    assert mail.outbox == []
