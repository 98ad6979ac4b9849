"""When scheduled reports run and which period each covers (agenda/reports/periods.py).

The UTC moments below are worked out by hand from the zones' rules for 2026:
- Europe/London: GMT (+0) in winter, BST (+1) from 01:00 UTC on 29 March to 01:00 UTC
  on 25 October; 01:30 on 29 March does not exist, 01:30 on 25 October happens twice;
- America/New_York: EST (−5), EDT (−4) from 8 March 02:00 local to 1 November 02:00 local;
- Asia/Kolkata: +05:30 all year;
- Pacific/Auckland: NZDT (+13) until 5 April 03:00 local (back to 02:00), NZST (+12)
  until 27 September 02:00 local (on to 03:00), then NZDT again.

A time that does not exist runs at the same wall time before the change (an hour later
than it reads); a time that happens twice runs at its first occurrence.

The properties are checked over a fixed, seeded sample of moments and schedules.
"""

import random
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest

from agenda.models import Frequency, ReportSchedule
from agenda.reports import periods
from pmo5p.models import Pmo

WEEKLY, MONTHLY, QUARTERLY = Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]


def schedule(frequency=MONTHLY, *, weekday=MON, day=1, at=time(8, 0), zone="Europe/London") -> ReportSchedule:
    """An unsaved schedule: the period arithmetic needs no database."""
    return ReportSchedule(
        pmo=Pmo(name="Zone PMO", slug="zone", time_zone=zone),
        frequency=frequency,
        weekday=weekday,
        day_of_month=day,
        send_at=at,
    )


def utc(*args, **kwargs) -> datetime:
    return datetime(*args, **kwargs, tzinfo=UTC)


def local(zone: str, *args, fold=0) -> datetime:
    return datetime(*args, fold=fold, tzinfo=zoneinfo.ZoneInfo(zone))


# next_run_date ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "on_or_after", "expected"),
    [
        (WED, date(2026, 11, 25), date(2026, 11, 25)),  # a Wednesday: on or after includes the day
        (MON, date(2026, 11, 25), date(2026, 11, 30)),
        (TUE, date(2026, 11, 25), date(2026, 12, 1)),  # across a month end
        (FRI, date(2026, 12, 30), date(2027, 1, 1)),  # across the year end
        (SUN, date(2026, 12, 28), date(2027, 1, 3)),
    ],
)
def test_next_run_date_weekly(weekday, on_or_after, expected):
    assert periods.next_run_date(WEEKLY, weekday, 1, on_or_after) == expected
    assert expected.weekday() == weekday


@pytest.mark.parametrize(
    ("day", "on_or_after", "expected"),
    [
        (1, date(2026, 11, 1), date(2026, 11, 1)),
        (1, date(2026, 11, 2), date(2026, 12, 1)),
        (1, date(2026, 12, 2), date(2027, 1, 1)),  # year boundary
        (15, date(2026, 12, 16), date(2027, 1, 15)),
        (31, date(2026, 1, 31), date(2026, 1, 31)),
        (31, date(2026, 4, 1), date(2026, 4, 30)),  # April has 30 days
        (31, date(2026, 5, 1), date(2026, 5, 31)),
        (31, date(2027, 2, 1), date(2027, 2, 28)),
        (31, date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        (31, date(2026, 12, 31), date(2026, 12, 31)),
        (31, date(2027, 1, 1), date(2027, 1, 31)),
        (30, date(2026, 2, 1), date(2026, 2, 28)),  # day 30 in February
        (30, date(2028, 2, 1), date(2028, 2, 29)),
        (30, date(2026, 3, 1), date(2026, 3, 30)),  # back to the 30th after February
        (29, date(2027, 2, 10), date(2027, 2, 28)),
        (29, date(2028, 2, 10), date(2028, 2, 29)),
        (30, date(2026, 4, 30), date(2026, 4, 30)),
    ],
)
def test_next_run_date_monthly_clamps_to_the_last_day(day, on_or_after, expected):
    assert periods.next_run_date(MONTHLY, MON, day, on_or_after) == expected


@pytest.mark.parametrize(
    ("day", "on_or_after", "expected"),
    [
        (1, date(2026, 1, 1), date(2026, 1, 1)),
        (1, date(2026, 1, 2), date(2026, 4, 1)),
        (1, date(2026, 2, 15), date(2026, 4, 1)),  # from the middle of a quarter
        (1, date(2026, 3, 31), date(2026, 4, 1)),
        (1, date(2026, 4, 1), date(2026, 4, 1)),
        (1, date(2026, 10, 2), date(2027, 1, 1)),  # year boundary
        (15, date(2026, 12, 10), date(2027, 1, 15)),
        (15, date(2026, 11, 20), date(2027, 1, 15)),
        (15, date(2026, 7, 14), date(2026, 7, 15)),
        (31, date(2026, 4, 1), date(2026, 4, 30)),  # the quarter's first month is short
        (31, date(2026, 5, 1), date(2026, 7, 31)),
        (31, date(2026, 2, 1), date(2026, 4, 30)),
    ],
)
def test_next_run_date_quarterly(day, on_or_after, expected):
    assert periods.next_run_date(QUARTERLY, MON, day, on_or_after) == expected
    assert expected.month in (1, 4, 7, 10)


# previous_run_date and period_ending -----------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "day", "run_date", "expected"),
    [
        (WEEKLY, 1, date(2027, 1, 1), date(2026, 12, 25)),
        (MONTHLY, 1, date(2027, 1, 1), date(2026, 12, 1)),
        (MONTHLY, 31, date(2026, 4, 30), date(2026, 3, 31)),
        (MONTHLY, 31, date(2026, 3, 31), date(2026, 2, 28)),
        (MONTHLY, 31, date(2028, 3, 31), date(2028, 2, 29)),
        (MONTHLY, 31, date(2028, 2, 29), date(2028, 1, 31)),
        (MONTHLY, 30, date(2026, 3, 30), date(2026, 2, 28)),
        (MONTHLY, 30, date(2026, 2, 28), date(2026, 1, 30)),
        (QUARTERLY, 1, date(2027, 1, 1), date(2026, 10, 1)),
        (QUARTERLY, 31, date(2026, 4, 30), date(2026, 1, 31)),
        (QUARTERLY, 31, date(2026, 7, 31), date(2026, 4, 30)),
        (QUARTERLY, 31, date(2027, 1, 31), date(2026, 10, 31)),
    ],
)
def test_previous_run_date(frequency, day, run_date, expected):
    assert periods.previous_run_date(frequency, FRI, day, run_date) == expected


@pytest.mark.parametrize(
    ("frequency", "weekday", "day", "run_date", "expected"),
    [
        (WEEKLY, MON, 1, date(2026, 11, 30), (date(2026, 11, 23), date(2026, 11, 30))),
        (WEEKLY, FRI, 1, date(2027, 1, 1), (date(2026, 12, 25), date(2027, 1, 1))),
        (MONTHLY, MON, 1, date(2027, 1, 1), (date(2026, 12, 1), date(2027, 1, 1))),
        (MONTHLY, MON, 31, date(2026, 4, 30), (date(2026, 3, 31), date(2026, 4, 30))),
        (MONTHLY, MON, 31, date(2027, 2, 28), (date(2027, 1, 31), date(2027, 2, 28))),
        (MONTHLY, MON, 31, date(2027, 3, 31), (date(2027, 2, 28), date(2027, 3, 31))),
        (MONTHLY, MON, 31, date(2028, 2, 29), (date(2028, 1, 31), date(2028, 2, 29))),
        (MONTHLY, MON, 30, date(2026, 2, 28), (date(2026, 1, 30), date(2026, 2, 28))),
        (QUARTERLY, MON, 1, date(2026, 4, 1), (date(2026, 1, 1), date(2026, 4, 1))),
        (QUARTERLY, MON, 1, date(2027, 1, 1), (date(2026, 10, 1), date(2027, 1, 1))),
        (QUARTERLY, MON, 31, date(2026, 4, 30), (date(2026, 1, 31), date(2026, 4, 30))),
    ],
)
def test_period_ending_covers_previous_run_date_up_to_this_one(frequency, weekday, day, run_date, expected):
    assert periods.period_ending(schedule(frequency, weekday=weekday, day=day), run_date) == expected


def test_consecutive_monthly_periods_on_the_31st_tile_the_year_without_gap_or_overlap():
    s = schedule(MONTHLY, day=31)
    run = periods.next_run_date(MONTHLY, MON, 31, date(2027, 1, 1))
    covered = []
    for _ in range(14):
        start, end = periods.period_ending(s, run)
        covered.append((start, end))
        run = periods.next_run_date(MONTHLY, MON, 31, run + timedelta(days=1))
    assert covered[0] == (date(2026, 12, 31), date(2027, 1, 31))
    assert covered[1] == (date(2027, 1, 31), date(2027, 2, 28))
    assert covered[2] == (date(2027, 2, 28), date(2027, 3, 31))
    assert covered[3] == (date(2027, 3, 31), date(2027, 4, 30))
    for (_, end), (start, _) in zip(covered, covered[1:], strict=False):
        assert end == start
    days = sum((end - start).days for start, end in covered)
    assert days == (covered[-1][1] - covered[0][0]).days


def test_the_same_run_date_always_gives_the_same_period():
    s = schedule(MONTHLY, day=31)
    first = periods.period_ending(s, date(2026, 4, 30))
    # From different starting points, the dispatcher lands on the same run date and period.
    for day in (date(2026, 4, 1), date(2026, 4, 15), date(2026, 4, 30)):
        run_date = periods.next_run_date(MONTHLY, MON, 31, day)
        assert periods.period_ending(s, run_date) == first == (date(2026, 3, 31), date(2026, 4, 30))


# next_run_at -------------------------------------------------------------------------------


def test_next_run_at_is_strictly_after():
    s = schedule(MONTHLY, day=1, at=time(8, 0), zone="Europe/London")
    due = utc(2026, 12, 1, 8, 0)  # 08:00 GMT
    assert periods.next_run_at(s, due - timedelta(microseconds=1)) == due
    assert periods.next_run_at(s, due) == utc(2027, 1, 1, 8, 0)  # the moment itself is not returned
    assert periods.next_run_at(s, due + timedelta(seconds=1)) == utc(2027, 1, 1, 8, 0)


def test_next_run_at_later_on_the_run_day_moves_to_the_next_period():
    s = schedule(WEEKLY, weekday=WED, at=time(8, 0), zone="Europe/London")
    assert periods.next_run_at(s, utc(2026, 11, 25, 7, 59)) == utc(2026, 11, 25, 8, 0)
    assert periods.next_run_at(s, utc(2026, 11, 25, 9, 0)) == utc(2026, 12, 2, 8, 0)


def test_next_run_at_is_returned_in_utc():
    s = schedule(MONTHLY, zone="Asia/Kolkata")
    moment = periods.next_run_at(s, utc(2026, 11, 25))
    assert moment.utcoffset() == timedelta(0)
    assert moment.tzinfo == UTC


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 1, 10), utc(2026, 2, 1, 8, 0)),  # winter: GMT
        (utc(2026, 6, 10), utc(2026, 7, 1, 7, 0)),  # summer: BST, an hour earlier in UTC
        (utc(2026, 3, 10), utc(2026, 4, 1, 7, 0)),  # the month the clocks go forward
        (utc(2026, 10, 10), utc(2026, 11, 1, 8, 0)),  # the month they go back
    ],
)
def test_london_monthly_follows_summer_time(after, expected):
    assert periods.next_run_at(schedule(MONTHLY, zone="Europe/London"), after) == expected


def test_london_time_that_does_not_exist_runs_an_hour_later_than_it_reads():
    # Sunday 29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 never shows on a clock.
    s = schedule(WEEKLY, weekday=SUN, at=time(1, 30), zone="Europe/London")
    moment = periods.next_run_at(s, utc(2026, 3, 28, 12, 0))
    assert moment == utc(2026, 3, 29, 1, 30)  # 02:30 BST
    assert moment.astimezone(zoneinfo.ZoneInfo("Europe/London")).strftime("%H:%M %Z") == "02:30 BST"
    assert periods.local_run_date(s, moment) == date(2026, 3, 29)
    # The week after, 01:30 BST again.
    assert periods.next_run_at(s, moment) == utc(2026, 4, 5, 0, 30)


def test_london_time_that_happens_twice_runs_once_at_its_first_occurrence():
    # Sunday 25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice.
    s = schedule(WEEKLY, weekday=SUN, at=time(1, 30), zone="Europe/London")
    first = periods.next_run_at(s, utc(2026, 10, 24, 12, 0))
    assert first == utc(2026, 10, 25, 0, 30)  # 01:30 BST
    # Not again at the second 01:30 (01:30 GMT): the next run is the week after.
    assert periods.next_run_at(s, first) == utc(2026, 11, 1, 1, 30)
    assert periods.next_run_at(s, utc(2026, 10, 25, 1, 0)) == utc(2026, 11, 1, 1, 30)


def test_an_after_moment_given_in_the_local_zone_compares_by_its_real_instant():
    # 01:15 at its second occurrence (GMT) is 01:15 UTC, after the first 01:30 (00:30 UTC):
    # a wall-clock comparison would take 01:30 > 01:15 and return a moment in the past.
    s = schedule(WEEKLY, weekday=SUN, at=time(1, 30), zone="Europe/London")
    after = local("Europe/London", 2026, 10, 25, 1, 15, fold=1)
    assert after.astimezone(UTC) == utc(2026, 10, 25, 1, 15)
    moment = periods.next_run_at(s, after)
    assert moment > after
    assert moment == utc(2026, 11, 1, 1, 30)
    # And the first occurrence, given locally, still finds the run after it.
    before = local("Europe/London", 2026, 10, 25, 1, 15, fold=0)  # 00:15 UTC
    assert periods.next_run_at(s, before) == utc(2026, 10, 25, 0, 30)


@pytest.mark.parametrize(
    ("at", "after", "expected"),
    [
        (time(8, 0), utc(2026, 3, 7, 12, 0), utc(2026, 3, 8, 12, 0)),  # 08:00 EDT, the first day of summer time
        (time(2, 30), utc(2026, 3, 7, 12, 0), utc(2026, 3, 8, 7, 30)),  # 02:30 does not exist: 03:30 EDT
        (time(1, 30), utc(2026, 10, 31, 12, 0), utc(2026, 11, 1, 5, 30)),  # twice: the first, EDT
        (time(8, 0), utc(2026, 10, 31, 12, 0), utc(2026, 11, 1, 13, 0)),  # 08:00 EST
    ],
)
def test_new_york_around_the_clock_changes(at, after, expected):
    s = schedule(WEEKLY, weekday=SUN, at=at, zone="America/New_York")
    assert periods.next_run_at(s, after) == expected


def test_new_york_week_before_the_change_is_an_hour_later_in_utc():
    s = schedule(WEEKLY, weekday=SAT, at=time(8, 0), zone="America/New_York")
    assert periods.next_run_at(s, utc(2026, 3, 6)) == utc(2026, 3, 7, 13, 0)  # EST
    assert periods.next_run_at(s, utc(2026, 3, 8)) == utc(2026, 3, 14, 12, 0)  # EDT


def test_new_york_time_that_happens_twice_runs_once():
    s = schedule(WEEKLY, weekday=SUN, at=time(1, 30), zone="America/New_York")
    first = periods.next_run_at(s, utc(2026, 10, 31, 12, 0))
    assert periods.next_run_at(s, first) == utc(2026, 11, 8, 6, 30)  # the Sunday after, EST


@pytest.mark.parametrize(
    ("at", "after", "expected"),
    [
        (time(8, 0), utc(2026, 6, 1), utc(2026, 6, 2, 2, 30)),  # a Tuesday, 08:00 IST = 02:30 UTC
        (time(8, 0), utc(2026, 12, 28), utc(2026, 12, 29, 2, 30)),  # no summer time: same in December
        (time(3, 0), utc(2026, 12, 28), utc(2026, 12, 28, 21, 30)),  # the run day starts the evening before in UTC
    ],
)
def test_kolkata_is_always_five_and_a_half_hours_ahead(at, after, expected):
    s = schedule(WEEKLY, weekday=TUE, at=at, zone="Asia/Kolkata")
    assert periods.next_run_at(s, after) == expected


def test_kolkata_monthly_run_on_the_1st_at_3am_falls_on_the_last_day_of_the_month_in_utc():
    s = schedule(MONTHLY, day=1, at=time(3, 0), zone="Asia/Kolkata")
    moment = periods.next_run_at(s, utc(2026, 12, 15))
    assert moment == utc(2026, 12, 31, 21, 30)
    assert periods.local_run_date(s, moment) == date(2027, 1, 1)
    assert periods.period_ending(s, periods.local_run_date(s, moment)) == (date(2026, 12, 1), date(2027, 1, 1))


@pytest.mark.parametrize(
    ("weekday", "at", "after", "expected"),
    [
        (SAT, time(8, 0), utc(2026, 4, 1), utc(2026, 4, 3, 19, 0)),  # NZDT +13
        (SUN, time(8, 0), utc(2026, 4, 1), utc(2026, 4, 4, 20, 0)),  # 5 April, after the change: NZST +12
        (SUN, time(2, 30), utc(2026, 4, 1), utc(2026, 4, 4, 13, 30)),  # twice: the first, NZDT
        (SUN, time(2, 30), utc(2026, 9, 20), utc(2026, 9, 26, 14, 30)),  # 27 Sep: does not exist, 03:30 NZDT
        (SUN, time(8, 0), utc(2026, 9, 20), utc(2026, 9, 26, 19, 0)),  # 27 Sep 08:00 NZDT
        (SAT, time(8, 0), utc(2026, 9, 20), utc(2026, 9, 25, 20, 0)),  # 26 Sep 08:00 NZST
    ],
)
def test_auckland_around_the_clock_changes(weekday, at, after, expected):
    s = schedule(WEEKLY, weekday=weekday, at=at, zone="Pacific/Auckland")
    assert periods.next_run_at(s, after) == expected


def test_auckland_time_that_happens_twice_runs_once():
    s = schedule(WEEKLY, weekday=SUN, at=time(2, 30), zone="Pacific/Auckland")
    first = periods.next_run_at(s, utc(2026, 4, 1))
    assert periods.next_run_at(s, first) == utc(2026, 4, 11, 14, 30)  # 12 April 02:30 NZST


def test_auckland_new_year_report_runs_on_new_years_eve_in_utc():
    s = schedule(MONTHLY, day=1, at=time(8, 0), zone="Pacific/Auckland")
    moment = periods.next_run_at(s, utc(2026, 12, 31, 18, 59))
    assert moment == utc(2026, 12, 31, 19, 0)
    run_date = periods.local_run_date(s, moment)
    assert run_date == date(2027, 1, 1)
    assert periods.period_ending(s, run_date) == (date(2026, 12, 1), date(2027, 1, 1))
    assert periods.next_run_at(s, moment) == utc(2027, 1, 31, 19, 0)  # 1 February 08:00 NZDT


def test_auckland_quarterly_on_the_31st():
    s = schedule(QUARTERLY, day=31, at=time(9, 0), zone="Pacific/Auckland")
    # 30 April 09:00 NZST (+12) = 21:00 UTC on the 29th.
    assert periods.next_run_at(s, utc(2026, 2, 1)) == utc(2026, 4, 29, 21, 0)
    # 31 July 09:00 NZST.
    assert periods.next_run_at(s, utc(2026, 4, 29, 21, 0)) == utc(2026, 7, 30, 21, 0)
    # 31 October 09:00 NZDT (+13) = 20:00 UTC on the 30th.
    assert periods.next_run_at(s, utc(2026, 7, 30, 21, 0)) == utc(2026, 10, 30, 20, 0)


def test_monthly_on_the_31st_runs_on_the_last_day_of_short_months():
    s = schedule(MONTHLY, day=31, at=time(8, 0), zone="Europe/London")
    moments = []
    after = utc(2027, 1, 1)
    for _ in range(4):
        after = periods.next_run_at(s, after)
        moments.append(after)
    assert moments == [
        utc(2027, 1, 31, 8, 0),
        utc(2027, 2, 28, 8, 0),
        utc(2027, 3, 31, 7, 0),  # BST from 28 March 2027
        utc(2027, 4, 30, 7, 0),
    ]
    leap = periods.next_run_at(s, utc(2028, 2, 1))
    assert leap == utc(2028, 2, 29, 8, 0)


# period_to_date ("send now") -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "today", "expected"),
    [
        (WEEKLY, date(2026, 11, 25), (date(2026, 11, 23), date(2026, 11, 26))),  # Monday to today
        (WEEKLY, date(2026, 11, 23), (date(2026, 11, 23), date(2026, 11, 24))),  # a Monday: one day
        (WEEKLY, date(2027, 1, 1), (date(2026, 12, 28), date(2027, 1, 2))),  # across the year end
        (MONTHLY, date(2026, 11, 25), (date(2026, 11, 1), date(2026, 11, 26))),
        (MONTHLY, date(2026, 11, 30), (date(2026, 11, 1), date(2026, 12, 1))),  # the last day of a month
        (MONTHLY, date(2028, 2, 29), (date(2028, 2, 1), date(2028, 3, 1))),
        (MONTHLY, date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
        (QUARTERLY, date(2026, 11, 25), (date(2026, 10, 1), date(2026, 11, 26))),
        (QUARTERLY, date(2026, 1, 1), (date(2026, 1, 1), date(2026, 1, 2))),
        (QUARTERLY, date(2026, 3, 31), (date(2026, 1, 1), date(2026, 4, 1))),
        (QUARTERLY, date(2026, 12, 31), (date(2026, 10, 1), date(2027, 1, 1))),
    ],
)
def test_period_to_date_without_a_schedule_is_the_calendar_week_month_or_quarter(frequency, today, expected):
    assert periods.period_to_date(frequency, today) == expected


@pytest.mark.parametrize(
    ("frequency", "weekday", "day", "today", "expected"),
    [
        # Weekly on Fridays: since last Friday.
        (WEEKLY, FRI, 1, date(2026, 11, 25), (date(2026, 11, 20), date(2026, 11, 26))),
        (WEEKLY, FRI, 1, date(2026, 11, 27), (date(2026, 11, 27), date(2026, 11, 28))),
        # Monthly on the 15th.
        (MONTHLY, MON, 15, date(2026, 3, 10), (date(2026, 2, 15), date(2026, 3, 11))),
        (MONTHLY, MON, 15, date(2026, 3, 15), (date(2026, 3, 15), date(2026, 3, 16))),
        (MONTHLY, MON, 15, date(2027, 1, 3), (date(2026, 12, 15), date(2027, 1, 4))),
        # Monthly on the 31st: April's run is on the 30th.
        (MONTHLY, MON, 31, date(2026, 4, 29), (date(2026, 3, 31), date(2026, 4, 30))),
        (MONTHLY, MON, 31, date(2026, 4, 30), (date(2026, 4, 30), date(2026, 5, 1))),
        (MONTHLY, MON, 31, date(2026, 3, 5), (date(2026, 2, 28), date(2026, 3, 6))),
        # Quarterly on the 15th.
        (QUARTERLY, MON, 15, date(2026, 11, 25), (date(2026, 10, 15), date(2026, 11, 26))),
        (QUARTERLY, MON, 15, date(2026, 1, 14), (date(2025, 10, 15), date(2026, 1, 15))),
    ],
)
def test_period_to_date_starts_at_the_schedules_last_run_date(frequency, weekday, day, today, expected):
    assert periods.period_to_date(frequency, today, weekday, day) == expected


@pytest.mark.parametrize(
    ("frequency", "weekday", "day", "after", "expected"),
    [
        (WEEKLY, MON, 1, date(2026, 11, 30), date(2026, 12, 7)),
        (WEEKLY, MON, 1, date(2026, 11, 25), date(2026, 11, 30)),
        (MONTHLY, MON, 31, date(2027, 1, 31), date(2027, 2, 28)),
        (MONTHLY, MON, 31, date(2027, 2, 28), date(2027, 3, 31)),  # not 28 March: the months differ in length
        (MONTHLY, MON, 1, date(2026, 12, 1), date(2027, 1, 1)),
        (QUARTERLY, MON, 31, date(2026, 4, 30), date(2026, 7, 31)),
    ],
)
def test_following_run_date_is_strictly_after(frequency, weekday, day, after, expected):
    assert periods.following_run_date(frequency, weekday, day, after) == expected


# Properties over a seeded sample -----------------------------------------------------------------

SAMPLE_SCHEDULES = [
    (WEEKLY, MON, 1),
    (WEEKLY, SUN, 1),
    (MONTHLY, MON, 1),
    (MONTHLY, MON, 15),
    (MONTHLY, MON, 29),
    (MONTHLY, MON, 30),
    (MONTHLY, MON, 31),
    (QUARTERLY, MON, 1),
    (QUARTERLY, MON, 31),
]
SAMPLE_TIMES = [time(0, 0), time(1, 30), time(2, 30), time(8, 0), time(23, 30)]


def sample_moments(seed: int, n: int = 60) -> list[datetime]:
    """Random moments in 2026–2028, plus the nights the clocks change in each zone."""
    rng = random.Random(seed)
    start = utc(2026, 1, 1)
    moments = [start + timedelta(seconds=rng.randrange(3 * 366 * 86400)) for _ in range(n)]
    moments += [
        utc(2026, 3, 29, 0, 59),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 0),
        utc(2026, 3, 8, 7, 0),
        utc(2026, 11, 1, 5, 30),
        utc(2026, 4, 4, 13, 30),
        utc(2026, 9, 26, 14, 0),
    ]
    return moments


@pytest.mark.parametrize("zone", ZONES)
def test_property_next_run_is_after_on_a_run_date_and_none_is_skipped(zone):
    tz = zoneinfo.ZoneInfo(zone)
    checked = 0
    for index, (frequency, weekday, day) in enumerate(SAMPLE_SCHEDULES):
        for at in SAMPLE_TIMES:
            s = schedule(frequency, weekday=weekday, day=day, at=at, zone=zone)
            for after in sample_moments(seed=index * 100 + at.hour):
                moment = periods.next_run_at(s, after)
                assert moment > after
                run_date = periods.local_run_date(s, moment)
                # On a run date, at the schedule's time (shifted only where that time does not exist).
                assert periods.next_run_date(frequency, weekday, day, run_date) == run_date
                assert moment == datetime.combine(run_date, at, tzinfo=tz).astimezone(UTC)
                # Minimal: the run before it is not after `after`.
                previous = periods.previous_run_date(frequency, weekday, day, run_date)
                assert datetime.combine(previous, at, tzinfo=tz).astimezone(UTC) <= after
                checked += 1
    assert checked == len(SAMPLE_SCHEDULES) * len(SAMPLE_TIMES) * 68


@pytest.mark.parametrize("zone", ZONES)
def test_property_consecutive_runs_give_adjacent_non_empty_periods(zone):
    for frequency, weekday, day in SAMPLE_SCHEDULES:
        s = schedule(frequency, weekday=weekday, day=day, at=time(1, 30), zone=zone)
        moment = periods.next_run_at(s, utc(2025, 12, 1))
        previous_period = None
        for _ in range(60 if frequency == WEEKLY else 30):
            run_date = periods.local_run_date(s, moment)
            start, end = periods.period_ending(s, run_date)
            assert start < end == run_date
            assert periods.period_ending(s, run_date) == (start, end)  # the same run date, the same period
            if previous_period is not None:
                assert previous_period[1] == start  # adjacent: no gap, no overlap
            previous_period = (start, end)
            following = periods.next_run_at(s, moment)
            assert following > moment
            moment = following


@pytest.mark.parametrize(("frequency", "weekday", "day"), SAMPLE_SCHEDULES)
def test_property_period_to_date_ends_tomorrow_and_starts_on_the_last_run_date(frequency, weekday, day):
    today = date(2026, 1, 1)
    for _ in range(800):
        start, end = periods.period_to_date(frequency, today, weekday, day)
        assert end == today + timedelta(days=1)
        assert start <= today
        assert periods.next_run_date(frequency, weekday, day, start) == start  # a run date
        assert periods.next_run_date(frequency, weekday, day, start + timedelta(days=1)) > today  # the latest one
        today += timedelta(days=1)
