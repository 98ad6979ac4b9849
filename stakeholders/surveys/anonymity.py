"""What an anonymous survey keeps from the PMO: who answered, and when; and the one
minimum group size under which no figures of a group are shown.

The rules every page, export and e-mail of an anonymous survey follows (docs/security.md,
"Anonymous surveys: what each role can learn"):

- Nothing per invitation tells whether its stakeholder answered: not the answer's time,
  not the answers in progress, and not the reminder, which goes only to those who have
  not answered. ANSWER_STATE_FIELDS are those fields.
- Answers are listed in an order that depends on their content only, never on the
  order they came in: next to the response count that a member can watch grow, the
  position of an answer in a list would point at whoever answered just then.
"""

import hashlib

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import MD5

# Invitation fields that say whether, or when, its stakeholder answered.
ANSWER_STATE_FIELDS = ("responded_at", "draft_answers", "draft_saved_at", "reminder_claimed_at", "reminded_at")


def comment_order() -> list:
    """order_by() terms for the comments of an anonymous survey: by a hash of the text.

    A hash rather than the text itself, so that the first 100 shown are not those that
    start with "A". MD5 is no safeguard here, only a shuffle that SQLite and PostgreSQL
    both compute; identical texts, which tie, cannot be told apart anyway.
    """
    return [MD5("comment"), "comment"]


def content_key(comment: str, cells) -> tuple:
    """Sort key of an anonymous response's row in an export: its comment as comment_order()
    sorts it, then its other cells, so that the order is a function of the rows alone."""
    digest = hashlib.md5((comment or "").encode(), usedforsecurity=False).hexdigest()
    return (digest, comment or "", tuple("" if cell is None else str(cell) for cell in cells))


# The minimum group size ---------------------------------------------------------------------
#
# Figures of a group with fewer responses than PMO5P_MIN_GROUP_SIZE are hidden, so that
# nobody's answers can be singled out (docs/figures.md, "Per segment, and the minimum group
# size"). Every page, export, API and e-mail asks here; none reads the setting itself.


def min_group_size() -> int:
    """The threshold, for the sentences that name it ("fewer than 3 responses")."""
    return settings.MIN_GROUP_SIZE


def group_is_shown(responses: int) -> bool:
    """Whether a group of this many responses may have its figures shown."""
    return responses >= settings.MIN_GROUP_SIZE


def enough_responses(count_field: str) -> Q:
    """The same rule as a filter on a queryset annotated with a count of responses."""
    return Q(**{f"{count_field}__gte": settings.MIN_GROUP_SIZE})


def hidden_groups(responses: QuerySet) -> set[tuple[int, int | None]]:
    """The (survey, segment) pairs of these responses whose figures are hidden, in one query.

    A response counts in the segment it was given in (Response.segment); no segment is a
    group of its own (None).
    """
    counts = responses.values("survey_id", "segment_id").annotate(n=Count("pk")).order_by()
    return {(row["survey_id"], row["segment_id"]) for row in counts if not group_is_shown(row["n"])}
