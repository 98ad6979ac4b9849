"""Someone signs up, is told to confirm their address first, asks for a new link, opens it from
the e-mail, confirms with their password and signs in again later."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from pmo5p.models import User

pytestmark = pytest.mark.django_db(transaction=True)

# The forms this module fills in and submits in the browser, by URL name.
FORMS_SUBMITTED = {"signup", "login", "confirm_email_resend", "confirm_email", "logout"}

CHOSEN = "a-brand-new-passphrase-42"


def _confirm_path(message) -> str:
    # The link starts with settings.SITE_URL (http://testserver in the tests), not the live server.
    match = re.search(r"http://testserver(/accounts/confirm/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def _sign_in(page, email, password):
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_up_confirm_the_address_from_the_email_and_sign_in(page, live_server, settings):
    settings.SIGNUP_ENABLED = True
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Create an account").click()

    page.get_by_label("Full name").fill("Fox Mulder")
    page.get_by_label("E-mail address").fill("Fox@Example.com")
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(CHOSEN)
    page.get_by_label("Password again").fill(CHOSEN)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert [message.to for message in mail.outbox] == [["fox@example.com"]]

    # Not usable yet: the sign-in page says so, and offers a new link.
    page.get_by_role("link", name="Back to sign in").click()
    _sign_in(page, "fox@example.com", CHOSEN)
    expect(page.get_by_text("Confirm your e-mail address first")).to_be_visible()
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    assert len(mail.outbox) == 2

    page.goto(live_server.url + _confirm_path(mail.outbox[-1]))
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_visible()
    expect(page.get_by_label("E-mail address")).to_have_value("fox@example.com")
    expect(page.get_by_label("E-mail address")).to_be_disabled()
    page.get_by_label("Password").fill(CHOSEN)
    page.get_by_role("button", name="Confirm and sign in").click()

    expect(page.get_by_text("Your e-mail address is confirmed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Create a PMO workspace")).to_be_visible()
    assert User.objects.get(email="fox@example.com").email_verified is True

    # Later: sign out, and sign in with the form like anyone else.
    page.get_by_role("button", name="Your account").or_(page.get_by_role("button", name="Fox")).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to pmo5p")).to_be_visible()
    _sign_in(page, "fox@example.com", CHOSEN)
    expect(page.get_by_role("heading", name="Your PMOs")).to_be_visible()
