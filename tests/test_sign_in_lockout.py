"""Sign-in resists guessing: django-axes locks a client out per account and address, and per
address over all accounts, on the sign-in page and the admin's, with the message on the page."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import SESSION_KEY
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.helpers import text, visible

LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes, or reset your password."
NO_MATCH = "This e-mail address and password don't match an account."
T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def user(db):
    return UserFactory(email="dana@example.com", name="Dana Scully")


def sign_in_as(client, email, password, address="127.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address)


def admin_sign_in(client, email, password):
    return client.post(
        reverse("admin:login"), {"username": email, "password": password, "next": reverse("admin:index")}
    )


def test_the_settings_say_what_the_docs_say(settings):
    assert (settings.SIGN_IN_FAILURE_LIMIT, settings.SIGN_IN_ADDRESS_FAILURE_LIMIT) == (5, 20)
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_RESET_ON_SUCCESS is True
    # The sign-in forms post the e-mail address as "username".
    assert settings.AXES_USERNAME_FORM_FIELD == "username"


def test_forty_wrong_passwords_then_the_right_one_is_refused_on_the_sign_in_page(client, user):
    statuses = [sign_in_as(client, user.email, f"guess-{n}").status_code for n in range(40)]
    response = sign_in_as(client, user.email, PASSWORD)

    # The fifth failure locks out; from then on the right password does not help.
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    # The message is on the sign-in page itself, with the form and the way to reset.
    page = visible(response)
    assert LOCKED in page
    assert NO_MATCH not in page
    assert 'name="username"' in response.content.decode()
    assert f'value="{user.email}"' in response.content.decode()
    assert reverse("password_reset") in response.content.decode()


def test_the_message_comes_only_once_the_limit_is_reached(client, user):
    for _ in range(4):
        response = sign_in_as(client, user.email, "wrong")
        assert response.status_code == 200
        assert NO_MATCH in text(response)
        assert LOCKED not in text(response)
    assert LOCKED in text(sign_in_as(client, user.email, "wrong"))


def test_forty_wrong_passwords_then_the_right_one_is_refused_on_the_admin_login(client, db):
    staff = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    for n in range(40):
        admin_sign_in(client, staff.email, f"guess-{n}")
    response = admin_sign_in(client, staff.email, PASSWORD)

    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    assert LOCKED in visible(response)
    assert "Django administration" in visible(response)  # the admin's own page
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_case_of_the_address_makes_no_new_account(client, user):
    for spelling in [
        "DANA@example.com",
        "Dana@Example.com",
        "dana@EXAMPLE.com",
        " dana@example.COM",
        "dAna@example.com",
    ]:
        sign_in_as(client, spelling, "wrong")
    response = sign_in_as(client, "dana@example.com", PASSWORD)
    assert response.status_code == 429


def test_one_account_locked_from_one_address_signs_in_from_another(client, user):
    for _ in range(5):
        sign_in_as(client, user.email, "wrong", address="203.0.113.7")
    assert sign_in_as(client, user.email, PASSWORD, address="203.0.113.7").status_code == 429

    response = sign_in_as(client, user.email, PASSWORD, address="198.51.100.2")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_an_address_that_fails_on_many_accounts_is_locked_out_for_all(client, user):
    # Four failures on each of five addresses: no account reaches 5, the address reaches 20.
    for n in range(5):
        for _ in range(4):
            assert sign_in_as(client, f"someone{n}@example.com", "wrong", address="203.0.113.7").status_code in (
                200,
                429,
            )
    response = sign_in_as(client, user.email, PASSWORD, address="203.0.113.7")
    assert response.status_code == 429
    assert LOCKED in visible(response)
    assert SESSION_KEY not in client.session
    # Unknown accounts are counted like known ones: the lockout tells nothing about who has one.
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(ip_address="203.0.113.7", username__startswith="someone").count() == 5

    # Another address is not affected.
    assert sign_in_as(client, user.email, PASSWORD, address="198.51.100.2").status_code == 302


def test_the_address_limit_is_a_setting(client, user, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 3
    for n in range(3):
        sign_in_as(client, f"someone{n}@example.com", "wrong")
    assert sign_in_as(client, user.email, PASSWORD).status_code == 429


def test_the_lockout_ends_after_the_cool_off_without_attempts(client, user):
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(5):
            sign_in_as(client, user.email, "wrong")
        traveller.move_to(T0 + timedelta(minutes=14))
        # Still locked; and an attempt during the lockout starts the 15 minutes again.
        assert sign_in_as(client, user.email, PASSWORD).status_code == 429
        traveller.move_to(T0 + timedelta(minutes=14 + 14))
        assert sign_in_as(client, user.email, PASSWORD).status_code == 429
        traveller.move_to(T0 + timedelta(minutes=14 + 14 + 16))
        response = sign_in_as(client, user.email, PASSWORD)
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == str(user.pk)


def test_a_successful_sign_in_clears_that_accounts_failures(client, user):
    for _ in range(4):
        sign_in_as(client, user.email, "wrong")
    assert sign_in_as(client, user.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in_as(client, user.email, "wrong").status_code == 200
    assert sign_in_as(client, user.email, PASSWORD).status_code == 302


def test_signing_in_to_ones_own_account_does_not_clear_the_address(client, user):
    """Else an attacker with an account would sign in to it between guesses at others'."""
    attacker = UserFactory(email="mallory@example.com")
    for n in range(4):
        for _ in range(4):
            sign_in_as(client, f"victim{n}@example.com", "guess")
    for _ in range(3):
        sign_in_as(client, user.email, "guess")  # 19 failures from the address
    assert sign_in_as(client, attacker.email, PASSWORD).status_code == 302
    client.logout()

    assert sign_in_as(client, user.email, "guess").status_code == 429  # the 20th
    assert sign_in_as(client, attacker.email, PASSWORD).status_code == 429


def test_the_lockout_answer_without_the_sign_in_form_is_a_page_of_its_own(db):
    from pmo5p import sign_in

    request = RequestFactory().post("/accounts/login/")
    response = sign_in.lockout_response(request, None, {"username": "x@example.com"})
    assert response.status_code == 429
    assert LOCKED in visible(response)
    assert reverse("password_reset") in response.content.decode()


def test_axes_records_are_in_the_admin():
    from axes.models import AccessAttempt

    assert admin.site.is_registered(AccessAttempt)


def test_axes_takes_the_client_address_from_the_projects_one_helper(settings):
    from pmo5p import throttles
    from pmo5p.client import client_address

    assert settings.AXES_CLIENT_IP_CALLABLE == "pmo5p.throttles.client_ip"
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.7")
    assert throttles.client_ip(request) == client_address(request) == "203.0.113.7"
    # An IPv6 client counts as its /64 network, as the survey pages' rate limit counts it.
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="2001:db8:0:7:1:2:3:4")
    assert client_address(request) == "2001:db8:0:7:1:2:3:4"
    assert throttles.client_ip(request) == "2001:db8:0:7::"


def test_rotating_addresses_inside_one_ipv6_network_does_not_reset_the_count(client, user):
    for n in range(5):
        sign_in_as(client, user.email, "wrong", address=f"2001:db8:0:7::{n + 1:x}")
    assert sign_in_as(client, user.email, PASSWORD, address="2001:db8:0:7::ffff").status_code == 429
    # Another /64 is another client.
    assert sign_in_as(client, user.email, PASSWORD, address="2001:db8:0:8::1").status_code == 302


def test_a_client_address_that_is_not_one_is_counted_not_a_500(client, user):
    for _ in range(5):
        sign_in_as(client, user.email, "wrong", address="unknown")
    response = sign_in_as(client, user.email, PASSWORD, address="unknown")
    assert response.status_code == 429
    assert LOCKED in visible(response)


def test_the_old_password_on_the_change_form_counts_as_a_sign_in(client, user):
    """Whoever holds a session cannot guess the password on the change form without limit."""
    client.force_login(user)
    change = reverse("password_change")
    for _ in range(5):
        client.post(
            change, {"old_password": "wrong", "new_password1": "N3w-pass-phrase", "new_password2": "N3w-pass-phrase"}
        )
    response = client.post(
        change, {"old_password": PASSWORD, "new_password1": "N3w-pass-phrase", "new_password2": "N3w-pass-phrase"}
    )
    assert response.status_code in (200, 429)
    assert LOCKED in visible(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
