"""The communication plan's rules and writes (issue 13, docs/engagement.md): touchpoints,
their dates, and what becomes of each date.

Recurrence is dateutil's rrule (RFC 5545's rules, which calendar programs share) with one
choice of ours: a touchpoint on the 29th–31st falls on a shorter month's last day instead
of skipping the month (a steering committee "on the 31st" meets on 30 April and on 28 or
29 February), as the report schedule does (agenda/reports/periods.py).
"""

import zoneinfo
from datetime import UTC, date, datetime, time

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, YEARLY, rrule
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pmo5p.rules import RuleViolation, worded
from stakeholders import register
from stakeholders.models import (
    MAX_RECURRENCE_YEARS,
    OccurrenceStatus,
    Recurrence,
    Touchpoint,
    TouchpointOccurrence,
)

# (rrule frequency, interval) of each recurrence.
_RULES = {
    Recurrence.WEEKLY: (WEEKLY, 1),
    Recurrence.FORTNIGHTLY: (WEEKLY, 2),
    Recurrence.MONTHLY: (MONTHLY, 1),
    Recurrence.QUARTERLY: (MONTHLY, 3),
    Recurrence.HALF_YEARLY: (MONTHLY, 6),
    Recurrence.YEARLY: (YEARLY, 1),
}


def latest_end(starts_on: date) -> date:
    """The last date a recurrence that starts on `starts_on` may run to."""
    return starts_on + relativedelta(years=MAX_RECURRENCE_YEARS)


def occurrence_dates(starts_on: date, recurrence: str, until: date | None) -> list[date]:
    """Every date of a touchpoint, in order: `starts_on` alone, or each date of its recurrence
    from `starts_on` up to and including `until`."""
    if recurrence == Recurrence.ONCE:
        return [starts_on]
    frequency, interval = _RULES[Recurrence(recurrence)]
    rule = {"freq": frequency, "interval": interval, "dtstart": starts_on, "until": until}
    if frequency in (MONTHLY, YEARLY) and starts_on.day > 28:
        # The month's day, or its last day when the month is shorter: of the days 28…d that
        # the month has, the last.
        rule.update(bymonthday=list(range(28, starts_on.day + 1)), bysetpos=-1)
        if frequency == YEARLY:
            rule.update(bymonth=starts_on.month)
    return [moment.date() for moment in rrule(**rule)]


def occurrence_start(on: date, at_time: time | None, time_zone: str) -> datetime | None:
    """The moment (UTC) a touchpoint's date begins at its time of day in the PMO's time zone;
    None for an all-day touchpoint. A time that does not exist on the day the clocks go
    forward reads as the wall time before the change (an hour later than it reads); a time that
    happens twice when they go back is its first occurrence, as for reports (agenda/reports/periods.py)."""
    if at_time is None:
        return None
    return datetime.combine(on, at_time, tzinfo=zoneinfo.ZoneInfo(time_zone)).astimezone(UTC)


# The write path: every web form and the API call these, and only these ---------------------------

TOUCHPOINT_FIELDS = [
    "purpose",
    "channel",
    "element",
    "owner",
    "stakeholders",
    "segment",
    "starts_on",
    "at_time",
    "duration_minutes",
    "recurrence",
    "until",
    "notes",
]

TOUCHPOINT_WORDS = {
    "purpose": {
        "required": "Say what it is for, e.g. “Show the benefits realised”.",
        "max_length": "Keep the purpose to 200 characters or fewer (it has %(show_value)d).",
    },
    "channel": {"required": "Choose a channel.", "invalid": "Choose a channel."},
    "element": {
        "required": "Choose the P it serves.",
        "invalid": "Choose the P it serves, one of the five elements.",
    },
    "starts_on": {"required": "Give its date.", "invalid": "Enter a date, e.g. 2026-11-25."},
    "at_time": {"invalid": "Enter a time, e.g. 09:30, or leave it empty for all day."},
    "duration_minutes": {
        "required": "Give its duration in minutes.",
        "invalid": "Give a duration from 5 minutes to 24 hours (1,440 minutes).",
    },
    "recurrence": {"required": "Say whether it repeats.", "invalid": "Choose how often it repeats."},
    "until": {"invalid": "Enter a date, e.g. 2027-11-25."},
    "notes": {"max_length": "Keep the notes to 2,000 characters or fewer (it has %(show_value)d)."},
}
OTHER_PMO_STAKEHOLDERS = "Choose stakeholders of this PMO: a touchpoint cannot be for a stakeholder of another PMO."
OTHER_PMO_SEGMENT = "Choose one of this PMO's segments: a touchpoint cannot be for a segment of another PMO."
NOBODY = "Choose at least one stakeholder, or a segment."
BOTH = "Choose named stakeholders or a segment, not both."
NO_OWNER = "Choose the member of this PMO who owns it."
NEVER_ENDS = (
    "Say until when it repeats: a recurrence that never ends is not planned. "
    "It may run until {latest:%-d %B %Y}, five years after its first date."
)
TOO_LONG = "A recurrence runs at most five years: from {first:%-d %B %Y}, until {latest:%-d %B %Y} at the latest."
ENDS_BEFORE = "The last date comes on or after the first ({first:%-d %B %Y})."
ALREADY_DONE = "This date is already done: its interaction is recorded."
ALREADY_CANCELLED = "This date was cancelled: it cannot be marked done or cancelled again."
NO_REASON = "Give a reason for cancelling it, e.g. “Sponsor on leave; next one in March”."


def _check_whom(pmo, touchpoint, stakeholders, errors: dict) -> None:
    if any(stakeholder.pmo_id != pmo.pk for stakeholder in stakeholders):
        errors["stakeholders"] = [RuleViolation("stakeholders", OTHER_PMO_STAKEHOLDERS)]
    if touchpoint.segment is not None and touchpoint.segment.pmo_id != pmo.pk:
        errors["segment"] = [RuleViolation("segment", OTHER_PMO_SEGMENT)]
    if errors.keys() & {"stakeholders", "segment"}:
        return
    if stakeholders and touchpoint.segment is not None:
        errors["stakeholders"] = [RuleViolation("stakeholders", BOTH)]
    elif not stakeholders and touchpoint.segment is None:
        errors["stakeholders"] = [RuleViolation("stakeholders", NOBODY)]


def _check_dates(touchpoint, errors: dict) -> None:
    first = touchpoint.starts_on
    if first is None or "starts_on" in errors or "until" in errors or touchpoint.recurrence == Recurrence.ONCE:
        return
    latest = latest_end(first)
    if touchpoint.until is None:
        errors["until"] = [RuleViolation("until", NEVER_ENDS.format(latest=latest))]
    elif touchpoint.until < first:
        errors["until"] = [RuleViolation("until", ENDS_BEFORE.format(first=first))]
    elif touchpoint.until > latest:
        errors["until"] = [RuleViolation("until", TOO_LONG.format(first=first, latest=latest))]


def _check_touchpoint(pmo, touchpoint, stakeholders: list, owner_given: bool = True) -> None:
    """Every rule of a touchpoint at once, so that a form shows all that is wrong; nothing saved.

    An owner is required when one is given (always, from the form) and on creation; a change
    that leaves it out keeps a touchpoint whose owner has left the PMO editable."""
    plain = [field for field in TOUCHPOINT_FIELDS if field not in ("owner", "stakeholders", "segment")]
    exclude = [f.name for f in touchpoint._meta.concrete_fields if f.name not in plain]
    errors = {}
    try:
        touchpoint.clean_fields(exclude=exclude)
    except ValidationError as error:
        errors = dict(worded(error, TOUCHPOINT_WORDS).error_dict)
    if len(touchpoint.notes or "") > 2000 and "notes" not in errors:
        errors["notes"] = [
            ValidationError(TOUCHPOINT_WORDS["notes"]["max_length"] % {"show_value": len(touchpoint.notes)})
        ]
    if (owner_given or touchpoint.owner is not None) and (
        touchpoint.owner is None or touchpoint.owner.pmo_id != pmo.pk
    ):
        errors["owner"] = [RuleViolation("owner", NO_OWNER)]
    _check_whom(pmo, touchpoint, stakeholders, errors)
    _check_dates(touchpoint, errors)
    if len(errors) == 1:
        ((field, (first, *rest)),) = errors.items()
        if not rest and isinstance(first, RuleViolation):
            raise first
    if errors:
        raise ValidationError(errors)


def _assign(touchpoint, values: dict) -> list | None:
    """Set `values` (TOUCHPOINT_FIELDS) on the touchpoint; the stakeholders given, or None."""
    values = dict(values)
    unknown = set(values) - set(TOUCHPOINT_FIELDS)
    assert not unknown, f"Not fields of a touchpoint: {unknown}"
    stakeholders = values.pop("stakeholders", None)
    for name, value in values.items():
        if name in ("purpose", "notes") and isinstance(value, str):
            value = value.strip()
        setattr(touchpoint, name, value)
    if touchpoint.recurrence == Recurrence.ONCE:
        # Once has no end: a date left in the hidden "until" of the form is not a rule broken.
        touchpoint.until = None
    return None if stakeholders is None else list(stakeholders)


def _new_rows(touchpoint, dates) -> list:
    return [TouchpointOccurrence(touchpoint=touchpoint, pmo_id=touchpoint.pmo_id, on=day) for day in dates]


def create_touchpoint(pmo, user, values: dict):
    """Plan a touchpoint of the PMO, by `user`, and make a row for each of its dates."""
    touchpoint = Touchpoint(pmo=pmo, created_by=user)
    stakeholders = _assign(touchpoint, values) or []
    _check_touchpoint(pmo, touchpoint, stakeholders)
    with transaction.atomic():
        touchpoint.save()
        touchpoint.stakeholders.set(stakeholders)
        TouchpointOccurrence.objects.bulk_create(
            _new_rows(touchpoint, occurrence_dates(touchpoint.starts_on, touchpoint.recurrence, touchpoint.until))
        )
    return touchpoint


def update_touchpoint(pmo, user, touchpoint, values: dict, today: date | None = None):
    """Change a touchpoint. What has happened stays: dates done or cancelled, and planned dates
    already past (missed, still to be done or cancelled). The planned dates from today on
    become the new rule's; a row whose date the new rule keeps stays as it is."""
    assert touchpoint.pmo_id == pmo.pk
    today = today or timezone.localdate()
    with transaction.atomic():
        # Two edits of one series at once would each replace the other's future dates.
        touchpoint = Touchpoint.objects.select_for_update().get(pk=touchpoint.pk)
        current = None if "stakeholders" in values else list(touchpoint.stakeholders.all())
        stakeholders = _assign(touchpoint, values)
        if stakeholders is None:
            stakeholders = current
        _check_touchpoint(pmo, touchpoint, stakeholders, owner_given="owner" in values)
        touchpoint.save()
        touchpoint.stakeholders.set(stakeholders)
        wanted = {
            day
            for day in occurrence_dates(touchpoint.starts_on, touchpoint.recurrence, touchpoint.until)
            if day >= today
        }
        rows = touchpoint.occurrences.all()
        rows.filter(status=OccurrenceStatus.PLANNED, on__gte=today).exclude(on__in=wanted).delete()
        kept = set(rows.values_list("on", flat=True))
        TouchpointOccurrence.objects.bulk_create(_new_rows(touchpoint, sorted(wanted - kept)))
    return touchpoint


def delete_touchpoint(pmo, user, touchpoint) -> int:
    """Delete a touchpoint and its dates; the interactions its done dates recorded stay in the
    register (they happened). The number of those interactions."""
    assert touchpoint.pmo_id == pmo.pk
    with transaction.atomic():
        recorded = touchpoint.occurrences.filter(interaction__isnull=False).count()
        touchpoint.delete()
    return recorded


def _locked_planned(pmo, occurrence):
    locked = TouchpointOccurrence.objects.select_for_update().get(pk=occurrence.pk, pmo=pmo)
    if locked.status == OccurrenceStatus.DONE:
        raise RuleViolation(None, ALREADY_DONE)
    if locked.status == OccurrenceStatus.CANCELLED:
        raise RuleViolation(None, ALREADY_CANCELLED)
    return locked


def mark_done(pmo, user, occurrence, values: dict):
    """Record the interaction of a planned date and mark the date done with it, in one step.

    The row is locked first, so that two clicks on "Done" make one interaction: the second
    waits, then finds the date done and is refused, nothing created. The interaction is
    written by the register's one write path (register.create_interaction), with its rules
    and the stakeholders' last touch."""
    with transaction.atomic():
        locked = _locked_planned(pmo, occurrence)
        interaction = register.create_interaction(pmo, user, values)
        locked.status = OccurrenceStatus.DONE
        locked.interaction = interaction
        locked.closed_at = timezone.now()
        locked.closed_by = user
        locked.save(update_fields=["status", "interaction", "closed_at", "closed_by"])
    return interaction


def cancel_occurrence(pmo, user, occurrence, reason: str):
    """Cancel a planned date, with a reason; it leaves the missed list."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("reason", NO_REASON)
    limit = TouchpointOccurrence._meta.get_field("cancel_reason").max_length
    if len(reason) > limit:
        raise RuleViolation("reason", f"Keep the reason to {limit} characters or fewer (it has {len(reason)}).")
    with transaction.atomic():
        locked = _locked_planned(pmo, occurrence)
        locked.status = OccurrenceStatus.CANCELLED
        locked.cancel_reason = reason
        locked.closed_at = timezone.now()
        locked.closed_by = user
        locked.save(update_fields=["status", "cancel_reason", "closed_at", "closed_by"])
    return locked


def interaction_values(occurrence, today: date, use_today: bool = False) -> dict:
    """What "Done" offers to record: the touchpoint's channel, P and purpose, on its date (or
    today; never a date to come, which the register refuses), with its named stakeholders or
    the segment's active stakeholders now."""
    touchpoint = occurrence.touchpoint
    if touchpoint.segment_id is not None:
        stakeholders = touchpoint.segment.stakeholders.filter(is_active=True, pmo_id=touchpoint.pmo_id)
    else:
        stakeholders = touchpoint.stakeholders.all()
    return {
        "occurred_on": today if use_today else min(occurrence.on, today),
        "kind": touchpoint.channel,
        "elements": [touchpoint.element],
        "stakeholders": list(stakeholders.order_by("name")),
        "sentiment": 0,
        "summary": touchpoint.purpose,
    }
