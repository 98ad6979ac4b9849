"""Issue 13's journey in Chromium: a member signs in to My week and sees whom to see and why;
sets a stakeholder's own target, and the dashboard's engagement index moves; plans a monthly
touchpoint, marks its missed first date done from My week; the interaction is on the
stakeholder's page, their last touch moves, and they leave My week's overdue list.
axe checks every page on the way (tests/e2e/axe.py)."""

import re
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from playwright.sync_api import expect

from agenda.models import MaturityRecord
from pmo5p.domain import MaturityStage
from pmo5p.models import Role
from stakeholders.models import Interaction, OccurrenceStatus, Stakeholder, TouchpointOccurrence
from tests.factories import PASSWORD, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alpha():
    """Grace (manage closely: Trust by default) at Respect, never touched since she was added
    45 days ago (every 30 days); Otto (monitor: Aware) at Aware. The index: 1 of 2."""
    member = MembershipFactory(
        role=Role.MEMBER,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        user__email="max@alpha.example",
        user__name="Max Member",
    )
    pmo = member.pmo
    grace = StakeholderFactory(pmo=pmo, name="Grace Jensen", influence=5, interest=4, owner=member)
    otto = StakeholderFactory(pmo=pmo, name="Otto Other", influence=2, interest=2, owner=member)
    Stakeholder.objects.filter(pk=grace.pk).update(created_at=timezone.now() - timedelta(days=45))
    Stakeholder.objects.filter(pk=otto.pk).update(last_touched_on=timezone.localdate() - timedelta(days=3))
    for stakeholder, stage in ((grace, MaturityStage.RESPECT), (otto, MaturityStage.AWARE)):
        MaturityRecord.objects.create(pmo=pmo, stakeholder=stakeholder, stage=stage, rationale="Assessed")
    return member, grace


def engagement_index(page):
    page.get_by_role("link", name="Dashboard", exact=True).click()
    return page.locator('[data-figure="engagement-index"]')


def test_a_target_a_recurring_touchpoint_one_date_done_and_the_index_moves(alpha, signed_in_page):
    member, grace = alpha
    today = timezone.localdate()
    page = signed_in_page(member.user.email, PASSWORD)

    # Signing in lands on My week: Grace, and why.
    expect(page).to_have_url(re.compile(r"/pmo/alpha/my-week/$"))
    overdue = page.locator('[data-list="overdue"]')
    expect(overdue.get_by_role("link", name="Grace Jensen", exact=True)).to_be_visible()
    expect(overdue).to_contain_text("Never touched")
    expect(overdue).not_to_contain_text("Otto Other")

    expect(engagement_index(page)).to_have_text("50%")

    # Her own target, with a reason: Respect is where she should be.
    page.get_by_role("link", name="Stakeholders", exact=True).click()
    page.get_by_role("link", name="Grace Jensen", exact=True).click()
    page.get_by_role("link", name=re.compile("^Edit")).first.click()
    page.get_by_label("Target maturity").select_option(label="Respect")
    page.get_by_label("Why this target").fill("New to the board: respect first, trust in a year.")
    page.get_by_role("button", name="Save stakeholder").click()
    plan = page.get_by_role("region", name="Engagement plan")
    expect(plan).to_contain_text("own target")
    expect(plan).to_contain_text("At target")
    expect(engagement_index(page)).to_have_text("100%")

    # A monthly touchpoint for her, from 10 days ago: its first date is missed.
    first = today - timedelta(days=10)
    page.get_by_role("link", name="Touchpoints", exact=True).click()
    page.get_by_role("link", name=re.compile("Plan (a|the first) touchpoint")).first.click()
    page.get_by_label("Purpose").fill("Monthly one-to-one")
    page.get_by_label(re.compile(r"^\s*Date\W*$")).fill(first.isoformat())
    page.get_by_label(re.compile(r"^\s*Time\W*$")).fill("10:00")
    page.get_by_label("P it serves").select_option(label="People — building confidence through experience")
    page.get_by_label("Find stakeholders").fill("grace")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_label("Grace Jensen", exact=True).check()
    page.get_by_label(re.compile(r"^\s*Repeats\W*$")).select_option("monthly")
    page.get_by_label("Repeats until").fill((first + relativedelta(months=5)).isoformat())
    page.get_by_role("button", name="Plan touchpoint").click()
    expect(page.get_by_text("Touchpoint planned")).to_be_visible()
    assert TouchpointOccurrence.objects.count() == 6

    # My week shows the missed date; marking it done records the interaction, prefilled.
    page.get_by_role("link", name="My week", exact=True).click()
    dates = page.locator('[data-list="dates"]')
    expect(dates).to_contain_text("Monthly one-to-one")
    dates.get_by_role("link", name=re.compile("Mark done")).first.click()
    expect(page.get_by_label(re.compile(r"^\s*Date\W*$"))).to_have_value(first.isoformat())
    expect(page.get_by_label("Summary")).to_have_value("Monthly one-to-one")
    page.get_by_label("Summary").fill("Walked through the benefits report together")
    page.get_by_role("button", name="Record and mark done").click()
    expect(page.get_by_text("Done: the interaction is recorded.")).to_be_visible()
    occurrence = TouchpointOccurrence.objects.get(on=first)
    assert occurrence.status == OccurrenceStatus.DONE
    interaction = Interaction.objects.get()
    assert occurrence.interaction == interaction and list(interaction.stakeholders.all()) == [grace]

    # On her page: the interaction, and her last touch.
    page.goto(page.url.split("/pmo/")[0] + grace.get_absolute_url())
    expect(page.get_by_text("Walked through the benefits report together")).to_be_visible()
    expect(page.get_by_role("region", name="Engagement plan")).to_contain_text("10 days ago")
    assert Stakeholder.objects.get(pk=grace.pk).last_touched_on == first

    # Touched 10 days ago, every 30 days: no longer overdue.
    page.get_by_role("link", name="My week", exact=True).click()
    expect(page.locator('[data-figure="overdue-count"]')).to_have_text("0")
    expect(page.get_by_text("Nobody is overdue: your 2 relationships are all within their cadence.")).to_be_visible()
    expect(page.get_by_text("Missed", exact=True)).to_have_count(0)
