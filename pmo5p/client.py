"""The client's address, the one every rate limit and lockout counts by.

django-ratelimit (RATELIMIT_IP_META_KEY in settings) and any sign-in throttle call
`client_address(request)`, so that they all agree on who the client is.
"""

import ipaddress
import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The address of the client, as the trusted reverse proxies saw it.

    Without DJANGO_BEHIND_TLS_PROXY, the socket's address: any header is the
    client's own writing. Behind TRUSTED_PROXY_COUNT proxies, each of which appends
    the address it received the request from to X-Forwarded-For, the entry that
    many places from the right was written by the outermost trusted proxy: it is
    the client's address. Everything to its left (and X-Real-IP, which a proxy
    that does not set it passes through) comes from the client and is never used.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.BEHIND_TLS_PROXY:
        return remote
    count = settings.TRUSTED_PROXY_COUNT
    entries = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(entries) < count:
        # The request did not pass through every trusted proxy (the app was reached
        # directly, or from an inner proxy): no trusted proxy named the client, and
        # the socket's peer is the nearest address that the client did not write.
        logger.warning(
            "X-Forwarded-For has %d entries for %d trusted proxies: counting by REMOTE_ADDR.", len(entries), count
        )
        return remote
    candidate = entries[-count]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        # A trusted proxy writes an address; anything else means PMO5P_TRUSTED_PROXY_COUNT
        # is larger than the chain, so the entry is the client's own writing.
        logger.warning("X-Forwarded-For entry %r is not an address: counting by REMOTE_ADDR.", candidate[:64])
        return remote
    return candidate
