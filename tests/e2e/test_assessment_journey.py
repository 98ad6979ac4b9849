"""A member records a stakeholder's maturity stage and logs an interaction, then finds
both on the stakeholder's timeline and the change on the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from agenda.models import MaturityRecord
from pmo5p.models import Role
from stakeholders.models import Interaction
from tests.factories import PASSWORD, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_records_maturity_and_an_interaction_and_sees_them(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.MEMBER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="member@alpha.example"
    )
    grace = StakeholderFactory(pmo=membership.pmo, name="Grace Jensen", influence=5, interest=4)
    StakeholderFactory(pmo=membership.pmo, name="Otto Other", influence=2, interest=2)

    page = signed_in_page("member@alpha.example", PASSWORD)
    page.get_by_role("link", name="Dashboard", exact=True).click()  # signing in lands on My week
    expect(page.get_by_role("heading", name="Alpha PMO")).to_be_visible()
    # Before: nobody assessed, nobody at risk.
    expect(page.locator('[data-figure="maturity-none"]')).to_have_text("2")
    expect(page.locator('[data-figure="maturity-2"]')).to_have_text("0")
    expect(page.locator('[data-figure="at-risk-count"]')).to_have_text("0")
    expect(page.get_by_text("No survey results yet")).to_be_visible()

    page.get_by_role("link", name="Stakeholders", exact=True).click()
    page.get_by_role("link", name="Grace Jensen").click()
    expect(page.get_by_role("heading", name="Grace Jensen")).to_be_visible()
    expect(page.get_by_text("Not assessed yet")).to_be_visible()

    # Maturity: the suggestion is shown with its reason; the member decides.
    page.get_by_role("link", name="Record maturity").click()
    expect(page.get_by_text("Suggested: Unaware.")).to_be_visible()
    expect(page.get_by_text("No survey answer and no interaction in the last 180 days.")).to_be_visible()
    expect(page.get_by_label("Unaware")).to_be_checked()
    page.get_by_label("Aware", exact=True).check()
    page.get_by_label("Rationale").fill("Knows the PMO exists from the newsletter, no more")
    page.get_by_role("button", name="Record stage").click()
    expect(page.get_by_text("Grace Jensen: Aware recorded.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/pmo/alpha/stakeholders/{grace.pk}/$"))

    # Interaction: the stakeholder comes pre-selected.
    page.get_by_role("link", name="Log an interaction").click()
    expect(page.get_by_label("Stakeholders")).to_have_values([str(grace.pk)])
    page.get_by_label("Kind").select_option("workshop")
    page.get_by_label("Product").check()
    page.get_by_label("People").check()
    page.get_by_label("Sentiment").select_option("1")
    page.get_by_label("Summary").fill("Intake workshop with the finance leads")
    page.get_by_role("button", name="Save interaction").click()
    expect(page.get_by_text("Interaction saved.")).to_be_visible()

    # Both on the timeline, and the current stage on the page.
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("Maturity: Aware")).to_be_visible()
    expect(timeline.get_by_text("Knows the PMO exists from the newsletter")).to_be_visible()
    expect(timeline.get_by_text("Workshop", exact=True)).to_be_visible()
    expect(timeline.get_by_text("Intake workshop with the finance leads")).to_be_visible()
    expect(timeline.get_by_text("sentiment +1")).to_be_visible()
    expect(page.get_by_text("Not assessed yet")).to_have_count(0)

    record = MaturityRecord.objects.get(stakeholder=grace)
    assert (record.stage, record.author_id) == (2, membership.user_id)
    interaction = Interaction.objects.get(pmo=membership.pmo)
    assert list(interaction.stakeholders.all()) == [grace]
    assert (interaction.kind, interaction.sentiment, interaction.elements) == ("workshop", 1, ["product", "people"])

    # The dashboard: one fewer unassessed, one Aware, and Grace at risk (influence 5, Aware).
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.locator('[data-figure="maturity-none"]')).to_have_text("1")
    expect(page.locator('[data-figure="maturity-2"]')).to_have_text("1")
    expect(page.locator('[data-figure="at-risk-count"]')).to_have_text("1")
    at_risk = page.locator("#at-risk")
    expect(at_risk.get_by_role("link", name="Grace Jensen")).to_be_visible()
    expect(at_risk.get_by_text("Maturity only Aware")).to_be_visible()
    expect(at_risk.get_by_text("Otto Other")).to_have_count(0)


def test_a_future_date_is_refused_in_the_browser(signed_in_page, live_server):
    membership = MembershipFactory(role=Role.MEMBER, pmo__slug="alpha", user__email="member@alpha.example")
    grace = StakeholderFactory(pmo=membership.pmo, name="Grace Jensen")
    page = signed_in_page("member@alpha.example", PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/interactions/new/?stakeholder={grace.pk}")
    page.get_by_label("Date").fill("2999-01-01")
    page.get_by_label("Summary").fill("Not yet happened")
    page.get_by_role("button", name="Save interaction").click()
    expect(page.get_by_text("That date is in the future: log interactions once they have happened.")).to_be_visible()
    expect(page.get_by_label("Summary")).to_have_value("Not yet happened")
    assert not Interaction.objects.exists()
