""" "My week" (agenda/my_week.py) and the weekly digest's schedule and dispatch (pmo5p/services.py
set_digest, agenda/digests.py): hand-checked lists, the digest's moment in the four test time
zones across daylight saving, one e-mail per due digest, and sign-in landing on My week.
The digest through a real SMTP server, beat and a worker is tests/test_digest_real.py; the
query counts at 5,000 stakeholders are tests/test_my_week_queries.py."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from agenda.digests import claim_due_digests
from agenda.models import Action
from agenda.models.plan import ActionStatus
from agenda.my_week import my_week
from pmo5p.models import Membership, OutgoingEmail
from pmo5p.rules import RuleViolation
from pmo5p.services import set_digest
from stakeholders.models import OccurrenceStatus, Touchpoint, TouchpointOccurrence
from tests.factories import StakeholderFactory
from tests.helpers import text, visible
from tests.outbox_helpers import settle

# Wednesday 25 November 2026, noon in London (GMT): the week is Monday 23 – Sunday 29 November.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def owned(world, user, name, *, last_touched_on=None, influence=3, interest=3, cadence_days=None, **extra):
    """A stakeholder whose relationship `user` owns, touched on `last_touched_on`."""
    stakeholder = StakeholderFactory(
        pmo=world.pmo,
        name=name,
        owner=world.membership(user),
        influence=influence,
        interest=interest,
        cadence_days=cadence_days,
        **extra,
    )
    # Added to the register long ago: a stakeholder never touched counts from then.
    type(stakeholder).objects.filter(pk=stakeholder.pk).update(
        last_touched_on=last_touched_on, created_at=NOW - timedelta(days=400)
    )
    return stakeholder


def touchpoint(world, user, purpose, on, *, at_time=None, status=OccurrenceStatus.PLANNED, reason=""):
    tp = Touchpoint.objects.create(
        pmo=world.pmo, purpose=purpose, element="people", owner=world.membership(user), starts_on=on, at_time=at_time
    )
    return TouchpointOccurrence.objects.create(touchpoint=tp, pmo=world.pmo, on=on, status=status, cancel_reason=reason)


def action(world, user, title, due_on, status=ActionStatus.PLANNED):
    return Action.objects.create(
        pmo=world.pmo, title=title, element="people", owner=world.membership(user), due_on=due_on, status=status
    )


@pytest.fixture
def week_of_a(world, frozen):
    """Member A (world.member) and member B (world.lead), each with their own rows, hand-set."""
    a, b = world.member, world.lead
    # Monitor quadrant (influence, interest 3): every 180 days; manage closely (4, 4): every 30.
    rows = {
        "never": owned(world, a, "Nora Never", influence=2),  # added 400 days ago, never touched
        "long": owned(world, a, "Lena Long", last_touched_on=TODAY - timedelta(days=200)),  # 20 days overdue
        "key": owned(world, a, "Kim Key", last_touched_on=TODAY - timedelta(days=45), influence=5, interest=5),
        "fresh": owned(world, a, "Fred Fresh", last_touched_on=TODAY - timedelta(days=10)),
        "own_cadence": owned(world, a, "Olga Own", last_touched_on=TODAY - timedelta(days=8), cadence_days=7),
        "due_today": owned(world, a, "Dan Due", last_touched_on=TODAY - timedelta(days=180)),  # due today: not yet
        "inactive": owned(world, a, "Ivy Inactive", is_active=False),
        "b_overdue": owned(world, b, "Bea B-Overdue"),
    }
    dates = {
        "monday": touchpoint(world, a, "Steering committee", date(2026, 11, 23), at_time=time(10, 0)),  # missed
        "friday": touchpoint(world, a, "Showcase", date(2026, 11, 27), at_time=time(14, 30)),
        "sunday": touchpoint(world, a, "Sunday call", date(2026, 11, 29)),
        "old_missed": touchpoint(world, a, "Quarterly review", date(2026, 9, 1)),
        "done": touchpoint(world, a, "Tuesday one-to-one", date(2026, 11, 24), status=OccurrenceStatus.DONE),
        "cancelled": touchpoint(
            world, a, "Cancelled lunch", date(2026, 11, 26), status=OccurrenceStatus.CANCELLED, reason="Ill"
        ),
        "next_week": touchpoint(world, a, "Next week's meeting", date(2026, 11, 30)),
        "b_date": touchpoint(world, b, "B's workshop", date(2026, 11, 26)),
    }
    actions = {
        "overdue": action(world, a, "Send the benefits note", date(2026, 11, 2)),
        "sunday": action(world, a, "Book the showcase room", date(2026, 11, 29), ActionStatus.IN_PROGRESS),
        "later": action(world, a, "Plan next year", date(2026, 12, 1)),
        "done": action(world, a, "Done already", date(2026, 11, 24), ActionStatus.DONE),
        "b_action": action(world, b, "B's own action", date(2026, 11, 25)),
    }
    return rows, dates, actions


def test_my_week_lists_member_as_rows_hand_checked(world, week_of_a):
    rows, dates, actions = week_of_a
    week = my_week(world.membership(world.member), TODAY)

    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.owned_count == 6  # Ivy is inactive
    # Most overdue first: Nora (due 400 − 180 = 220 days ago), Lena (20), Kim (15), Olga (1).
    assert [r.stakeholder.name for r in week.overdue] == ["Nora Never", "Lena Long", "Kim Key", "Olga Own"]
    assert week.overdue_count == 4
    assert [r.why for r in week.overdue] == [
        "Never touched (every 180 days)",
        "No touch for 200 days (every 180 days)",
        "No touch for 45 days (every 30 days)",
        "No touch for 8 days (every 7 days)",
    ]
    # Never assessed: no gap yet.
    assert {r.engagement.gap for r in week.overdue} == {None}

    assert [d.occurrence for d in week.dates] == [
        dates["old_missed"],
        dates["monday"],
        dates["done"],
        dates["friday"],
        dates["sunday"],
    ]
    assert [d.missed for d in week.dates] == [True, True, False, False, False]
    assert (week.dates_count, week.missed_count) == (5, 2)
    assert [d.local_time for d in week.dates] == ["all day", "10:00", "all day", "14:30", "all day"]

    assert week.actions == [actions["overdue"], actions["sunday"]]


def test_touchpoint_times_are_the_pmos_wall_time(world, frozen):
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    touchpoint(world, world.member, "Early call", date(2026, 11, 27), at_time=time(7, 15))
    (row,) = my_week(Membership.objects.select_related("pmo").get(pk=world.membership(world.member).pk), TODAY).dates
    assert row.local_time == "07:15"
    assert row.starts_at.utcoffset() == timedelta(hours=13)  # NZDT


def test_the_page_shows_member_as_lists_and_none_of_bs(world, week_of_a, client_for):
    rows, dates, actions = week_of_a
    response = client_for(world.member).get(reverse("my_week", kwargs={"slug": "alpha"}))
    assert response.status_code == 200
    page = visible(response)
    for name in ("Nora Never", "Lena Long", "Kim Key", "Olga Own"):
        assert name in page
    for absent in ("Fred Fresh", "Dan Due", "Ivy Inactive", "Bea B-Overdue", "B's workshop", "B's own action"):
        assert absent not in page
    assert "No touch for 200 days (every 180 days)" in page
    assert "Never touched (every 180 days)" in page
    assert "Touch overdue 4" in page
    assert "Touchpoints this week 5 2 missed" in page
    assert "Actions due 2" in page
    html = response.content.decode()
    record = reverse("interaction_create", kwargs={"slug": "alpha"}) + f"?stakeholder={rows['long'].pk}"
    assert f'href="{record}"' in html
    for hidden in ("Cancelled lunch", "Next week's meeting", "Plan next year", "Done already"):
        assert hidden not in page
    # Each date links to its touchpoint; a planned one (missed or to come) to "Mark done", a done one not.
    for key in ("monday", "friday", "done"):
        url = reverse("touchpoint_detail", kwargs={"slug": "alpha", "touchpoint_id": dates[key].touchpoint_id})
        assert f'href="{url}"' in html
    for key, offered in (("monday", True), ("old_missed", True), ("friday", True), ("done", False)):
        done = reverse("occurrence_done", kwargs={"slug": "alpha", "occurrence_id": dates[key].pk})
        assert (f'href="{done}"' in html) is offered, key


def test_the_record_link_prefills_the_interaction(world, week_of_a, client_for):
    rows, _, _ = week_of_a
    url = reverse("interaction_create", kwargs={"slug": "alpha"}) + f"?stakeholder={rows['long'].pk}"
    form = client_for(world.member).get(url).context["form"]
    assert form.initial["stakeholders"] == [rows["long"].pk]


def test_empty_states_say_why(world, client_for, frozen):
    page = text(client_for(world.viewer).get(reverse("my_week", kwargs={"slug": "alpha"})))
    assert "You own no relationship yet." in page
    assert "No touchpoint of yours this week, and none missed." in page
    assert "No action of yours is due this week, and none is overdue." in page

    owned(world, world.viewer, "Fred Fresh", last_touched_on=TODAY - timedelta(days=1))
    owned(world, world.viewer, "Gina Good", last_touched_on=TODAY)
    page = visible(client_for(world.viewer).get(reverse("my_week", kwargs={"slug": "alpha"})))
    assert "Nobody is overdue: your 2 relationships are all within their cadence." in page


def test_a_viewer_sees_no_edit_links(world, client_for, frozen):
    owned(world, world.viewer, "Nora Never")
    html = client_for(world.viewer).get(reverse("my_week", kwargs={"slug": "alpha"})).content.decode()
    assert "Nora Never" in html
    assert reverse("interaction_create", kwargs={"slug": "alpha"}) not in html


def test_hostile_names_are_escaped_on_the_page(world, client_for, frozen):
    owned(world, world.member, "<script>alert(1)</script>")
    touchpoint(world, world.member, "<img src=x onerror=alert(2)>", TODAY)
    html = client_for(world.member).get(reverse("my_week", kwargs={"slug": "alpha"})).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html


# Signing in lands on My week --------------------------------------------------------------


def test_home_opens_my_week_of_the_last_visited_pmo(world, client_for):
    client = client_for(world.member)
    assert client.get(reverse("home"))["Location"] == "/pmo/alpha/my-week/"
    # The dashboard keeps its address.
    assert client.get("/pmo/alpha/").status_code == 200


def test_opening_my_week_records_the_visit(world, client_for):
    client_for(world.member).get("/pmo/alpha/my-week/")
    assert world.membership(world.member).last_visited_at is not None


# The digest's form and its moment ----------------------------------------------------------


def digest_url():
    return reverse("my_week_digest", kwargs={"slug": "alpha"})


@pytest.mark.parametrize("role", ["viewer", "member", "lead"])
def test_every_role_sets_its_own_digest(world, client_for, frozen, role):
    user = getattr(world, role)
    response = client_for(user).post(digest_url(), {"weekday": "0", "at": "08:00"}, follow=True)
    assert "Your weekly digest comes every Monday at 08:00 (Europe/London)." in visible(response)
    membership = world.membership(user)
    assert (membership.digest_weekday, membership.digest_time) == (0, time(8, 0))
    assert membership.digest_next_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    # Nobody else's changed.
    assert Membership.objects.exclude(pk=membership.pk).filter(digest_weekday__isnull=False).count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"weekday": "7", "at": "08:00"}, "weekday", "Choose a day of the week, or “No digest”."),
        ({"weekday": "monday", "at": "08:00"}, "weekday", "Choose a day of the week, or “No digest”."),
        ({"weekday": "1", "at": "25:99"}, "at", "Enter a time of day, e.g. 08:00."),
        ({"weekday": "1", "at": ""}, "at", "Enter a time of day, e.g. 08:00."),
    ],
)
def test_bad_digest_input_is_refused_and_nothing_saved(world, client_for, frozen, data, field, message):
    response = client_for(world.member).post(digest_url(), data)
    assert response.status_code == 200
    assert response.context["digest_form"].errors[field] == [message]
    assert message in text(response)
    membership = world.membership(world.member)
    assert (membership.digest_weekday, membership.digest_next_at) == (None, None)
    # What they typed is still there.
    if field == "at" and data["at"]:
        assert f'value="{data["at"]}"' in response.content.decode()


def test_set_digest_refuses_what_the_form_would(world, frozen):
    membership = world.membership(world.member)
    with pytest.raises(RuleViolation) as refused:
        set_digest(membership=membership, weekday=7, at=time(8, 0))
    assert refused.value.field == "weekday"
    with pytest.raises(RuleViolation):
        set_digest(membership=membership, weekday=2, at=None)
    membership.refresh_from_db()
    assert membership.digest_weekday is None and membership.digest_next_at is None


def test_no_digest_clears_the_moment(world, client_for, frozen):
    client = client_for(world.member)
    client.post(digest_url(), {"weekday": "3", "at": "17:00"})
    assert world.membership(world.member).digest_next_at == datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    response = client.post(digest_url(), {"weekday": "", "at": "17:00"}, follow=True)
    assert "You will get no weekly digest." in text(response)
    membership = world.membership(world.member)
    assert (membership.digest_weekday, membership.digest_next_at) == (None, None)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/London", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),  # GMT
        ("America/New_York", datetime(2026, 11, 30, 13, 0, tzinfo=UTC)),  # EST, −5
        ("Asia/Kolkata", datetime(2026, 11, 30, 2, 30, tzinfo=UTC)),  # +05:30
        ("Pacific/Auckland", datetime(2026, 11, 29, 19, 0, tzinfo=UTC)),  # NZDT, +13
    ],
)
def test_the_digest_moment_is_in_the_pmos_time_zone(world, frozen, zone, expected):
    world.pmo.time_zone = zone
    world.pmo.save()
    membership = Membership.objects.select_related("pmo").get(pmo=world.pmo, user=world.member)
    set_digest(membership=membership, weekday=0, at=time(8, 0))
    assert membership.digest_next_at == expected


@pytest.mark.parametrize(
    ("zone", "at", "after", "expected"),
    [
        # The clocks go forward: the time that does not exist is the wall time before the change.
        ("Europe/London", time(1, 30), datetime(2027, 3, 27, 12, tzinfo=UTC), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        (
            "America/New_York",
            time(2, 30),
            datetime(2027, 3, 13, 12, tzinfo=UTC),
            datetime(2027, 3, 14, 7, 30, tzinfo=UTC),
        ),
        (
            "Pacific/Auckland",
            time(2, 30),
            datetime(2027, 9, 24, 12, tzinfo=UTC),
            datetime(2027, 9, 25, 14, 30, tzinfo=UTC),
        ),
        # They go back: a time that happens twice is its first occurrence.
        (
            "Europe/London",
            time(1, 30),
            datetime(2027, 10, 30, 12, tzinfo=UTC),
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        ),
        (
            "America/New_York",
            time(1, 30),
            datetime(2027, 11, 6, 12, tzinfo=UTC),
            datetime(2027, 11, 7, 5, 30, tzinfo=UTC),
        ),
        (
            "Pacific/Auckland",
            time(2, 30),
            datetime(2027, 4, 2, 12, tzinfo=UTC),
            datetime(2027, 4, 3, 13, 30, tzinfo=UTC),
        ),
        ("Asia/Kolkata", time(2, 30), datetime(2027, 9, 24, 12, tzinfo=UTC), datetime(2027, 9, 25, 21, 0, tzinfo=UTC)),
    ],
)
def test_a_sunday_digest_on_the_night_the_clocks_change(world, zone, at, after, expected):
    world.pmo.time_zone = zone
    world.pmo.save()
    membership = Membership.objects.select_related("pmo").get(pmo=world.pmo, user=world.member)
    set_digest(membership=membership, weekday=6, at=at, now=after)
    assert membership.digest_next_at == expected


@pytest.mark.parametrize(
    ("zone", "first", "second"),
    [
        # Sunday 09:00 local, the week before and the week after the clocks change.
        ("Europe/London", datetime(2027, 3, 21, 9, tzinfo=UTC), datetime(2027, 3, 28, 8, tzinfo=UTC)),
        ("America/New_York", datetime(2027, 3, 7, 14, tzinfo=UTC), datetime(2027, 3, 14, 13, tzinfo=UTC)),
        ("Asia/Kolkata", datetime(2027, 3, 21, 3, 30, tzinfo=UTC), datetime(2027, 3, 28, 3, 30, tzinfo=UTC)),
        ("Pacific/Auckland", datetime(2027, 3, 27, 20, tzinfo=UTC), datetime(2027, 4, 3, 21, tzinfo=UTC)),
    ],
)
def test_dispatch_moves_the_digest_to_next_weeks_local_time_across_daylight_saving(world, zone, first, second):
    world.pmo.time_zone = zone
    world.pmo.save()
    membership = Membership.objects.select_related("pmo").get(pmo=world.pmo, user=world.member)
    set_digest(membership=membership, weekday=6, at=time(9, 0), now=first - timedelta(days=1))
    assert membership.digest_next_at == first
    owned(world, world.member, "Nora Never")
    with time_machine.travel(first + timedelta(minutes=3), tick=False):
        assert claim_due_digests() == 1
    membership.refresh_from_db()
    assert membership.digest_next_at == second
    assert membership.digest_last_sent_at == first + timedelta(minutes=3)


def test_changing_the_pmo_time_zone_moves_the_digest_to_the_same_local_time(world, client_for, frozen):
    client_for(world.member).post(digest_url(), {"weekday": "0", "at": "08:00"})
    assert world.membership(world.member).digest_next_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    response = client_for(world.lead).post(
        reverse("pmo_settings", kwargs={"slug": "alpha"}),
        {
            "name": world.pmo.name,
            "time_zone": "Asia/Kolkata",
            "currency": "GBP",
            "survey_fatigue_days": 90,
            "follow_up_working_days": 5,
        },
    )
    assert response.status_code == 302
    assert world.membership(world.member).digest_next_at == datetime(2026, 11, 30, 2, 30, tzinfo=UTC)


def test_a_due_digest_is_left_due_when_the_pmo_is_saved(world, frozen):
    membership = world.membership(world.member)
    Membership.objects.filter(pk=membership.pk).update(digest_weekday=2, digest_next_at=NOW - timedelta(minutes=2))
    world.pmo.name = "Alpha PMO renamed"
    world.pmo.save()
    assert world.membership(world.member).digest_next_at == NOW - timedelta(minutes=2)


# Dispatch ------------------------------------------------------------------------------------


def due_digest(world, user):
    """`user`'s digest due two minutes ago (Wednesday 11:58)."""
    membership = world.membership(user)
    Membership.objects.filter(pk=membership.pk).update(
        digest_weekday=2, digest_time=time(11, 58), digest_next_at=NOW - timedelta(minutes=2)
    )
    return membership


def test_a_due_digest_is_queued_once_with_the_lists(world, week_of_a, django_capture_on_commit_callbacks):
    _, dates, _ = week_of_a
    membership = due_digest(world, world.member)
    with django_capture_on_commit_callbacks(execute=True):
        assert claim_due_digests() == 1
        assert claim_due_digests() == 0  # a second dispatch finds nothing due
    settle()
    (message,) = mail.outbox
    assert message.to == [world.member.email]
    assert message.subject == "Alpha PMO: your week"
    assert "Nora Never: Never touched (every 180 days)" in message.body
    assert "Lena Long: No touch for 200 days (every 180 days)" in message.body
    assert "Fri 27 Nov, 14:30: Showcase" in message.body
    assert "Send the benefits note: due Mon 2 Nov (overdue)" in message.body
    for absent in ("Bea B-Overdue", "B's workshop", "B's own action", "Fred Fresh"):
        assert absent not in message.body
    assert "http://testserver/pmo/alpha/my-week/#digest" in message.body
    done = reverse("occurrence_done", kwargs={"slug": "alpha", "occurrence_id": dates["friday"].pk})
    assert f"Mark done: http://testserver{done}" in message.body
    html = message.alternatives[0][0]
    assert "Kim Key" in html and 'href="http://testserver/pmo/alpha/my-week/#digest"' in html
    assert f'href="http://testserver{done}"' in html
    touchpoint_url = reverse(
        "touchpoint_detail", kwargs={"slug": "alpha", "touchpoint_id": dates["friday"].touchpoint_id}
    )
    assert f'href="http://testserver{touchpoint_url}"' in html
    row = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.WEEKLY_DIGEST)
    assert (row.source_id, row.pmo_id, row.status) == (membership.pk, world.pmo.pk, OutgoingEmail.Status.SENT)
    membership.refresh_from_db()
    assert membership.digest_next_at == datetime(2026, 12, 2, 11, 58, tzinfo=UTC)
    assert membership.digest_last_sent_at == NOW


def test_the_digest_looks_seven_days_ahead_where_the_page_shows_the_calendar_week(
    world, frozen, django_capture_on_commit_callbacks
):
    """Wednesday 25 November: the page's week ends on Sunday 29th; the digest's runs to
    Tuesday 1 December, so next Monday's steering committee is in it, not on the page."""
    touchpoint(world, world.member, "Next Monday's steering committee", date(2026, 11, 30))
    touchpoint(world, world.member, "Wednesday week's showcase", date(2026, 12, 2))
    membership = due_digest(world, world.member)
    page = my_week(membership, date(2026, 11, 25))
    assert (page.first_day, page.last_day) == (date(2026, 11, 23), date(2026, 11, 29)) and not page.dates
    ahead = my_week(membership, date(2026, 11, 25), next_seven_days=True)
    assert (ahead.first_day, ahead.last_day) == (date(2026, 11, 25), date(2026, 12, 1))
    assert [d.occurrence.touchpoint.purpose for d in ahead.dates] == ["Next Monday's steering committee"]
    with django_capture_on_commit_callbacks(execute=True):
        assert claim_due_digests() == 1
    settle()
    (message,) = mail.outbox
    assert "Mon 30 Nov" in message.body and "Next Monday's steering committee" in message.body
    assert "Wednesday week's showcase" not in message.body


def test_a_digest_not_yet_due_is_not_sent(world, week_of_a):
    membership = due_digest(world, world.member)
    Membership.objects.filter(pk=membership.pk).update(digest_next_at=NOW + timedelta(minutes=1))
    assert claim_due_digests() == 0
    assert not OutgoingEmail.objects.exists()


def test_an_empty_week_sends_nothing_and_moves_on(world, frozen):
    membership = due_digest(world, world.viewer)
    assert claim_due_digests() == 0
    assert not OutgoingEmail.objects.exists()
    membership.refresh_from_db()
    assert membership.digest_next_at == datetime(2026, 12, 2, 11, 58, tzinfo=UTC)
    assert membership.digest_last_sent_at is None


def test_an_inactive_user_gets_no_digest(world, week_of_a):
    membership = due_digest(world, world.member)
    type(world.member).objects.filter(pk=world.member.pk).update(is_active=False)
    assert claim_due_digests() == 0
    assert not OutgoingEmail.objects.exists()
    membership.refresh_from_db()
    assert membership.digest_next_at > NOW


def test_a_digest_queued_and_then_unwanted_is_not_sent(world, week_of_a, django_capture_on_commit_callbacks):
    """Opting out, leaving or deactivation after the digest was queued and before it was sent."""
    due_digest(world, world.member)
    assert claim_due_digests() == 1  # queued; its wake-up not run
    Membership.objects.filter(pk=world.membership(world.member).pk).update(digest_weekday=None, digest_next_at=None)
    settle()
    assert mail.outbox == []
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.CANCELLED


def test_opting_out_stops_the_digest(world, week_of_a, client_for):
    due_digest(world, world.member)
    client_for(world.member).post(digest_url(), {"weekday": "", "at": "08:00"})
    assert claim_due_digests() == 0
    assert not OutgoingEmail.objects.exists()


def test_the_digest_escapes_hostile_text_and_keeps_the_subject_one_line(world, frozen):
    world.pmo.name = "Evil\r\nBcc: victim@example.com"
    world.pmo.save()
    owned(world, world.member, "<script>alert(1)</script>")
    touchpoint(world, world.member, "<b>bold</b> & co", TODAY)
    due_digest(world, world.member)
    claim_due_digests()
    settle()
    (message,) = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject == "Evil Bcc: victim@example.com: your week"
    assert message.to == [world.member.email] and not message.bcc
    html = message.alternatives[0][0]
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    # The text part is not HTML: the names as they are.
    assert "<script>alert(1)</script>" in message.body and "<b>bold</b> & co" in message.body


def test_a_digest_that_fails_to_compose_does_not_hold_up_the_others(world, week_of_a, monkeypatch):
    from agenda import digests

    due_digest(world, world.member)
    owned(world, world.lead, "Lee Lead")
    due_digest(world, world.lead)
    real = digests.my_week

    def failing(membership, today, **options):
        if membership.user_id == world.member.pk:
            raise RuntimeError("boom")
        return real(membership, today, **options)

    monkeypatch.setattr(digests, "my_week", failing)
    assert claim_due_digests() == 1
    assert OutgoingEmail.objects.get().to == [world.lead.email]
    assert world.membership(world.member).digest_next_at == NOW + digests.DIGEST_RETRY


def test_the_beat_schedule_dispatches_digests(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-due-digests"]
    assert entry["task"] == "agenda.tasks.dispatch_due_digests"
    assert entry["schedule"] == 300


def test_the_task_runs_the_dispatch(world, week_of_a):
    from agenda.tasks import dispatch_due_digests

    due_digest(world, world.member)
    assert dispatch_due_digests.apply().get() == 1
    assert dispatch_due_digests.apply().get() == 0
    assert timezone.now() == NOW


def test_a_viewers_digest_links_only_to_pages_a_viewer_opens(world, frozen):
    owned(world, world.viewer, "Nora Never")
    occurrence = touchpoint(world, world.viewer, "Showcase", TODAY)
    overdue = action(world, world.viewer, "Read the plan", TODAY - timedelta(days=3))
    due_digest(world, world.viewer)
    claim_due_digests()
    settle()
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "Nora Never" in part and "Showcase" in part and "Read the plan" in part
        assert "/stakeholders/interactions/new/" not in part
        assert reverse("occurrence_done", kwargs={"slug": "alpha", "occurrence_id": occurrence.pk}) not in part
        assert reverse("action_edit", kwargs={"slug": "alpha", "action_id": overdue.pk}) not in part
        assert "http://testserver" + reverse("action_list", kwargs={"slug": "alpha"}) in part


def test_a_long_list_shows_its_first_rows_and_counts_the_rest(world, client_for, frozen):
    from agenda.my_week import DATES_SHOWN, OVERDUE_SHOWN

    for n in range(OVERDUE_SHOWN + 2):
        owned(world, world.member, f"Person {n:03d}", last_touched_on=TODAY - timedelta(days=181 + n))
    weekly = Touchpoint.objects.create(
        pmo=world.pmo, purpose="Weekly sync", element="people", owner=world.membership(world.member), starts_on=TODAY
    )
    TouchpointOccurrence.objects.bulk_create(
        TouchpointOccurrence(touchpoint=weekly, pmo=world.pmo, on=TODAY - timedelta(days=7 * n + 1))
        for n in range(DATES_SHOWN + 3)
    )
    week = my_week(world.membership(world.member), TODAY)
    assert (week.overdue_count, len(week.overdue), week.overdue_more) == (OVERDUE_SHOWN + 2, OVERDUE_SHOWN, 2)
    assert week.overdue[0].stakeholder.name == f"Person {OVERDUE_SHOWN + 1:03d}"  # the most overdue
    assert (week.dates_count, week.missed_count, len(week.dates), week.dates_more) == (
        DATES_SHOWN + 3,
        DATES_SHOWN + 3,
        DATES_SHOWN,
        3,
    )
    page = visible(client_for(world.member).get(reverse("my_week", kwargs={"slug": "alpha"})))
    assert "and 2 more, overdue by less" in page
    assert "and 3 more." in page
