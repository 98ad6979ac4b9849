"""Accounts: sign in and out, password reset and change, sign-up, profile."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from pmo5p.models import ApiToken, User
from tests.factories import PASSWORD, UserFactory
from tests.helpers import assert_field_error, messages_of, signed_in_user_id, text, visible

NEW_PASSWORD = "a-brand-new-passphrase-42"
LOGIN_ERROR = "This e-mail address and password don't match an account."


@pytest.fixture
def user(db):
    return UserFactory(email="dana@example.com", name="Dana Scully")


def sign_in(client, email, password, **extra):
    return client.post(reverse("login"), {"username": email, "password": password, **extra})


# Sign in ---------------------------------------------------------------------------


def test_login_page_shows_the_form_and_the_way_to_get_an_account(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    page = text(response)
    assert 'name="username"' in page and 'type="email"' in page
    assert 'name="password"' in page
    assert reverse("password_reset") in page
    # Sign-up is off by default: the page points to invitations instead.
    assert "Ask your PMO lead for an invitation" in page
    assert reverse("signup") not in page


def test_sign_in_with_email_and_password(client, user):
    response = sign_in(client, "dana@example.com", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(user.pk)


def test_sign_in_ignores_the_case_of_the_email(client, user):
    response = sign_in(client, "DANA@Example.COM", PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_sign_in_follows_a_safe_next_url(client, user):
    response = sign_in(client, user.email, PASSWORD, next=reverse("profile"))
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")


def test_sign_in_never_redirects_to_another_site(client, user):
    response = sign_in(client, user.email, PASSWORD, next="https://evil.example/steal")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "evil.example" not in response["Location"]


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("dana@example.com", "wrong-password"),
        ("dana@example.com", PASSWORD.upper()),
        ("nobody@example.com", PASSWORD),
    ],
    ids=["wrong-password", "password-case-matters", "unknown-email"],
)
def test_bad_credentials_give_a_clear_error_and_no_session(client, user, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert LOGIN_ERROR in text(response)
    assert response.context["form"].errors["__all__"]
    assert SESSION_KEY not in client.session
    # The typed address stays in the form, the password does not.
    assert f'value="{email}"' in response.content.decode()
    assert password not in response.content.decode()


def test_inactive_user_cannot_sign_in(client, user):
    user.is_active = False
    user.save()
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert LOGIN_ERROR in text(response)
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "", "password": PASSWORD}, "username", "This field is required."),
        ({"username": "dana@example.com", "password": ""}, "password", "This field is required."),
        ({"username": "not-an-email", "password": PASSWORD}, "username", "Enter a valid email address."),
    ],
    ids=["empty-email", "empty-password", "invalid-email"],
)
def test_incomplete_sign_in_form_shows_the_field_error(client, user, data, field, message):
    response = client.post(reverse("login"), data)
    assert_field_error(response, field, message)
    assert SESSION_KEY not in client.session


# Sign out --------------------------------------------------------------------------


def test_sign_out_by_post(client_for, user):
    client = client_for(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    # Signed out for real: a private page asks to sign in again.
    assert client.get(reverse("pmo_list")).status_code == 302


def test_sign_out_by_get_is_refused_and_keeps_the_session(client_for, user):
    client = client_for(user)
    response = client.get(reverse("logout"))
    assert response.status_code == 405
    assert signed_in_user_id(client) == str(user.pk)


def test_every_page_offers_sign_out_as_a_post_form(client_for, user):
    response = client_for(user).get(reverse("pmo_list"))
    page = response.content.decode()
    assert re.search(rf'<form method="post" action="{reverse("logout")}">', page)


# Password reset ------------------------------------------------------------------


def _reset_link(message) -> str:
    match = re.search(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, f"No reset link in the e-mail:\n{message.body}"
    return match.group(1)


def test_password_reset_end_to_end(client, user):
    response = client.post(reverse("password_reset"), {"email": user.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "Reset your pmo5p password" in message.subject
    assert "Hello Dana" in message.body
    link = _reset_link(message)

    # Django swaps the token for a session entry and redirects to the set-password URL.
    response = client.get(link)
    assert response.status_code == 302
    set_password_url = response["Location"]
    assert set_password_url.endswith("/set-password/")

    response = client.get(set_password_url)
    assert response.status_code == 200
    assert response.context["validlink"] is True

    response = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    assert "You can sign in with your new password now" in text(client.get(response["Location"]))

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)

    client.logout()
    assert SESSION_KEY not in client.session
    assert sign_in(client, user.email, PASSWORD).status_code == 200  # the old one is gone
    response = sign_in(client, user.email, NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_password_reset_link_works_only_once(client, user):
    client.post(reverse("password_reset"), {"email": user.email})
    link = _reset_link(mail.outbox[0])
    set_password_url = client.get(link)["Location"]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    client.logout()
    response = client.get(link, follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "not valid any more" in text(response)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_with_a_tampered_token_is_refused(client, user):
    client.post(reverse("password_reset"), {"email": user.email})
    link = _reset_link(mail.outbox[0])
    tampered = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    response = client.get(tampered)
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "not valid any more" in text(response)


def test_password_reset_ignores_the_case_of_the_email(client, user):
    client.post(reverse("password_reset"), {"email": "DANA@EXAMPLE.COM"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]


def test_password_reset_for_an_unknown_email_sends_nothing_and_looks_the_same(client, user):
    known = client.post(reverse("password_reset"), {"email": user.email}, follow=True)
    mail.outbox.clear()
    unknown = client.post(reverse("password_reset"), {"email": "stranger@example.com"}, follow=True)

    assert mail.outbox == []
    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert "Check your e-mail" in text(unknown)
    assert "stranger@example.com" not in text(unknown)


def _reset(client, email, address="127.0.0.1"):
    return client.post(reverse("password_reset"), {"email": email}, follow=True, REMOTE_ADDR=address)


def test_five_resets_send_at_most_the_allowed_number_and_all_answer_alike(client, user, settings):
    assert settings.ACCOUNT_EMAIL_RATE_LIMIT == "3/h"
    responses = [_reset(client, user.email) for _ in range(5)]

    assert len(mail.outbox) == 3
    assert {tuple(response.redirect_chain) for response in responses} == {((reverse("password_reset_done"), 302),)}
    assert len({visible(response) for response in responses}) == 1
    assert "Check your e-mail" in visible(responses[-1])


def test_the_reset_limit_counts_per_account_whatever_the_case(client, user):
    for spelling in ["dana@example.com", "DANA@example.com", "Dana@Example.com", "dana@EXAMPLE.COM"]:
        _reset(client, spelling)
    assert len(mail.outbox) == 3


def test_an_unknown_accounts_reset_looks_the_same_past_the_limit_too(client, user):
    known = [visible(_reset(client, user.email)) for _ in range(5)]
    unknown = [visible(_reset(client, "stranger@example.com")) for _ in range(5)]
    assert len(mail.outbox) == 3
    assert all(message.to == [user.email] for message in mail.outbox)
    assert set(known) == set(unknown) and len(set(known)) == 1


def test_resets_are_limited_per_client_address_over_all_accounts(client, db, settings):
    settings.ACCOUNT_EMAIL_CLIENT_RATE_LIMIT = "2/h"
    users = [UserFactory(email=f"person{n}@example.com") for n in range(4)]
    for person in users[:3]:
        _reset(client, person.email, address="203.0.113.7")
    assert len(mail.outbox) == 2
    _reset(client, users[3].email, address="198.51.100.2")
    assert len(mail.outbox) == 3
    assert mail.outbox[-1].to == [users[3].email]


def test_resets_are_sent_again_once_the_hour_has_passed(client, user):
    with time_machine.travel(datetime(2026, 5, 4, 12, 0, tzinfo=UTC), tick=False) as traveller:
        for _ in range(4):
            _reset(client, user.email)
        assert len(mail.outbox) == 3
        traveller.shift(timedelta(hours=2))
        _reset(client, user.email)
    assert len(mail.outbox) == 4


def test_password_reset_set_password_bad_input_keeps_the_old_password(client, user):
    client.post(reverse("password_reset"), {"email": user.email})
    set_password_url = client.get(_reset_link(mail.outbox[0]))["Location"]

    response = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert_field_error(response, "new_password2", "The two password fields didn’t match.")
    response = client.post(set_password_url, {"new_password1": "short", "new_password2": "short"})
    assert_field_error(response, "new_password2", "This password is too short.")

    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_with_an_invalid_email_shows_the_field_error(client, user):
    response = client.post(reverse("password_reset"), {"email": "not-an-email"})
    assert_field_error(response, "email", "Enter a valid email address.")
    assert mail.outbox == []


# Sign-up ---------------------------------------------------------------------------

SIGNUP = {
    "name": "Fox Mulder",
    "email": "Fox.Mulder@Example.com",
    "password1": NEW_PASSWORD,
    "password2": NEW_PASSWORD,
}


def test_signup_is_404_when_disabled(client, db, settings):
    assert settings.SIGNUP_ENABLED is False
    assert client.get(reverse("signup")).status_code == 404
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 404
    assert not User.objects.exists()
    assert SESSION_KEY not in client.session


def test_signup_creates_an_account_that_waits_for_its_address_to_be_confirmed(client, db, settings):
    settings.SIGNUP_ENABLED = True
    login_page = text(client.get(reverse("login")))
    assert reverse("signup") in login_page
    assert client.get(reverse("signup")).status_code == 200

    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("confirm_email_sent")
    assert "Check your e-mail" in text(client.get(response["Location"]))

    user = User.objects.get()
    assert user.email == "fox.mulder@example.com"
    assert user.name == "Fox Mulder"
    assert user.check_password(NEW_PASSWORD)
    assert not user.is_staff and not user.is_superuser
    assert user.email_verified is False
    # Not signed in: the account works once the link sent to the address is opened
    # (tests/test_signup_confirmation.py).
    assert SESSION_KEY not in client.session
    assert [message.to for message in mail.outbox] == [["fox.mulder@example.com"]]


def test_signup_when_signed_in_goes_home(client_for, user, settings):
    settings.SIGNUP_ENABLED = True
    client = client_for(user)
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"password2": NEW_PASSWORD + "!"}, "password2", "The two passwords differ."),
        ({"password1": "Sh0rt!", "password2": "Sh0rt!"}, "password1", "This password is too short."),
        ({"password1": "password", "password2": "password"}, "password1", "This password is too common."),
        ({"password1": "8271934650", "password2": "8271934650"}, "password1", "This password is entirely numeric."),
        (
            {"email": "fox.mulder@example.com", "password1": "fox.mulder@example", "password2": "fox.mulder@example"},
            "password1",
            "The password is too similar to the e-mail address.",
        ),
        (
            {"email": "agent@example.com", "password1": "foxmulder1", "password2": "foxmulder1"},
            "password1",
            "The password is too similar to the full name.",
        ),
        ({"password1": ""}, "password1", "This field is required."),
        ({"name": ""}, "name", "This field is required."),
        ({"name": "    "}, "name", "This field is required."),
        ({"name": "x" * 151}, "name", "Ensure this value has at most 150 characters"),
    ],
    ids=[
        "invalid-email",
        "empty-email",
        "mismatched-passwords",
        "too-short-password",
        "common-password",
        "numeric-password",
        "password-like-email",
        "password-like-name",
        "empty-password",
        "empty-name",
        "blank-name",
        "name-too-long",
    ],
)
def test_signup_bad_input_is_refused_next_to_the_field(client, user, settings, changes, field, message):
    settings.SIGNUP_ENABLED = True
    users_before = list(User.objects.values_list("pk", "email", "password"))

    response = client.post(reverse("signup"), {**SIGNUP, **changes})

    assert_field_error(response, field, message)
    assert list(User.objects.values_list("pk", "email", "password")) == users_before
    assert SESSION_KEY not in client.session


# Profile and password change ------------------------------------------------------


def test_profile_needs_sign_in(client, db):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_profile_edits_the_name(client_for, user):
    client = client_for(user)
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    assert "Signed in as dana@example.com" in text(response)
    assert 'value="Dana Scully"' in response.content.decode()

    response = client.post(reverse("profile"), {"name": "  Dana K. Scully  "})
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
    user.refresh_from_db()
    assert user.name == "Dana K. Scully"
    assert "Your profile is saved." in messages_of(response)


def test_profile_cannot_change_the_email_or_rights(client_for, user):
    client = client_for(user)
    client.post(
        reverse("profile"), {"name": "Dana", "email": "other@example.com", "is_staff": "on", "is_superuser": "on"}
    )
    user.refresh_from_db()
    assert user.name == "Dana"
    assert user.email == "dana@example.com"
    assert not user.is_staff and not user.is_superuser


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "This field is required."), ("   ", "This field is required."), ("x" * 151, "at most 150 characters")],
    ids=["empty", "blank", "too-long"],
)
def test_profile_bad_name_is_refused(client_for, user, name, message):
    response = client_for(user).post(reverse("profile"), {"name": name})
    assert_field_error(response, "name", message)
    user.refresh_from_db()
    assert user.name == "Dana Scully"


def test_password_change(client_for, user):
    client = client_for(user)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The session survives the change (update_session_auth_hash).
    assert client.get(reverse("profile")).status_code == 200

    client.logout()
    assert sign_in(client, user.email, PASSWORD).status_code == 200
    assert sign_in(client, user.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "old_password",
            "Your old password was entered incorrectly.",
        ),
        (
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "something-else-42"},
            "new_password2",
            "The two password fields didn’t match.",
        ),
        (
            {"old_password": PASSWORD, "new_password1": "abc", "new_password2": "abc"},
            "new_password2",
            "This password is too short.",
        ),
    ],
    ids=["wrong-old-password", "mismatch", "too-short"],
)
def test_password_change_bad_input(client_for, user, data, field, message):
    client = client_for(user)
    response = client.post(reverse("password_change"), data)
    assert_field_error(response, field, message)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# A new password revokes the API tokens -------------------------------------------------


def _api_status(key) -> int:
    return Client(headers={"Authorization": f"Bearer {key}"}).get(reverse("api-pmo-list")).status_code


@pytest.fixture
def tokens(user):
    """Two tokens of the user's and one of someone else's, which must survive."""
    keys = [ApiToken.issue(user=user, name=name)[1] for name in ("Payroll feed", "Board deck")]
    other_key = ApiToken.issue(user=UserFactory(), name="Other")[1]
    assert [_api_status(key) for key in [*keys, other_key]] == [200, 200, 200]
    return keys, other_key


def test_a_password_change_revokes_the_users_api_tokens(client_for, user, tokens):
    keys, other_key = tokens
    client = client_for(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "your API tokens are revoked" in visible(response)

    assert [_api_status(key) for key in keys] == [401, 401]
    assert _api_status(other_key) == 200
    profile = client.get(reverse("profile"))
    assert "You have no API token." in visible(profile)
    assert "Payroll feed" not in visible(profile)


def test_a_password_reset_revokes_the_users_api_tokens(client, user, tokens):
    keys, other_key = tokens
    client.post(reverse("password_reset"), {"email": user.email})
    set_password_url = client.get(_reset_link(mail.outbox[0]))["Location"]
    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "its API tokens are revoked" in visible(response)

    assert [_api_status(key) for key in keys] == [401, 401]
    assert _api_status(other_key) == 200
    assert not user.api_tokens.active().exists()


def test_a_password_set_in_the_admin_revokes_the_users_api_tokens(client_for, user, tokens):
    keys, other_key = tokens
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert [_api_status(key) for key in keys] == [401, 401]
    assert _api_status(other_key) == 200


def test_saving_a_user_without_a_new_password_keeps_the_tokens(client_for, user, tokens):
    keys, _ = tokens
    client_for(user).post(reverse("profile"), {"name": "Dana K. Scully"})
    user.refresh_from_db()
    user.save()
    assert [_api_status(key) for key in keys] == [200, 200]
