"""A member's personal calendar feed (issue 13, docs/engagement.md): the touchpoints and
actions they own, in every PMO they belong to, as an iCalendar address that Outlook or
Google Calendar subscribes to.

The address carries a token that is an HMAC of `token_seed` (stakeholders.models.make_token,
as survey links do), so its owner can see the address again on their profile while a copy
of the database alone opens nothing; the feed is found by `token_hash`. Revoking it stamps
`revoked_at`, and the address answers 404 from then on; a new one can be made.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from stakeholders.models import hash_token, make_token


def _new_seed() -> str:
    return secrets.token_hex(16)


class CalendarFeed(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_seed = models.CharField(max_length=32, default=_new_seed, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_feed_one_live"
            )
        ]

    def __str__(self):
        return f"Calendar feed of {self.user}"

    @classmethod
    def new(cls, user) -> "CalendarFeed":
        feed = cls(user=user)
        feed.token_hash = hash_token(feed.token)
        return feed

    @property
    def token(self) -> str:
        return make_token(self.token_seed)
