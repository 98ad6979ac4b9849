"""A PMO member imports stakeholders from a spreadsheet: a bad row is named, the fixed
file is previewed, confirmed, and the people are on the register."""

import os
import re

import pytest
from playwright.sync_api import expect

from pmo5p.models import Role
from stakeholders.models import ImportJob, Stakeholder
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The URL names whose forms these tests fill in and submit (checked against the URL patterns).
FORMS_SUBMITTED = {"stakeholder_import", "stakeholder_import_preview"}
SHOTS = os.environ.get("PMO5P_SCREENSHOTS")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_member_imports_a_file_after_fixing_the_row_the_preview_names(signed_in_page, live_server, tmp_path):
    membership = MembershipFactory(
        role=Role.MEMBER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="member@alpha.example"
    )
    SegmentFactory(pmo=membership.pmo, name="Finance")
    bad = tmp_path / "people.csv"
    bad.write_text(
        "Name;E-mail;Segment;Influence\nGrace Jensen;grace@corp.example;Finance;5\nHal Hughes;hal@corp.example;Sales;9\n",
        encoding="utf-8-sig",
    )

    page = signed_in_page("member@alpha.example", PASSWORD)
    page.get_by_role("link", name="Stakeholders", exact=True).click()
    page.get_by_role("link", name="Import them from a spreadsheet").click()
    shot(page, "import-upload")
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="1 row cannot be imported")).to_be_visible()
    row = page.locator('#import-rows tr[data-row="3"]')
    expect(row).to_contain_text("Segment: This PMO has no segment “Sales”.")
    expect(row).to_contain_text("Influence: Choose an influence from 1 (very low) to 5 (very high).")
    expect(page.get_by_role("button", name="Confirm the import")).to_have_count(0)
    shot(page, "import-preview-invalid")

    good = tmp_path / "people-fixed.csv"
    good.write_text(bad.read_text(encoding="utf-8-sig").replace(";9", ";4"), encoding="utf-8")
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(good))
    page.get_by_label("Create missing segments").check()
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#count-create")).to_have_text("2")
    expect(page.get_by_text("New segments to create: Sales")).to_be_visible()
    shot(page, "import-preview-valid")
    page.get_by_role("button", name="Confirm the import (2 new, 0 updated)").click()

    expect(
        page.get_by_text("Import of people-fixed.csv done: 2 created, 0 updated; new segment: Sales.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Hal Hughes")).to_be_visible()
    shot(page, "register-after-import")
    assert set(Stakeholder.objects.filter(pmo=membership.pmo).values_list("email", "segment__name", "influence")) == {
        ("grace@corp.example", "Finance", 5),
        ("hal@corp.example", "Sales", 4),
    }
    page.get_by_role("link", name="Import / export").click()
    expect(page.get_by_role("heading", name="Import and export")).to_be_visible()
    shot(page, "exports-page")


def test_an_upload_without_a_file_is_refused_then_a_file_updates_the_register(signed_in_page, live_server, tmp_path):
    membership = MembershipFactory(role=Role.MEMBER, pmo__slug="alpha", user__email="member@alpha.example")
    grace = StakeholderFactory(pmo=membership.pmo, name="Grace Jensen", email="grace@corp.example", influence=2)
    page = signed_in_page("member@alpha.example", PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/import/")

    # No file: a clear message, the ticked box stays ticked, nothing kept.
    page.get_by_label("Create missing segments").check()
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Choose the file to import.")).to_be_visible()
    expect(page.get_by_label("Create missing segments")).to_be_checked()
    assert not ImportJob.objects.exists()

    update = tmp_path / "update.csv"
    update.write_text("E-mail,Name,Influence,Job title\nGRACE@corp.example,Grace Jensen,5,Chief Financial Officer\n")
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(update))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#count-update")).to_have_text("1")
    expect(page.locator('#import-rows tr[data-row="2"]')).to_contain_text("Update")
    grace.refresh_from_db()
    assert (grace.influence, grace.job_title) != (5, "Chief Financial Officer")  # only previewed

    page.get_by_role("button", name="Confirm the import (0 new, 1 updated)").click()
    expect(page.get_by_text("Import of update.csv done: 0 created, 1 updated.")).to_be_visible()
    grace.refresh_from_db()
    assert (grace.influence, grace.job_title) == (5, "Chief Financial Officer")
    job = ImportJob.objects.get()
    assert job.confirmed_by_id == membership.user_id and job.result["updated"] == 1

    # The preview of a confirmed file offers nothing to confirm again.
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/import/{job.pk}/")
    expect(page.get_by_text("This file was imported on")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Confirm the import"))).to_have_count(0)


def test_a_file_too_large_or_unreadable_is_named_on_the_form_and_nothing_is_kept(
    signed_in_page, live_server, tmp_path, settings
):
    """The browser sends the whole file; the form answers with the limit, ready for another file."""
    settings.IMPORT_MAX_BYTES = 64 * 1024
    membership = MembershipFactory(
        role=Role.MEMBER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="member@alpha.example"
    )
    large = tmp_path / "large.csv"
    large.write_text("Name;E-mail\n" + "".join(f"Person {n};p{n}@corp.example\n" for n in range(4000)))
    binary = tmp_path / "people.csv"
    binary.write_bytes(b"Name;E-mail\nAnn\x00;ann@corp.example\n")

    page = signed_in_page("member@alpha.example", PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/stakeholders/import/")
    expect(page.get_by_text("A file may be up to 64.0 KB, with up to 20,000 rows and 100 columns")).to_be_visible()
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(large))
    page.get_by_label("Create missing segments").check()
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("This file is larger than 64.0 KB, the most that can be imported.")).to_be_visible()
    expect(page.get_by_label("Create missing segments")).to_be_checked()
    shot(page, "import-too-large")

    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(binary))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("This file cannot be read: line 2 holds a NUL character")).to_be_visible()
    assert not ImportJob.objects.exists()
    assert not Stakeholder.objects.filter(pmo=membership.pmo).exists()
