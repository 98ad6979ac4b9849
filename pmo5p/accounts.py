"""Self sign-up and the confirmation of an e-mail address.

A sign-up makes an account that cannot be used (User.email_verified off) and sends a link
to the address. The link confirms it only together with the password chosen at sign-up,
so that neither the owner of the inbox alone (who may not have signed up) nor whoever
typed the address (who may not own it) can confirm it alone. The owner of an address that
someone else signed up with takes the account over by resetting its password, which
confirms the address too (views.PasswordResetConfirmView) and ends what the other person
made (User.save).
"""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from pmo5p import emails, throttles
from pmo5p.models import User


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset tokens under a salt of their own: signed, valid for
    PASSWORD_RESET_TIMEOUT, and spent once the address is confirmed (or the password or
    the last sign-in changes), because those are part of what is signed."""

    key_salt = "pmo5p.accounts.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.email_verified}"


confirmation_tokens = EmailConfirmationTokenGenerator()


def sign_up(request, *, name: str, email: str, password: str) -> None:
    """Make an account waiting for its address to be confirmed and send the link; for an
    address that has an account already, write to its owner instead. The caller shows the
    same page either way, so that sign-up does not tell who has an account."""
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, name=name, email_verified=False)
        except IntegrityError:  # the same address signed up twice at once
            existing = User.objects.get(email__iexact=email)
        else:
            send_confirmation(request, user)
            return
    # Hash the password anyway, so that the answer takes as long as for a new account.
    make_password(password)
    if throttles.may_send_account_email(request, email):
        emails.send(
            "account-exists",
            [existing.email],
            {"user": existing, "login_path": reverse("login"), "reset_path": reverse("password_reset")},
        )


def send_confirmation(request, user: User) -> None:
    """E-mail a new link that confirms the user's address, unless the throttles say no."""
    if not throttles.may_send_account_email(request, user.email):
        return
    path = reverse(
        "confirm_email",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": confirmation_tokens.make_token(user)},
    )
    # The name typed at sign-up is not in the e-mail: whoever typed it may not own the address.
    emails.send(
        "confirm-email",
        [user.email],
        {"confirm_path": path, "reset_path": reverse("password_reset"), "email": user.email},
    )


def resend_confirmation(request, email: str) -> None:
    """A new link for an account whose address is not confirmed yet; nothing otherwise (the
    caller's page says the same either way)."""
    user = User.objects.filter(email__iexact=email.strip(), email_verified=False, is_active=True).first()
    if user is None:
        # Counted all the same, so that the limit tells nothing about the address.
        throttles.may_send_account_email(request, email)
        return
    send_confirmation(request, user)


def confirm_email(user: User) -> None:
    """The address is the user's: the account may be used from now on.

    Whatever was made for the account before is revoked; an account that was never
    confirmed could not sign in or use a token, so this is a second lock, not the first."""
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    user.api_tokens.revoke()
