"""The report schedule page: a lead sets when the report goes out and to whom; every
member, viewers included, subscribes or unsubscribes themselves."""

import re
from datetime import UTC, datetime, time

import pytest
import time_machine
from django.urls import reverse

from agenda.models import ReportSchedule
from pmo5p.models import Membership
from tests.helpers import assert_field_error, field_block, messages_of, text, visible

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def schedule_url(world):
    return reverse("report_schedule", kwargs={"slug": world.pmo.slug})


def subscription_url(world):
    return reverse("report_subscription", kwargs={"slug": world.pmo.slug})


def data(world, *, recipients=None, **overrides):
    values = {
        "frequency": "monthly",
        "weekday": "0",
        "day_of_month": "15",
        "send_at": "09:30",
        "is_active": "on",
        "recipients": [world.membership(u).pk for u in (recipients if recipients is not None else [world.lead])],
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def receiving(world) -> set[str]:
    return set(Membership.objects.filter(pmo=world.pmo, receives_reports=True).values_list("user__email", flat=True))


def test_lead_saves_a_monthly_schedule_and_its_recipients(world, client_for):
    Membership.objects.filter(pmo=world.pmo, user=world.member).update(receives_reports=True)
    response = client_for(world.lead).post(schedule_url(world), data(world, recipients=[world.lead, world.viewer]))
    assert response.status_code == 302
    assert response["Location"] == schedule_url(world)
    assert messages_of(response) == ["Report schedule saved."]
    schedule = ReportSchedule.objects.get(pmo=world.pmo)
    assert schedule.frequency == "monthly"
    assert schedule.day_of_month == 15
    assert schedule.send_at == time(9, 30)
    assert schedule.is_active
    assert schedule.next_run_at == datetime(2026, 12, 15, 9, 30, tzinfo=UTC)  # GMT in December
    # The chosen ones receive the report; the member, who did, no longer does.
    assert receiving(world) == {"lead@alpha.example", "viewer@alpha.example"}


def test_the_page_shows_the_next_run_in_the_pmos_time(world, client_for):
    client = client_for(world.lead)
    client.post(schedule_url(world), data(world))
    page = client.get(schedule_url(world))
    assert re.search(r'data-figure="next-run">Tuesday 15 December 2026, 09:30 ', page.content.decode())
    assert "(Europe/London)" in visible(page)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/London", datetime(2026, 12, 15, 9, 30, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 12, 15, 14, 30, tzinfo=UTC)),  # EST, −5
        ("Asia/Kolkata", datetime(2026, 12, 15, 4, 0, tzinfo=UTC)),  # +05:30
        ("Pacific/Auckland", datetime(2026, 12, 14, 20, 30, tzinfo=UTC)),  # NZDT, +13
    ],
)
def test_next_run_is_computed_in_the_pmos_time_zone(world, client_for, zone, expected):
    world.pmo.time_zone = zone
    world.pmo.save()
    client = client_for(world.lead)
    client.post(schedule_url(world), data(world))
    assert ReportSchedule.objects.get().next_run_at == expected
    page = client.get(schedule_url(world)).content.decode()
    assert "Tuesday 15 December 2026, 09:30" in page  # shown as the PMO's wall time
    assert f"In the PMO's time zone, {zone}." in page


def test_weekly_schedule_runs_on_the_weekday(world, client_for):
    client_for(world.lead).post(schedule_url(world), data(world, frequency="weekly", weekday="4", send_at="08:00"))
    schedule = ReportSchedule.objects.get()
    assert (schedule.frequency, schedule.weekday) == ("weekly", 4)
    assert schedule.next_run_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # Friday


def test_weekly_schedule_on_today_after_the_time_runs_next_week(world, client_for):
    client_for(world.lead).post(schedule_url(world), data(world, frequency="weekly", weekday="2", send_at="08:00"))
    assert ReportSchedule.objects.get().next_run_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_quarterly_schedule_runs_in_january(world, client_for):
    client_for(world.lead).post(schedule_url(world), data(world, frequency="quarterly", day_of_month="1"))
    assert ReportSchedule.objects.get().next_run_at == datetime(2027, 1, 1, 9, 30, tzinfo=UTC)


def test_day_31_is_saved_and_the_message_says_short_months_run_on_their_last_day(world, client_for):
    response = client_for(world.lead).post(schedule_url(world), data(world, day_of_month="31"))
    assert response.status_code == 302
    assert messages_of(response) == [
        "Report schedule saved. Months shorter than 31 days get their report on their last day."
    ]
    schedule = ReportSchedule.objects.get()
    assert schedule.day_of_month == 31
    assert schedule.next_run_at == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # November has 30 days


def test_the_form_says_days_past_a_months_end_run_on_its_last_day(world, client_for):
    page = client_for(world.lead).get(schedule_url(world))
    assert "Days past a month's end run on its last day." in field_block(page, "day_of_month")


def test_a_saved_day_31_schedule_reads_as_the_months_last_day_for_members(world, client_for):
    client_for(world.lead).post(schedule_url(world), data(world, day_of_month="31"))
    page = client_for(world.member).get(schedule_url(world))
    assert "Monthly on day 31 (or the month's last day) at 09:30 (Europe/London)." in visible(page)


def test_day_30_also_gets_the_note_but_day_28_does_not(world, client_for):
    client = client_for(world.lead)
    response = client.post(schedule_url(world), data(world, day_of_month="30"))
    assert messages_of(response) == [
        "Report schedule saved. Months shorter than 30 days get their report on their last day."
    ]
    response = client.post(schedule_url(world), data(world, day_of_month="28"))
    assert messages_of(response)[-1] == "Report schedule saved."


def test_day_31_weekly_gets_no_note(world, client_for):
    response = client_for(world.lead).post(schedule_url(world), data(world, frequency="weekly", day_of_month="31"))
    assert messages_of(response) == ["Report schedule saved."]


def test_no_recipients_is_refused_and_nothing_is_saved(world, client_for):
    Membership.objects.filter(pmo=world.pmo, user=world.member).update(receives_reports=True)
    response = client_for(world.lead).post(schedule_url(world), data(world, recipients=[]))
    assert_field_error(response, "recipients", "Choose at least one recipient: a report nobody receives is never read.")
    assert not ReportSchedule.objects.exists()
    assert receiving(world) == {"member@alpha.example"}


def test_no_recipients_on_an_existing_schedule_changes_nothing(world, client_for):
    client = client_for(world.lead)
    client.post(schedule_url(world), data(world, recipients=[world.member]))
    before = ReportSchedule.objects.get()
    response = client.post(schedule_url(world), data(world, recipients=[], day_of_month="3"))
    assert response.status_code == 200
    after = ReportSchedule.objects.get()
    assert (after.day_of_month, after.next_run_at) == (before.day_of_month, before.next_run_at)
    assert receiving(world) == {"member@alpha.example"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("day_of_month", "0", "Choose a day from 1 to 31."),
        ("day_of_month", "32", "Choose a day from 1 to 31."),
        ("day_of_month", "-1", "Choose a day from 1 to 31."),
        ("send_at", "25:00", "Enter a time, e.g. 08:00."),
        ("send_at", "noon", "Enter a time, e.g. 08:00."),
        ("frequency", "daily", "Select a valid choice."),
        ("weekday", "7", "Select a valid choice."),
    ],
)
def test_bad_schedule_input_is_refused_next_to_the_field(world, client_for, field, value, message):
    response = client_for(world.lead).post(
        schedule_url(world), data(world, recipients=[world.member], **{field: value})
    )
    assert_field_error(response, field, message)
    assert not ReportSchedule.objects.exists()
    assert receiving(world) == set()


def test_a_recipient_from_another_pmo_is_refused(world, client_for):
    outsider = Membership.objects.get(pmo=world.other_pmo, user=world.outsider)
    response = client_for(world.lead).post(schedule_url(world), {**data(world), "recipients": [outsider.pk]})
    assert_field_error(response, "recipients", "Select a valid choice.")
    assert not ReportSchedule.objects.exists()
    outsider.refresh_from_db()
    assert not outsider.receives_reports


def test_recipients_of_another_pmo_are_left_alone(world, client_for):
    Membership.objects.filter(pmo=world.other_pmo).update(receives_reports=True)
    client_for(world.lead).post(schedule_url(world), data(world, recipients=[world.lead]))
    assert Membership.objects.get(pmo=world.other_pmo, user=world.outsider).receives_reports


def test_the_form_starts_from_the_current_recipients(world, client_for):
    Membership.objects.filter(pmo=world.pmo, user__in=[world.member, world.viewer]).update(receives_reports=True)
    form = client_for(world.lead).get(schedule_url(world)).context["form"]
    assert set(form["recipients"].value()) == {world.membership(world.member).pk, world.membership(world.viewer).pk}


def test_pausing_the_schedule_clears_the_next_run(world, client_for):
    client = client_for(world.lead)
    client.post(schedule_url(world), data(world))
    client.post(schedule_url(world), data(world, is_active=None))
    schedule = ReportSchedule.objects.get()
    assert not schedule.is_active
    assert schedule.next_run_at is None
    assert "None scheduled." in text(client.get(schedule_url(world)))


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_see_the_schedule_but_cannot_change_it(world, client_for, role):
    client_for(world.lead).post(schedule_url(world), data(world, recipients=[world.lead]))
    before = ReportSchedule.objects.get()
    client = client_for(getattr(world, role))
    page = client.get(schedule_url(world))
    assert page.status_code == 200
    assert page.context["form"] is None
    assert "Only a lead can change the schedule and its recipients." in text(page)
    assert "Monthly on day 15 at 09:30 (Europe/London)." in visible(page)
    response = client.post(schedule_url(world), data(world, day_of_month="3", recipients=[world.member, world.viewer]))
    assert response.status_code == 403
    after = ReportSchedule.objects.get()
    assert (after.day_of_month, after.next_run_at) == (15, before.next_run_at)
    assert receiving(world) == {"lead@alpha.example"}


def test_a_member_cannot_create_the_first_schedule(world, client_for):
    client = client_for(world.member)
    assert "No schedule yet" in text(client.get(schedule_url(world)))
    assert client.post(schedule_url(world), data(world)).status_code == 403
    assert not ReportSchedule.objects.exists()


@pytest.mark.parametrize("role", ["lead", "member", "viewer"])
def test_each_member_subscribes_and_unsubscribes_themselves_only(world, client_for, role):
    user = getattr(world, role)
    others = {"lead@alpha.example", "member@alpha.example", "viewer@alpha.example"} - {user.email}
    Membership.objects.filter(pmo=world.pmo).exclude(user=user).update(receives_reports=True)
    client = client_for(user)
    response = client.post(subscription_url(world), {"subscribe": "true"})
    assert response.status_code == 302
    assert receiving(world) == others | {user.email}
    assert messages_of(response) == ["You will receive Alpha PMO's agenda report."]
    page = client.get(schedule_url(world))
    assert "You receive this report." in text(page)
    response = client.post(subscription_url(world), {"subscribe": "false"})
    assert receiving(world) == others
    assert messages_of(response)[-1] == "You will no longer receive Alpha PMO's agenda report."
    assert "You don't receive this report." in text(client.get(schedule_url(world)))


def test_subscription_is_post_only_and_for_members_of_the_pmo(world, client_for):
    assert client_for(world.viewer).get(subscription_url(world)).status_code == 405
    response = client_for(world.outsider).post(subscription_url(world), {"subscribe": "true"})
    assert response.status_code == 404
    assert receiving(world) == set()


def test_unsubscribing_does_not_touch_the_schedule(world, client_for):
    client_for(world.lead).post(schedule_url(world), data(world, recipients=[world.lead, world.member]))
    before = ReportSchedule.objects.get()
    client_for(world.member).post(subscription_url(world), {"subscribe": "false"})
    after = ReportSchedule.objects.get()
    assert (after.next_run_at, after.day_of_month) == (before.next_run_at, before.day_of_month)
    assert receiving(world) == {"lead@alpha.example"}


def test_a_failing_schedule_is_shown_on_the_page(world, client_for):
    client = client_for(world.member)
    client_for(world.lead).post(schedule_url(world), data(world))
    assert "The last run failed" not in text(client.get(schedule_url(world)))
    ReportSchedule.objects.filter(pmo=world.pmo).update(failure_count=2, last_error="ValueError: bad <zone>")
    page = client.get(schedule_url(world))
    assert "The last run failed 2 times in a row: ValueError: bad <zone>. It is tried again automatically." in visible(
        page
    )
    assert "bad <zone>" not in page.content.decode()  # escaped
