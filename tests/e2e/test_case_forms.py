"""A follow-up case in Chromium: found from My week and the Surveys section's Follow-up tab,
a note refused empty then added, the case assigned, its P at the root set, a contact recorded
(an interaction in the register), resolved, reopened, closed with no action (after a blank
reason is refused, keeping nothing changed), reopened again, and an action planned from it.
axe checks every page on the way (tests/e2e/axe.py)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda.models import Action
from pmo5p.models import Role
from stakeholders.models import CaseStatus, FollowUpCase, Interaction
from tests.factories import PASSWORD, FollowUpCaseFactory, MembershipFactory, SegmentFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {
    "case_note",
    "case_assign",
    "case_root",
    "case_contact",
    "case_resolve",
    "case_close",
    "case_reopen",
}


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
    grace = StakeholderFactory(pmo=lead.pmo, segment=finance, name="Grace Jensen")
    case = FollowUpCaseFactory(
        for_stakeholder=grace, due_on=timezone.localdate() - timedelta(days=1), suggested_element="price"
    )
    return lead, member, case


def test_follow_a_case_from_open_to_closed(alpha, signed_in_page):
    lead, member, case = alpha
    page = signed_in_page(lead.user.email, PASSWORD)
    # My week lists the leads' case, overdue, in words.
    cases = page.locator('[data-list="cases"]')
    expect(cases.get_by_text("Grace Jensen")).to_be_visible()
    expect(cases.get_by_text("Overdue")).to_be_visible()

    page.get_by_role("link", name="Surveys", exact=True).first.click()
    page.get_by_role("link", name="Follow-up", exact=True).click()
    expect(page.get_by_role("heading", name="Follow-up cases")).to_be_visible()
    page.get_by_role("link", name="Grace Jensen").click()
    expect(page.get_by_role("heading", name="Follow-up of Grace Jensen")).to_be_visible()

    # A note: refused empty, then added.
    note_form = page.get_by_role("form", name="Add a note")
    note_form.get_by_role("button", name="Add the note").click()
    expect(page.get_by_text("Write the note: it is empty.")).to_be_visible()
    page.get_by_role("form", name="Add a note").get_by_label("Note").fill("Left a voicemail.")
    page.get_by_role("form", name="Add a note").get_by_role("button", name="Add the note").click()
    expect(page.locator('[data-list="notes"]')).to_contain_text("Left a voicemail.")

    # Assigned to Max, and the P at the root chosen beside the suggestion.
    page.get_by_role("form", name="Assign the case").get_by_label("Owner").select_option(label="Max Member (member)")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator('[data-field="owner"]')).to_have_text("Max Member")
    root = page.get_by_role("form", name="Set the P at the root").get_by_label("P at the root")
    expect(root.locator("option", has_text="(suggested)")).to_have_count(1)
    root.select_option(value="people")
    page.get_by_role("form", name="Set the P at the root").get_by_role("button", name="Save").click()
    expect(page.locator('[data-field="root"]')).to_contain_text("People")

    # A contact: an interaction with Grace in the register.
    page.get_by_role("link", name="Record a contact").click()
    page.get_by_label("Date").fill(timezone.localdate().isoformat())
    page.get_by_label("Kind").select_option("meeting")
    page.get_by_label("Summary").fill("Coffee with Grace: the weekly report comes too late.")
    page.get_by_role("button", name="Record the contact").click()
    expect(page.locator('[data-list="interactions"]')).to_contain_text("the weekly report comes too late")
    expect(page.locator(".lead .badge", has_text="Contacted")).to_be_visible()
    interaction = Interaction.objects.get()
    assert list(interaction.stakeholders.all()) == [case.stakeholder]

    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".lead .badge", has_text="Resolved")).to_be_visible()
    page.get_by_role("button", name="Reopen").click()
    expect(page.locator(".lead .badge", has_text="Contacted")).to_be_visible()

    # Closing needs a reason: a blank one is refused and changes nothing.
    page.get_by_role("link", name="Close with no action").click()
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_text("Say why the case closes with no action.")).to_be_visible()
    assert FollowUpCase.objects.get(pk=case.pk).status == CaseStatus.CONTACTED
    page.get_by_label("Why close it with no action?").fill("Grace moved to another company.")
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_text("Grace moved to another company.")).to_be_visible()
    assert FollowUpCase.objects.get(pk=case.pk).status == CaseStatus.CLOSED
    page.get_by_role("button", name="Reopen").click()

    # Plan an action on the P at the root, for Grace: back on the case once saved.
    page.get_by_role("link", name="Plan an action").click()
    page.get_by_label("Title").fill("Send the weekly report on Mondays")
    page.get_by_label(re.compile(r"^\s*Due date")).fill((timezone.localdate() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Save action").click()
    expect(page.locator('[data-list="actions"]')).to_contain_text("Send the weekly report on Mondays")
    action = Action.objects.get()
    assert (action.follow_up_case_id, action.element) == (case.pk, "people")
    assert list(action.target_stakeholders.all()) == [case.stakeholder]
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.owner, fresh.root_element, fresh.status) == (member, "people", CaseStatus.CONTACTED)
