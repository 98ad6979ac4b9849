"""Importing stakeholders from CSV and XLSX: the upload, the preview that says per row
what will happen and why, and the confirm step that imports the whole file in one
transaction, or nothing. Rows match the register on e-mail, ignoring case."""

import csv
import io
import math
import threading
import time
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from pmo5p.models import Role
from stakeholders import imports
from stakeholders.models import ImportJob, Segment, Stakeholder
from stakeholders.register import BATCH_SIZE
from tests.factories import MembershipFactory, SegmentFactory, StakeholderFactory
from tests.helpers import messages_of, visible


def upload_url(pmo):
    return reverse("stakeholder_import", kwargs={"slug": pmo.slug})


def preview_url(job):
    return reverse("stakeholder_import_preview", kwargs={"slug": job.pmo.slug, "job_id": job.pk})


def csv_bytes(lines, *, encoding="utf-8", bom=False, delimiter=","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(lines)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)


def xlsx_bytes(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, pmo, content, *, name="people.csv", create_segments=False):
    data = {"file": SimpleUploadedFile(name, content)}
    if create_segments:
        data["create_segments"] = "on"
    return client.post(upload_url(pmo), data)


def upload_ok(client, pmo, content, **kwargs):
    response = upload(client, pmo, content, **kwargs)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == preview_url(job)
    return job


def rows_of(job, action=None):
    """{row number: row} of the job's preview, for one action or all."""
    job.refresh_from_db()
    return {row[0]: row for row in job.preview["rows"] if action is None or row[1] == action}


def confirm(client, job):
    return client.post(preview_url(job))


def register(pmo):
    return {s.email: s for s in Stakeholder.objects.filter(pmo=pmo)}


# Reading files ------------------------------------------------------------------------------------------


def test_a_utf8_csv_with_a_bom_and_semicolons_goes_through_preview_and_confirm(world, client_for):
    client = client_for(world.member)
    content = csv_bytes(
        [
            ["Name", "E-mail", "Segment", "Influence", "Interest", "Job title"],
            ["Zoë Åberg", "zoe@corp.example", "Finance", "4", "5", "CFO; deputy"],
            ["Ann Able", "ann@corp.example", "finance", "", "", ""],
        ],
        bom=True,
        delimiter=";",
    )
    job = upload_ok(client, world.pmo, content)
    assert job.columns["fields"]["email"] == "E-mail"  # the BOM is not part of the first header
    page = client.get(preview_url(job))
    assert page.status_code == 200
    assert page.context["counts"] == {"create": 2, "update": 0, "unchanged": 0, "skipped": 0, "invalid": 0, "total": 2}
    assert "Confirm the import" in visible(page)
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == 1  # nothing saved before the confirm step

    response = confirm(client, job)
    assert response.status_code == 302
    assert response["Location"] == reverse("stakeholder_list", kwargs={"slug": world.pmo.slug})
    assert "2 created, 0 updated" in messages_of(response)[0]
    people = register(world.pmo)
    zoe, ann = people["zoe@corp.example"], people["ann@corp.example"]
    assert (zoe.name, zoe.segment, zoe.influence, zoe.interest, zoe.job_title) == (
        "Zoë Åberg",
        world.segment,
        4,
        5,
        "CFO; deputy",
    )
    assert (ann.segment, ann.influence, ann.interest, ann.is_active) == (world.segment, 3, 3, True)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_found_from_the_header_line(world, client_for, delimiter):
    content = csv_bytes([["name", "email", "notes"], ["Ann", "ann@corp.example", "a, b;\tc"]], delimiter=delimiter)
    assert b'"a, b;\tc"' in content
    job = upload_ok(client_for(world.member), world.pmo, content, name="people.txt")
    assert rows_of(job)[2][1] == imports.CREATE
    assert job.rows == [[2, {"name": "Ann", "email": "ann@corp.example", "notes": "a, b;\tc"}]]


def test_a_windows_1252_csv_is_read(world, client_for):
    content = csv_bytes([["Name", "E-mail address"], ["José Müller – Ærø", "jose@corp.example"]], encoding="cp1252")
    job = upload_ok(client_for(world.member), world.pmo, content)
    assert job.rows[0][1]["name"] == "José Müller – Ærø"


def test_excels_sep_line_and_a_utf16_file_are_read(world, client_for):
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, b"sep=;\r\nName;Email\r\nAnn;ann@corp.example\r\n")
    assert job.rows == [[2, {"name": "Ann", "email": "ann@corp.example"}]]
    job = upload_ok(client, world.pmo, "Name\tEmail\r\nBen\tben@corp.example\r\n".encode("utf-16"))
    assert job.rows == [[2, {"name": "Ben", "email": "ben@corp.example"}]]


def test_an_xlsx_file_with_dates_and_numbers(world, client_for):
    content = xlsx_bytes(
        [
            ["Name", "E-mail", "Influence", "Interest", "Job title", "Notes", "Active", "Last contact"],
            ["Ann Able", "ann@corp.example", 4, 2.0, 1234, datetime(2026, 3, 1, 14, 30), True, date(2026, 2, 1)],
            ["Ben Baker", "BEN@corp.example", 5.0, 1, date(2026, 1, 15), datetime(2026, 3, 2), False, None],
        ]
    )
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content, name="people.xlsx")
    assert job.columns["ignored"] == ["Last contact"]
    assert rows_of(job)[2][1] == rows_of(job)[3][1] == imports.CREATE
    page = visible(client.get(preview_url(job)))
    assert "Columns ignored (not stakeholder fields): Last contact" in page
    confirm(client, job)
    people = register(world.pmo)
    ann, ben = people["ann@corp.example"], people["ben@corp.example"]
    assert (ann.influence, ann.interest, ann.job_title, ann.notes, ann.is_active) == (
        4,
        2,
        "1234",
        "2026-03-01 14:30",
        True,
    )
    assert (ben.influence, ben.interest, ben.job_title, ben.notes, ben.is_active) == (
        5,
        1,
        "2026-01-15",
        "2026-03-02",
        False,
    )


def test_an_xlsx_file_numbers_rows_as_the_sheet_does(world, client_for):
    content = xlsx_bytes(
        [
            ["Name", "E-mail", "Influence"],
            ["Ann", "ann@corp.example", 9],
            [None, None, None],
            ["Ben", "ben@corp.example", 3, "a value under no header"],
        ]
    )
    job = upload_ok(client_for(world.member), world.pmo, content, name="people.xlsx")
    rows = rows_of(job)
    assert (rows[2][1], rows[3][1], rows[4][1]) == (imports.INVALID, imports.SKIPPED, imports.CREATE)
    assert rows[2][4] == [["Influence", "Choose an influence from 1 (very low) to 5 (very high)."]]


def test_empty_rows_are_skipped_and_reported(world, client_for):
    content = b"Name,Email\r\nAnn,ann@corp.example\r\n\r\n,\r\n  ,  \r\nBen,ben@corp.example\r\n\r\n\r\n"
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content)
    assert {n: r[1] for n, r in rows_of(job).items()} == {
        2: imports.CREATE,
        3: imports.SKIPPED,
        4: imports.SKIPPED,
        5: imports.SKIPPED,
        6: imports.CREATE,
    }  # the blank lines after the last row are the file's end, not rows
    page = client.get(preview_url(job) + "?show=skipped")
    assert [r["number"] for r in page.context["page"].object_list] == [3, 4, 5]
    assert "Empty row" in visible(page)
    response = confirm(client, job)
    assert "2 created, 0 updated" in messages_of(response)[0]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"Name,Segment\r\nAnn,Finance\r\n", "p.csv", "The file has no E-mail column."),
        (b"Email\r\nann@corp.example\r\n", "p.csv", "The file has no Name column."),
        (b"Ann Able,ann@corp.example\r\n", "p.csv", "The file has no Name and no E-mail column."),
        (
            b"Name,Email,Mail\r\nAnn,a@corp.example,b@corp.example\r\n",
            "p.csv",
            "Two columns give the e-mail: “Email” and “Mail”.",
        ),
        (b"\r\n\r\n", "p.csv", "The file is empty"),
        (
            xlsx_bytes([]),
            "p.xlsx",
            "The file is empty: the first row must hold the column names, e.g. Name, E-mail. Only the first sheet of a workbook is read.",
        ),
        (b"Name,Email\r\n", "p.csv", "The file has column names but no stakeholder rows."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "p.xls", "This is an old Excel (.xls) file."),
        (b"not a zip", "p.xlsx", "This file cannot be read: it is named .xlsx but is not an Excel workbook."),
        (b"PK\x03\x04broken", "p.xlsx", "This file cannot be read: the workbook is damaged."),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_one_clear_message(world, client_for, content, name, message):
    response = upload(client_for(world.member), world.pmo, content, name=name)
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert len(errors) == 1 and message in errors[0]
    assert message in visible(response)
    assert not ImportJob.objects.exists()


def test_the_missing_column_message_lists_the_columns_found(world, client_for):
    response = upload(client_for(world.member), world.pmo, b"Full name;Courriel\r\nAnn;a@corp.example\r\n")
    assert "the columns found are: “Full name”, “Courriel”" in response.context["form"].errors["file"][0]


# Checking rows ------------------------------------------------------------------------------------------


def test_bad_values_are_named_per_row_and_column_and_nothing_is_imported(world, client_for):
    long_name = "N" * 151
    content = csv_bytes(
        [
            ["Name", "E-mail", "Influence", "Interest", "Active", "Owner"],
            ["Ann Able", "ann@corp.example", "6", "3", "yes", ""],
            ["Ben Baker", "not-an-address", "2", "3", "", ""],
            [long_name, "long@corp.example", "", "high", "", ""],
            ["", "", "", "", "maybe", "nobody@corp.example"],
            ["Good Row", "good@corp.example", "Very high", "2.0", "no", "member@alpha.example"],
        ]
    )
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content)
    invalid = rows_of(job, imports.INVALID)
    # The register's rules, in the words of the web form and the API (register.STAKEHOLDER_WORDS).
    assert invalid[2][4] == [["Influence", "Choose an influence from 1 (very low) to 5 (very high)."]]
    assert invalid[3][4] == [["E-mail", "Enter a valid e-mail address."]]
    assert invalid[4][4] == [["Name", "Keep the name to 150 characters or fewer (it has 151)."]]
    assert invalid[5][4] == [
        ["Name", "Give the stakeholder's name."],
        ["E-mail", "Give an e-mail address: stakeholders are matched to the register on it."],
        ["Owner", "Choose a member of this PMO as the relationship owner."],
        ["Active", "“maybe” is not yes or no."],
    ]
    assert rows_of(job)[6][1] == imports.CREATE

    page = client.get(preview_url(job))
    text = visible(page)
    assert page.context["show"] == imports.INVALID  # the rows to fix come first
    assert "4 rows cannot be imported" in text
    assert "Fix or remove these rows in your file and upload it again" in text
    assert "Confirm the import" not in text
    assert "Influence: Choose an influence from 1 (very low) to 5 (very high)." in text
    assert "E-mail: Enter a valid e-mail address." in text
    assert [r["number"] for r in page.context["page"].object_list] == [2, 3, 4, 5]

    # A confirm posted anyway (an old tab, a crafted request) imports nothing.
    before = list(Stakeholder.objects.values().order_by("pk"))
    response = confirm(client, job)
    assert response.status_code == 302 and response["Location"] == preview_url(job)
    assert "Nothing was imported" in messages_of(response)[0]
    assert list(Stakeholder.objects.values().order_by("pk")) == before
    job.refresh_from_db()
    assert job.confirmed_at is None


def test_duplicate_e_mails_in_the_file_invalidate_every_row_that_has_them(world, client_for):
    content = csv_bytes(
        [
            ["Name", "Email"],
            ["Ann Able", "ann@corp.example"],
            ["Ben Baker", "ben@corp.example"],
            ["Ann Again", "ANN@Corp.Example"],
            ["Ann Thrice", " ann@corp.example "],
        ]
    )
    job = upload_ok(client_for(world.member), world.pmo, content)
    invalid = rows_of(job, imports.INVALID)
    assert sorted(invalid) == [2, 4, 5]
    assert invalid[2][4] == [["Email", "ann@corp.example is also on row 4, 5: give each stakeholder one row."]]
    assert invalid[4][4] == [["Email", "ann@corp.example is also on row 2, 5: give each stakeholder one row."]]
    assert rows_of(job)[3][1] == imports.CREATE


def test_an_unknown_segment_is_an_error_unless_missing_segments_are_created(world, client_for):
    content = csv_bytes(
        [
            ["Name", "Email", "Segment"],
            ["Ann", "ann@corp.example", "Sponsors"],
            ["Ben", "ben@corp.example", "SPONSORS"],
            ["Cleo", "cleo@corp.example", "FINANCE"],
            ["Fiona Finance", "fiona@corp.example", "Project managers"],
        ]
    )
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content)
    invalid = rows_of(job, imports.INVALID)
    assert sorted(invalid) == [2, 3, 5]
    assert invalid[2][4] == [
        [
            "Segment",
            "This PMO has no segment “Sponsors”. Correct the name, or tick “Create missing segments” when you upload the file.",
        ]
    ]

    job = upload_ok(client, world.pmo, content, create_segments=True)
    assert job.preview["segments_to_create"] == ["Sponsors", "Project managers"]
    assert {n: r[1] for n, r in rows_of(job).items()} == {2: "create", 3: "create", 4: "create", 5: "update"}
    assert "New segments to create: Sponsors, Project managers" in visible(client.get(preview_url(job)))
    assert not Segment.objects.filter(name="Sponsors").exists()

    response = confirm(client, job)
    assert "new segments: Sponsors, Project managers" in messages_of(response)[0]
    sponsors = Segment.objects.get(pmo=world.pmo, name="Sponsors")
    people = register(world.pmo)
    assert people["ann@corp.example"].segment == people["ben@corp.example"].segment == sponsors
    assert people["cleo@corp.example"].segment == world.segment
    assert people["fiona@corp.example"].segment.name == "Project managers"
    assert Segment.objects.filter(pmo=world.pmo).count() == 3


def test_an_existing_stakeholder_is_updated_when_the_e_mail_matches_in_any_case(world, client_for):
    fiona = world.stakeholder
    fiona.job_title, fiona.notes, fiona.influence = "Controller", "Keep", 2
    fiona.save()
    content = csv_bytes(
        [
            ["Name", "E-Mail", "Job title", "Influence", "Interest", "Owner e-mail"],
            ["Fiona Finance", "FIONA@Corp.Example", "CFO", "", "5", "Member@Alpha.example"],
        ]
    )
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content)
    assert rows_of(job)[2][1:] == [
        imports.UPDATE,
        "Fiona Finance",
        "fiona@corp.example",
        ["Job title", "Interest", "Owner e-mail"],
    ]
    assert "Changes Job title, Interest, Owner e-mail" in visible(client.get(preview_url(job)))
    response = confirm(client, job)
    assert "0 created, 1 updated" in messages_of(response)[0]
    fiona.refresh_from_db()
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == 1
    # Changed where the file says so; the blank influence and the columns not in the file are kept.
    assert (fiona.job_title, fiona.interest, fiona.owner, fiona.influence, fiona.notes, fiona.segment) == (
        "CFO",
        5,
        world.membership(world.member),
        2,
        "Keep",
        world.segment,
    )


def test_a_row_that_changes_nothing_is_skipped_as_unchanged(world, client_for):
    fiona = world.stakeholder
    updated_at = fiona.updated_at
    content = csv_bytes(
        [
            ["Name", "Email", "Segment", "Influence", "Job title", "Active"],
            [fiona.name, fiona.email.upper(), "finance", str(fiona.influence), fiona.job_title, "yes"],
            ["New Person", "new@corp.example", "", "", "", ""],
        ]
    )
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content)
    assert rows_of(job)[2][1] == imports.UNCHANGED
    page = client.get(preview_url(job))
    assert page.context["counts"]["unchanged"] == 1
    response = confirm(client, job)
    assert "1 created, 0 updated, 1 unchanged" in messages_of(response)[0]
    fiona.refresh_from_db()
    assert fiona.updated_at == updated_at


def test_a_blank_cell_in_a_column_of_the_file_clears_that_field(world, client_for):
    world.stakeholder.business_unit = "Treasury"
    world.stakeholder.save()
    content = csv_bytes(
        [["Name", "Email", "Business unit", "Segment"], ["Fiona Finance", "fiona@corp.example", "", ""]]
    )
    client = client_for(world.member)
    confirm(client, upload_ok(client, world.pmo, content))
    world.stakeholder.refresh_from_db()
    assert (world.stakeholder.business_unit, world.stakeholder.segment) == ("", None)


def test_an_exported_register_imports_back_unchanged(world, client_for):
    StakeholderFactory(
        pmo=world.pmo,
        name="=HYPERLINK(1)",
        email="evil@corp.example",
        notes="-2 and +3",
        owner=world.membership(world.lead),
    )
    client = client_for(world.member)
    for fmt in ("csv", "xlsx"):
        exported = client.get(reverse(f"export_stakeholders_{fmt}", kwargs={"slug": world.pmo.slug})).content
        job = upload_ok(client, world.pmo, exported, name=f"register.{fmt}")
        assert job.preview["counts"]["unchanged"] == 2, job.preview["rows"]
        assert set(job.columns["ignored"]) == {"ID", "Owner name", "Created", "Updated"}


def test_the_register_changing_after_the_preview_stops_the_import(world, client_for):
    sponsors = SegmentFactory(pmo=world.pmo, name="Sponsors")
    content = csv_bytes(
        [["Name", "Email", "Segment"], ["Ann", "ann@corp.example", "Sponsors"], ["Ben", "ben@corp.example", ""]]
    )
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content)
    assert job.preview["counts"]["invalid"] == 0
    sponsors.delete()
    response = confirm(client, job)
    assert response["Location"] == preview_url(job)
    assert "The register changed since this preview" in messages_of(response)[0]
    assert not Stakeholder.objects.filter(email__in=["ann@corp.example", "ben@corp.example"]).exists()
    assert rows_of(job)[2][1] == imports.INVALID
    assert "Fix or remove these rows" in visible(client.get(preview_url(job)))


def test_a_stakeholder_added_meanwhile_is_updated_rather_than_duplicated(world, client_for):
    content = csv_bytes([["Name", "Email", "Job title"], ["Ann", "ann@corp.example", "CFO"]])
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, content)
    ann = StakeholderFactory(pmo=world.pmo, name="Ann", email="Ann@corp.example", job_title="")
    response = confirm(client, job)
    assert "0 created, 1 updated" in messages_of(response)[0]
    ann.refresh_from_db()
    assert ann.job_title == "CFO"


def test_a_job_is_confirmed_once(world, client_for):
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, csv_bytes([["Name", "Email"], ["Ann", "ann@corp.example"]]))
    confirm(client, job)
    Stakeholder.objects.filter(email="ann@corp.example").delete()  # had it been imported twice, Ann would be back
    response = confirm(client, job)
    assert response.status_code == 302
    assert "already imported" in messages_of(response)[-1]
    assert not Stakeholder.objects.filter(email="ann@corp.example").exists()
    page = visible(client.get(preview_url(job)))
    assert "This file was imported on" in page and "Confirm the import" not in page


def test_an_upload_older_than_a_day_is_thrown_away(world, client_for):
    client = client_for(world.member)
    old = upload_ok(client, world.pmo, csv_bytes([["Name", "Email"], ["Ann", "ann@corp.example"]]))
    other_old = ImportJob.objects.create(pmo=world.other_pmo, file_name="x.csv")
    ImportJob.objects.filter(pk__in=[old.pk, other_old.pk]).update(created_at=old.created_at - timedelta(days=2))
    fresh = upload_ok(client, world.pmo, csv_bytes([["Name", "Email"], ["Ben", "ben@corp.example"]]))
    response = client.get(preview_url(old))
    assert response["Location"] == upload_url(world.pmo)
    assert "more than a day old" in messages_of(response)[0]
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {fresh.pk, other_old.pk}  # only this PMO's
    assert confirm(client, old).status_code == 404


# Roles and tenancy --------------------------------------------------------------------------------------


def test_a_viewer_cannot_import(world, client_for):
    job = ImportJob.objects.create(pmo=world.pmo, file_name="x.csv", preview={"counts": {}, "rows": []})
    client = client_for(world.viewer)
    assert client.get(upload_url(world.pmo)).status_code == 403
    assert upload(client, world.pmo, csv_bytes([["Name", "Email"], ["Ann", "ann@corp.example"]])).status_code == 403
    assert client.get(preview_url(job)).status_code == 403
    assert confirm(client, job).status_code == 403
    assert ImportJob.objects.count() == 1 and not Stakeholder.objects.filter(email="ann@corp.example").exists()


def test_a_lead_and_a_member_can_import(world, client_for):
    for user in (world.lead, world.member):
        assert client_for(user).get(upload_url(world.pmo)).status_code == 200


def test_another_pmos_job_is_not_found(world, client_for):
    client = client_for(world.outsider)
    theirs = upload_ok(client, world.other_pmo, csv_bytes([["Name", "Email"], ["Ann", "ann@corp.example"]]))
    client = client_for(world.lead)
    url = reverse("stakeholder_import_preview", kwargs={"slug": world.pmo.slug, "job_id": theirs.pk})
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.confirmed_at is None
    assert not Stakeholder.objects.filter(email="ann@corp.example").exists()


def test_the_import_checks_against_this_pmos_register_only(world, client_for):
    # Bob's address in the other PMO is a new stakeholder here; their segment and lead mean nothing here.
    bob = world.other_stakeholder
    content = csv_bytes(
        [["Name", "Email", "Segment", "Owner"], [bob.name, bob.email, world.other_segment.name, "lead@beta.example"]]
    )
    job = upload_ok(client_for(world.member), world.pmo, content)
    assert [message for _, message in rows_of(job)[2][4]] == [
        "This PMO has no segment “Beta segment”. Correct the name, or tick “Create missing segments” when you upload the file.",
        "Choose a member of this PMO as the relationship owner.",
    ]


def test_the_pages_link_to_each_other(world, client_for):
    client = client_for(world.member)
    assert upload_url(world.pmo) in client.get(reverse("exports", kwargs={"slug": world.pmo.slug})).content.decode()
    listing = client.get(reverse("stakeholder_list", kwargs={"slug": world.pmo.slug})).content.decode()
    assert reverse("exports", kwargs={"slug": world.pmo.slug}) in listing


# 10,000 rows ----------------------------------------------------------------------------------------------

# Queries of a request that do not depend on the file: session, user, membership, the job,
# the register, segments and members read once each, the new segments, savepoints.
UPLOAD_QUERIES = 8
CONFIRM_FIXED_QUERIES = 12


def _big_file(pmo, rows, members):
    """`rows` rows: a fifth update stakeholders already there (e-mail in upper case), the rest are new."""
    segments = [Segment.objects.create(pmo=pmo, name=f"Segment {i}") for i in range(4)]
    existing = rows // 5
    Stakeholder.objects.bulk_create(
        Stakeholder(pmo=pmo, name=f"Old {i}", email=f"person{i}@corp.example", segment=segments[i % 4])
        for i in range(existing)
    )
    lines = [["Name", "E-mail", "Segment", "Influence", "Interest", "Owner", "Job title", "Active"]]
    for i in range(rows):
        lines.append(
            [
                f"Person {i}",
                f"PERSON{i}@corp.example" if i < existing else f"person{i}@corp.example",
                "New segment" if i % 10 == 9 else f"segment {i % 4}",
                str(1 + i % 5),
                str(1 + (i // 5) % 5),
                members[i % len(members)].user.email,
                f"Job {i % 17}",
                "yes" if i % 13 else "no",
            ]
        )
    return csv_bytes(lines, bom=True, delimiter=";"), existing


def _expected_write_queries(creates, updates):
    """The INSERT statements of the batched writes, new rows and updates (upserts) alike: per
    batch, not per row. A batch is 500 rows, or fewer where the database caps the parameters
    of a query (SQLite: 999); Django's own bulk_batch_size says how many.
    """
    fields = [f for f in Stakeholder._meta.concrete_fields if not f.primary_key]
    insert_batch = min(BATCH_SIZE, connection.ops.bulk_batch_size(fields, [None] * creates) or creates)
    all_fields = list(Stakeholder._meta.concrete_fields)
    upsert_batch = min(BATCH_SIZE, connection.ops.bulk_batch_size(all_fields, [None] * updates) or updates)
    return math.ceil(creates / insert_batch) + math.ceil(updates / upsert_batch)


def _run_big_import(client, pmo, rows, members, timings):
    content, existing = _big_file(pmo, rows, members)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as upload_queries:
        response = upload(client, pmo, content, create_segments=True)
    assert response.status_code == 302
    timings["upload"] = time.perf_counter() - started
    job = ImportJob.objects.filter(pmo=pmo).latest("pk")
    assert job.preview["counts"] == {
        "create": rows - existing,
        "update": existing,
        "unchanged": 0,
        "skipped": 0,
        "invalid": 0,
        "total": rows,
    }

    started = time.perf_counter()
    page = client.get(preview_url(job) + "?page=3")
    timings["preview"] = time.perf_counter() - started
    assert page.status_code == 200 and len(page.context["page"].object_list) == 100

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as confirm_queries:
        response = confirm(client, job)
    timings["confirm"] = time.perf_counter() - started
    assert response.status_code == 302, messages_of(response)
    assert f"{rows - existing:,} created, {existing:,} updated" in messages_of(response)[0]
    assert Stakeholder.objects.filter(pmo=pmo).count() == rows + 1  # and the one the world starts with
    assert Stakeholder.objects.filter(pmo=pmo, segment__name="New segment").count() == rows // 10
    # Read now: the log the contexts point into is cleared by the next request.
    return list(upload_queries.captured_queries), list(confirm_queries.captured_queries), existing


def _split(queries):
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].startswith(('INSERT INTO "stakeholders_stakeholder"', 'UPDATE "stakeholders_stakeholder"'))
    ]
    return len(writes), len(queries) - len(writes)


@pytest.mark.parametrize("rows", [500, 10_000])
def test_an_import_takes_a_fixed_number_of_queries_per_batch_not_per_row(
    world, client_for, rows, django_assert_max_num_queries
):
    """The upload and the confirm step of 500 and of 10,000 rows: the same queries but for the
    batched writes. Run on PostgreSQL too (DATABASE_URL=postgres://... pytest tests/test_import.py)."""
    members = [world.membership(u) for u in (world.lead, world.member, world.viewer)]
    members += [MembershipFactory(pmo=world.pmo, role=Role.MEMBER) for _ in range(3)]
    content, existing = _big_file(world.pmo, rows, members)
    client = client_for(world.member)
    with django_assert_max_num_queries(UPLOAD_QUERIES):
        response = upload(client, world.pmo, content, create_segments=True)
    assert response.status_code == 302
    job = ImportJob.objects.latest("pk")
    assert job.preview["counts"]["create"] == rows - existing and job.preview["counts"]["update"] == existing

    expected_writes = _expected_write_queries(rows - existing, existing)
    with (
        django_assert_max_num_queries(CONFIRM_FIXED_QUERIES + expected_writes),
        CaptureQueriesContext(connection) as captured,
    ):
        response = confirm(client, job)
    assert response.status_code == 302
    writes, others = _split(captured.captured_queries)
    assert writes == expected_writes
    assert others <= CONFIRM_FIXED_QUERIES
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == rows + 1  # and Fiona
    moved = Stakeholder.objects.get(pmo=world.pmo, email="person3@corp.example")
    assert (moved.name, moved.segment.name, moved.influence, moved.owner) == ("Person 3", "Segment 3", 4, members[3])


def test_ten_thousand_rows_through_the_preview_and_the_confirm_step(world, client_for):
    """The acceptance run: 10,000 rows uploaded, previewed and confirmed, with the same
    queries but for the batched writes as 500 rows, timed (shown with pytest -s)."""
    members = [world.membership(u) for u in (world.lead, world.member, world.viewer)]
    small, large = {}, {}
    up_small, confirm_small, existing_small = _run_big_import(client_for(world.member), world.pmo, 500, members, small)
    other = list(world.other_pmo.memberships.all())
    up_large, confirm_large, existing_large = _run_big_import(
        client_for(world.outsider), world.other_pmo, 10_000, other, large
    )
    assert len(up_small) == len(up_large)
    assert _split(confirm_small)[1] == _split(confirm_large)[1]
    assert _split(confirm_large)[0] == _expected_write_queries(10_000 - existing_large, existing_large)
    print(
        f"\n[{connection.vendor}] 500 rows: upload {len(up_small)} queries, confirm {len(confirm_small)} queries;"
        f" 10,000 rows: upload {len(up_large)} queries, confirm {len(confirm_large)} queries"
        f" ({_split(confirm_large)[0]} batched writes);"
        f" 10,000 rows timings: upload {large['upload']:.2f}s, preview {large['preview']:.2f}s,"
        f" confirm {large['confirm']:.2f}s"
    )


# Races (PostgreSQL) ---------------------------------------------------------------------------------------

RACERS = 6


def _race(posts):
    """Run the (user, url) POSTs at the same moment, each on a connection of its own."""
    barrier = threading.Barrier(len(posts), timeout=30)
    outcomes, errors, lock = [], [], threading.Lock()

    def post(user, url):
        client = Client()
        client.force_login(user)
        try:
            barrier.wait()
            response = client.post(url)
            with lock:
                outcomes.append((response.status_code, messages_of(response)))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=args) for args in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return outcomes


def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite serialises writers, so confirms cannot race (set DATABASE_URL).")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_confirms_of_one_file_import_it_once(world):
    _needs_postgresql()
    client = Client()
    client.force_login(world.member)
    job = upload_ok(
        client, world.pmo, csv_bytes([["Name", "Email"], ["Ann", "ann@corp.example"], ["Ben", "ben@corp.example"]])
    )
    outcomes = _race([(world.member, preview_url(job))] * RACERS)
    assert [status for status, _ in outcomes] == [302] * RACERS
    done = [m for _, messages in outcomes for m in messages if "2 created, 0 updated" in m]
    again = [m for _, messages in outcomes for m in messages if "already imported" in m]
    assert (len(done), len(again)) == (1, RACERS - 1)
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_files_adding_the_same_person_at_once_import_one_and_refuse_the_other(world):
    _needs_postgresql()
    client = Client()
    client.force_login(world.member)
    content = csv_bytes([["Name", "Email"], ["Ann", "ann@corp.example"]])
    first, second = upload_ok(client, world.pmo, content), upload_ok(client, world.pmo, content)
    outcomes = _race([(world.member, preview_url(first)), (world.lead, preview_url(second))])
    messages = [m for _, ms in outcomes for m in ms]
    assert len(messages) == 2
    (created,) = [m for m in messages if "1 created, 0 updated" in m]
    (other,) = [m for m in messages if m != created]
    # The second waits for the first; it either finds Ann there (unchanged) or collides with her row.
    assert "Nothing was imported" in other or "0 created, 0 updated, 1 unchanged" in other
    assert Stakeholder.objects.filter(pmo=world.pmo, email="ann@corp.example").count() == 1
