"""The communication plan in Chromium: a monthly touchpoint planned (after a recurrence beyond
five years is refused, keeping what was typed), its dates read, one marked done from its
prefilled interaction (seen on the stakeholder's page), one cancelled with a reason, the
touchpoint edited and deleted. axe checks every page on the way (tests/e2e/axe.py)."""

import re

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.models import Role
from stakeholders.models import Interaction, OccurrenceStatus, Touchpoint
from stakeholders.touchpoints import occurrence_dates
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {"touchpoint_create", "touchpoint_edit", "touchpoint_delete", "occurrence_done", "occurrence_cancel"}


@pytest.fixture
def alpha():
    lead = MembershipFactory(
        role=Role.LEAD,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        user__email="lead@alpha.example",
        user__name="Lea Lead",
    )
    member = MembershipFactory(
        pmo=lead.pmo, role=Role.MEMBER, user__email="member@alpha.example", user__name="Max Member"
    )
    finance = SegmentFactory(pmo=lead.pmo, name="Finance")
    grace = StakeholderFactory(pmo=lead.pmo, segment=finance, name="Grace Jensen", influence=5, interest=4)
    StakeholderFactory(pmo=lead.pmo, segment=finance, name="Otto Other", influence=2, interest=2)
    return lead.pmo, member, grace


def row(page, day):
    return page.locator(f'[data-on="{day.isoformat()}"]')


def test_plan_a_monthly_touchpoint_mark_one_done_cancel_one(alpha, signed_in_page):
    pmo, member, grace = alpha
    today = timezone.localdate()
    first = today - relativedelta(days=40)
    page = signed_in_page(member.user.email, PASSWORD)
    page.get_by_role("link", name="Touchpoints", exact=True).click()
    expect(page.get_by_text("No touchpoint planned yet")).to_be_visible()
    page.get_by_role("link", name="Plan the first touchpoint").click()

    page.get_by_label("Purpose").fill("Monthly steering committee")
    page.get_by_label(re.compile(r"^\s*Date\W*$")).fill(first.isoformat())
    page.get_by_label(re.compile(r"^\s*Time\W*$")).fill("09:00")
    expect(page.get_by_text(f"{pmo.time_zone} time.")).to_be_visible()
    page.get_by_label("Channel").select_option("meeting")
    page.get_by_label("P it serves").select_option(label="People — building confidence through experience")
    # The stakeholders: found by name, not picked from the whole register.
    expect(page.get_by_label("Grace Jensen (Finance)")).to_have_count(0)
    page.get_by_label("Find stakeholders").fill("grace")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_label("Grace Jensen (Finance)").check()
    expect(page.get_by_label("Otto Other (Finance)")).to_have_count(0)
    page.get_by_label(re.compile(r"^\s*Repeats\W*$")).select_option("monthly")
    too_late = first + relativedelta(years=5, days=1)
    page.get_by_label("Repeats until").fill(too_late.isoformat())
    page.get_by_role("button", name="Plan touchpoint").click()
    expect(page.get_by_text("A recurrence runs at most five years")).to_be_visible()
    assert not Touchpoint.objects.exists()
    # What was typed is still there.
    expect(page.get_by_label("Purpose")).to_have_value("Monthly steering committee")
    expect(page.get_by_label("Repeats until")).to_have_value(too_late.isoformat())
    expect(page.get_by_label("Grace Jensen (Finance)")).to_be_checked()
    expect(page.get_by_label(re.compile(r"^\s*Time\W*$"))).to_have_value("09:00")

    until = first + relativedelta(years=1)
    page.get_by_label("Repeats until").fill(until.isoformat())
    page.get_by_role("button", name="Plan touchpoint").click()
    expect(page.get_by_text("Touchpoint planned")).to_be_visible()
    dates = occurrence_dates(first, "monthly", until)
    expect(page.locator("[data-on]")).to_have_count(len(dates))
    for day in dates:
        expect(row(page, day)).to_be_visible()
    expect(row(page, dates[0]).get_by_text("Missed")).to_be_visible()

    # The first date, done: the interaction comes prefilled.
    row(page, dates[0]).get_by_role("link", name=re.compile("^Done")).click()
    expect(page.get_by_label(re.compile(r"^\s*Date\W*$"))).to_have_value(dates[0].isoformat())
    expect(page.get_by_label("Summary")).to_have_value("Monthly steering committee")
    expect(page.get_by_label("Grace Jensen (Finance)")).to_be_checked()
    expect(page.get_by_label("People")).to_be_checked()
    page.get_by_label("Summary").fill("Agreed the roadmap; Grace asked for a benefits view")
    page.get_by_role("button", name="Record and mark done").click()
    expect(page.get_by_text("Done: the interaction is recorded.")).to_be_visible()
    expect(row(page, dates[0]).get_by_text("Done", exact=True)).to_be_visible()
    touchpoint = Touchpoint.objects.get()
    occurrence = touchpoint.occurrences.get(on=dates[0])
    assert occurrence.status == OccurrenceStatus.DONE
    assert list(Interaction.objects.get().stakeholders.all()) == [grace]

    # The second, cancelled: a reason is needed.
    row(page, dates[1]).get_by_role("link", name=re.compile("^Cancel")).click()
    page.get_by_role("button", name="Cancel this date").click()
    expect(page.get_by_text("Give a reason for cancelling it")).to_be_visible()
    page.get_by_label("Reason").fill("Sponsor on leave")
    page.get_by_role("button", name="Cancel this date").click()
    expect(row(page, dates[1]).get_by_text("Sponsor on leave")).to_be_visible()
    assert touchpoint.occurrences.get(on=dates[1]).status == OccurrenceStatus.CANCELLED

    # The interaction is on Grace's page.
    page.get_by_role("link", name="Grace Jensen").click()
    expect(page.get_by_text("Agreed the roadmap; Grace asked for a benefits view")).to_be_visible()
    page.go_back()

    # Edited, then deleted: the interaction stays.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Purpose").fill("Steering committee")
    page.get_by_role("button", name="Save touchpoint").click()
    expect(page.get_by_role("heading", name="Steering committee")).to_be_visible()
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_text("the interactions they recorded stay")).to_be_visible()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("Touchpoint deleted with its dates.")).to_be_visible()
    assert not Touchpoint.objects.exists() and Interaction.objects.count() == 1
