"""A member logs an interaction with two stakeholders from the interactions page, corrects
it, and deletes it: each refused value is named and kept, and nothing is saved for it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.models import Role
from stakeholders.models import Interaction
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The URL names whose forms these tests fill in and submit (checked against the URL patterns).
FORMS_SUBMITTED = {"interaction_create", "interaction_edit", "interaction_delete"}


def test_a_member_logs_corrects_and_deletes_an_interaction(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.MEMBER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="member@alpha.example"
    )
    pmo = membership.pmo
    finance = SegmentFactory(pmo=pmo, name="Finance")
    grace = StakeholderFactory(pmo=pmo, segment=finance, name="Grace Jensen")
    hal = StakeholderFactory(pmo=pmo, name="Hal Hughes")
    yesterday = timezone.localdate() - timedelta(days=1)

    page = signed_in_page("member@alpha.example", PASSWORD)
    page.get_by_role("link", name="Stakeholders", exact=True).click()
    page.get_by_role("link", name="Interactions").click()
    page.get_by_role("link", name="Log the first interaction").click()

    # Create: no stakeholder chosen is refused; the rest of what was entered stays.
    page.get_by_label("Date").fill(yesterday.isoformat())
    page.get_by_label("Kind").select_option(label="Showcase")
    page.get_by_label("Price").check()
    page.get_by_label("Summary").fill("Quarterly showcase of the portfolio dashboard")
    page.get_by_role("button", name="Save interaction").click()
    expect(page.get_by_text("Choose at least one stakeholder.")).to_be_visible()
    expect(page.get_by_label("Date")).to_have_value(yesterday.isoformat())
    expect(page.get_by_label("Kind")).to_have_value("showcase")
    expect(page.get_by_label("Price")).to_be_checked()
    expect(page.get_by_label("Summary")).to_have_value("Quarterly showcase of the portfolio dashboard")
    assert not Interaction.objects.exists()

    page.get_by_label("Stakeholders").select_option(["Grace Jensen (Finance)", "Hal Hughes"])
    page.get_by_label("Product").check()
    page.get_by_label("Sentiment").select_option("-1")
    page.get_by_role("button", name="Save interaction").click()
    # With two stakeholders, back to the list of interactions.
    expect(page.get_by_text("Interaction saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Interactions")).to_be_visible()
    expect(page.get_by_text("Quarterly showcase of the portfolio dashboard")).to_be_visible()
    interaction = Interaction.objects.get(pmo=pmo)
    assert (interaction.occurred_on, interaction.kind, interaction.sentiment, interaction.elements) == (
        yesterday,
        "showcase",
        -1,
        ["product", "price"],
    )
    assert set(interaction.stakeholders.all()) == {grace, hal}
    assert interaction.author_id == membership.user_id

    # Edit: an empty summary is refused; the other changes stay on the page, unsaved.
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit the interaction")).to_be_visible()
    page.get_by_label("Sentiment").select_option("2")
    page.get_by_label("Summary").fill("  ")
    page.get_by_role("button", name="Save interaction").click()
    expect(page.get_by_text("Summarise what happened, in a sentence or two.")).to_be_visible()
    expect(page.get_by_label("Sentiment")).to_have_value("2")
    interaction.refresh_from_db()
    assert (interaction.sentiment, interaction.summary) == (-1, "Quarterly showcase of the portfolio dashboard")

    page.get_by_label("Summary").fill("Showcase: Grace asked for the budget view first")
    page.get_by_label("Stakeholders").select_option(["Grace Jensen (Finance)"])
    page.get_by_role("button", name="Save interaction").click()
    # With one stakeholder, to that stakeholder's page and timeline.
    expect(page.get_by_text("Interaction saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/pmo/alpha/stakeholders/{grace.pk}/$"))
    expect(page.locator("#timeline").get_by_text("Showcase: Grace asked for the budget view first")).to_be_visible()
    expect(page.locator("#timeline").get_by_text("sentiment +2")).to_be_visible()
    interaction.refresh_from_db()
    assert (interaction.sentiment, interaction.summary) == (2, "Showcase: Grace asked for the budget view first")
    assert list(interaction.stakeholders.all()) == [grace]

    # Delete.
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/interactions/")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this interaction?")).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Interaction deleted.")).to_be_visible()
    expect(page.get_by_role("heading", name="No interaction logged yet")).to_be_visible()
    assert not Interaction.objects.exists()
