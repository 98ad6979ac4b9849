"""A PMO member imports the service catalogue from a spreadsheet in Chromium: a bad row is
named with its column, the fixed file is previewed with the changes it asks to confirm (a
target below the level now, retiring a service an open action develops), confirmed, and the
services are in the catalogue. axe checks every page on the way (tests/e2e/axe.py)."""

from datetime import date

import pytest
from playwright.sync_api import expect

from agenda.models import Action
from pmo5p.models import Role
from stakeholders import catalogue
from stakeholders.models import ImportJob, Service
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The URL names whose forms these tests fill in and submit (checked against the URL patterns).
FORMS_SUBMITTED = {"service_import", "service_import_preview"}

HEADER = "Name;Owner e-mail;Segments;P elements;Status;Level now;Target level\n"


def test_a_member_imports_the_catalogue_after_fixing_the_row_the_preview_names(signed_in_page, tmp_path):
    membership = MembershipFactory(
        role=Role.MEMBER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="member@alpha.example"
    )
    pmo = membership.pmo
    SegmentFactory(pmo=pmo, name="Sponsors")
    desk = catalogue.create_service(pmo, membership.user, {"name": "Help desk", "level_now": 2, "level_target": 3})
    Action.objects.create(pmo=pmo, title="Extend the opening hours", element="people", due_on=date(2099, 1, 1),
                          service=desk)  # fmt: skip
    bad = tmp_path / "catalogue.csv"
    bad.write_text(
        HEADER
        + "Portfolio reporting;member@alpha.example;Sponsors;Product;Live;Advanced;Basic\n"
        + "Help desk;;;People;Being retired;;\n"
        + "Benefits tracking;;Board;Physical Evidence;Pilot;Basic;Standard\n",
        encoding="utf-8-sig",
    )

    page = signed_in_page("member@alpha.example", PASSWORD)
    page.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import services")).to_be_visible()
    expect(page.get_by_label("Create missing segments")).to_have_count(0)
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="1 row cannot be imported")).to_be_visible()
    expect(page.locator('#import-rows tr[data-row="4"]')).to_contain_text(
        "Segments: This PMO has no segment “Board”. Use the names of its segments, separated by semicolons."
    )
    expect(page.get_by_role("button", name="Confirm the import")).to_have_count(0)
    assert list(Service.objects.filter(pmo=pmo).values_list("name", "status")) == [("Help desk", "live")]

    good = tmp_path / "catalogue-fixed.csv"
    good.write_text(bad.read_text(encoding="utf-8-sig").replace(";Board;", ";Sponsors;"), encoding="utf-8")
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#count-create")).to_have_text("2")
    expect(page.locator("#count-update")).to_have_text("1")
    expect(page.get_by_role("heading", name="2 changes to confirm")).to_be_visible()
    expect(page.locator('#import-rows tr[data-row="2"]')).to_contain_text(
        "The target (Basic) is below the level now (Advanced)."
    )
    expect(page.locator('#import-rows tr[data-row="3"]')).to_contain_text(
        "1 open action develops this service: “Extend the opening hours”."
    )
    page.get_by_role("button", name="Confirm the import (2 new, 1 updated)").click()

    expect(page.get_by_text("Import of catalogue-fixed.csv done: 2 created, 1 updated.")).to_be_visible()
    expect(page.get_by_role("heading", name="Service catalogue")).to_be_visible()
    expect(page.get_by_role("link", name="Benefits tracking")).to_be_visible()
    services = {s.name: s for s in Service.objects.filter(pmo=pmo)}
    assert set(services) == {"Portfolio reporting", "Help desk", "Benefits tracking"}
    reporting = services["Portfolio reporting"]
    assert (reporting.owner, reporting.level_now, reporting.level_target) == (membership, 3, 1)
    assert [s.name for s in reporting.segments.all()] == ["Sponsors"]
    assert (services["Help desk"].status, services["Benefits tracking"].elements) == ("retiring", ["physical_evidence"])
    job = ImportJob.objects.get(confirmed_at__isnull=False)
    assert (job.kind, job.confirmed_by) == ("services", membership.user)
