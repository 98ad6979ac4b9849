"""Rules and writes of the Relationship Marketing Agenda: actions and incidents.

The web forms (agenda/plan/forms.py, agenda/plan/views.py) and the API (agenda/api.py) both call
these; each rule is stated here only (pmo5p/rules.py).
"""

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from agenda.models.plan import Action, ActionStatus
from agenda.plan import suggestions
from pmo5p.rules import RuleViolation, not_in_future

# A new action is due a month from today unless its author says otherwise.
DUE_IN_DAYS = 30


def default_due_on() -> date:
    return timezone.localdate() + timedelta(days=DUE_IN_DAYS)


def check_due_on(action, due_on: date) -> date:
    """An action is due on the day it was created (today, for a new one) or later."""
    created = timezone.localtime(action.created_at).date() if action and action.pk else timezone.localdate()
    if due_on and due_on < created:
        raise RuleViolation(
            "due_on", f"The due date is before the action was created ({created:%-d %B %Y}): choose that day or later."
        )
    return due_on


def completion_time(status: str, completed_at: datetime | None) -> datetime | None:
    """When a done action was completed: stamped when it becomes done, kept while it stays done."""
    if status != ActionStatus.DONE:
        return None
    return completed_at or timezone.now()


def stamp_completion(action) -> None:
    action.completed_at = completion_time(action.status, action.completed_at)


def check_occurred_on(day: date) -> date:
    """An incident is recorded once it has happened."""
    return not_in_future("occurred_on", day, "The date is in the future: record what has happened, up to today.")


class AlreadyAdopted(RuleViolation):
    """Someone adopted the suggestion between the page and the click: it is on the agenda."""


def adopt_suggestion(pmo, membership, key: str) -> Action:
    """Turn the suggestion proposed under `key` into an action owned by `membership`.

    The unique suggestion key per PMO decides between two adoptions racing each other.
    """
    suggestion = suggestions.find(pmo, key)
    if suggestion is None:
        raise RuleViolation(
            None, "That suggestion is no longer proposed: it was adopted already, or the figures changed."
        )
    try:
        with transaction.atomic():
            action = Action.objects.create(
                pmo=pmo,
                title=suggestion.title[:200],
                element=suggestion.element,
                problem=suggestion.problem,
                expected_effect=suggestion.expected_effect,
                notes=f"Suggested by pmo5p: {suggestion.why}",
                owner=membership,
                due_on=default_due_on(),
                suggestion_key=suggestion.key,
                service_id=suggestion.service_id,
                created_by=membership.user,
            )
            if suggestion.segment_id:
                action.target_segments.add(suggestion.segment_id)
            if suggestion.stakeholder_id:
                action.target_stakeholders.add(suggestion.stakeholder_id)
    except IntegrityError as error:
        raise AlreadyAdopted(None, "That suggestion was adopted already: it is on the agenda.") from error
    return action
