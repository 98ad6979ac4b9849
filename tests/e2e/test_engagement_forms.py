"""The engagement plan's forms in Chromium (docs/engagement.md#settings): a lead sets the
quadrant defaults, a bad cadence is refused next to its field with what they typed kept, and
a member gives a stakeholder a target of their own, which the register and the grid show.
axe checks every page on the way (tests/e2e/axe.py)."""

import pytest
from playwright.sync_api import expect

from pmo5p.domain import MaturityStage
from pmo5p.models import Pmo, Role
from stakeholders.models import Stakeholder
from tests.factories import PASSWORD, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {"engagement_settings"}


@pytest.fixture
def alpha():
    lead = MembershipFactory(
        role=Role.LEAD, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="lead@alpha.example", user__name="Lea"
    )
    grace = StakeholderFactory(pmo=lead.pmo, name="Grace Jensen", influence=5, interest=4)  # manage closely
    return lead.pmo, lead, grace


def defaults(pmo_id):
    pmo = Pmo.objects.get(pk=pmo_id)
    return (pmo.target_stage_manage_closely, pmo.cadence_days_manage_closely, pmo.cadence_days_monitor)


def test_a_lead_sets_the_quadrant_defaults_and_a_bad_cadence_keeps_what_they_typed(alpha, signed_in_page):
    pmo, lead, grace = alpha
    page = signed_in_page(lead.user.email, PASSWORD)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Engagement plan defaults").click()
    expect(page.get_by_role("heading", name="Engagement plan defaults")).to_be_visible()
    expect(page.get_by_text("High influence, high interest: engage fully and often.")).to_be_visible()

    page.get_by_label("Target for Manage closely").select_option(label="Respect")
    page.get_by_label("Contact Manage closely every (days)").fill("0")
    page.get_by_label("Contact Monitor every (days)").fill("45")
    page.get_by_role("button", name="Save defaults").click()

    expect(page.get_by_text("Choose a cadence from 1 to 730 days.")).to_be_visible()
    expect(page.get_by_label("Contact Manage closely every (days)")).to_have_value("0")
    expect(page.get_by_label("Contact Monitor every (days)")).to_have_value("45")
    expect(page.get_by_label("Target for Manage closely")).to_have_value(str(MaturityStage.RESPECT))
    assert defaults(pmo.pk) == (MaturityStage.TRUST, 30, 180)  # nothing saved

    page.get_by_label("Contact Manage closely every (days)").fill("731")
    page.get_by_role("button", name="Save defaults").click()
    expect(page.get_by_text("Choose a cadence from 1 to 730 days.")).to_be_visible()
    assert defaults(pmo.pk) == (MaturityStage.TRUST, 30, 180)

    page.get_by_label("Contact Manage closely every (days)").fill("21")
    page.get_by_role("button", name="Save defaults").click()
    expect(page.get_by_text("Engagement defaults saved")).to_be_visible()
    assert defaults(pmo.pk) == (MaturityStage.RESPECT, 21, 45)

    # Grace follows her quadrant's new defaults.
    page.goto(f"{page.url.split('/pmo/')[0]}/pmo/alpha/stakeholders/{grace.pk}/")
    plan = page.get_by_role("region", name="Engagement plan")
    expect(plan).to_contain_text("Respect")
    expect(plan).to_contain_text("the default for Manage closely")
    expect(plan).to_contain_text("Every 21 days")


def test_a_member_gives_a_stakeholder_a_target_of_their_own(alpha, signed_in_page):
    pmo, _, grace = alpha
    member = MembershipFactory(pmo=pmo, role=Role.MEMBER, user__email="max@alpha.example")
    page = signed_in_page(member.user.email, PASSWORD)
    page.goto(f"{page.url.split('/pmo/')[0]}/pmo/alpha/stakeholders/{grace.pk}/edit/")
    target = page.get_by_label("Target maturity")
    expect(target.locator("option").first).to_have_text("Default for Manage closely: Trust")
    target.select_option(label="Understanding")
    page.get_by_label("Contact every (days)").fill("731")
    page.get_by_role("button", name="Save stakeholder").click()
    expect(page.get_by_text("Say why this relationship's target differs from their quadrant's default.")).to_be_hidden()
    expect(page.get_by_text("Choose a cadence from 1 to 730 days, or leave it empty")).to_be_visible()
    expect(page.get_by_label("Target maturity")).to_have_value("3")
    assert Stakeholder.objects.get(pk=grace.pk).target_stage is None

    page.get_by_label("Contact every (days)").fill("14")
    page.get_by_role("button", name="Save stakeholder").click()
    expect(
        page.get_by_text("Say why this relationship's target differs from their quadrant's default.")
    ).to_be_visible()
    page.get_by_label("Why this target").fill("Joined the board only last month.")
    page.get_by_role("button", name="Save stakeholder").click()
    plan = page.get_by_role("region", name="Engagement plan")
    expect(plan).to_contain_text("own target")
    expect(plan).to_contain_text("Why: Joined the board only last month.")
    expect(plan).to_contain_text("Every 14 days")
    saved = Stakeholder.objects.get(pk=grace.pk)
    assert (saved.target_stage, saved.cadence_days) == (MaturityStage.UNDERSTANDING, 14)

    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="Stakeholders").click()
    row = page.get_by_role("row", name="Grace Jensen")
    expect(row).to_contain_text("Understanding own")
    expect(row).to_contain_text("Not assessed")
