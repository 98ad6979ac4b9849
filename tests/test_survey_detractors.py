"""Detractor follow-up: an NPS of 0–6 alerts the relationship owner (or the leads) at
once, composed by a worker woken when the answer commits (or the outbox's sweep). For an anonymous survey the leads get a batched count from the periodic task, once
the survey has MIN_GROUP_SIZE responses, never who and never at the time of an answer."""

import io
import smtplib
import threading

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from pmo5p import outbox
from pmo5p.domain import Element
from pmo5p.models import OutgoingEmail, Role
from stakeholders import tasks
from stakeholders.models import QuestionKind, Response
from stakeholders.surveys import emails as survey_emails
from stakeholders.surveys import lifecycle as surveys
from tests.factories import MembershipFactory, ResponseFactory, StakeholderFactory, SurveyInvitationFactory
from tests.outbox_helpers import settle
from tests.survey_helpers import answer_data, html_text, open_survey, questions


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def low_on_product_and_price(survey, nps):
    """Product rated 1 and 1 (0/100), Price 2 and 2 (25/100), everything else 4."""
    data = answer_data(survey, nps=str(nps), comment="Too much paperwork.")
    for element, value in ((Element.PRODUCT, "1"), (Element.PRICE, "2")):
        for question in questions(survey, QuestionKind.PERFORMANCE, element):
            data[f"q_{question.pk}"] = value
    return data


def submit(client, invitation, data, capture):
    with capture(execute=True):
        response = client.post(invitation.path, data)
    assert response.status_code == 200, response.content.decode()[:500]
    assert Response.objects.filter(invitation=invitation).exists()
    return response


def parts(message):
    return [message.subject, message.body, html_text(message.alternatives[0][0])]


@pytest.fixture
def owned(world):
    world.stakeholder.owner = world.membership(world.member)
    world.stakeholder.job_title = "CFO"
    world.stakeholder.save()
    return open_survey(world.pmo, [world.stakeholder], title="Spring pulse")


@pytest.mark.parametrize("nps", [0, 6])
def test_a_detractor_alerts_the_relationship_owner(world, owned, client, django_capture_on_commit_callbacks, nps):
    survey, (invitation,) = owned
    submit(client, invitation, low_on_product_and_price(survey, nps), django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == ["member@alpha.example"]
    assert message.subject == f"Fiona Finance gave Alpha PMO {nps}/10: time to follow up"
    for part in parts(message)[1:]:
        assert "Fiona Finance" in part
        assert "Spring pulse" in part
        assert "Product (meeting basic needs): 0.0/100" in part
        assert "Price (increasing perceived value): 25.0/100" in part
        assert "People (" not in part and "Process (" not in part  # only the two lowest
        assert "Too much paperwork." in part


def test_without_an_owner_the_leads_are_alerted(world, client, django_capture_on_commit_callbacks):
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="lead2@alpha.example")
    MembershipFactory(pmo=world.other_pmo, role=Role.LEAD, user__email="lead2@beta.example")
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    submit(client, invitation, low_on_product_and_price(survey, 2), django_capture_on_commit_callbacks)
    # One e-mail each, so that a server refusing one lead cannot hide behind the other's "sent".
    assert sorted(m.to for m in mail.outbox) == [["lead2@alpha.example"], ["lead@alpha.example"]]
    for message in mail.outbox:
        assert "Nobody owns this relationship yet" in message.body
        assert "Fiona Finance" in message.subject


@pytest.mark.parametrize("nps", [7, 8, 10])
def test_no_alert_from_a_passive_or_promoter(world, owned, client, django_capture_on_commit_callbacks, nps):
    survey, (invitation,) = owned
    submit(client, invitation, low_on_product_and_price(survey, nps), django_capture_on_commit_callbacks)
    assert mail.outbox == []


# Anonymous surveys: a batched count from the periodic task ------------------------------------------

SECRETS = ("Fiona", "Finance", "fiona@corp.example", "Greta", "greta@corp.example", "Harry", "harry@corp.example")


@pytest.fixture
def quiet(world):
    """An anonymous survey sent to Fiona (owned by the member), Greta, Harry and Ida."""
    world.stakeholder.owner = world.membership(world.member)
    world.stakeholder.save()
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="lead2@alpha.example")
    others = [
        StakeholderFactory(pmo=world.pmo, name="Greta Garbo", email="greta@corp.example"),
        StakeholderFactory(pmo=world.pmo, name="Harry Hope", email="harry@corp.example"),
        StakeholderFactory(pmo=world.pmo, name="Ida Ives", email="ida@corp.example"),
    ]
    return open_survey(world.pmo, [world.stakeholder, *others], anonymous=True, title="Quiet")


def run_periodic_tasks():
    call_command("run_periodic_tasks", "--once", stdout=io.StringIO())


def test_an_anonymous_detractor_sends_no_alert_when_answering(world, quiet, client, django_capture_on_commit_callbacks):
    survey, invitations = quiet
    for invitation, nps in zip(invitations, (1, 5, 9, 0), strict=True):
        submit(client, invitation, low_on_product_and_price(survey, nps), django_capture_on_commit_callbacks)
    assert mail.outbox == []  # the time of an alert would tell whose answer it was


def test_the_periodic_task_counts_anonymous_detractors_once_there_are_enough_responses(
    world, quiet, client, django_capture_on_commit_callbacks
):
    survey, (fiona, greta, harry, ida) = quiet
    submit(client, greta, low_on_product_and_price(survey, 9), django_capture_on_commit_callbacks)
    submit(client, harry, low_on_product_and_price(survey, 5), django_capture_on_commit_callbacks)
    run_periodic_tasks()
    assert mail.outbox == []  # 2 responses: fewer than MIN_GROUP_SIZE (3)

    submit(client, fiona, low_on_product_and_price(survey, 1), django_capture_on_commit_callbacks)
    run_periodic_tasks()
    run_periodic_tasks()  # a second round, or a second beat, sends nothing more
    # The leads, not the owner: an e-mail each.
    assert sorted(m.to for m in mail.outbox) == [["lead2@alpha.example"], ["lead@alpha.example"]]
    for message in mail.outbox:
        assert message.subject == '2 new detractor answers to "Quiet" (2 of 3 so far)'
        assert "Since the last alert, 2 stakeholders answered" in message.body
        assert "So far: 2 detractors out of 3 responses." in message.body
        assert "So far: 2 detractors out of 3 responses." in html_text(message.alternatives[0][0])

    submit(client, ida, low_on_product_and_price(survey, 0), django_capture_on_commit_callbacks)
    run_periodic_tasks()
    run_periodic_tasks()
    assert len(mail.outbox) == 4
    assert {m.subject for m in mail.outbox[2:]} == {'1 new detractor answer to "Quiet" (3 of 4 so far)'}
    assert set(Response.objects.filter(nps__lte=6).values_list("detractor_alerted_at", flat=True)) != {None}
    assert not Response.objects.filter(nps__lte=6, detractor_alerted_at__isnull=True).exists()
    for message in mail.outbox:
        for part in [*parts(message), message.alternatives[0][0]]:
            for secret in SECRETS:
                assert secret not in part
            assert "Too much paperwork." not in part  # a comment can give its author away
            assert "/stakeholders/" not in part


def test_the_alert_counted_twice_is_queued_and_sent_once(world, quiet):
    survey, invitations = quiet
    for invitation in invitations[:3]:
        ResponseFactory(invitation=invitation, nps=2)
    assert surveys.alert_anonymous_detractors(survey.pk) is not None
    assert surveys.alert_anonymous_detractors(survey.pk) is None  # nothing new
    settle()
    assert sorted(m.to for m in mail.outbox) == [["lead2@alpha.example"], ["lead@alpha.example"]]


def test_a_survey_that_closes_with_too_few_responses_alerts_nobody(world, quiet):
    survey, invitations = quiet
    ResponseFactory(invitation=invitations[0], nps=0)
    ResponseFactory(invitation=invitations[1], nps=0)
    surveys.close(survey)
    run_periodic_tasks()
    assert mail.outbox == []
    assert surveys.alert_anonymous_detractors(survey.pk) is None
    assert not OutgoingEmail.objects.exists()


def test_a_batched_alert_that_fails_for_now_is_retried_from_its_row(world, quiet, monkeypatch):
    survey, invitations = quiet
    for invitation in invitations[:3]:
        ResponseFactory(invitation=invitation, nps=4)
    real = EmailBackend.send_messages

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    run_periodic_tasks()
    assert mail.outbox == []
    alerts = list(OutgoingEmail.objects.all())  # one per lead
    assert len(alerts) == 2
    for alert in alerts:
        assert (alert.kind, alert.status, alert.attempts) == ("detractor_alert_batch", "queued", 1)
        assert alert.last_error == "SMTPServerDisconnected: down"
    # Counted in this alert: the next round does not count them again.
    assert not Response.objects.filter(detractor_alerted_at__isnull=True).exists()

    monkeypatch.setattr(EmailBackend, "send_messages", real)
    settle()
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert message.subject == '3 new detractor answers to "Quiet" (3 of 3 so far)'
    assert {m.message()["Message-ID"] for m in mail.outbox} == {alert.message_id for alert in alerts}


def test_named_surveys_are_alerted_at_once_and_not_again_by_the_periodic_task(
    world, owned, client, django_capture_on_commit_callbacks
):
    survey, (invitation,) = owned
    submit(client, invitation, low_on_product_and_price(survey, 3), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    run_periodic_tasks()
    assert len(mail.outbox) == 1


def test_a_failing_alert_does_not_spoil_the_stakeholders_thank_you(
    world, owned, client, monkeypatch, django_capture_on_commit_callbacks
):
    """With the project's eager settings an SMTP error inside the alert reaches the caller:
    the response is stored, so the stakeholder must still see the thank-you page."""

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    survey, (invitation,) = owned
    page = submit(client, invitation, low_on_product_and_price(survey, 0), django_capture_on_commit_callbacks)
    assert "Thank you" in page.content.decode()
    assert Response.objects.get(invitation=invitation).nps == 0


# One row per recipient: a server that refuses one lead ----------------------------------------


class _RefusesOnce:
    """An aiosmtpd handler that answers RCPT TO with a 451 for these addresses the first time,
    and accepts the rest: what a real server does to one mailbox of several."""

    def __init__(self, refuse: set[str]):
        self.refuse = set(refuse)
        self.received: list[list[str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address in self.refuse:
            self.refuse.discard(address)
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(list(envelope.rcpt_tos))
        return "250 2.0.0 Accepted"


@pytest.fixture
def refusing_server(settings):
    """A real SMTP server on 127.0.0.1, sent to by Django's SMTP backend (smtplib)."""
    from aiosmtpd.controller import Controller

    from tests.service_fixtures import _free_port

    handler = _RefusesOnce(set())
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=10)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


def test_each_lead_has_an_alert_of_their_own_and_one_refused_is_retried_alone(
    world, refusing_server, client_for, django_capture_on_commit_callbacks
):
    second = MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="second@alpha.example").user
    refusing_server.refuse = {second.email}
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    with django_capture_on_commit_callbacks(execute=True):
        surveys.submit(invitation, values={}, nps=2, comment="")

    rows = {row.to[0]: row for row in OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT)}
    assert sorted(rows) == sorted([world.lead.email, second.email])
    assert all(len(row.to) == 1 for row in rows.values())
    assert rows[world.lead.email].message_id != rows[second.email].message_id
    assert rows[world.lead.email].status == OutgoingEmail.Status.SENT
    refused = rows[second.email]
    assert (refused.status, refused.attempts) == (OutgoingEmail.Status.QUEUED, 1)
    assert "451" in refused.last_error
    page_url = reverse("survey_detail", kwargs={"slug": world.pmo.slug, "survey_id": survey.pk})
    assert refusing_server.received == [[world.lead.email]]
    page = client_for(world.lead).get(page_url).content.decode()
    assert "1 sent · 1 on the way · 0 failed" in page

    settle()
    assert sorted(refusing_server.received) == sorted([[world.lead.email], [second.email]])
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {OutgoingEmail.Status.SENT}
    page = client_for(world.lead).get(page_url).content.decode()
    assert "2 sent · 0 on the way · 0 failed" in page


def test_an_anonymous_batch_is_a_row_per_lead_and_counts_each_answer_once(world, quiet):
    survey, invitations = quiet  # two leads: world.lead and lead2
    for invitation in invitations[:3]:
        ResponseFactory(invitation=invitation, nps=2)
    rows = surveys.alert_anonymous_detractors(survey.pk)
    assert sorted(row.to[0] for row in rows) == sorted([world.lead.email, "lead2@alpha.example"])
    assert len({row.message_id for row in rows}) == 2
    assert len(set(Response.objects.filter(nps__lte=6).values_list("detractor_alerted_at", flat=True))) == 1
    assert surveys.alert_anonymous_detractors(survey.pk) is None
    settle()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.lead.email, "lead2@alpha.example"])
    assert mail.outbox[0].subject == mail.outbox[1].subject


def test_the_outbox_refuses_a_row_for_several_recipients(db):
    from pmo5p import outbox

    with pytest.raises(ValueError, match="one recipient"):
        outbox.queue(OutgoingEmail.Kind.MEMBER_INVITATION, ["a@x.example", "b@x.example"], "member-invitation", {})
    assert not OutgoingEmail.objects.exists()


# A named detractor's alert is composed by a worker, once the answer commits ---------------------


def test_the_answer_only_wakes_a_worker_which_composes_the_alert(
    world, owned, client, django_capture_on_commit_callbacks
):
    survey, (invitation,) = owned
    with django_capture_on_commit_callbacks() as wakes:
        page = client.post(invitation.path, low_on_product_and_price(survey, 2))
    assert page.status_code == 200
    # Nothing composed in the request: the response's row says the alert is due.
    assert not OutgoingEmail.objects.exists()
    response = Response.objects.get(invitation=invitation)
    assert response.detractor_alerted_at is None
    assert len(wakes) == 1

    with django_capture_on_commit_callbacks(execute=True):
        for wake in wakes:
            wake()  # the worker's task, run eagerly
    (row,) = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT)
    assert row.source_id == response.pk and row.to == ["member@alpha.example"]
    response.refresh_from_db()
    assert response.detractor_alerted_at is not None
    (message,) = mail.outbox
    assert "Product (meeting basic needs): 0.0/100" in message.body
    # A redelivered task queues nothing more.
    assert tasks.send_detractor_alert(response.pk) is False
    assert OutgoingEmail.objects.count() == 1


def test_the_outbox_sweep_finds_an_alert_whose_wake_up_was_lost(
    world, owned, quiet, client, django_capture_on_commit_callbacks
):
    survey, (invitation,) = owned
    promoter = SurveyInvitationFactory(survey=survey, sent=True)
    with django_capture_on_commit_callbacks():  # never run: the wake-up is lost (a Redis restart)
        assert client.post(invitation.path, low_on_product_and_price(survey, 0)).status_code == 200
    assert not OutgoingEmail.objects.exists()

    # Nor does a promoter's answer, and an anonymous survey's detractor waits for its batch.
    with django_capture_on_commit_callbacks() as wakes:
        assert client.post(promoter.path, low_on_product_and_price(survey, 9)).status_code == 200
    anonymous, (fiona, *_) = quiet
    with django_capture_on_commit_callbacks() as anonymous_wakes:
        assert client.post(fiona.path, low_on_product_and_price(anonymous, 0)).status_code == 200
    assert wakes == [] and anonymous_wakes == []

    outbox.sweep()
    outbox.sweep()  # the next sweep finds it stamped
    assert Response.objects.get(invitation=fiona).detractor_alerted_at is None
    (message,) = mail.outbox
    assert message.to == ["member@alpha.example"]
    assert message.subject == "Fiona Finance gave Alpha PMO 0/10: time to follow up"
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_queue_the_alert_once(world):
    """The wake-up's task and a sweep (or a redelivered task) at the same moment: the second
    skips the row the first holds, then finds it stamped."""
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SKIP LOCKED, and SQLite serialises writers.")
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="lead2@alpha.example")
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    response = ResponseFactory(invitation=invitation, nps=1, detractor_alerted_at=None)
    outcomes = []

    def second_run():
        try:
            outcomes.append(survey_emails.alert_detractor(response.pk))
            outcomes.append(survey_emails.alert_overdue_detractors(10))
        finally:
            connections.close_all()

    with transaction.atomic():
        first = survey_emails.alert_detractor(response.pk)  # holds the row until it commits
        thread = threading.Thread(target=second_run)
        thread.start()
        thread.join(timeout=30)
        assert outcomes == [None, 0]  # skipped at once, not waiting for the lock
    assert survey_emails.alert_detractor(response.pk) is None  # after the commit: stamped
    assert survey_emails.alert_overdue_detractors(10) == 0
    assert sorted(row.to[0] for row in first) == ["lead2@alpha.example", "lead@alpha.example"]
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT).count() == 2
