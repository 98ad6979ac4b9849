"""Limits on what anyone may try without an account, counted in the cache by django-ratelimit.

- E-mails about accounts (password reset, the link that confirms an address, the notice
  of a sign-up for an address that has an account): per recipient and per client address.
- Requests with an API token that is not valid: per client address.

Failed sign-ins are counted by django-axes instead (pmo5p.sign_in). The limits are
settings (ACCOUNT_EMAIL_RATE_LIMIT, ACCOUNT_EMAIL_CLIENT_RATE_LIMIT,
API_TOKEN_FAILURE_RATE_LIMIT).
"""

import ipaddress

from django.conf import settings
from django_ratelimit.core import get_usage

from pmo5p.client import client_address


def client_ip(request) -> str | None:
    """The client's address as pmo5p.client reads it (it knows about the proxy), or None if
    that is not an IP address (a REMOTE_ADDR that a test client or a broken server set).

    An IPv6 client counts as its /64 network, as django-ratelimit counts it for the survey
    pages: one subscriber holds a whole /64, and would otherwise get fresh sign-in guesses
    and e-mails from each of its 2**64 addresses."""
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        # None puts every such request in one bucket (axes stores it as NULL).
        return None
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _usage(request, *, group: str, value: str, rate: str, increment: bool) -> dict:
    return get_usage(request, group=group, key=lambda _group, _request: value, rate=rate, increment=increment)


def may_send_account_email(request, email: str) -> bool:
    """Count one e-mail about an account asked for `email` by this client: False once either the
    recipient or the client is past its limit, and then nothing must be sent.

    Every request counts, whether an account uses the address or not, so that the limit
    itself reveals nothing."""
    recipient = _usage(
        request,
        group="account-email:recipient",
        value=email.strip().lower(),
        rate=settings.ACCOUNT_EMAIL_RATE_LIMIT,
        increment=True,
    )
    client = _usage(
        request,
        group="account-email:client",
        value=str(client_ip(request)),
        rate=settings.ACCOUNT_EMAIL_CLIENT_RATE_LIMIT,
        increment=True,
    )
    return not (recipient["should_limit"] or client["should_limit"])


def _api_token_failures(request, *, increment: bool) -> dict:
    return _usage(
        request,
        group="api-token-failure",
        value=str(client_ip(request)),
        rate=settings.API_TOKEN_FAILURE_RATE_LIMIT,
        increment=increment,
    )


def api_token_lockout(request) -> int | None:
    """Seconds until this client may try API tokens again, if it has failed too often; else None."""
    usage = _api_token_failures(request, increment=False)
    if usage["count"] >= usage["limit"]:
        return max(usage["time_left"], 1)
    return None


def count_api_token_failure(request) -> None:
    _api_token_failures(request, increment=True)
