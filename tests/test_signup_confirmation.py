"""With sign-up on, an account works only once the link sent to its address is opened with the
password chosen at sign-up; sign-up tells nobody who has an account; and whoever signs up
with someone else's address loses everything when the owner takes the account over."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from pmo5p.models import ApiToken, Membership, Pmo, User
from pmo5p.services import invite_member
from tests.factories import PASSWORD, UserFactory
from tests.helpers import signed_in_user_id, text, visible

CHOSEN = "a-brand-new-passphrase-42"
OWNERS = "owners-own-passphrase-77"
UNCONFIRMED = "Confirm your e-mail address first: open the link we sent to fox@example.com when you signed up."
LINK_INVALID = "This link to confirm an e-mail address is not valid"
T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def signup_on(settings):
    settings.SIGNUP_ENABLED = True


def sign_up(client, email="Fox@Example.com", password=CHOSEN, name="Fox Mulder"):
    return client.post(
        reverse("signup"), {"name": name, "email": email, "password1": password, "password2": password}, follow=True
    )


def sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def confirm_path(message) -> str:
    match = re.search(r"http://testserver(/accounts/confirm/[^/\s]+/[^/\s]+/)", message.body)
    assert match, f"No confirmation link in the e-mail:\n{message.body}"
    return match.group(1)


def api_status(key) -> int:
    return Client(headers={"Authorization": f"Bearer {key}"}).get(reverse("api-pmo-list")).status_code


# Sign-up sends a link; the account waits for it ----------------------------------------


def test_signup_sends_the_link_and_the_account_cannot_be_used_before(client, db):
    response = sign_up(client)
    assert response.redirect_chain == [(reverse("confirm_email_sent"), 302)]
    assert "Check your e-mail" in visible(response)

    user = User.objects.get(email="fox@example.com")
    assert user.email_verified is False
    assert SESSION_KEY not in client.session
    [message] = mail.outbox
    assert message.to == ["fox@example.com"]
    assert message.subject == "Confirm your e-mail address for pmo5p"
    assert confirm_path(message).startswith("/accounts/confirm/")
    html = message.alternatives[0][0]
    assert confirm_path(message) in html

    # The right password does not sign in: the page says why and offers a new link.
    response = sign_in(client, "fox@example.com", CHOSEN)
    assert response.status_code == 200
    assert UNCONFIRMED in visible(response)
    assert reverse("confirm_email_resend") in response.content.decode()
    assert SESSION_KEY not in client.session
    # A wrong password says nothing about the account.
    response = sign_in(client, "fox@example.com", "not-the-password")
    assert "Confirm your e-mail" not in visible(response)
    assert "don't match an account" in visible(response)

    # Nor can it use the API, with a token however it got one.
    _token, key = ApiToken.issue(user=user, name="sneaked in")
    assert api_status(key) == 401


def test_an_unconfirmed_account_gets_no_session_no_token_and_no_pmo(client, db):
    sign_up(client)
    user = User.objects.get(email="fox@example.com")
    client.force_login(user)  # even a session made by other means counts for nothing

    assert client.get(reverse("profile")).status_code == 302
    response = client.post(reverse("api_token_create"), {"name": "sync"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(reverse("pmo_create"), {"name": "Squat PMO", "slug": "squat", "time_zone": "UTC"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not ApiToken.objects.exists()
    assert not Pmo.objects.exists()
    assert Client().get(reverse("api-pmo-list")).status_code == 401


def test_the_link_uses_the_site_url_not_the_requests_host(client, db, settings):
    settings.SITE_URL = "https://pmo5p.example.org"
    client.post(
        reverse("signup"),
        {"name": "Fox", "email": "fox@example.com", "password1": CHOSEN, "password2": CHOSEN},
        HTTP_HOST="localhost",
    )
    body = mail.outbox[0].body
    assert "https://pmo5p.example.org/accounts/confirm/" in body
    assert "localhost" not in body and "testserver" not in body


def test_the_email_carries_no_text_typed_at_sign_up(client, db):
    """Whoever signs up may not own the address: their words must not reach its owner."""
    sign_up(client, name="Visit https://evil.example now")
    message = mail.outbox[0]
    assert "evil.example" not in message.body
    assert "evil.example" not in message.alternatives[0][0]
    assert "evil.example" not in message.subject


# The link ---------------------------------------------------------------------------


def test_the_link_with_the_password_confirms_the_address_and_signs_in(client, db):
    sign_up(client)
    path = confirm_path(mail.outbox[0])

    page = client.get(path)
    assert page.status_code == 200
    assert "Enter the password you chose" in visible(page)
    assert 'value="fox@example.com"' in page.content.decode()
    user = User.objects.get(email="fox@example.com")
    assert user.email_verified is False  # opening the link changes nothing

    response = client.post(path, {"password": CHOSEN}, follow=True)
    assert response.redirect_chain == [(reverse("pmo_create"), 302)]
    assert "Your e-mail address is confirmed" in visible(response)
    user.refresh_from_db()
    assert user.email_verified is True
    assert signed_in_user_id(client) == str(user.pk)

    # From now on the account works like any other.
    client.logout()
    assert sign_in(client, "fox@example.com", CHOSEN).status_code == 302


def test_the_link_works_once(client, db):
    sign_up(client)
    path = confirm_path(mail.outbox[0])
    client.post(path, {"password": CHOSEN})
    client.logout()

    for response in (client.get(path), client.post(path, {"password": CHOSEN})):
        assert response.status_code == 404
        assert LINK_INVALID in visible(response)
    assert SESSION_KEY not in client.session


def test_a_wrong_password_on_the_link_page_confirms_nothing(client, db):
    sign_up(client)
    path = confirm_path(mail.outbox[0])
    response = client.post(path, {"password": "not-the-password"})
    assert response.status_code == 200
    assert "This is not the password chosen when the account was created" in visible(response)
    assert User.objects.get(email="fox@example.com").email_verified is False
    assert SESSION_KEY not in client.session
    # The link still works with the right one.
    assert client.post(path, {"password": CHOSEN}).status_code == 302


def test_guessing_the_password_on_the_link_page_is_locked_out(client, db):
    sign_up(client)
    path = confirm_path(mail.outbox[0])
    for n in range(5):
        response = client.post(path, {"password": f"guess-{n}"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes" in visible(response)
    assert "Enter the password you chose" in visible(response)  # on the page itself
    assert client.post(path, {"password": CHOSEN}).status_code == 429
    assert User.objects.get(email="fox@example.com").email_verified is False


@pytest.mark.parametrize(
    "tamper",
    [
        lambda uid, token: (uid, token[:-1] + ("a" if token[-1] != "a" else "b")),
        lambda uid, token: ("MTIzNDU2", token),
        lambda uid, token: ("not-base64!", token),
        lambda uid, token: (uid, "nonsense"),
    ],
    ids=["token-changed", "another-uid", "garbage-uid", "garbage-token"],
)
def test_a_tampered_link_is_refused_clearly(client, db, tamper):
    sign_up(client)
    _, _, _, uid, token, _ = confirm_path(mail.outbox[0]).split("/")
    uid, token = tamper(uid, token)
    path = reverse("confirm_email", kwargs={"uidb64": uid, "token": token})
    for response in (client.get(path), client.post(path, {"password": CHOSEN})):
        assert response.status_code == 404
        assert LINK_INVALID in visible(response)
        assert reverse("confirm_email_resend") in response.content.decode()
    assert User.objects.get(email="fox@example.com").email_verified is False


def test_an_expired_link_is_refused_clearly(client, db):
    with time_machine.travel(T0, tick=False) as traveller:
        sign_up(client)
        path = confirm_path(mail.outbox[0])
        traveller.shift(timedelta(hours=23))
        assert client.get(path).status_code == 200
        traveller.shift(timedelta(hours=2))
        response = client.post(path, {"password": CHOSEN})
    assert response.status_code == 404
    assert "too old" in visible(response)
    assert User.objects.get(email="fox@example.com").email_verified is False


# A new link ---------------------------------------------------------------------------


def test_a_new_link_from_the_sign_in_page(client, db):
    sign_up(client)
    response = sign_in(client, "fox@example.com", CHOSEN)
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', response.content.decode(), re.S)
    assert form.group(1) == reverse("confirm_email_resend")
    assert 'name="email" value="fox@example.com"' in form.group(2)

    response = client.post(reverse("confirm_email_resend"), {"email": "fox@example.com"}, follow=True)
    assert response.redirect_chain == [(reverse("confirm_email_sent"), 302)]
    assert len(mail.outbox) == 2
    # Either link works.
    client.post(confirm_path(mail.outbox[1]), {"password": CHOSEN})
    assert User.objects.get(email="fox@example.com").email_verified is True


def test_a_new_link_is_throttled_and_reveals_nothing(client, db):
    sign_up(client)  # the first e-mail to the address
    UserFactory(email="dana@example.com")
    answers = [
        visible(client.post(reverse("confirm_email_resend"), {"email": email}, follow=True))
        for email in ["fox@example.com"] * 5 + ["dana@example.com", "nobody@example.com"]
    ]
    # Three e-mails per address an hour: the sign-up's and two new links; none for a
    # confirmed account or an unknown address; one page for all.
    assert [message.to for message in mail.outbox] == [["fox@example.com"]] * 3
    assert len(set(answers)) == 1


def test_the_new_link_page_refuses_an_address_that_is_not_one(client, db):
    response = client.post(reverse("confirm_email_resend"), {"email": "not-an-email"})
    assert response.status_code == 200
    assert "Enter a valid email address." in visible(response)
    assert 'value="not-an-email"' in response.content.decode()
    assert mail.outbox == []


# Nobody learns who has an account --------------------------------------------------------


def test_signup_with_an_address_that_has_an_account_reveals_nothing(client, db):
    owner = UserFactory(email="dana@example.com", name="Dana Scully")
    taken = sign_up(client, email="DANA@example.com")
    client.cookies.clear()
    fresh = sign_up(client, email="fox@example.com")

    assert taken.redirect_chain == fresh.redirect_chain == [(reverse("confirm_email_sent"), 302)]
    assert visible(taken) == visible(fresh)
    # The owner hears of it; their account is as it was.
    owners_mail, new_mail = mail.outbox
    assert owners_mail.to == ["dana@example.com"]
    assert owners_mail.subject == "Your pmo5p account"
    assert "has an account already" in owners_mail.body
    assert "/accounts/confirm/" not in owners_mail.body
    assert "http://testserver/accounts/password_reset/" in owners_mail.body
    assert new_mail.to == ["fox@example.com"]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD) and owner.email_verified and owner.name == "Dana Scully"
    assert User.objects.filter(email__iexact="dana@example.com").count() == 1


def test_signup_for_a_taken_address_is_throttled_like_any_account_email(client, db):
    UserFactory(email="dana@example.com")
    for _ in range(5):
        sign_up(client, email="dana@example.com")
    assert len(mail.outbox) == 3


# Someone signs up with another person's address -------------------------------------------


def test_the_owner_takes_over_an_address_someone_else_signed_up_with(client, db):
    squatter = Client()
    sign_up(squatter, email="victim@example.com", password=CHOSEN, name="Not the victim")
    link = confirm_path(mail.outbox[0])

    # The owner opens the link but does not know the squatter's password: nothing happens.
    owner = Client()
    assert owner.post(link, {"password": OWNERS}).status_code == 200
    assert User.objects.get(email="victim@example.com").email_verified is False

    # The owner signs up too: told nothing, but e-mailed.
    sign_up(owner, email="victim@example.com", password=OWNERS)
    assert mail.outbox[-1].subject == "Your pmo5p account"

    # The owner resets the password: that confirms the address, and the squatter's is gone.
    owner.post(reverse("password_reset"), {"email": "victim@example.com"})
    reset = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    set_password_url = owner.get(reset)["Location"]
    owner.post(set_password_url, {"new_password1": OWNERS, "new_password2": OWNERS})

    user = User.objects.get(email="victim@example.com")
    assert user.email_verified is True
    assert sign_in(squatter, "victim@example.com", CHOSEN).status_code == 200
    assert SESSION_KEY not in squatter.session
    assert sign_in(owner, "victim@example.com", OWNERS).status_code == 302
    # The squatter's link is spent too.
    assert Client().post(link, {"password": OWNERS}).status_code == 404


def test_a_squatter_from_before_loses_session_and_token_when_the_owner_resets(client, db):
    """An account signed up before addresses were confirmed (the migration trusts it) that
    a squatter made, with a session and a token: the owner's reset ends both."""
    squatter_account = UserFactory(email="victim@example.com")
    squatter = Client()
    squatter.force_login(squatter_account)
    _token, key = ApiToken.issue(user=squatter_account, name="kept")
    assert squatter.get(reverse("profile")).status_code == 200
    assert api_status(key) == 200

    client.post(reverse("password_reset"), {"email": "victim@example.com"})
    reset = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    client.post(client.get(reset)["Location"], {"new_password1": OWNERS, "new_password2": OWNERS})

    assert squatter.get(reverse("profile")).status_code == 302
    assert api_status(key) == 401


def test_confirming_revokes_whatever_was_made_before(client, db):
    sign_up(client)
    user = User.objects.get(email="fox@example.com")
    _token, key = ApiToken.issue(user=user, name="made before")
    client.post(confirm_path(mail.outbox[0]), {"password": CHOSEN})
    assert not user.api_tokens.active().exists()
    assert api_status(key) == 401


def test_accounts_made_by_invitation_need_no_confirmation(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_member(pmo=world.pmo, email="new@alpha.example", role="member", invited_by=world.lead)
    accept = re.search(r"http://testserver(/invitations/\S+/)", mail.outbox[-1].body).group(1)
    client.post(accept, {"name": "New Person", "password1": CHOSEN, "password2": CHOSEN})
    user = User.objects.get(email="new@alpha.example")
    assert user.email_verified is True
    assert Membership.objects.filter(user=user, pmo=world.pmo).exists()
    assert client.get(reverse("profile")).status_code == 200
    assert "Check your e-mail" not in text(client.get(reverse("home"), follow=True))
