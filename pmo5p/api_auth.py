"""Authentication of the JSON API by personal tokens: `Authorization: Bearer pmo5p_…`."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from pmo5p import throttles
from pmo5p.models import ApiToken

# Writing last_used_at on every request would turn reads into writes; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = (b"bearer", b"token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        # A client that has sent too many tokens that are not valid gets no answer about any
        # token until its window ends (pmo5p.throttles), whatever it sends now.
        wait = throttles.api_token_lockout(request)
        if wait is not None:
            raise exceptions.Throttled(
                wait=wait, detail="Too many requests with a token that is not valid came from your address."
            )
        if len(header) != 2:
            throttles.count_api_token_failure(request)
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
        token = ApiToken.find(header[1].decode(errors="replace"))
        if token is None or not token.user.may_sign_in:
            throttles.count_api_token_failure(request)
            raise exceptions.AuthenticationFailed("This token is not valid: it is unknown or was revoked.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="pmo5p"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "pmo5p.api_auth.ApiTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, created on your profile page.",
        }
