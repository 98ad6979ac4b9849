"""The register in Chromium: a lead adds a stakeholder and finds them on the power–interest
grid; a member filters, edits, deactivates and deletes stakeholders, and keeps the segments."""

import re

import pytest
from playwright.sync_api import expect

from pmo5p.models import Role
from stakeholders.models import Stakeholder
from tests.e2e.test_import_journey import shot
from tests.e2e.test_survey_journey import DESKTOP, PHONE
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The URL names whose forms these tests fill in and submit (checked against the URL patterns).
FORMS_SUBMITTED = {
    "stakeholder_create",
    "stakeholder_edit",
    "stakeholder_set_active",
    "stakeholder_delete",
    "segment_create",
    "segment_edit",
    "segment_delete",
}

# On a phone, neither the page nor a table in it needs scrolling sideways to be read.
NOTHING_SCROLLS_SIDEWAYS = """() => document.documentElement.scrollWidth <= window.innerWidth
    && [...document.querySelectorAll('.table-responsive')].every(box => box.scrollWidth <= box.clientWidth)"""


def test_lead_adds_a_stakeholder_and_sees_them_on_the_grid(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.LEAD, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="lead@alpha.example"
    )
    SegmentFactory(pmo=membership.pmo, name="Finance")

    page = signed_in_page("lead@alpha.example", PASSWORD)
    page.get_by_role("link", name="Dashboard", exact=True).click()  # signing in lands on My week
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


def test_a_member_finds_edits_deactivates_and_deletes_stakeholders(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.MEMBER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="member@alpha.example"
    )
    pmo = membership.pmo
    finance = SegmentFactory(pmo=pmo, name="Finance")
    sales = SegmentFactory(pmo=pmo, name="Sales")
    grace = StakeholderFactory(
        pmo=pmo, segment=finance, name="Grace Jensen", email="grace@corp.example", job_title="CFO", influence=5
    )
    hal = StakeholderFactory(
        pmo=pmo, segment=sales, name="Hal Hughes", email="hal.hughes@corporate-services.example", influence=2
    )

    page = signed_in_page("member@alpha.example", PASSWORD)
    page.get_by_role("link", name="Stakeholders", exact=True).click()
    expect(page.get_by_role("heading", name="Stakeholder register")).to_be_visible()
    page.set_viewport_size(PHONE)
    assert page.evaluate(NOTHING_SCROLLS_SIDEWAYS)
    shot(page, "register-390")
    page.set_viewport_size(DESKTOP)

    # The filter form: search and segment, then clear.
    page.get_by_label("Search").fill("hughes")
    page.get_by_label("Segment").select_option(label="Sales")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1 stakeholder matches these filters.")).to_be_visible()
    expect(page.get_by_role("link", name="Hal Hughes")).to_be_visible()
    expect(page.get_by_role("link", name="Grace Jensen")).to_have_count(0)
    expect(page.get_by_label("Search")).to_have_value("hughes")
    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_text("2 stakeholders.")).to_be_visible()

    # Save and add another: saved, and an empty form for the next one.
    page.get_by_role("link", name="Add stakeholder").click()
    page.get_by_label("Name").fill("Ivy Irons")
    page.get_by_label("E-mail address").fill("ivy@corp.example")
    page.get_by_role("button", name="Save and add another").click()
    expect(page.get_by_text("Ivy Irons is on the register.")).to_be_visible()
    expect(page.get_by_role("heading", name="Add a stakeholder")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("")
    assert Stakeholder.objects.filter(pmo=pmo, name="Ivy Irons", email="ivy@corp.example").exists()

    # Edit: an e-mail address taken by someone else is refused, and what was typed stays.
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/{grace.pk}/")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("E-mail address").fill("HAL.Hughes@corporate-services.example")
    page.get_by_label("Job title").fill("Chief Financial Officer")
    page.get_by_role("button", name="Save stakeholder").click()
    expect(page.get_by_text("Hal Hughes already has this e-mail address in this PMO.")).to_be_visible()
    expect(page.get_by_label("E-mail address")).to_have_value("HAL.Hughes@corporate-services.example")
    expect(page.get_by_label("Job title")).to_have_value("Chief Financial Officer")
    expect(page.get_by_role("heading", name="Edit Grace Jensen")).to_be_visible()
    grace.refresh_from_db()
    assert (grace.email, grace.job_title) == ("grace@corp.example", "CFO")

    page.get_by_label("E-mail address").fill("Grace.Jensen@corp.example")
    page.get_by_label("Interest").select_option("5")
    page.get_by_label("Notes").fill("Prefers one-page summaries.")
    page.get_by_role("button", name="Save stakeholder").click()
    expect(page.get_by_text("Grace Jensen is saved.")).to_be_visible()
    expect(page.get_by_role("link", name="grace.jensen@corp.example")).to_be_visible()
    expect(page.get_by_text("Prefers one-page summaries.")).to_be_visible()
    grace.refresh_from_db()
    assert (grace.email, grace.job_title, grace.interest, grace.notes) == (
        "grace.jensen@corp.example",
        "Chief Financial Officer",
        5,
        "Prefers one-page summaries.",
    )

    # Deactivate and reactivate from the detail page.
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Grace Jensen is deactivated: kept on record, left out of surveys.")).to_be_visible()
    expect(page.get_by_role("heading", name="Grace Jensen inactive")).to_be_visible()
    assert not Stakeholder.objects.get(pk=grace.pk).is_active
    page.get_by_role("button", name="Reactivate").click()
    expect(page.get_by_text("Grace Jensen is active again.")).to_be_visible()
    assert Stakeholder.objects.get(pk=grace.pk).is_active

    # Delete: the confirmation page offers to deactivate instead; then delete for good.
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/{hal.pk}/")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete Hal Hughes?")).to_be_visible()
    page.get_by_role("button", name="Deactivate instead").click()
    expect(page.get_by_text("Hal Hughes is deactivated: kept on record, left out of surveys.")).to_be_visible()
    assert not Stakeholder.objects.get(pk=hal.pk).is_active
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("button", name="Deactivate instead")).to_have_count(0)
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_text("Hal Hughes is deleted from the register.")).to_be_visible()
    expect(page.get_by_role("heading", name="Stakeholder register")).to_be_visible()
    expect(page.get_by_role("link", name="Hal Hughes")).to_have_count(0)
    assert not Stakeholder.objects.filter(pk=hal.pk).exists()
    assert set(Stakeholder.objects.filter(pmo=pmo).values_list("name", flat=True)) == {"Grace Jensen", "Ivy Irons"}


def test_a_member_creates_renames_and_deletes_segments(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.MEMBER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="member@alpha.example"
    )
    pmo = membership.pmo
    finance = SegmentFactory(pmo=pmo, name="Finance")
    sales = SegmentFactory(pmo=pmo, name="Sales")
    sam = StakeholderFactory(pmo=pmo, segment=sales, name="Sam Stone")

    page = signed_in_page("member@alpha.example", PASSWORD)
    page.get_by_role("link", name="Stakeholders", exact=True).click()
    page.get_by_role("link", name="Segments").click()
    page.set_viewport_size(PHONE)
    assert page.evaluate(NOTHING_SCROLLS_SIDEWAYS)
    page.set_viewport_size(DESKTOP)

    # Create: a name the PMO has already (in another case) is refused; the description stays.
    page.get_by_role("link", name="New segment").click()
    page.get_by_label("Name").fill("finance")
    page.get_by_label("Description").fill("The sponsors who fund the portfolio")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("This PMO has a segment with this name already.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("finance")
    expect(page.get_by_label("Description")).to_have_value("The sponsors who fund the portfolio")
    assert pmo.segments.count() == 2

    page.get_by_label("Name").fill("Sponsors")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("Segment “Sponsors” is saved.")).to_be_visible()
    expect(page.get_by_role("link", name="Sponsors")).to_be_visible()
    assert pmo.segments.get(name="Sponsors").description == "The sponsors who fund the portfolio"

    # Edit: a blank name is refused; what was typed stays.
    page.get_by_role("row", name="Finance").get_by_role("link", name="Edit").click()
    page.get_by_label("Name").fill(" ")
    page.get_by_label("Description").fill("Budget holders and controllers")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("Give the segment a name.")).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value("Budget holders and controllers")
    expect(page.get_by_role("heading", name="Edit segment “Finance”")).to_be_visible()
    finance.refresh_from_db()
    assert (finance.name, finance.description) == ("Finance", "")

    page.get_by_label("Name").fill("Finance & Procurement")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("Segment “Finance & Procurement” is saved.")).to_be_visible()
    finance.refresh_from_db()
    assert (finance.name, finance.description) == ("Finance & Procurement", "Budget holders and controllers")

    # Delete: its stakeholders stay, without a segment.
    page.get_by_role("row", name="Sales").get_by_role("link", name="Delete").click()
    expect(page.get_by_text("Its 1 stakeholder stays on the register, without a segment.")).to_be_visible()
    page.get_by_role("button", name="Delete segment").click()
    expect(
        page.get_by_text("Segment “Sales” is deleted; its stakeholders are kept, without a segment.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Sales", exact=True)).to_have_count(0)
    assert set(pmo.segments.values_list("name", flat=True)) == {"Finance & Procurement", "Sponsors"}
    sam.refresh_from_db()
    assert sam.segment is None
