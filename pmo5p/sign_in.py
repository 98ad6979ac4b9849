"""Who may sign in, and how often they may fail: the authentication backend and django-axes' hooks.

The settings that use these are in pmo5p/settings.py ("Sign-in, password reset, sign-up and
API tokens"); docs/security.md says what they hold.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Sum
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import render
from django.template.response import TemplateResponse

# The backend that login() records in a session (settings.AUTHENTICATION_BACKENDS).
BACKEND = "pmo5p.sign_in.AccountBackend"


class AccountBackend(ModelBackend):
    """Django's backend (the e-mail address is the username), except that the session of an
    account that may not sign in (User.may_sign_in: inactive, or its address not confirmed)
    counts for nothing.

    It still authenticates an account whose address is not confirmed, so that the sign-in
    form can say "confirm your address first" to whoever knows its password; the forms
    refuse to sign it in (pmo5p.forms.SignInRules)."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.may_sign_in else None


def lockout_message() -> str:
    minutes = settings.SIGN_IN_LOCKOUT_MINUTES
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}, or reset your password."


class SignInLockout(AxesDatabaseHandler):
    """django-axes' database handler, with a limit for each of the two counts it keeps.

    Axes compares the larger of its counts (AXES_LOCKOUT_PARAMETERS) with one limit; pmo5p
    allows an address more failures over all accounts (SIGN_IN_ADDRESS_FAILURE_LIMIT: an
    office behind one address has many people) than for one account from it
    (SIGN_IN_FAILURE_LIMIT = AXES_FAILURE_LIMIT). Axes' maintainers advise a handler of
    one's own for this (jazzband/django-axes#661)."""

    def get_failures(self, request, credentials=None) -> int:
        account_at_address, address = (
            attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT:
            return max(account_at_address, settings.AXES_FAILURE_LIMIT)
        return account_at_address

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A successful sign-in clears that account's failures from that address only.

        Axes would clear the whole address too, and then an attacker with an account of
        their own could sign in to it between guesses at someone else's password."""
        account_at_address = self.filter_user_attempts(request, credentials)[0]
        count, _ = account_at_address.delete()
        return count


def account_key(request, credentials=None) -> str | None:
    """The account an attempt is for, as stored (lower case): "Dana@…" and "dana@…" are one account."""
    # Where axes itself would look without this callable: the credentials, else the posted form.
    source = credentials if credentials else getattr(request, "data", request.POST)
    value = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return value.strip().lower() if isinstance(value, str) else None


def lockout_response(request, original_response=None, credentials=None):
    """Axes' answer to a locked-out client: the page of the form it posted, which says why
    (pmo5p.forms.SignInRules), with 429; a page of its own if that form did not say it."""
    if isinstance(original_response, TemplateResponse):
        form = (original_response.context_data or {}).get("form")
        if form is not None and form.has_error(NON_FIELD_ERRORS, "locked_out"):
            original_response.status_code = 429
            return original_response
    return render(request, "registration/locked_out.html", {"message": lockout_message()}, status=429)
