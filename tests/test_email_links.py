"""Every link in an e-mail starts with PMO5P_SITE_URL (settings.SITE_URL), never with the
Host header of the request that caused it: a Host chosen by an attacker must not turn a
reset or invitation link into one that carries its token to the attacker's site."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import SurveyFactory, UserFactory
from tests.survey_helpers import answer_data, open_survey, survey_url

SITE = "https://pmo5p.example.com"
HOSTILE = "attacker.example"


@pytest.fixture
def hostile(settings):
    """A site URL unlike the test server's, and every Host accepted, as a catch-all virtual host would."""
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["*"]
    cache.clear()
    yield {"HTTP_HOST": HOSTILE}
    cache.clear()


def links_of(messages) -> list[str]:
    """Every absolute link of every part (text and HTML) of the messages."""
    parts = [message.body for message in messages]
    parts += [content for message in messages for content, _type in getattr(message, "alternatives", [])]
    return [link for part in parts for link in re.findall(r"https?://[^\s\"'<>]+", part)]


def assert_links_use_the_site_url(messages, minimum=1):
    assert messages, "No e-mail was sent"
    links = links_of(messages)
    assert len(links) >= minimum
    assert all(link.startswith(f"{SITE}/") for link in links), links
    for message in messages:
        assert HOSTILE not in message.body
        assert all(HOSTILE not in content for content, _ in getattr(message, "alternatives", []))


def test_the_password_reset_link_ignores_the_host_header(client, db, hostile):
    user = UserFactory(email="dana@example.com")
    response = client.post(reverse("password_reset"), {"email": user.email}, **hostile)
    assert response.status_code == 302
    (message,) = mail.outbox
    assert_links_use_the_site_url([message])
    (link,) = links_of([message])
    assert re.fullmatch(rf"{re.escape(SITE)}/accounts/reset/[^/]+/[^/]+/", link)
    # The link works: on the site's own address it opens the set-password page.
    assert client.get(link.removeprefix(SITE))["Location"].endswith("/set-password/")


def test_the_password_reset_link_keeps_a_path_prefix_of_the_site_url(client, db, settings, hostile):
    settings.SITE_URL = f"{SITE}/pmo5p"
    UserFactory(email="dana@example.com")
    client.post(reverse("password_reset"), {"email": "dana@example.com"}, **hostile)
    (link,) = links_of(mail.outbox)
    assert link.startswith(f"{SITE}/pmo5p/accounts/reset/")


def test_the_member_invitation_link_ignores_the_host_header(client, world, hostile, django_capture_on_commit_callbacks):
    client.force_login(world.lead)
    url = reverse("member_invite", kwargs={"slug": world.pmo.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "new.person@example.com", "role": "member"}, **hostile)
    assert response.status_code == 302
    assert_links_use_the_site_url(mail.outbox, minimum=2)  # the text and the HTML part
    assert all("/invitations/" in link for link in links_of(mail.outbox))


def test_survey_invitations_ignore_the_host_header(client, world, hostile, django_capture_on_commit_callbacks):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    survey.target_stakeholders.add(world.stakeholder)
    client.force_login(world.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(survey_url("survey_launch", survey), **hostile)
    assert response.status_code == 302
    assert_links_use_the_site_url(mail.outbox, minimum=11)  # the form and the eleven 0–10 links
    assert all("/s/" in link for link in links_of(mail.outbox))


def test_a_detractor_alert_ignores_the_host_header(client, world, hostile, django_capture_on_commit_callbacks):
    world.stakeholder.owner = world.membership(world.member)
    world.stakeholder.save()
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(invitation.path, answer_data(survey, nps="2"), **hostile)
    assert response.status_code == 200
    (alert,) = mail.outbox
    assert alert.to == [world.member.email]
    assert_links_use_the_site_url([alert])
