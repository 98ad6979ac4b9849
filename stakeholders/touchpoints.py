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

from stakeholders.models import MAX_RECURRENCE_YEARS, Recurrence

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
