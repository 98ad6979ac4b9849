"""The service catalogue's forms in Chromium: a service added (with the confirmation a lower
target asks for), changed (retiring it while an action is open), the offering levels worded
by the PMO, an action planned for the service, and the service deleted. axe checks every
page on the way (tests/e2e/axe.py)."""

import re
import tempfile
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from agenda.models import Action
from pmo5p.models import Role
from stakeholders.models import Service, ServiceEvent
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory
from tests.test_service_figures import known  # noqa: F401 (the fixture, used by name below)

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {"service_create", "service_edit", "service_delete", "offering_levels"}

SHOTS = Path(tempfile.gettempdir()) / "shots"  # for people to look at; not asserted


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def alpha():
    lead = MembershipFactory(
        role=Role.LEAD,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        user__email="lead@alpha.example",
        user__name="Lea Lead",
    )
    SegmentFactory(pmo=lead.pmo, name="Sponsors")
    SegmentFactory(pmo=lead.pmo, name="Project managers")
    return lead


def test_a_service_added_changed_retired_and_deleted(alpha, signed_in_page):
    pmo = alpha.pmo
    page = signed_in_page(alpha.user.email, PASSWORD)
    page.get_by_role("link", name="Services", exact=True).click()
    expect(page.get_by_role("heading", name="No service in the catalogue yet")).to_be_visible()

    # The PMO's own words for a level, shown in the form's choices afterwards.
    page.get_by_role("link", name="Word the levels").click()
    page.get_by_label("Advanced").fill("Tailored to each segment and measured every quarter.")
    page.get_by_role("button", name="Save the words").click()
    expect(page.get_by_text("The offering levels' words are saved.")).to_be_visible()
    expect(page.get_by_text("Tailored to each segment and measured every quarter.")).to_be_visible()

    # Added, with a target below its level now: the form asks to confirm, keeping what was typed.
    page.get_by_role("link", name="Add a service").first.click()
    page.get_by_label("Name").fill("Project assurance")
    page.get_by_label("Description").fill("Health checks of projects at each gate.")
    page.get_by_label("Owner").select_option("Lea Lead")
    page.get_by_label("Sponsors").check()
    page.get_by_label("People: building confidence through experience").check()
    page.get_by_label("Status").select_option("Pilot")
    page.get_by_label("Launch date").fill("2026-02-01")
    page.get_by_label("Offering level now").select_option(
        "Advanced: Tailored to each segment and measured every quarter."
    )
    page.get_by_label("Target level").select_option("2")  # Standard
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_text("The target (Standard) is below the level now (Advanced).")).to_be_visible()
    assert not Service.objects.exists()
    expect(page.get_by_label("Description")).to_have_value("Health checks of projects at each gate.")
    expect(page.get_by_label("Sponsors")).to_be_checked()
    page.get_by_label("Yes, scale the service down to this target").check()
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_text("Service “Project assurance” is saved.")).to_be_visible()
    service = Service.objects.get(pmo=pmo)
    assert (service.status, service.level_now, service.level_target, service.elements) == (
        "pilot",
        3,
        2,
        ["people"],
    )
    assert [s.name for s in service.segments.all()] == ["Sponsors"]
    expect(page.get_by_role("heading", name="Its path: Advanced to Standard (scaling down)")).to_be_visible()

    # An action planned from the service's page is linked to it.
    page.get_by_role("link", name="Plan an action for this service").click()
    page.get_by_label("Title").fill("Train sponsors on gate reviews")
    page.get_by_role("button", name="Save action").click()
    expect(page.get_by_text("“Train sponsors on gate reviews” saved.")).to_be_visible()
    assert Action.objects.get(pmo=pmo).service == service
    page.get_by_role("link", name="Project assurance").click()
    expect(page.get_by_role("link", name="Train sponsors on gate reviews")).to_be_visible()
    shot(page, "service-page")

    # Retired while that action is open: the form lists it and asks to confirm.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Status").select_option("Being retired")
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_text("1 open action develops this service: “Train sponsors on gate reviews”.")).to_be_visible()
    page.get_by_label("Yes, retire it while these actions are open").check()
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_text("Service “Project assurance” is saved.")).to_be_visible()
    expect(page.get_by_text("Status Pilot → Being retired.")).to_be_visible()
    assert ServiceEvent.objects.filter(service=service).count() == 2

    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="Services").click()
    expect(page.locator("#catalogue").get_by_role("row")).to_have_count(2)
    shot(page, "catalogue")

    # Deleted, after a confirmation; its action stays on the agenda.
    page.get_by_role("link", name="Project assurance").click()
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_text("No survey asked about it.")).to_be_visible()
    page.get_by_role("button", name="Delete service").click()
    expect(page.get_by_text("Service “Project assurance” is deleted.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/pmo/alpha/services/$"))
    assert not Service.objects.exists()
    assert Action.objects.get(pmo=pmo).service is None
    assert Action.objects.get(pmo=pmo).due_on >= date.today()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_viewer_reads_the_catalogue_and_a_service_with_figures(world, request, signed_in_page, page, width):
    """The known set of tests/test_service_figures.py, on a phone and a desktop: the figures
    read, nothing to edit for a viewer, and axe finds nothing serious on either page."""
    figures = request.getfixturevalue("known")
    page.set_viewport_size({"width": width, "height": 900})
    signed_in_page(world.viewer.email, PASSWORD)
    page.get_by_role("link", name="Services", exact=True).click()
    row = page.locator(f'tr[data-service="{figures.reporting.pk}"]')
    expect(row.locator('[data-figure="awareness"]')).to_have_text("80%")
    expect(row.locator('[data-figure="satisfaction"]')).to_have_text("62.5")
    expect(page.get_by_role("link", name="Add a service")).to_have_count(0)
    shot(page, f"catalogue-known-{width}")
    row.get_by_role("link", name="Reporting").click()
    expect(page.locator('[data-figure="latest"] [data-figure="usage"]')).to_have_text("60%")
    expect(page.locator("#service-segments").get_by_role("row", name=re.compile("^Ops"))).to_contain_text("hidden")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    shot(page, f"service-known-{width}")
