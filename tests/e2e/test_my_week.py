"""My week in Chromium: a member signs in and lands on it, sees whom to see and why, and opts in
to the weekly digest with a day and a time in the PMO's time zone; a bad time is refused and
kept; "No digest" turns it off. axe checks every page on the way (tests/e2e/axe.py)."""

import re
import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.models import Membership, Role
from stakeholders.models import Stakeholder
from tests.factories import PASSWORD, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {"my_week_digest"}


@pytest.fixture
def alpha():
    """A viewer who owns two relationships, one overdue, in a PMO in New York's time zone."""
    viewer = MembershipFactory(
        role=Role.VIEWER,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        pmo__time_zone="America/New_York",
        user__email="vic@alpha.example",
        user__name="Vic Viewer",
    )
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo("America/New_York"))
    grace = StakeholderFactory(pmo=viewer.pmo, name="Grace Jensen", influence=5, interest=4, owner=viewer)
    fresh = StakeholderFactory(pmo=viewer.pmo, name="Fred Fresh", influence=2, interest=2, owner=viewer)
    Stakeholder.objects.filter(pk=grace.pk).update(last_touched_on=today - timedelta(days=41))  # every 30 days
    Stakeholder.objects.filter(pk=fresh.pk).update(last_touched_on=today - timedelta(days=3))
    return viewer


def test_a_member_signs_in_to_my_week_and_opts_in_to_the_digest(alpha, signed_in_page):
    page = signed_in_page("vic@alpha.example", PASSWORD)

    expect(page).to_have_url(re.compile(r"/pmo/alpha/my-week/$"))
    expect(page.get_by_role("heading", name="My week", exact=True)).to_be_visible()
    overdue = page.locator('[data-list="overdue"]')
    expect(overdue.get_by_role("link", name="Grace Jensen")).to_be_visible()
    expect(overdue).to_contain_text("No touch for 41 days (every 30 days)")
    expect(overdue).not_to_contain_text("Fred Fresh")
    expect(page.locator('[data-figure="overdue-count"]')).to_have_text("1")

    # A time a browser would not send: refused, with the choice kept.
    digest = page.get_by_role("region", name="Weekly digest by e-mail")
    expect(digest).to_contain_text("in America/New_York")
    digest.get_by_label("Send me a weekly digest on").select_option("Monday")
    digest.get_by_label("At", exact=True).fill("")
    digest.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a time of day, e.g. 08:00.")).to_be_visible()
    expect(page.get_by_label("Send me a weekly digest on")).to_have_value("0")
    assert Membership.objects.get(pk=alpha.pk).digest_weekday is None

    page.get_by_label("Send me a weekly digest on").select_option("Friday")
    page.get_by_label("At", exact=True).fill("07:30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your weekly digest comes every Friday at 07:30 (America/New_York).")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/pmo/alpha/my-week/$"))
    expect(page.get_by_label("Send me a weekly digest on")).to_have_value("4")
    expect(page.get_by_label("At", exact=True)).to_have_value("07:30")

    membership = Membership.objects.get(pk=alpha.pk)
    assert (membership.digest_weekday, membership.digest_time) == (4, time(7, 30))
    local = membership.digest_next_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert (local.weekday(), local.time()) == (4, time(7, 30))
    assert datetime.now(UTC) < membership.digest_next_at <= datetime.now(UTC) + timedelta(days=7)

    # Off again.
    page.get_by_label("Send me a weekly digest on").select_option("No digest")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You will get no weekly digest.")).to_be_visible()
    membership.refresh_from_db()
    assert (membership.digest_weekday, membership.digest_next_at) == (None, None)
