"""The calendar in Chromium: a member makes their calendar address on the profile, a calendar
program's request to it gets their touchpoint and action as iCalendar, and after "Revoke" the
address answers 404; the calendar page's month and week views, and a filter. axe checks every
page on the way (tests/e2e/axe.py)."""

import re
from datetime import time

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from agenda.models import Action, CalendarFeed
from pmo5p.models import Role
from tests.calendar_data import touchpoint
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {"calendar_feed_create", "calendar_feed_revoke"}


@pytest.fixture
def alpha(settings, live_server):
    # The address the profile shows is the site's: here, the live server's.
    settings.SITE_URL = live_server.url
    lead = MembershipFactory(
        role=Role.LEAD,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        user__email="lead@alpha.example",
        user__name="Lea Lead",
    )
    with timezone.override(lead.pmo.time_zone):
        today = timezone.localdate()
    touchpoint(lead.pmo, [today], owner=lead, purpose="Sponsor one-to-one", element="people", at_time=time(23, 0))
    Action.objects.create(pmo=lead.pmo, title="Publish the benefits", element="process", owner=lead, due_on=today)
    return lead, today


def test_a_member_subscribes_to_their_calendar_and_revokes_it(alpha, signed_in_page):
    lead, _ = alpha
    page = signed_in_page("lead@alpha.example", PASSWORD)
    page.get_by_role("button", name="Lea").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Your profile").click()
    expect(page.get_by_role("heading", name="Calendar feed")).to_be_visible()
    page.get_by_role("button", name="Create my calendar address").click()
    expect(page.get_by_text("Your calendar address is ready")).to_be_visible()
    field = page.get_by_label("Your calendar address")
    address = field.input_value()
    assert re.fullmatch(r"http://[^/]+/calendar/[A-Za-z0-9_-]+\.ics", address)
    assert address.endswith(f"/calendar/{CalendarFeed.objects.get(user=lead.user).token}.ics")
    expect(page.get_by_text("From Internet")).to_be_visible()

    # What a calendar program gets, with no session: the page's request context, cookies aside.
    response = page.context.request.get(address, headers={"Cookie": ""})
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.body())
    summaries = sorted(str(event["SUMMARY"]) for event in calendar.walk("VEVENT"))
    assert summaries == ["Action due: Publish the benefits (Alpha PMO)", "Sponsor one-to-one (Alpha PMO)"]

    page.get_by_role("button", name="Revoke this address").click()
    expect(page.get_by_text("Your calendar address is revoked")).to_be_visible()
    expect(page.get_by_role("button", name="Create my calendar address")).to_be_visible()
    assert page.context.request.get(address).status == 404
    assert CalendarFeed.objects.get(user=lead.user).revoked_at is not None


def test_the_calendar_by_month_and_week_and_filtered(alpha, signed_in_page):
    _, today = alpha
    page = signed_in_page("lead@alpha.example", PASSWORD)
    page.goto(page.url.split("/pmo/")[0] + "/pmo/alpha/")
    page.get_by_role("link", name="Touchpoints", exact=True).click()
    page.get_by_role("navigation", name="The communication plan").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name=today.strftime("%B %Y"))).to_be_visible()
    month = page.get_by_role("table")
    expect(month.get_by_role("columnheader", name="Monday")).to_be_visible()
    expect(month.get_by_role("link", name="Sponsor one-to-one", exact=True)).to_be_visible()
    expect(month.get_by_role("link", name="Publish the benefits", exact=True)).to_be_visible()

    page.get_by_role("link", name="Week", exact=True).click()
    day = page.get_by_role("heading", name=re.compile(f"^{today:%A} {today.day} {today:%B}"))
    expect(day).to_be_visible()
    expect(page.get_by_role("heading", level=3)).to_have_count(7)
    items = page.locator(".cal-item")
    # All day first: the action, then the touchpoint at 23:00.
    expect(items.nth(0)).to_contain_text("Publish the benefits")
    expect(items.nth(1)).to_contain_text("23:00")

    page.get_by_label("P", exact=True).select_option(label="People")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"view=week.*element=people"))
    expect(page.get_by_role("link", name="Sponsor one-to-one", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Publish the benefits", exact=True)).to_have_count(0)
    page.get_by_label("P", exact=True).select_option(label="Price")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nothing matches these filters")).to_be_visible()

    # On a phone the month is a list of the days that have something, within the screen's width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="Show everything").click()
    page.get_by_role("link", name="Month", exact=True).click()
    expect(page.get_by_role("table")).to_be_hidden()
    expect(page.get_by_role("heading", name=re.compile(f"^{today:%A} {today.day} {today:%B}"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
