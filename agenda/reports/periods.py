"""When reports run, and which period each covers, in the PMO's time zone.

A schedule runs on its run dates at its time of day, local time:
- weekly: every week on the chosen weekday;
- monthly: every month on the chosen day, or the month's last day if it is shorter
  (a schedule for the 31st runs on 30 April and 28 or 29 February);
- quarterly: on that day of January, April, July and October.

A scheduled report covers the period that has just ended: from the previous run
date up to, not including, this run date. The same run date always gives the same
period, which is what makes a rerun of a dispatch harmless.

Daylight saving: a time of day that does not exist on the day the clocks go forward
runs as the same wall time before the change (an hour later than it reads); a time
that happens twice when they go back runs at its first occurrence.
"""

import calendar
import zoneinfo
from datetime import date, datetime, timedelta

from agenda.models import Frequency
from pmo5p.clock import next_local_moment, next_weekday

QUARTER_MONTHS = (1, 4, 7, 10)


def _in_month(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def next_run_date(frequency: str, weekday: int, day_of_month: int, on_or_after: date) -> date:
    """The first run date on or after the given date."""
    if frequency == Frequency.WEEKLY:
        return next_weekday(weekday, on_or_after)
    year, month = on_or_after.year, on_or_after.month
    step = 1 if frequency == Frequency.MONTHLY else 3
    if frequency == Frequency.QUARTERLY:
        # Back to the start month of this quarter; the loop below moves on if needed.
        year, month = _add_months(year, month, -((month - 1) % 3))
    while True:
        candidate = _in_month(year, month, day_of_month)
        if candidate >= on_or_after:
            return candidate
        year, month = _add_months(year, month, step)


def previous_run_date(frequency: str, weekday: int, day_of_month: int, run_date: date) -> date:
    """The run date before the given run date."""
    if frequency == Frequency.WEEKLY:
        return run_date - timedelta(days=7)
    step = 1 if frequency == Frequency.MONTHLY else 3
    year, month = _add_months(run_date.year, run_date.month, -step)
    return _in_month(year, month, day_of_month)


def next_run_at(schedule, after: datetime) -> datetime:
    """The first run moment strictly after `after`, in UTC (the daylight saving rule above is
    pmo5p/clock.py's, which the weekly digest shares)."""
    return next_local_moment(
        schedule.pmo.time_zone,
        schedule.send_at,
        lambda day: next_run_date(schedule.frequency, schedule.weekday, schedule.day_of_month, day),
        after,
    )


def local_run_date(schedule, moment: datetime) -> date:
    return moment.astimezone(zoneinfo.ZoneInfo(schedule.pmo.time_zone)).date()


def period_ending(schedule, run_date: date) -> tuple[date, date]:
    """(first day, first day after) of the period a run on `run_date` reports on."""
    start = previous_run_date(schedule.frequency, schedule.weekday, schedule.day_of_month, run_date)
    return start, run_date


def period_to_date(frequency: str, today: date, weekday: int = 0, day_of_month: int = 1) -> tuple[date, date]:
    """For "send now": the current period up to and including today.

    The current period starts on the latest run date on or before today, so that it
    is the period the next scheduled report will cover; with the defaults (Monday,
    the 1st) it is the calendar week, month or quarter.
    """
    tomorrow = today + timedelta(days=1)
    start = previous_run_date(
        frequency, weekday, day_of_month, next_run_date(frequency, weekday, day_of_month, tomorrow)
    )
    return start, tomorrow


def following_run_date(frequency: str, weekday: int, day_of_month: int, after: date) -> date:
    """The first run date strictly after the given date (the end of "due next period")."""
    return next_run_date(frequency, weekday, day_of_month, after + timedelta(days=1))
