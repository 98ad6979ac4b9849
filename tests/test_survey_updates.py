""" "You said, we did" (docs/follow-up.md): the prefill from the figures and the agenda, the
one write path (stakeholders/surveys/updates.py), its e-mails through the outbox with the
RFC 8058 headers (in a real SMTP conversation too), the unsubscribe link, and the lead's page."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from agenda.models import Action, ActionStatus
from agenda.survey_updates import prefill
from pmo5p import outbox
from pmo5p.domain import Element
from pmo5p.models import OutgoingEmail
from stakeholders.models import Stakeholder, SurveyStatus, SurveyUpdate
from stakeholders.surveys import lifecycle, updates
from tests.factories import ResponseFactory, StakeholderFactory, SurveyFactory, SurveyInvitationFactory
from tests.survey_helpers import html_text, open_survey

pytestmark = pytest.mark.django_db

Kind, Status = OutgoingEmail.Kind, OutgoingEmail.Status
HOSTILE_SUBJECT = "Thanks <script>alert(1)</script>\nBcc: victim@example.com"
HOSTILE_BODY = "Line one <b>bold</b>\n<script>alert('x')</script>\nLine three & more"


def closed_survey(pmo, stakeholders, **kwargs):
    survey, invitations = open_survey(pmo, stakeholders, sent_at=timezone.now() - timedelta(days=10), **kwargs)
    lifecycle.close(survey)
    survey.refresh_from_db()
    return survey, invitations


def update_url(name, survey):
    return reverse(name, kwargs={"slug": survey.pmo.slug, "survey_id": survey.pk})


def unsubscribe_url(stakeholder):
    return reverse("survey_updates_unsubscribe", kwargs={"token": updates.unsubscribe_token(stakeholder)})


def people(pmo, count, prefix="p"):
    return [
        StakeholderFactory(pmo=pmo, name=f"{prefix.title()} {i}", email=f"{prefix}{i}@corp.example")
        for i in range(count)
    ]


# Prefill ------------------------------------------------------------------------------------


def test_prefill_shows_each_p_shown_and_the_actions_adopted_since_the_launch(world, settings):
    settings.MIN_GROUP_SIZE = 3
    pmo = world.pmo
    survey, invitations = open_survey(pmo, people(pmo, 4), sent_at=timezone.now() - timedelta(days=10))
    # Product rated by 3 (shown); People by 2 only (hidden); the rest by nobody.
    for index, invitation in enumerate(invitations[:3]):
        ratings = {Element.PRODUCT: (4, 4)}
        if index < 2:
            ratings[Element.PEOPLE] = (2, 2)
        ResponseFactory(invitation=invitation, ratings=ratings, nps=8)
    lifecycle.close(survey)
    survey.refresh_from_db()
    before = Action.objects.create(
        pmo=pmo, title="Older plan", element=Element.PRODUCT, due_on=timezone.localdate(), status=ActionStatus.DONE
    )
    Action.objects.filter(pk=before.pk).update(created_at=survey.launched_at - timedelta(days=1))
    Action.objects.create(
        pmo=pmo, title="Faster onboarding", element=Element.PRODUCT, due_on=timezone.localdate(), status="in_progress"
    )
    Action.objects.create(pmo=pmo, title="Coaching", element=Element.PEOPLE, due_on=timezone.localdate())
    Action.objects.create(
        pmo=pmo, title="Abandoned idea", element=Element.PRICE, due_on=timezone.localdate(), status="dropped"
    )
    Action.objects.create(pmo=world.other_pmo, title="Not ours", element=Element.PRODUCT, due_on=timezone.localdate())

    draft = prefill(survey)

    assert draft["subject"] == f"You said, we did: {survey.title}"
    body = draft["body"]
    assert "Product: you scored us 75.0 out of 100." in body
    assert "People: fewer than 3 answers, so no score is shown." in body
    assert "People: you scored" not in body and "25.0" not in body
    assert "Price: fewer than 3 answers" in body
    assert "- Faster onboarding (in progress)" in body
    assert "- Coaching (planned)" in body
    for absent in ("Older plan", "Abandoned idea", "Not ours"):
        assert absent not in body
    # Each action under its own P.
    assert body.index("Faster onboarding") < body.index("Physical Evidence:")
    assert body.index("People:") < body.index("Coaching") < body.index("Process:")
    assert body.rstrip().endswith("ask you again.")


# Saving and sending -------------------------------------------------------------------------


def test_send_queues_one_row_per_address_less_the_unsubscribed_and_stamps_the_update(world):
    pmo = world.pmo
    ann, ben, cat, dup = people(pmo, 4)
    Stakeholder.objects.filter(pk=cat.pk).update(updates_unsubscribed_at=timezone.now())
    survey, invitations = closed_survey(pmo, [ann, ben, cat, dup])
    # Invited at Ann's address (Dup's address then, since changed): one e-mail per address.
    type(invitations[3]).objects.filter(pk=invitations[3].pk).update(email="P0@corp.example")
    update = updates.save(survey, subject="You said, we did", body="We listened.", by=world.lead)

    rows = updates.send(update, by=world.lead)

    assert sorted(row.to[0] for row in rows) == ["p0@corp.example", "p1@corp.example"]
    assert all(row.kind == Kind.SURVEY_UPDATE and row.status == Status.QUEUED for row in rows)
    by_address = {row.to[0]: row for row in rows}
    ben_row = by_address["p1@corp.example"]
    assert ben_row.source == invitations[1]
    assert ben_row.headers == {
        "List-Unsubscribe": f"<http://testserver{unsubscribe_url(ben)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert f"http://testserver{unsubscribe_url(ben)}" in ben_row.text
    update.refresh_from_db()
    assert update.sent_at is not None and update.sent_by == world.lead
    assert (update.recipients, update.unsubscribed) == (2, 1)


def test_an_anonymous_survey_goes_to_everyone_invited_answered_or_not(world):
    pmo = world.pmo
    survey, invitations = open_survey(pmo, people(pmo, 3), anonymous=True)
    ResponseFactory(invitation=invitations[0], ratings={Element.PRODUCT: (5, 5)}, nps=10)
    lifecycle.close(survey)
    update = updates.save(survey, subject="Thanks", body="Body", by=world.lead)

    rows = updates.send(update, by=world.lead)

    assert sorted(row.to[0] for row in rows) == ["p0@corp.example", "p1@corp.example", "p2@corp.example"]


def test_a_second_send_is_refused_and_queues_nothing(world):
    survey, _ = closed_survey(world.pmo, people(world.pmo, 2))
    update = updates.save(survey, subject="Thanks", body="Body", by=world.lead)
    updates.send(update, by=world.lead)
    sent_at = SurveyUpdate.objects.get().sent_at

    with pytest.raises(updates.UpdateRefused, match="an update sent twice for one survey"):
        updates.send(update, by=world.member)
    with pytest.raises(updates.UpdateRefused, match="cannot be changed"):
        updates.save(survey, subject="Again", body="Other", by=world.lead)

    assert OutgoingEmail.objects.filter(kind=Kind.SURVEY_UPDATE).count() == 2
    update.refresh_from_db()
    assert (update.sent_at, update.sent_by, update.subject) == (sent_at, world.lead, "Thanks")


@pytest.mark.parametrize("state", ["draft", "open"])
def test_an_update_of_a_survey_not_closed_is_refused(world, state):
    if state == "draft":
        survey = SurveyFactory(pmo=world.pmo)
    else:
        survey, _ = open_survey(world.pmo, people(world.pmo, 1))
    with pytest.raises(updates.UpdateRefused, match="once the survey has closed"):
        updates.save(survey, subject="Thanks", body="Body", by=world.lead)
    assert not SurveyUpdate.objects.exists()
    # A draft left from a survey reopened by hand (no path does so) is not sent either.
    update = SurveyUpdate.objects.create(pmo=world.pmo, survey=survey, subject="S", body="B")
    with pytest.raises(updates.UpdateRefused, match="once the survey has closed"):
        updates.send(update, by=world.lead)
    assert not OutgoingEmail.objects.filter(kind=Kind.SURVEY_UPDATE).exists()
    assert SurveyUpdate.objects.get().sent_at is None


def test_save_refuses_empty_or_long_text_and_keeps_the_subject_on_one_line(world):
    survey, _ = closed_survey(world.pmo, people(world.pmo, 1))
    for subject, body in (("", "Body"), ("Subject", "  "), ("x" * 151, "Body"), ("S", "b" * 10001)):
        with pytest.raises(updates.UpdateRefused):
            updates.save(survey, subject=subject, body=body, by=world.lead)
    assert not SurveyUpdate.objects.exists()
    update = updates.save(survey, subject="One\r\nBcc: x@example.com", body="Body", by=world.lead)
    assert update.subject == "One Bcc: x@example.com"


def test_a_queued_update_is_cancelled_if_its_stakeholder_unsubscribed_meanwhile(world):
    ann, ben = people(world.pmo, 2)
    survey, _ = closed_survey(world.pmo, [ann, ben])
    rows = updates.send(updates.save(survey, subject="S", body="B", by=world.lead), by=world.lead)
    assert updates.unsubscribe(ann) is True
    assert updates.unsubscribe(ann) is False  # once: the first time stays

    outcomes = {row.to[0]: outbox.send(row.pk) for row in rows}

    assert outcomes == {"p0@corp.example": Status.CANCELLED, "p1@corp.example": Status.SENT}
    assert [m.to for m in mail.outbox] == [["p1@corp.example"]]
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_hostile_text_is_escaped_in_the_email_and_the_subject_stays_one_line(world):
    (ann,) = people(world.pmo, 1)
    survey, _ = closed_survey(world.pmo, [ann])
    (row,) = updates.send(
        updates.save(survey, subject=HOSTILE_SUBJECT, body=HOSTILE_BODY, by=world.lead), by=world.lead
    )

    assert "\n" not in row.subject and row.subject.startswith("Thanks <script>")
    assert "<script>" not in row.html and "&lt;script&gt;" in row.html and "<b>" not in row.html
    assert "Line one &lt;b&gt;bold&lt;/b&gt;<br>" in row.html and "&amp; more" in row.html
    assert HOSTILE_BODY in row.text  # the text part is plain text, as typed
    assert "Stop these updates" in row.html and updates.unsubscribe_token(ann) in row.html


def test_the_headers_reach_a_real_smtp_conversation(world, smtp_sink):
    (ann,) = people(world.pmo, 1)
    survey, _ = closed_survey(world.pmo, [ann])
    (row,) = updates.send(
        updates.save(survey, subject=HOSTILE_SUBJECT, body="We did it.", by=world.lead), by=world.lead
    )
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp_sink.host,
        "EMAIL_PORT": smtp_sink.port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
    }
    with override_settings(**smtp):
        assert outbox.send(row.pk) == Status.SENT

    (received,) = smtp_sink.wait_for(1)
    message = received.message
    assert received.recipients == ["p0@corp.example"]
    # Folded over two lines by the sender (it is longer than 78 characters): unfolded, as read.
    assert " ".join(message["List-Unsubscribe"].split()) == f"<http://testserver{unsubscribe_url(ann)}>"
    assert message["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
    assert message["Bcc"] is None and "\n" not in received.subject.replace("\r\n ", " ").strip()
    assert "victim@example.com" in received.subject  # typed text, not a header
    assert f"http://testserver{unsubscribe_url(ann)}" in received.text


# Unsubscribe page ---------------------------------------------------------------------------


def test_get_changes_nothing_and_post_unsubscribes(client, world):
    stakeholder = world.stakeholder
    url = unsubscribe_url(stakeholder)

    page = client.get(url)
    assert page.status_code == 200
    assert "Stop these updates from Alpha PMO?" in html_text(page.content.decode())
    assert Stakeholder.objects.get(pk=stakeholder.pk).updates_unsubscribed_at is None

    done = client.post(url)
    assert done.status_code == 200
    assert "You will get no more updates from Alpha PMO" in html_text(done.content.decode())
    first = Stakeholder.objects.get(pk=stakeholder.pk).updates_unsubscribed_at
    assert first is not None
    client.post(url)  # idempotent: the first time stays
    assert Stakeholder.objects.get(pk=stakeholder.pk).updates_unsubscribed_at == first
    assert "You already stopped them" in html_text(client.get(url).content.decode())


def test_the_stakeholder_page_says_they_stopped_the_updates(client_for, world):
    page = reverse("stakeholder_detail", kwargs={"slug": world.pmo.slug, "stakeholder_id": world.stakeholder.pk})
    member = client_for(world.member)
    assert "Stopped the “you said, we did” updates" not in member.get(page).content.decode()
    Client().post(unsubscribe_url(world.stakeholder))
    assert "Stopped the “you said, we did” updates on" in member.get(page).content.decode()


def test_the_rfc_8058_one_click_post_unsubscribes_without_a_csrf_token(world):
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        unsubscribe_url(world.stakeholder),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Stakeholder.objects.get(pk=world.stakeholder.pk).updates_unsubscribed_at is not None


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_changes_nothing_and_says_so(client, world, method):
    token = updates.unsubscribe_token(world.stakeholder)
    other = world.other_stakeholder.pk
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), f"{other}:{token.split(':', 1)[1]}", "nonsense"):
        response = getattr(client, method)(reverse("survey_updates_unsubscribe", kwargs={"token": bad}))
        assert response.status_code == 404
        assert "We don't recognise this unsubscribe link" in html_text(response.content.decode())
        assert "Nothing was changed" in response.content.decode()
    assert not Stakeholder.objects.filter(updates_unsubscribed_at__isnull=False).exists()


def test_the_unsubscribe_page_is_rate_limited(client, world, settings):
    settings.SURVEY_RATE_LIMIT = "2/m"
    url = unsubscribe_url(world.stakeholder)
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


# The lead's page ----------------------------------------------------------------------------


def test_the_lead_writes_saves_and_sends_then_sees_the_archive(client_for, world):
    ann, ben = people(world.pmo, 2)
    Stakeholder.objects.filter(pk=ben.pk).update(updates_unsubscribed_at=timezone.now())
    survey, _ = closed_survey(world.pmo, [ann, ben])
    client = client_for(world.lead)

    detail = client.get(reverse("survey_detail", kwargs={"slug": "alpha", "survey_id": survey.pk})).content.decode()
    assert "Write a “you said, we did” update" in detail
    page = client.get(update_url("survey_update", survey)).content.decode()
    assert f'value="You said, we did: {survey.title}"' in page
    assert "1 stakeholder" in page and "1 left out: they unsubscribed" in page and "p0@corp.example" in page
    assert "Save the draft to send it." in page

    refused = client.post(update_url("survey_update", survey), {"subject": "", "body": "Kept <i>text</i>"})
    assert refused.status_code == 400
    assert "Write a subject." in refused.content.decode() and "Kept &lt;i&gt;text&lt;/i&gt;" in refused.content.decode()
    assert not SurveyUpdate.objects.exists()

    client.post(update_url("survey_update", survey), {"subject": HOSTILE_SUBJECT, "body": HOSTILE_BODY})
    assert SurveyUpdate.objects.get().body == HOSTILE_BODY
    page = client.get(update_url("survey_update", survey)).content.decode()
    assert "Send to 1 stakeholder" in page and "<script>alert" not in page

    sent = client.post(update_url("survey_update_send", survey), follow=True).content.decode()
    assert "The update is on its way to 1 stakeholder." in sent
    assert "this is its archive" in sent and "<script>alert" not in sent and "&lt;script&gt;" in sent
    assert "Line one &lt;b&gt;bold&lt;/b&gt;<br>" in sent
    assert OutgoingEmail.objects.filter(kind=Kind.SURVEY_UPDATE).count() == 1

    again = client.post(update_url("survey_update_send", survey), follow=True).content.decode()
    assert "an update sent twice for one survey" in again
    edited = client.post(update_url("survey_update", survey), {"subject": "New", "body": "New"}, follow=True)
    assert "it is kept as it went out and cannot be changed" in edited.content.decode()
    assert SurveyUpdate.objects.get().subject == "Thanks <script>alert(1)</script> Bcc: victim@example.com"
    assert OutgoingEmail.objects.filter(kind=Kind.SURVEY_UPDATE).count() == 1
    detail = client_for(world.viewer).get(reverse("survey_detail", kwargs={"slug": "alpha", "survey_id": survey.pk}))
    text = detail.content.decode()
    assert "Sent on" in text and "to 1 stakeholder" in text and "<script>alert" not in text


def test_an_open_survey_offers_no_update_and_says_why(client_for, world):
    survey, _ = open_survey(world.pmo, people(world.pmo, 1))
    client = client_for(world.lead)
    detail = client.get(reverse("survey_detail", kwargs={"slug": "alpha", "survey_id": survey.pk})).content.decode()
    assert "an update can be written once the survey closes" in detail
    assert update_url("survey_update", survey) not in detail
    page = client.get(update_url("survey_update", survey)).content.decode()
    assert "This survey is still open" in page and 'name="subject"' not in page
    response = client.post(update_url("survey_update", survey), {"subject": "S", "body": "Kept body"}, follow=True)
    assert "An update can be written once the survey has closed." in response.content.decode()
    assert not SurveyUpdate.objects.exists()
    sent = client.post(update_url("survey_update_send", survey), follow=True).content.decode()
    assert "Save the draft first" in sent
    assert survey.status == SurveyStatus.OPEN


def test_only_leads_of_the_pmo_reach_the_page(client_for, world):
    survey, _ = closed_survey(world.pmo, people(world.pmo, 1))
    other = SurveyFactory(pmo=world.other_pmo, closed=True)
    SurveyInvitationFactory(survey=other, stakeholder=world.other_stakeholder, sent=True)
    assert client_for(world.member).get(update_url("survey_update", survey)).status_code == 403
    detail = client_for(world.member).get(reverse("survey_detail", kwargs={"slug": "alpha", "survey_id": survey.pk}))
    assert "you said, we did" not in detail.content.decode().lower()
    lead = client_for(world.lead)
    foreign = reverse("survey_update", kwargs={"slug": "alpha", "survey_id": other.pk})
    assert lead.get(foreign).status_code == 404
    assert lead.post(foreign, {"subject": "S", "body": "B"}).status_code == 404
    send = reverse("survey_update_send", kwargs={"slug": "alpha", "survey_id": other.pk})
    SurveyUpdate.objects.create(pmo=world.other_pmo, survey=other, subject="S", body="B")
    assert lead.post(send).status_code == 404
    assert not OutgoingEmail.objects.filter(kind=Kind.SURVEY_UPDATE).exists()
