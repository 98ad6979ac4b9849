"""The calendar page (agenda/calendar.py): a PMO's touchpoint dates and open actions' due dates
by month and by week, filtered, checked by hand; bad parameters ignored; a bounded number of
queries whatever the size of the plan."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.models import Action, ActionStatus
from pmo5p.models import Membership
from stakeholders.models import Touchpoint, TouchpointOccurrence
from tests.calendar_data import touchpoint
from tests.factories import SegmentFactory, StakeholderFactory

# 20 March 2026, noon in London: the clocks go forward on Sunday 29 March.
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def page(client, world, user=None, **params):
    client.force_login(user or world.lead)
    response = client.get(reverse("calendar", args=[world.pmo.slug]), params)
    assert response.status_code == 200
    return response


def shown(response) -> dict[date, list[tuple]]:
    """The items of each day that has some: (kind, time or None, title, status)."""
    return {
        day.day: [
            (item.kind, item.starts_at.strftime("%H:%M") if item.starts_at else None, item.title, item.status)
            for item in day.items
        ]
        for day in response.context["days"]
        if day.items
    }


@pytest.fixture
def plan(world):
    lead = world.membership(world.lead)
    member = world.membership(world.member)
    weekly = touchpoint(
        world.pmo,
        [date(2026, 3, 19), date(2026, 3, 26), date(2026, 4, 2)],
        owner=lead,
        purpose="Sponsor one-to-one",
        at_time=time(9, 30),
        element="people",
        statuses={date(2026, 3, 19): "done"},
    )
    touchpoint(
        world.pmo,
        [date(2026, 3, 16), date(2026, 3, 30)],
        owner=member,
        purpose="Finance showcase",
        segment=world.segment,
        element="physical_evidence",
        statuses={date(2026, 3, 30): "cancelled"},
    )
    touchpoint(world.pmo, [date(2026, 3, 26)], owner=member, purpose="Morning stand-up", at_time=time(8, 0))
    touchpoint(world.pmo, [date(2026, 3, 26)], owner=member, purpose="Team lunch")
    Action.objects.create(
        pmo=world.pmo, title="Publish the benefits", element="physical_evidence", owner=lead, due_on=date(2026, 3, 18)
    )
    Action.objects.create(
        pmo=world.pmo, title="Fix the intake form", element="process", owner=member, due_on=date(2026, 3, 26)
    )
    Action.objects.create(
        pmo=world.pmo,
        title="Done already",
        element="process",
        owner=member,
        due_on=date(2026, 3, 26),
        status=ActionStatus.DONE,
    )
    Action.objects.create(
        pmo=world.pmo, title="Dropped", element="process", due_on=date(2026, 3, 26), status=ActionStatus.DROPPED
    )
    # The other PMO's, on the same days: never shown.
    outsider = Membership.objects.get(pmo=world.other_pmo, user=world.outsider)
    touchpoint(world.other_pmo, [date(2026, 3, 26)], owner=outsider, purpose="Beta secret meeting")
    Action.objects.create(pmo=world.other_pmo, title="Beta secret action", element="price", due_on=date(2026, 3, 26))
    return weekly


MARCH = {
    date(2026, 3, 16): [("touchpoint", None, "Finance showcase", "missed")],
    date(2026, 3, 18): [("action", None, "Publish the benefits", "overdue")],
    date(2026, 3, 19): [("touchpoint", "09:30", "Sponsor one-to-one", "done")],
    date(2026, 3, 26): [
        ("action", None, "Fix the intake form", "open"),
        ("touchpoint", None, "Team lunch", "planned"),
        ("touchpoint", "08:00", "Morning stand-up", "planned"),
        # 09:30 in London on both sides of the change of the clocks (29 March).
        ("touchpoint", "09:30", "Sponsor one-to-one", "planned"),
    ],
    date(2026, 3, 30): [("touchpoint", None, "Finance showcase", "cancelled")],
    date(2026, 4, 2): [("touchpoint", "09:30", "Sponsor one-to-one", "planned")],
}


def test_the_month_shows_whole_weeks_monday_first_with_each_item(client, world, plan):
    response = page(client, world)  # today's month by default
    days = response.context["days"]
    # March 2026: Sunday 1st to Tuesday 31st, so Monday 23 February to Sunday 5 April.
    assert (days[0].day, days[-1].day, len(response.context["weeks"])) == (date(2026, 2, 23), date(2026, 4, 5), 6)
    assert [d.day.weekday() for d in response.context["weeks"][0]] == list(range(7))
    assert [d.in_month for d in days].count(True) == 31
    assert [d.day for d in days if d.is_today] == [date(2026, 3, 20)]
    # An action's title ahead of the touchpoints on an equal footing: both all day.
    march = shown(response)
    assert march[date(2026, 3, 26)][0][0] == "action" and sorted(march[date(2026, 3, 26)][:2]) == sorted(
        MARCH[date(2026, 3, 26)][:2]
    )
    assert {day: items for day, items in march.items() if day != date(2026, 3, 26)} == {
        day: items for day, items in MARCH.items() if day != date(2026, 3, 26)
    }
    assert march[date(2026, 3, 26)][2:] == MARCH[date(2026, 3, 26)][2:]
    html = response.content.decode()
    assert '<th scope="col">Monday</th>' in html
    assert "Beta secret" not in html
    assert "Done already" not in html and "Dropped" not in html
    for label in ("Missed", "Overdue", "Done", "Cancelled", "Planned"):
        assert f">{label}</span>" in html
    assert reverse("touchpoint_detail", args=[world.pmo.slug, plan.pk]) in html
    # A missed date can be marked done; one still to come cannot yet.
    missed = TouchpointOccurrence.objects.get(pmo=world.pmo, on=date(2026, 3, 16))
    assert reverse("occurrence_done", args=[world.pmo.slug, missed.pk]) in html
    ahead = reverse("occurrence_done", args=[world.pmo.slug, plan.occurrences.get(on=date(2026, 3, 26)).pk])
    assert ahead not in html
    # A date done has nothing left to do.
    assert reverse("occurrence_done", args=[world.pmo.slug, plan.occurrences.get(on=date(2026, 3, 19)).pk]) not in html


def test_the_week_lists_seven_days_all_day_first_then_by_time(client, world, plan):
    response = page(client, world, view="week", date="2026-03-26")
    days = response.context["days"]
    assert [d.day for d in days] == [date(2026, 3, 23) + timedelta(days=n) for n in range(7)]
    week = shown(response)
    assert set(week) == {date(2026, 3, 26)}
    assert [item[1] for item in week[date(2026, 3, 26)]] == [None, None, "08:00", "09:30"]
    html = response.content.decode()
    assert html.count('<h3 class="h6 mb-0">') == 7
    assert "Thursday 26 March" in html
    links = response.context["links"]
    assert "date=2026-03-19" in links["previous"] and "date=2026-04-02" in links["next"]
    assert "date=2026-03-20" in links["today"] and "view=month" in links["month"]


def test_the_next_month_and_the_previous_one(client, world, plan):
    response = page(client, world, view="month", date="2026-01-31")
    links = response.context["links"]
    assert "date=2025-12-01" in links["previous"] and "date=2026-02-01" in links["next"]
    assert response.context["title"] == "January 2026"
    april = shown(page(client, world, date="2026-04-15"))
    # The weeks of April 2026 begin on Monday 30 March: its dates show there too.
    assert set(april) == {date(2026, 3, 30), date(2026, 4, 2)}


def test_the_filters_by_owner_segment_and_p(client, world, plan):
    member = world.membership(world.member)
    mine = shown(page(client, world, owner=member.pk))
    assert {item[2] for items in mine.values() for item in items} == {
        "Finance showcase",
        "Morning stand-up",
        "Team lunch",
        "Fix the intake form",
    }
    # A segment: the touchpoints for it, those with a named stakeholder of it, the actions aimed at either.
    lunch = Touchpoint.objects.get(purpose="Team lunch")
    lunch.stakeholders.add(world.stakeholder)
    Action.objects.get(title="Fix the intake form").target_stakeholders.add(world.stakeholder)
    Action.objects.get(title="Publish the benefits").target_segments.add(world.segment)
    finance = shown(page(client, world, segment=world.segment.pk))
    assert {item[2] for items in finance.values() for item in items} == {
        "Finance showcase",
        "Team lunch",
        "Fix the intake form",
        "Publish the benefits",
    }
    people = shown(page(client, world, element="people"))
    assert {item[2] for items in people.values() for item in items} == {"Sponsor one-to-one"}
    both = shown(page(client, world, element="physical_evidence", owner=member.pk))
    assert {item[2] for items in both.values() for item in items} == {"Finance showcase"}
    # The links to other periods keep the filters.
    response = page(client, world, element="people", owner=member.pk)
    assert f"owner={member.pk}" in response.context["links"]["next"]
    assert "element=people" in response.context["links"]["next"]


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2026-02-30"},
        {"date": "yesterday"},
        {"date": "2026-03-26T00:00"},
        {"date": "9" * 400},
        {"view": "year"},
        {"owner": "999999"},
        {"owner": "²"},
        {"owner": "-1"},
        {"segment": "abc"},
        {"element": "<script>"},
    ],
)
def test_bad_parameters_are_ignored(client, world, plan, params):
    response = page(client, world, **params)
    assert shown(response) == shown(page(client, world))
    assert response.context["view"] == "month"
    assert not response.context["filters"].active


def test_another_pmos_owner_or_segment_is_ignored_not_shown(client, world, plan):
    outsider = Membership.objects.get(pmo=world.other_pmo, user=world.outsider)
    for params in ({"owner": outsider.pk}, {"segment": world.other_segment.pk}):
        response = page(client, world, **params)
        assert not response.context["filters"].active
        assert shown(response) == shown(page(client, world))
        assert "Beta" not in response.content.decode()


def test_an_empty_month_says_so_and_links_to_planning(client, world):
    html = page(client, world, date="2030-06-01").content.decode()
    assert "Nothing planned" in html
    assert reverse("touchpoint_create", args=[world.pmo.slug]) in html
    assert reverse("action_list", args=[world.pmo.slug]) in html
    # A viewer cannot plan: no link that would refuse them.
    viewer = page(client, world, user=world.viewer, date="2030-06-01").content.decode()
    assert reverse("touchpoint_create", args=[world.pmo.slug]) not in viewer
    assert reverse("action_list", args=[world.pmo.slug]) in viewer


def test_a_viewer_sees_no_mark_done_link(client, world, plan):
    html = page(client, world, user=world.viewer).content.decode()
    assert "Sponsor one-to-one" in html
    assert "/done/" not in html


def _big_plan(pmo, owners, segment, stakeholders, touchpoints, actions):
    """`touchpoints` weekly touchpoints over March and April 2026, half for a segment and half with
    named stakeholders, and `actions` open actions due over the same weeks."""
    days = [date(2026, 3, 2) + timedelta(days=7 * n) for n in range(9)]
    points = Touchpoint.objects.bulk_create(
        Touchpoint(
            pmo=pmo,
            purpose=f"Touchpoint {n}",
            element="product",
            owner=owners[n % len(owners)],
            segment=segment if n % 2 else None,
            starts_on=days[0],
            at_time=time(9 + n % 8, 0) if n % 3 else None,
            recurrence="weekly",
            until=days[-1],
        )
        for n in range(touchpoints)
    )
    Touchpoint.stakeholders.through.objects.bulk_create(
        Touchpoint.stakeholders.through(touchpoint=point, stakeholder=stakeholders[n % len(stakeholders)])
        for n, point in enumerate(points)
        if n % 2 == 0
    )
    TouchpointOccurrence.objects.bulk_create(
        TouchpointOccurrence(touchpoint=point, pmo=pmo, on=day) for point in points for day in days
    )
    Action.objects.bulk_create(
        Action(
            pmo=pmo,
            title=f"Action {n}",
            element="process",
            owner=owners[n % len(owners)],
            due_on=date(2026, 3, 1) + timedelta(days=n % 60),
        )
        for n in range(actions)
    )


@pytest.mark.parametrize("params", [{}, {"view": "week"}, {"segment": "SEGMENT", "element": "product"}])
def test_the_queries_do_not_grow_with_the_plan(client, world, params):
    owners = [world.membership(world.lead), world.membership(world.member)]
    stakeholders = [StakeholderFactory(pmo=world.pmo, segment=world.segment) for _ in range(3)]
    other = SegmentFactory(pmo=world.pmo, name="Other")
    params = {key: (world.segment.pk if value == "SEGMENT" else value) for key, value in params.items()}
    client.force_login(world.lead)
    url = reverse("calendar", args=[world.pmo.slug])

    _big_plan(world.pmo, owners, other, stakeholders, touchpoints=2, actions=3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, params).status_code == 200
    _big_plan(world.pmo, owners, other, stakeholders, touchpoints=500, actions=2000)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(large) == len(small) <= 9, [q["sql"][:120] for q in large.captured_queries]
    if not params:
        assert len(shown(response)) >= 9  # the plan shows on each week's Monday and over the days of the actions
