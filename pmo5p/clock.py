"""Moments that recur at a local time of day in a PMO's time zone: the report schedule's runs
(agenda/reports/periods.py) and each member's weekly digest (pmo5p/services.py).

Daylight saving, the one rule for both: a time of day that does not exist on the day the
clocks go forward is the same wall time before the change (an hour later than it reads); a
time that happens twice when they go back is its first occurrence.
"""

import zoneinfo
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta


def next_local_moment(
    time_zone: str, at: time, first_date_on_or_after: Callable[[date], date], after: datetime
) -> datetime:
    """The first moment strictly after `after` (UTC) that falls at `at` on one of the dates
    `first_date_on_or_after` gives, read in `time_zone`."""
    zone = zoneinfo.ZoneInfo(time_zone)
    # Compared in UTC: two datetimes of the same zone compare by wall time, ignoring `fold`,
    # so 01:30 (first) would count as later than 01:15 (second) on the night the clocks go back.
    after = after.astimezone(UTC)
    day = after.astimezone(zone).date()
    while True:
        on = first_date_on_or_after(day)
        # fold=0 (the default) gives both halves of the rule above.
        moment = datetime.combine(on, at, tzinfo=zone).astimezone(UTC)
        if moment > after:
            return moment
        day = on + timedelta(days=1)


def next_weekday(weekday: int, on_or_after: date) -> date:
    """The first date on or after `on_or_after` that is `weekday` (0 = Monday)."""
    return on_or_after + timedelta(days=(weekday - on_or_after.weekday()) % 7)


def next_weekly_moment(time_zone: str, weekday: int, at: time, after: datetime) -> datetime:
    """The first `weekday` at `at` in `time_zone` strictly after `after`, in UTC."""
    return next_local_moment(time_zone, at, lambda day: next_weekday(weekday, day), after)
