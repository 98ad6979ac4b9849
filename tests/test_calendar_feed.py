"""The personal iCalendar feed (agenda/ical.py): parsed back with `icalendar` and checked field
by field; the user's own items in the PMOs they belong to now, and nothing else; hostile text
stays text; a revoked or unknown address answers 404; the profile's buttons."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from agenda import calendar as agenda_calendar
from agenda import ical
from agenda.models import Action, ActionStatus, CalendarFeed
from pmo5p.models import Membership, Role
from pmo5p.services import remove_member
from tests.calendar_data import touchpoint
from tests.factories import MembershipFactory, PmoFactory, StakeholderFactory

# 1 March 2027: New York's clocks go forward on Sunday 14 March, London's on the 28th.
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(settings):
    settings.SITE_URL = "https://pmo.example.org"
    with time_machine.travel(NOW, tick=False):
        yield


def parse(content: bytes) -> Calendar:
    return Calendar.from_ical(content)


def events(calendar: Calendar) -> dict[str, dict]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def fetch(client, feed, status=200):
    response = client.get(reverse("calendar_feed", args=[feed.token]))
    assert response.status_code == status
    return response


@pytest.fixture
def feed(world):
    return agenda_calendar.create_feed(world.member)


@pytest.fixture
def items(world):
    """The member's touchpoints and actions in Alpha (New York) and others' that must not show."""
    world.pmo.time_zone = "America/New_York"
    world.pmo.save()
    mine = world.membership(world.member)
    board = touchpoint(
        world.pmo,
        [date(2027, 3, 12), date(2027, 3, 19)],
        owner=mine,
        purpose="Steering committee",
        at_time=time(10, 0),
        duration_minutes=90,
        element="price",
        channel="workshop",
        stakeholders=[world.stakeholder],
    )
    showcase = touchpoint(
        world.pmo,
        [date(2027, 3, 15), date(2027, 3, 22)],
        owner=mine,
        purpose="Finance showcase",
        segment=world.segment,
        statuses={date(2027, 3, 22): "cancelled"},
    )
    touchpoint(world.pmo, [date(2027, 3, 12)], owner=world.membership(world.lead), purpose="Lead's own meeting")
    touchpoint(world.pmo, [date(2027, 3, 12)], purpose="Nobody's meeting")
    # Outside the window: 61 days ago, and 401 days on.
    touchpoint(world.pmo, [date(2026, 12, 30), date(2028, 4, 5)], owner=mine, purpose="Out of range")
    due = Action.objects.create(
        pmo=world.pmo, title="Send the benefits note", element="physical_evidence", owner=mine, due_on=date(2027, 3, 3)
    )
    Action.objects.create(
        pmo=world.pmo,
        title="Finished",
        element="product",
        owner=mine,
        due_on=date(2027, 3, 3),
        status=ActionStatus.DONE,
    )
    Action.objects.create(
        pmo=world.pmo,
        title="Lead's action",
        element="product",
        owner=world.membership(world.lead),
        due_on=date(2027, 3, 3),
    )
    # Another PMO the member does not belong to, its lead's items.
    outsider = Membership.objects.get(pmo=world.other_pmo, user=world.outsider)
    touchpoint(world.other_pmo, [date(2027, 3, 12)], owner=outsider, purpose="Beta secret")
    Action.objects.create(
        pmo=world.other_pmo, title="Beta action", element="price", owner=outsider, due_on=date(2027, 3, 3)
    )
    return board, showcase, due


def test_the_feed_holds_the_users_own_items_field_by_field(client, world, feed, items):
    board, showcase, due = items
    response = fetch(client, feed)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="pmo5p-calendar.ics"'
    assert "no-store" in response["Cache-Control"]
    calendar = parse(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == ical.PRODID
    assert str(calendar["X-WR-CALNAME"]) == f"pmo5p: {world.member}"
    calendar.validate()
    found = events(calendar)
    occ = {o.on: o.pk for o in board.occurrences.all()} | {o.on: o.pk for o in showcase.occurrences.all()}
    assert set(found) == {
        f"occurrence-{occ[date(2027, 3, 12)]}@pmo.example.org",
        f"occurrence-{occ[date(2027, 3, 19)]}@pmo.example.org",
        f"occurrence-{occ[date(2027, 3, 15)]}@pmo.example.org",
        f"occurrence-{occ[date(2027, 3, 22)]}@pmo.example.org",
        f"action-{due.pk}@pmo.example.org",
    }
    for event in found.values():
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "URL", "STATUS"} <= set(event)
        assert event.decoded("DTSTAMP") == NOW

    # 10:00 in New York: 15:00 UTC before the clocks go forward on 14 March, 14:00 after.
    before = found[f"occurrence-{occ[date(2027, 3, 12)]}@pmo.example.org"]
    after = found[f"occurrence-{occ[date(2027, 3, 19)]}@pmo.example.org"]
    assert before.decoded("DTSTART") == datetime(2027, 3, 12, 15, 0, tzinfo=UTC)
    assert before.decoded("DTEND") == datetime(2027, 3, 12, 16, 30, tzinfo=UTC)
    assert after.decoded("DTSTART") == datetime(2027, 3, 19, 14, 0, tzinfo=UTC)
    assert before.to_ical().decode().count("DTSTART:20270312T150000Z") == 1
    assert str(before["SUMMARY"]) == "Steering committee (Alpha PMO)"
    assert str(before["DESCRIPTION"]) == (
        "Channel: Workshop\nP: Price (increasing perceived value)\nWith: Fiona Finance"
    )
    assert str(before["URL"]) == f"https://pmo.example.org/pmo/alpha/touchpoints/{board.pk}/"
    assert str(before["STATUS"]) == "CONFIRMED"

    # All day: a date, and the next day as its end.
    allday = found[f"occurrence-{occ[date(2027, 3, 15)]}@pmo.example.org"]
    assert allday.decoded("DTSTART") == date(2027, 3, 15)
    assert allday.decoded("DTEND") == date(2027, 3, 16)
    assert "DTSTART;VALUE=DATE:20270315" in allday.to_ical().decode()
    assert "Segment: Finance" in str(allday["DESCRIPTION"])
    assert str(allday["STATUS"]) == "CONFIRMED"

    # A cancelled date stays, called off and why: a calendar that had it shows it cancelled.
    called_off = found[f"occurrence-{occ[date(2027, 3, 22)]}@pmo.example.org"]
    assert str(called_off["STATUS"]) == "CANCELLED"
    assert str(called_off["DESCRIPTION"]).endswith("\nCancelled: Moved")

    action = found[f"action-{due.pk}@pmo.example.org"]
    assert action.decoded("DTSTART") == date(2027, 3, 3)
    assert str(action["SUMMARY"]) == "Action due: Send the benefits note (Alpha PMO)"
    assert str(action["DESCRIPTION"]) == "P: Physical Evidence (realising benefits)\nStatus: Planned"
    assert str(action["URL"]) == "https://pmo.example.org/pmo/alpha/agenda/"
    body = response.content.decode()
    for absent in ("Lead's", "Nobody's", "Beta", "Finished", "Out of range"):
        assert absent not in body


def test_times_follow_londons_change_of_the_clocks_too(client, world, feed):
    # London (the world's PMO): 09:00 is 09:00 UTC until 28 March 2027, then 08:00 UTC.
    point = touchpoint(
        world.pmo, [date(2027, 3, 26), date(2027, 3, 29)], owner=world.membership(world.member), at_time=time(9, 0)
    )
    starts = {event.decoded("DTSTART") for event in parse(fetch(client, feed).content).walk("VEVENT")}
    assert starts == {datetime(2027, 3, 26, 9, tzinfo=UTC), datetime(2027, 3, 29, 8, tzinfo=UTC)}
    assert point.occurrences.count() == 2


def test_hostile_text_stays_text(client, world, feed):
    purpose = "Review; budget, risks\nnext steps\r\nBEGIN:VEVENT\r\nUID:evil@x\r\nSUMMARY:Injected\r\nEND:VEVENT"
    hostile = StakeholderFactory(pmo=world.pmo, name='Eve, "the"; one\r\nBEGIN:VALARM')
    touchpoint(
        world.pmo, [date(2027, 3, 10)], owner=world.membership(world.member), purpose=purpose, stakeholders=[hostile]
    )
    Action.objects.create(
        pmo=world.pmo,
        title="Title\r\nEND:VCALENDAR",
        element="product",
        owner=world.membership(world.member),
        due_on=date(2027, 3, 4),
    )
    content = fetch(client, feed).content
    calendar = parse(content)
    found = list(calendar.walk("VEVENT"))
    assert len(found) == 2
    assert not list(calendar.walk("VALARM"))
    # No line of the file begins what the text holds: every break in it is escaped.
    lines = content.decode().split("\r\n")
    assert sum(line.startswith("BEGIN:VEVENT") for line in lines) == 2
    assert not any(line.startswith(("UID:evil", "SUMMARY:Injected", "END:VCALENDAR\\")) for line in lines)
    assert lines.count("END:VCALENDAR") == 1
    # The same text, a line break being one "\n" in iCalendar (RFC 5545 §3.3.11).
    summaries = {str(event["SUMMARY"]) for event in found}
    assert summaries == {f"{purpose} (Alpha PMO)".replace("\r\n", "\n"), "Action due: Title\nEND:VCALENDAR (Alpha PMO)"}
    touch_event = next(event for event in found if str(event["UID"]).startswith("occurrence-"))
    assert 'With: Eve, "the"; one\nBEGIN:VALARM' in str(touch_event["DESCRIPTION"])


def test_a_user_removed_from_a_pmo_stops_seeing_its_items(client, world, feed):
    second = PmoFactory(name="Gamma PMO", slug="gamma")
    MembershipFactory(pmo=second, role=Role.LEAD)
    gamma = MembershipFactory(pmo=second, user=world.member, role=Role.MEMBER)
    touchpoint(second, [date(2027, 3, 10)], owner=gamma, purpose="Gamma review")
    Action.objects.create(pmo=second, title="Gamma action", element="product", owner=gamma, due_on=date(2027, 3, 5))
    touchpoint(world.pmo, [date(2027, 3, 10)], owner=world.membership(world.member), purpose="Alpha review")
    summaries = {str(e["SUMMARY"]) for e in parse(fetch(client, feed).content).walk("VEVENT")}
    assert summaries == {"Gamma review (Gamma PMO)", "Action due: Gamma action (Gamma PMO)", "Alpha review (Alpha PMO)"}
    remove_member(membership=gamma)
    summaries = {str(e["SUMMARY"]) for e in parse(fetch(client, feed).content).walk("VEVENT")}
    assert summaries == {"Alpha review (Alpha PMO)"}


def test_a_membership_of_another_user_on_the_same_pmo_shows_nothing_of_theirs(client, world, items):
    """The lead's own feed holds the lead's items, not the member's."""
    lead_feed = agenda_calendar.create_feed(world.lead)
    summaries = {str(e["SUMMARY"]) for e in parse(fetch(client, lead_feed).content).walk("VEVENT")}
    assert summaries == {"Lead's own meeting (Alpha PMO)", "Action due: Lead's action (Alpha PMO)"}


def test_an_unknown_or_revoked_address_answers_404(client, world, feed, items):
    fetch(client, feed)
    response = client.get(reverse("calendar_feed", args=["x" * 32]))
    assert response.status_code == 404 and response["Content-Type"].startswith("text/plain")
    assert client.get(reverse("calendar_feed", args=["x" * 500])).status_code == 404
    assert agenda_calendar.revoke_feed(world.member)
    response = fetch(client, feed, status=404)
    assert b"Steering" not in response.content
    # A new address works; the old one stays dead.
    fresh = agenda_calendar.create_feed(world.member)
    assert fresh.token != feed.token
    assert parse(fetch(client, fresh).content).walk("VEVENT")
    fetch(client, feed, status=404)
    # An account switched off: its address answers nothing either.
    world.member.is_active = False
    world.member.save()
    fetch(client, fresh, status=404)


def test_the_last_use_is_written_once_an_hour(client, world, feed):
    fetch(client, feed)
    first = CalendarFeed.objects.get(pk=feed.pk).last_used_at
    assert first == NOW
    with time_machine.travel(NOW + timedelta(minutes=59), tick=False):
        fetch(client, feed)
    assert CalendarFeed.objects.get(pk=feed.pk).last_used_at == first
    with time_machine.travel(NOW + timedelta(minutes=61), tick=False):
        fetch(client, feed)
    assert CalendarFeed.objects.get(pk=feed.pk).last_used_at == NOW + timedelta(minutes=61)


def test_the_feed_takes_a_few_queries_whatever_it_holds(client, world, feed, django_assert_max_num_queries):
    mine = world.membership(world.member)
    stakeholders = [StakeholderFactory(pmo=world.pmo, segment=world.segment) for _ in range(3)]
    for _ in range(30):
        touchpoint(
            world.pmo,
            [date(2027, 3, 2) + timedelta(days=7 * k) for k in range(10)],
            owner=mine,
            at_time=time(9),
            stakeholders=stakeholders,
        )
    Action.objects.bulk_create(
        Action(pmo=world.pmo, title=f"A{n}", element="price", owner=mine, due_on=date(2027, 3, 1) + timedelta(days=n))
        for n in range(200)
    )
    fetch(client, feed)  # the last use written
    with django_assert_max_num_queries(5):
        calendar = parse(fetch(client, feed).content)
    assert len(list(calendar.walk("VEVENT"))) == 300 + 200


def test_the_profile_creates_shows_and_revokes_the_address(client, world):
    client.force_login(world.member)
    html = client.get(reverse("profile")).content.decode()
    assert "Create my calendar address" in html
    assert client.post(reverse("calendar_feed_create")).status_code == 302
    # A second click keeps the one address.
    client.post(reverse("calendar_feed_create"))
    (feed,) = CalendarFeed.objects.filter(user=world.member)
    html = client.get(reverse("profile")).content.decode()
    address = f"https://pmo.example.org/calendar/{feed.token}.ics"
    assert f'value="{address}" readonly' in html
    assert "From Internet" in html and "From URL" in html
    assert "Create my calendar address" not in html
    # Nobody else sees it.
    client.force_login(world.lead)
    assert feed.token not in client.get(reverse("profile")).content.decode()
    client.force_login(world.member)
    response = client.post(reverse("calendar_feed_revoke"), follow=True)
    assert "revoked" in response.content.decode()
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at == NOW
    assert "Create my calendar address" in response.content.decode()
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 404
    # Revoking with none live changes nothing and says so.
    response = client.post(reverse("calendar_feed_revoke"), follow=True)
    assert "no calendar address" in response.content.decode()
    # The other's revoke does not touch this user's new feed.
    client.post(reverse("calendar_feed_create"))
    client.force_login(world.lead)
    client.post(reverse("calendar_feed_revoke"))
    assert CalendarFeed.objects.filter(user=world.member, revoked_at__isnull=True).count() == 1


def test_the_feed_answers_get_only(client, feed):
    assert client.post(reverse("calendar_feed", args=[feed.token])).status_code == 405


def test_a_new_password_revokes_the_address(client, world, feed):
    other = agenda_calendar.create_feed(world.lead)
    world.member.name = "Renamed"
    world.member.save()
    fetch(client, feed)
    world.member.set_password("a-new-Passw0rd!")
    world.member.save()
    fetch(client, feed, status=404)
    fetch(client, other)


def test_requests_are_limited_per_client_address(client, settings, feed):
    settings.SURVEY_RATE_LIMIT = "2/m"
    fetch(client, feed)
    client.get(reverse("calendar_feed", args=["unknown"]))
    assert client.get(reverse("calendar_feed", args=[feed.token])).status_code == 429
