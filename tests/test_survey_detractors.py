"""Detractor follow-up: an NPS of 0–6 alerts the relationship owner (or the leads), and
never says who for an anonymous survey."""

import smtplib

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.locmem import EmailBackend

from pmo5p.domain import Element
from pmo5p.models import Role
from stakeholders.models import QuestionKind, Response
from tests.factories import MembershipFactory, StakeholderFactory
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
        assert "Product (meeting basic needs): 0/100" in part
        assert "Price (increasing perceived value): 25/100" in part
        assert "People (" not in part and "Process (" not in part  # only the two lowest
        assert "Too much paperwork." in part


def test_without_an_owner_the_leads_are_alerted(world, client, django_capture_on_commit_callbacks):
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="lead2@alpha.example")
    MembershipFactory(pmo=world.other_pmo, role=Role.LEAD, user__email="lead2@beta.example")
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    submit(client, invitation, low_on_product_and_price(survey, 2), django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert sorted(message.to) == ["lead2@alpha.example", "lead@alpha.example"]
    assert "Nobody owns this relationship yet" in message.body
    assert "Fiona Finance" in message.subject


@pytest.mark.parametrize("nps", [7, 8, 10])
def test_no_alert_from_a_passive_or_promoter(world, owned, client, django_capture_on_commit_callbacks, nps):
    survey, (invitation,) = owned
    submit(client, invitation, low_on_product_and_price(survey, nps), django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_an_anonymous_survey_alerts_the_leads_with_the_count_only(world, client, django_capture_on_commit_callbacks):
    world.stakeholder.owner = world.membership(world.member)
    world.stakeholder.save()
    others = [
        StakeholderFactory(pmo=world.pmo, name="Greta Garbo", email="greta@corp.example"),
        StakeholderFactory(pmo=world.pmo, name="Harry Hope", email="harry@corp.example"),
    ]
    survey, invitations = open_survey(world.pmo, [world.stakeholder, *others], anonymous=True, title="Quiet")
    submit(client, invitations[1], low_on_product_and_price(survey, 9), django_capture_on_commit_callbacks)
    submit(client, invitations[2], low_on_product_and_price(survey, 5), django_capture_on_commit_callbacks)
    submit(client, invitations[0], low_on_product_and_price(survey, 1), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    last = mail.outbox[-1]
    assert last.to == ["lead@alpha.example"]  # the leads, not the owner
    assert last.subject == 'A detractor answered "Quiet" (2 so far)'
    assert "2 detractors out of 3 responses" in last.body
    for message in mail.outbox:
        for part in [*parts(message), message.alternatives[0][0]]:
            for secret in ("Fiona", "Finance", "fiona@corp.example", "Harry", "harry@corp.example", "Greta"):
                assert secret not in part
            assert "Too much paperwork." not in part  # a comment can give its author away
            assert "/stakeholders/" not in part


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
