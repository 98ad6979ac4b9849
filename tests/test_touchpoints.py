"""The communication plan (docs/engagement.md, "The communication plan"): touchpoints' dates
across month ends, daylight saving and the four test time zones; the five-year limit; the
write path's rules (stakeholders/touchpoints.py); marking a date done and cancelling one; the
pages.

The UTC moments are worked out by hand from the zones' rules for 2026 (as tests/test_periods.py):
Europe/London GMT (+0), BST (+1) from 01:00 UTC on 29 March to 01:00 UTC on 25 October;
America/New_York EST (−5), EDT (−4) from 8 March to 1 November; Asia/Kolkata +05:30 all
year; Pacific/Auckland NZDT (+13) until 5 April, NZST (+12) until 27 September.
"""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from pmo5p.rules import RuleViolation
from stakeholders import touchpoints
from stakeholders.models import Interaction, OccurrenceStatus, Recurrence, Touchpoint, TouchpointOccurrence
from stakeholders.touchpoints import latest_end, occurrence_dates, occurrence_start
from tests.factories import SegmentFactory, StakeholderFactory

LONDON = "Europe/London"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Dates --------------------------------------------------------------------------------------------


def test_monthly_on_the_31st_falls_on_each_shorter_months_last_day():
    assert occurrence_dates(date(2026, 1, 31), Recurrence.MONTHLY, date(2026, 12, 31)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
        date(2026, 8, 31),
        date(2026, 9, 30),
        date(2026, 10, 31),
        date(2026, 11, 30),
        date(2026, 12, 31),
    ]


def test_monthly_on_the_29th_meets_on_29_february_in_a_leap_year_and_the_28th_otherwise():
    assert occurrence_dates(date(2027, 12, 29), Recurrence.MONTHLY, date(2028, 3, 29)) == [
        date(2027, 12, 29),
        date(2028, 1, 29),
        date(2028, 2, 29),
        date(2028, 3, 29),
    ]
    assert occurrence_dates(date(2026, 1, 29), Recurrence.MONTHLY, date(2026, 3, 1))[1] == date(2026, 2, 28)


def test_yearly_from_29_february_falls_on_28_february_outside_leap_years():
    assert occurrence_dates(date(2024, 2, 29), Recurrence.YEARLY, latest_end(date(2024, 2, 29))) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
        date(2029, 2, 28),
    ]
    assert latest_end(date(2024, 2, 29)) == date(2029, 2, 28)


def test_quarterly_from_the_30th_keeps_the_30th_and_takes_february_s_last_day():
    assert occurrence_dates(date(2026, 1, 30), Recurrence.QUARTERLY, date(2027, 1, 30)) == [
        date(2026, 1, 30),
        date(2026, 4, 30),
        date(2026, 7, 30),
        date(2026, 10, 30),
        date(2027, 1, 30),
    ]
    assert occurrence_dates(date(2025, 11, 30), Recurrence.QUARTERLY, date(2026, 8, 30)) == [
        date(2025, 11, 30),
        date(2026, 2, 28),
        date(2026, 5, 30),
        date(2026, 8, 30),
    ]


def test_weekly_fortnightly_and_once():
    assert occurrence_dates(date(2026, 3, 2), Recurrence.ONCE, None) == [date(2026, 3, 2)]
    assert occurrence_dates(date(2026, 3, 2), Recurrence.FORTNIGHTLY, date(2026, 3, 30)) == [
        date(2026, 3, 2),
        date(2026, 3, 16),
        date(2026, 3, 30),
    ]
    assert len(occurrence_dates(date(2026, 1, 5), Recurrence.WEEKLY, latest_end(date(2026, 1, 5)))) == 261


def test_a_weekly_0900_in_london_stays_0900_local_and_its_utc_moment_moves_with_daylight_saving():
    dates = occurrence_dates(date(2026, 3, 16), Recurrence.WEEKLY, date(2026, 11, 2))
    starts = {day: occurrence_start(day, time(9, 0), LONDON) for day in dates}
    assert starts[date(2026, 3, 23)] == utc(2026, 3, 23, 9, 0)  # GMT
    assert starts[date(2026, 3, 30)] == utc(2026, 3, 30, 8, 0)  # BST from 29 March
    assert starts[date(2026, 10, 19)] == utc(2026, 10, 19, 8, 0)
    assert starts[date(2026, 10, 26)] == utc(2026, 10, 26, 9, 0)  # GMT again from 25 October
    london = zoneinfo.ZoneInfo(LONDON)
    assert {moment.astimezone(london).time() for moment in starts.values()} == {time(9, 0)}


def test_0130_on_the_night_the_clocks_go_forward_is_read_as_the_wall_time_before_the_change():
    moment = occurrence_start(date(2026, 3, 29), time(1, 30), LONDON)
    assert moment == utc(2026, 3, 29, 1, 30)
    assert moment.astimezone(zoneinfo.ZoneInfo(LONDON)).strftime("%H:%M %Z") == "02:30 BST"
    # Back in October, 01:30 happens twice: its first time, in BST.
    assert occurrence_start(date(2026, 10, 25), time(1, 30), LONDON) == utc(2026, 10, 25, 0, 30)


@pytest.mark.parametrize(
    ("zone", "winter", "summer"),
    [
        (LONDON, utc(2026, 12, 15, 9, 30), utc(2026, 7, 15, 8, 30)),
        ("America/New_York", utc(2026, 12, 15, 14, 30), utc(2026, 7, 15, 13, 30)),
        ("Asia/Kolkata", utc(2026, 12, 15, 4, 0), utc(2026, 7, 15, 4, 0)),
        ("Pacific/Auckland", utc(2026, 12, 14, 20, 30), utc(2026, 7, 14, 21, 30)),
    ],
)
def test_occurrence_start_in_the_four_test_time_zones(zone, winter, summer):
    assert occurrence_start(date(2026, 12, 15), time(9, 30), zone) == winter
    assert occurrence_start(date(2026, 7, 15), time(9, 30), zone) == summer
    assert occurrence_start(date(2026, 7, 15), None, zone) is None


# The write path -----------------------------------------------------------------------------------


def values(world, **changes) -> dict:
    return {
        "purpose": "Steering committee",
        "channel": "meeting",
        "element": "physical_evidence",
        "owner": world.membership(world.member),
        "stakeholders": [world.stakeholder],
        "segment": None,
        "starts_on": date(2026, 1, 31),
        "at_time": time(9, 0),
        "duration_minutes": 60,
        "recurrence": Recurrence.MONTHLY,
        "until": date(2026, 12, 31),
        "notes": "",
        **changes,
    }


def refusal_of(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    error = caught.value
    if isinstance(error, RuleViolation):
        return {error.field: error.messages}
    return {field: [str(m) for e in errors for m in e.messages] for field, errors in error.error_dict.items()}


def test_creating_makes_a_row_for_each_date(world):
    touchpoint = touchpoints.create_touchpoint(world.pmo, world.member, values(world))
    rows = list(touchpoint.occurrences.values_list("on", "status", "pmo_id"))
    assert [on for on, _, _ in rows] == occurrence_dates(date(2026, 1, 31), Recurrence.MONTHLY, date(2026, 12, 31))
    assert {(status, pmo) for _, status, pmo in rows} == {(OccurrenceStatus.PLANNED, world.pmo.pk)}
    assert list(touchpoint.stakeholders.all()) == [world.stakeholder]
    assert touchpoint.created_by == world.member


def test_exactly_five_years_is_accepted_and_a_day_more_refused(world):
    first = date(2026, 1, 15)
    touchpoints.create_touchpoint(world.pmo, world.member, values(world, starts_on=first, until=date(2031, 1, 15)))
    assert refusal_of(
        lambda: touchpoints.create_touchpoint(
            world.pmo, world.member, values(world, starts_on=first, until=date(2031, 1, 16))
        )
    ) == {"until": ["A recurrence runs at most five years: from 15 January 2026, until 15 January 2031 at the latest."]}
    assert Touchpoint.objects.count() == 1


def test_a_recurrence_that_never_ends_is_refused(world):
    refusal = refusal_of(lambda: touchpoints.create_touchpoint(world.pmo, world.member, values(world, until=None)))
    assert refusal == {"until": [touchpoints.NEVER_ENDS.format(latest=date(2031, 1, 31))]}
    assert "never ends" in refusal["until"][0]
    assert not Touchpoint.objects.exists() and not TouchpointOccurrence.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ("other_stakeholder", "stakeholders", touchpoints.OTHER_PMO_STAKEHOLDERS),
        ("other_segment", "segment", touchpoints.OTHER_PMO_SEGMENT),
        ("other_owner", "owner", touchpoints.NO_OWNER),
        ("nobody", "stakeholders", touchpoints.NOBODY),
        ("both", "stakeholders", touchpoints.BOTH),
        ("ends_before", "until", "The last date comes on or after the first (31 January 2026)."),
        ("no_purpose", "purpose", "Say what it is for, e.g. “Show the benefits realised”."),
        ("no_element", "element", "Choose the P it serves."),
    ],
)
def test_bad_input_is_refused_with_its_message_and_nothing_saved(world, changes, field, message):
    from pmo5p.models import Membership

    change = {
        "other_stakeholder": {"stakeholders": [world.stakeholder, world.other_stakeholder]},
        "other_segment": {"stakeholders": [], "segment": world.other_segment},
        "other_owner": {"owner": Membership.objects.get(pmo=world.other_pmo)},
        "nobody": {"stakeholders": []},
        "both": {"segment": world.segment},
        "ends_before": {"until": date(2026, 1, 30)},
        "no_purpose": {"purpose": "   "},
        "no_element": {"element": ""},
    }[changes]
    assert refusal_of(lambda: touchpoints.create_touchpoint(world.pmo, world.member, values(world, **change))) == {
        field: [message]
    }
    assert not Touchpoint.objects.exists() and not TouchpointOccurrence.objects.exists()


def test_once_has_no_end(world):
    touchpoint = touchpoints.create_touchpoint(
        world.pmo, world.member, values(world, recurrence=Recurrence.ONCE, until=date(2026, 6, 1))
    )
    assert touchpoint.until is None
    assert list(touchpoint.occurrences.values_list("on", flat=True)) == [date(2026, 1, 31)]


def test_updating_a_series_keeps_what_happened_and_replaces_the_dates_to_come(world):
    touchpoint = touchpoints.create_touchpoint(
        world.pmo, world.member, values(world, starts_on=date(2026, 1, 15), until=date(2026, 8, 15))
    )
    rows = {row.on: row for row in touchpoint.occurrences.all()}
    TouchpointOccurrence.objects.filter(pk=rows[date(2026, 1, 15)].pk).update(status=OccurrenceStatus.DONE)
    TouchpointOccurrence.objects.filter(pk=rows[date(2026, 5, 15)].pk).update(
        status=OccurrenceStatus.CANCELLED, cancel_reason="Holiday"
    )
    # On 1 April: 15 February and 15 March were missed; 15 May is cancelled ahead.
    touchpoints.update_touchpoint(
        world.pmo,
        world.member,
        touchpoint,
        {"recurrence": Recurrence.FORTNIGHTLY, "starts_on": date(2026, 4, 1), "until": date(2026, 5, 15)},
        today=date(2026, 4, 1),
    )
    after = {row.on: row for row in touchpoint.occurrences.all()}
    assert {on: row.status for on, row in after.items()} == {
        date(2026, 1, 15): OccurrenceStatus.DONE,
        date(2026, 2, 15): OccurrenceStatus.PLANNED,  # missed: stays until done or cancelled
        date(2026, 3, 15): OccurrenceStatus.PLANNED,
        date(2026, 4, 1): OccurrenceStatus.PLANNED,
        date(2026, 4, 15): OccurrenceStatus.PLANNED,
        date(2026, 4, 29): OccurrenceStatus.PLANNED,
        date(2026, 5, 13): OccurrenceStatus.PLANNED,
        date(2026, 5, 15): OccurrenceStatus.CANCELLED,
    }
    # The old rule's 15 April is the new one's too: the same row.
    touchpoints.update_touchpoint(
        world.pmo, world.member, touchpoint, {"purpose": "Steering committee (new terms)"}, today=date(2026, 4, 1)
    )
    assert touchpoint.occurrences.get(on=date(2026, 4, 15)).pk == after[date(2026, 4, 15)].pk
    assert list(touchpoint.stakeholders.all()) == [world.stakeholder]


def test_an_update_that_breaks_a_rule_changes_nothing(world):
    touchpoint = touchpoints.create_touchpoint(world.pmo, world.member, values(world))
    before = list(touchpoint.occurrences.values_list("pk", "on"))
    with pytest.raises(ValidationError):
        touchpoints.update_touchpoint(
            world.pmo, world.member, touchpoint, {"until": date(2040, 1, 1)}, today=date(2026, 1, 1)
        )
    touchpoint.refresh_from_db()
    assert touchpoint.until == date(2026, 12, 31)
    assert list(touchpoint.occurrences.values_list("pk", "on")) == before


def _done_today(world):
    """A weekly touchpoint whose first date is today, in the PMO's time zone."""
    today = date(2026, 3, 10)
    touchpoint = touchpoints.create_touchpoint(
        world.pmo,
        world.member,
        values(
            world, recurrence=Recurrence.WEEKLY, starts_on=today - timedelta(days=7), until=today + timedelta(days=21)
        ),
    )
    return touchpoint, touchpoint.occurrences.get(on=today)


@time_machine.travel(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False)
def test_marking_done_records_the_interaction_once(world):
    touchpoint, occurrence = _done_today(world)
    answer = touchpoints.interaction_values(occurrence, date(2026, 3, 10))
    assert answer == {
        "occurred_on": date(2026, 3, 10),
        "kind": "meeting",
        "elements": ["physical_evidence"],
        "stakeholders": [world.stakeholder],
        "sentiment": 0,
        "summary": "Steering committee",
    }
    interaction = touchpoints.mark_done(world.pmo, world.member, occurrence, answer)
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.DONE and occurrence.interaction == interaction
    assert occurrence.closed_by == world.member and occurrence.closed_at is not None
    assert list(interaction.stakeholders.all()) == [world.stakeholder]
    # The second click: refused, nothing more.
    with pytest.raises(RuleViolation, match="already done"):
        touchpoints.mark_done(world.pmo, world.member, occurrence, answer)
    with pytest.raises(RuleViolation, match="already done"):
        touchpoints.cancel_occurrence(world.pmo, world.member, occurrence, "Too late")
    assert Interaction.objects.filter(pmo=world.pmo).count() == 1
    # Deleting the touchpoint keeps the interaction: it happened.
    assert touchpoints.delete_touchpoint(world.pmo, world.member, touchpoint) == 1
    assert Interaction.objects.filter(pk=interaction.pk).exists()
    assert not TouchpointOccurrence.objects.exists()


@time_machine.travel(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False)
def test_a_refused_interaction_leaves_the_date_planned(world):
    _, occurrence = _done_today(world)
    answer = {**touchpoints.interaction_values(occurrence, date(2026, 3, 10)), "stakeholders": [], "summary": ""}
    with pytest.raises(ValidationError):
        touchpoints.mark_done(world.pmo, world.member, occurrence, answer)
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.PLANNED and not Interaction.objects.exists()


def test_a_segment_touchpoint_is_done_with_the_segments_active_stakeholders(world):
    other = StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Anna Active")
    StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Gone Person", is_active=False)
    StakeholderFactory(pmo=world.pmo, segment=SegmentFactory(pmo=world.pmo), name="Elsewhere")
    touchpoint = touchpoints.create_touchpoint(
        world.pmo, world.member, values(world, stakeholders=[], segment=world.segment, recurrence=Recurrence.ONCE)
    )
    occurrence = touchpoint.occurrences.get()
    assert touchpoints.interaction_values(occurrence, date(2026, 3, 1))["stakeholders"] == [other, world.stakeholder]
    # A date to come is recorded as today: the register takes only what has happened.
    assert touchpoints.interaction_values(occurrence, date(2026, 1, 20))["occurred_on"] == date(2026, 1, 20)


def test_cancelling_needs_a_reason(world):
    touchpoint = touchpoints.create_touchpoint(world.pmo, world.member, values(world))
    occurrence = touchpoint.occurrences.first()
    assert refusal_of(lambda: touchpoints.cancel_occurrence(world.pmo, world.member, occurrence, "  ")) == {
        "reason": [touchpoints.NO_REASON]
    }
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.PLANNED
    touchpoints.cancel_occurrence(world.pmo, world.member, occurrence, " Sponsor on leave ")
    occurrence.refresh_from_db()
    assert (occurrence.status, occurrence.cancel_reason) == (OccurrenceStatus.CANCELLED, "Sponsor on leave")
    with pytest.raises(RuleViolation, match="cancelled"):
        touchpoints.cancel_occurrence(world.pmo, world.member, occurrence, "Again")
