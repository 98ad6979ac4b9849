"""Importing the service catalogue from CSV and XLSX (stakeholders/catalogue_import.py): the
stakeholder import's upload, preview and confirm step, with the catalogue's columns, every row
checked and written by the catalogue's one write path (stakeholders/catalogue.py). Bad rows are
named with their column and nothing is saved; a lower target or retiring a service with open
actions is a warning the confirmation confirms; a hostile file is refused as for stakeholders."""

import tracemalloc
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from agenda.models import Action
from stakeholders import catalogue, imports
from stakeholders.catalogue_import import MAX_ROWS
from stakeholders.models import ImportJob, Service, ServiceEvent
from tests.factories import MembershipFactory, SegmentFactory, ServiceFactory
from tests.helpers import messages_of, visible
from tests.test_csv_injection import HOSTILE
from tests.test_exports import download, records, table
from tests.test_hostile_uploads import MiB, shared_strings, sheet, workbook
from tests.test_import import csv_bytes, xlsx_bytes

HEADER = ["Name", "Description", "Owner e-mail", "Segments", "P elements", "Status", "Launch date", "Level now", "Target level"]  # fmt: skip


def upload_url(pmo):
    return reverse("service_import", kwargs={"slug": pmo.slug})


def preview_url(job):
    return reverse("service_import_preview", kwargs={"slug": job.pmo.slug, "job_id": job.pk})


def upload(client, pmo, content, *, name="services.csv"):
    return client.post(upload_url(pmo), {"file": SimpleUploadedFile(name, content)})


def upload_ok(client, pmo, content, **kwargs):
    response = upload(client, pmo, content, **kwargs)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == preview_url(job) and job.kind == "services"
    return job


def rows_of(job, action=None):
    job.refresh_from_db()
    return {row[0]: row for row in job.preview["rows"] if action is None or row[1] == action}


def confirm(client, job):
    return client.post(preview_url(job))


def catalogue_of(pmo):
    return {s.name: s for s in Service.objects.filter(pmo=pmo).prefetch_related("segments")}


@pytest.fixture
def member(world, client_for):
    return client_for(world.member)


# Through preview and confirm --------------------------------------------------------------------


def test_a_file_adds_and_updates_services_through_preview_and_confirm(world, member):
    ops = SegmentFactory(pmo=world.pmo, name="Ops; Delivery")  # a name with the list separator in it
    desk = catalogue.create_service(world.pmo, world.lead, {"name": "Help desk", "level_now": 1, "level_target": 2})
    content = csv_bytes(
        [
            HEADER,
            ["Portfolio reporting", "Monthly pack", "MEMBER@alpha.example", "finance", "Product; physical evidence",
             "Pilot", "2026-03-01", "2", "Strategic"],
            [],
            ["help DESK", "One number to call", "", "Ops; Delivery", "people", "", "", "Advanced", "4 · Strategic"],
        ],
        delimiter=";",
    )  # fmt: skip
    job = upload_ok(member, world.pmo, content)
    assert job.preview["counts"] == {
        "create": 1, "update": 1, "unchanged": 0, "skipped": 1, "invalid": 0, "total": 3,
    }  # fmt: skip
    rows = rows_of(job)
    assert rows[2][:3] == [2, imports.CREATE, "Portfolio reporting"]
    assert rows[3] == [3, imports.SKIPPED, "", "", "Empty row"]
    assert rows[4][:3] == [4, imports.UPDATE, "Help desk"]
    assert rows[4][4] == ["Name", "Description", "Segments", "P elements", "Level now", "Target level"]
    assert not Service.objects.filter(name="Portfolio reporting").exists()  # only previewed
    desk.refresh_from_db()
    assert (desk.name, desk.level_now, desk.events.count()) == ("Help desk", 1, 1)
    page = visible(member.get(preview_url(job)))
    assert "Checked" in page and "against the catalogue of Alpha PMO" in page

    response = confirm(member, job)
    assert response["Location"] == reverse("service_list", kwargs={"slug": world.pmo.slug})
    assert messages_of(response) == ["Import of services.csv done: 1 created, 1 updated."]
    services = catalogue_of(world.pmo)
    reporting = services["Portfolio reporting"]
    assert (reporting.description, reporting.owner.user, reporting.elements) == (
        "Monthly pack", world.member, ["product", "physical_evidence"],
    )  # fmt: skip
    assert list(reporting.segments.all()) == [world.segment]
    assert (reporting.status, reporting.launched_on, reporting.level_now, reporting.level_target) == (
        "pilot", date(2026, 3, 1), 2, 4,
    )  # fmt: skip
    assert reporting.events.get().author == world.member  # the history says who imported it
    desk = services["help DESK"]  # renamed to the file's spelling: matched ignoring case
    assert (desk.pk, desk.description, desk.elements, desk.status) == (
        desk.pk,
        "One number to call",
        ["people"],
        "live",
    )
    assert list(desk.segments.all()) == [ops]
    assert (desk.level_now, desk.level_target) == (3, 4)
    assert desk.events.first().summary == "Level now Basic → Advanced; target Standard → Strategic."
    job.refresh_from_db()
    assert job.confirmed_by == world.member and job.result["created"] == 1


def test_an_xlsx_file_and_a_row_that_changes_nothing(world, member):
    catalogue.create_service(world.pmo, world.lead, {"name": "Training", "description": "Courses"})
    content = xlsx_bytes([["Service", "Description"], ["Training", "Courses"], ["Coaching", None]])
    job = upload_ok(member, world.pmo, content, name="services.xlsx")
    rows = rows_of(job)
    assert rows[2][1] == imports.UNCHANGED and rows[3][1] == imports.CREATE
    confirm(member, job)
    assert set(catalogue_of(world.pmo)) == {"Training", "Coaching"}


def test_an_exported_catalogue_imports_back_unchanged(world, member, client_for):
    desk = catalogue.create_service(
        world.pmo,
        world.lead,
        {"name": "=Help desk", "description": HOSTILE[0], "owner": world.membership(world.member),
         "segments": [world.segment, SegmentFactory(pmo=world.pmo, name="+Board")], "elements": ["people", "process"],
         "status": "pilot", "launched_on": date(2026, 2, 1), "level_now": 3, "level_target": 1},
        confirm_lower_target=True,
    )  # fmt: skip
    for text in HOSTILE[1:4]:
        catalogue.create_service(world.pmo, world.lead, {"name": text, "description": text})
    before = {s.pk: (s.name, s.description, s.owner_id, sorted(s.segments.values_list("pk", flat=True)), s.elements,
                     s.status, s.launched_on, s.level_now, s.level_target) for s in Service.objects.all()}  # fmt: skip
    for fmt in ("csv", "xlsx"):
        exported = download(client_for(world.lead), world.pmo, "services", fmt).content
        job = upload_ok(member, world.pmo, exported, name=f"catalogue.{fmt}")
        assert job.preview["counts"]["unchanged"] == len(before), job.preview["rows"]
        assert {"ID", "Owner name", "Created", "Updated", "Awareness %", "Quadrant"} <= set(job.columns["ignored"])
    after = {s.pk: (s.name, s.description, s.owner_id, sorted(s.segments.values_list("pk", flat=True)), s.elements,
                    s.status, s.launched_on, s.level_now, s.level_target) for s in Service.objects.all()}  # fmt: skip
    assert after == before and desk.events.count() == 1


# Bad input: named per row and column, nothing saved ----------------------------------------------


def test_bad_rows_are_named_with_their_column_and_nothing_is_imported(world, member):
    outsider = MembershipFactory(pmo=world.other_pmo).user
    ServiceFactory(pmo=world.pmo, name="Assurance")
    ServiceFactory(pmo=world.other_pmo, name="Methods")  # another PMO's name is free here
    content = csv_bytes(
        [
            HEADER,
            ["Good one", "", "", "", "", "", "", "", ""],
            ["", "No name", "", "", "", "", "", "", ""],
            ["Theirs", "", "", world.other_segment.name, "", "", "", "", ""],
            ["Their owner", "", outsider.email, "", "", "", "", "", ""],
            ["Words", "", "", "", "Colour; People", "Sunset", "1 March", "High", "9"],
            ["Twice", "", "", "", "", "", "", "", ""],
            ["TWICE", "", "", "", "", "", "", "", ""],
            ["Methods", "x" * 2001, "", "", "", "", "", "", ""],
        ]
    )
    job = upload_ok(member, world.pmo, content)
    invalid = rows_of(job, imports.INVALID)
    assert set(invalid) == {3, 4, 5, 6, 7, 8, 9}
    assert invalid[3][4] == [["Name", "Give the service a name."]]
    assert invalid[4][4] == [
        ["Segments", "This PMO has no segment “Beta segment”. Use the names of its segments, separated by semicolons."]
    ]
    assert invalid[5][4] == [["Owner e-mail", "Choose a member of this PMO as the service's owner."]]
    assert invalid[6][4] == [
        ["P elements", "“Colour” is not a P of the model: use Product, Physical Evidence, Price, People or Process."],
        ["Status", "Choose a status: proposed, pilot, live or being retired."],
        ["Launch date", "“1 March” is not a date: give it as year-month-day, e.g. 2026-03-01."],
        ["Level now", "Choose the level now: basic, standard, advanced or strategic."],
        ["Target level", "Choose the target level: basic, standard, advanced or strategic."],
    ]
    assert invalid[7][4] == [["Name", "“Twice” is also on row 8: give each service one row."]]
    assert invalid[8][4] == [["Name", "“TWICE” is also on row 7: give each service one row."]]
    assert invalid[9][4][0][0] == "Description" and "2,000" in invalid[9][4][0][1]
    assert rows_of(job)[2][1] == imports.CREATE
    page = visible(member.get(preview_url(job)))
    assert "7 rows cannot be imported" in page and "Confirm the import" not in page
    # Posted anyway (another tab): nothing is written.
    response = confirm(member, job)
    assert "some rows can no longer be imported" in messages_of(response)[0]
    assert set(catalogue_of(world.pmo)) == {"Assurance"}
    assert not ServiceEvent.objects.filter(service__pmo=world.pmo).exclude(service__name="Assurance").exists()


def test_a_name_the_catalogue_has_in_another_case_is_the_same_service(world, member):
    assurance = ServiceFactory(pmo=world.pmo, name="Project assurance", description="Old")
    job = upload_ok(member, world.pmo, csv_bytes([["Name", "Description"], ["PROJECT ASSURANCE", "New"]]))
    assert rows_of(job)[2][1] == imports.UPDATE
    confirm(member, job)
    assurance.refresh_from_db()
    assert (assurance.name, assurance.description) == ("PROJECT ASSURANCE", "New")
    assert Service.objects.filter(pmo=world.pmo).count() == 1


def test_a_lower_target_and_retiring_with_open_actions_are_warnings_the_confirmation_confirms(world, member):
    desk = ServiceFactory(pmo=world.pmo, name="Help desk")
    Action.objects.create(pmo=world.pmo, title="Relaunch the desk", element="people", due_on=date(2099, 1, 1),
                          service=desk)  # fmt: skip
    content = csv_bytes(
        [["Name", "Status", "Level now", "Target level"], ["Help desk", "Being retired", "", ""],
         ["Coaching", "", "Advanced", "Basic"]]
    )  # fmt: skip
    job = upload_ok(member, world.pmo, content)
    rows = rows_of(job)
    assert rows[2][1] == imports.UPDATE and rows[2][5] == [
        "1 open action develops this service: “Relaunch the desk”. Close or move them first, or confirm that the "
        "service is to be retired anyway."
    ]
    assert rows[3][1] == imports.CREATE and rows[3][5] == [
        "The target (Basic) is below the level now (Advanced). Confirm that the service is to be scaled down, "
        "or choose a higher target."
    ]
    page = visible(member.get(preview_url(job)))
    assert "2 changes to confirm" in page and "Relaunch the desk" in page
    desk.refresh_from_db()
    assert desk.status == "live"
    assert messages_of(confirm(member, job)) == ["Import of services.csv done: 1 created, 1 updated."]
    desk.refresh_from_db()
    coaching = Service.objects.get(pmo=world.pmo, name="Coaching")
    assert desk.status == "retiring" and (coaching.level_now, coaching.level_target) == (3, 1)


def test_a_warning_that_was_not_previewed_stops_the_import(world, member):
    desk = ServiceFactory(pmo=world.pmo, name="Help desk")
    job = upload_ok(member, world.pmo, csv_bytes([["Name", "Status"], ["Help desk", "Being retired"]]))
    assert len(rows_of(job)[2]) == 5  # no warning: no open action then
    Action.objects.create(pmo=world.pmo, title="New work", element="people", due_on=date(2099, 1, 1), service=desk)
    response = confirm(member, job)
    assert response["Location"] == preview_url(job)
    assert messages_of(response)[0].startswith("The catalogue changed since this preview")
    desk.refresh_from_db()
    assert desk.status == "live" and not desk.events.exists()
    assert rows_of(job)[2][5][0].startswith("1 open action develops this service: “New work”.")
    response = confirm(member, job)  # now previewed: confirmed
    desk.refresh_from_db()
    assert desk.status == "retiring"


def test_a_service_added_since_the_preview_is_updated_rather_than_duplicated(world, member):
    job = upload_ok(member, world.pmo, csv_bytes([["Name"], ["Benefits tracking"], ["Help desk"]]))
    ServiceFactory(pmo=world.pmo, name="benefits TRACKING")  # meanwhile: the row now updates it
    response = confirm(member, job)
    assert messages_of(response) == ["Import of services.csv done: 1 created, 1 updated."]
    assert set(catalogue_of(world.pmo)) == {"Benefits tracking", "Help desk"}


def test_a_job_is_confirmed_once(world, member):
    job = upload_ok(member, world.pmo, csv_bytes([["Name"], ["Help desk"]]))
    confirm(member, job)
    Service.objects.filter(pmo=world.pmo).delete()
    response = confirm(member, job)
    assert "already imported" in messages_of(response)[-1]
    assert not Service.objects.filter(pmo=world.pmo).exists()


# One machinery, separate kinds --------------------------------------------------------------------


def test_a_stakeholder_job_is_not_confirmed_as_a_catalogue_nor_the_other_way(world, member):
    services = upload_ok(member, world.pmo, csv_bytes([["Name"], ["Help desk"]]))
    people_url = reverse("stakeholder_import_preview", kwargs={"slug": world.pmo.slug, "job_id": services.pk})
    assert member.get(people_url).status_code == 404
    assert member.post(people_url).status_code == 404
    people = ImportJob.objects.create(pmo=world.pmo, file_name="p.csv", rows=[[2, {"name": "Help desk"}]],
                                      columns={"fields": {"name": "Name"}, "ignored": []},
                                      preview={"counts": {}, "rows": []})  # fmt: skip
    assert member.get(preview_url(people)).status_code == 404
    assert member.post(preview_url(people)).status_code == 404
    assert not Service.objects.filter(pmo=world.pmo).exists()


def test_the_upload_form_says_what_the_catalogue_takes(world, member):
    page = visible(member.get(upload_url(world.pmo)))
    assert "Import services" in page and "Create missing segments" not in page
    assert f"with up to {MAX_ROWS:,} rows" in page
    for label in HEADER:
        assert label in page
    response = upload(member, world.pmo, csv_bytes([["Description"], ["No name column"]]))
    assert response.context["form"].errors["file"] == [
        "The file has no Name column. The first row must name the columns (at least Name); "
        "the columns found are: “Description”."
    ]
    response = upload(member, world.pmo, csv_bytes([["Name"], []]))
    assert response.context["form"].errors["file"] == ["The file has column names but no service rows."]
    assert not ImportJob.objects.exists()


def test_more_rows_than_a_catalogue_takes_are_refused(world, member):
    response = upload(member, world.pmo, csv_bytes([["Name"], *([f"S{n}"] for n in range(MAX_ROWS + 1))]))
    (error,) = response.context["form"].errors["file"]
    assert f"{MAX_ROWS:,}" in error
    assert not ImportJob.objects.exists()


def test_viewers_and_other_pmos_do_not_import(world, client_for):
    job = ImportJob.objects.create(
        pmo=world.pmo, kind="services", file_name="x.csv", preview={"counts": {}, "rows": []}
    )
    viewer = client_for(world.viewer)
    assert viewer.get(upload_url(world.pmo)).status_code == 403
    assert confirm(viewer, job).status_code == 403
    outsider = client_for(world.outsider)
    assert outsider.get(upload_url(world.pmo)).status_code == 404
    assert outsider.get(preview_url(job)).status_code == 404
    theirs = ImportJob.objects.create(pmo=world.other_pmo, kind="services", file_name="y.csv")
    url = reverse("service_import_preview", kwargs={"slug": world.pmo.slug, "job_id": theirs.pk})
    assert client_for(world.lead).get(url).status_code == 404


def test_the_pages_link_to_each_other(world, member):
    url = upload_url(world.pmo)
    assert url in member.get(reverse("exports", kwargs={"slug": world.pmo.slug})).content.decode()
    assert url in member.get(reverse("service_list", kwargs={"slug": world.pmo.slug})).content.decode()
    assert reverse("export_services_xlsx", kwargs={"slug": world.pmo.slug}) in member.get(url).content.decode()


# Hostile uploads: the stakeholder import's bounds -------------------------------------------------


@override_settings(IMPORT_MAX_XLSX_PART_BYTES=MiB, IMPORT_MAX_XLSX_BYTES=2 * MiB)
def test_a_decompression_bomb_is_refused_in_bounded_memory(world, member, monkeypatch):
    bomb = workbook(strings_xml=shared_strings("A" * (16 * MiB)))
    opened = []
    real_load = openpyxl.load_workbook
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1) or real_load(*a, **k))
    member.get(upload_url(world.pmo))
    tracemalloc.start()
    try:
        response = upload(member, world.pmo, bomb, name="bomb.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (error,) = response.context["form"].errors["file"]
    assert "a part of this workbook unpacks to more than 1.0" in error.replace("\xa0", " ")
    assert opened == [] and peak < MiB
    assert not ImportJob.objects.exists() and not Service.objects.exists()


def test_a_hostile_cell_is_kept_as_text(world, member):
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        for n, text in enumerate(["Name", "=HYPERLINK(&quot;http://evil.example&quot;)", "'=quoted"], start=1)
    )
    job = upload_ok(member, world.pmo, workbook(sheet_xml=sheet(rows)), name="services.xlsx")
    confirm(member, job)
    assert set(catalogue_of(world.pmo)) == {'=HYPERLINK("http://evil.example")', "=quoted"}
    exported = records(table(download(member, world.pmo, "services", "csv"), "csv"))
    assert {row["Name"] for row in exported} == {'\'=HYPERLINK("http://evil.example")', "'=quoted"}


def _queries_of_upload_and_confirm(client, pmo, prefix, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [["Name", "Segments", "P elements", "Level now", "Target level"]]
    rows += [[f"{prefix} {i}", "Finance", "People", "Standard", "Advanced"] for i in range(n)]
    with CaptureQueriesContext(connection) as uploading:
        job = upload_ok(client, pmo, csv_bytes(rows))
    with CaptureQueriesContext(connection) as confirming:
        assert confirm(client, job).status_code == 302
    return len(uploading.captured_queries), len(confirming.captured_queries)


def test_each_row_costs_the_same_few_queries_of_the_write_path(world, member):
    """Not a batch (the write path writes one service at a time), but no row costs more than the
    one before it: the queries grow by the same count per row, whatever is in the catalogue."""
    member.get(upload_url(world.pmo))  # the session's first use, apart
    ten = _queries_of_upload_and_confirm(member, world.pmo, "A", 10)
    twenty = _queries_of_upload_and_confirm(member, world.pmo, "B", 20)
    forty = _queries_of_upload_and_confirm(member, world.pmo, "C", 40)
    per_row = [(twenty[i] - ten[i]) / 10 for i in (0, 1)]
    # (A query or two of a request's own may differ: the session, the throw-away of old jobs.)
    assert [(forty[i] - twenty[i]) / 20 for i in (0, 1)] == pytest.approx(per_row, abs=0.15)
    assert per_row[0] <= 12.5 and per_row[1] <= 21.5, per_row  # check a row; check it again and write it


def test_a_hostile_file_name_and_cells_are_shown_as_text(world, member):
    script, name = "<script>alert(1)</script>", "<b onmouseover=alert(3)>.csv"  # no "/": a file name keeps it
    rows = [["Name", "Segments"], [script, "<b>Board</b>"], ["<img src=x onerror=alert(2)>", ""]]
    job = upload_ok(member, world.pmo, csv_bytes(rows), name=name)
    html = member.get(preview_url(job)).content.decode()
    for raw in (script, "<b>Board</b>", "<img src=x", "<b onmouseover"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "“&lt;b&gt;Board&lt;/b&gt;”" in html
    assert "Import of &lt;b onmouseover=alert(3)&gt;.csv" in html
    job = upload_ok(member, world.pmo, csv_bytes(rows[:1] + rows[2:]), name=name)
    page = member.post(preview_url(job), follow=True).content.decode()
    assert "Import of &lt;b onmouseover=alert(3)&gt;.csv done: 1 created, 0 updated." in page
    assert "<b onmouseover" not in page and "<img src=x" not in page
    assert Service.objects.get(pmo=world.pmo).name == "<img src=x onerror=alert(2)>"
