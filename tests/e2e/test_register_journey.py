"""A PMO lead signs in, adds a stakeholder and finds them on the power–interest grid."""

import re

import pytest
from playwright.sync_api import expect

from pmo5p.models import Role
from stakeholders.models import Stakeholder
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_lead_adds_a_stakeholder_and_sees_them_on_the_grid(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.LEAD, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="lead@alpha.example"
    )
    SegmentFactory(pmo=membership.pmo, name="Finance")

    page = signed_in_page("lead@alpha.example", PASSWORD)
    expect(page.get_by_role("heading", name="Alpha PMO")).to_be_visible()

    page.get_by_role("link", name="Stakeholders", exact=True).click()
    expect(page.get_by_text("The register is empty")).to_be_visible()
    page.get_by_role("link", name="Add the first stakeholder").click()

    page.get_by_label("Name").fill("Grace Jensen")
    page.get_by_label("E-mail address").fill("grace.jensen@corp.example")
    page.get_by_label("Job title").fill("Chief Financial Officer")
    page.get_by_label("Segment").select_option(label="Finance")
    page.get_by_label("Influence").select_option("5")
    page.get_by_label("Interest").select_option("4")
    page.get_by_label("Relationship owner").select_option(label=str(membership.user))
    page.get_by_role("button", name="Save stakeholder").click()

    expect(page.get_by_role("heading", name="Grace Jensen")).to_be_visible()
    expect(page.get_by_text("Grace Jensen is on the register.")).to_be_visible()
    stakeholder = Stakeholder.objects.get(pmo=membership.pmo, email="grace.jensen@corp.example")
    assert (stakeholder.influence, stakeholder.interest, stakeholder.owner_id) == (5, 4, membership.pk)

    page.get_by_role("link", name="Grid", exact=True).click()
    quadrant = page.get_by_role("region", name="Manage closely")
    expect(quadrant.get_by_role("link", name="Grace Jensen")).to_be_visible()
    expect(page.get_by_role("region", name="Monitor").get_by_role("link", name="Grace Jensen")).to_have_count(0)

    quadrant.get_by_role("link", name="Grace Jensen").click()
    expect(page).to_have_url(re.compile(rf"/pmo/alpha/stakeholders/{stakeholder.pk}/$"))


def test_bad_input_keeps_what_was_typed_and_saves_nothing(signed_in_page, live_server):
    membership = MembershipFactory(role=Role.MEMBER, pmo__slug="alpha", user__email="member@alpha.example")
    page = signed_in_page("member@alpha.example", PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/new/")

    page.get_by_label("Name").fill("   ")
    page.get_by_label("Job title").fill("Head of Delivery")
    page.get_by_role("button", name="Save stakeholder").click()

    expect(page.get_by_text("Give the stakeholder's name.")).to_be_visible()
    expect(page.get_by_label("Job title")).to_have_value("Head of Delivery")
    assert not Stakeholder.objects.filter(pmo=membership.pmo).exists()
