"""Hostile uploads to the stakeholder import: a decompression bomb, a zip that lies about
its sizes, XML entity tricks, malformed XML, a NUL byte, too many rows or columns, an
overlong cell, a file too large to upload. Each is refused on the import form with a
message that names the limit or the reason, the form is shown again, and nothing is
kept: no ImportJob, no stakeholder. The JSON API bounds its request bodies too.

The hostile workbooks are built here, part by part, so that each test says exactly what
is wrong with its file; a workbook built the same way without the fault imports."""

import io
import json
import struct
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from stakeholders import spreadsheets
from stakeholders.models import ImportJob, Stakeholder
from stakeholders.spreadsheets import Limits, read_table
from tests.helpers import visible
from tests.test_import import csv_bytes, upload, upload_url, xlsx_bytes

MiB = 1024 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"

PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHEET_TYPE}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE}">'
        f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
        '<sheets><sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE}">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}
# The header from the shared strings, a row of inline strings.
ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>Ann Able</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>ann@corp.example</t></is></c></row>'
)


def sheet(rows=ROWS, *, prolog="", padding=""):
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData>{padding}</worksheet>'


def shared_strings(*extra):
    strings = ["Name", "E-mail", *extra]
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}">{items}</sst>'


def workbook(*, sheet_xml=None, strings_xml=None, extra=None, compression=zipfile.ZIP_DEFLATED) -> bytes:
    parts = {
        **PARTS,
        "xl/worksheets/sheet1.xml": sheet_xml or sheet(),
        "xl/sharedStrings.xml": strings_xml or shared_strings(),
        **(extra or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text, compress_type=compression)
    return out.getvalue()


def _headers(data: bytearray, name: str):
    """The offsets of `name`'s local header and of its entry in the central directory."""
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        local, central = archive.getinfo(name).header_offset, archive.start_dir
    while data[central : central + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, central + 28)
        if data[central + 46 : central + 46 + name_length] == name.encode():
            return local, central
        central += 46 + name_length + extra_length + comment_length
    raise AssertionError(f"{name} is not in the zip")


def lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size given as `size` in both its headers."""
    data = bytearray(data)
    local, central = _headers(data, name)
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def flag_encrypted(data: bytes, name: str) -> bytes:
    """The zip with `name` marked as encrypted (bit 0 of its flags) in both its headers."""
    data = bytearray(data)
    local, central = _headers(data, name)
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)


def assert_refused(response, world, message):
    """The form again, with the one message, and nothing kept."""
    assert response.status_code == 200
    errors = [error.replace("\xa0", " ") for error in response.context["form"].errors["file"]]
    assert len(errors) == 1 and message in errors[0], errors
    page = visible(response).replace("\xa0", " ")
    assert message in page
    assert "Check the file" in page  # the form, to try another file
    assert not ImportJob.objects.exists()
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == 1  # Fiona, as before


def test_a_workbook_built_as_these_tests_build_them_imports(world, client_for):
    response = upload(client_for(world.member), world.pmo, workbook(), name="people.xlsx")
    assert response.status_code == 302
    (job,) = ImportJob.objects.all()
    assert job.rows == [[2, {"name": "Ann Able", "email": "ann@corp.example"}]]


def test_openpyxl_parses_through_defusedxml():
    assert openpyxl.DEFUSEDXML is True


# Unpacked sizes --------------------------------------------------------------------------------


@override_settings(IMPORT_MAX_XLSX_PART_BYTES=MiB, IMPORT_MAX_XLSX_BYTES=2 * MiB)
def test_a_decompression_bomb_is_refused_before_openpyxl_opens_it_in_bounded_memory(world, client_for, monkeypatch):
    bomb = workbook(strings_xml=shared_strings("A" * (16 * MiB)))  # one 16 MiB shared string
    assert len(bomb) < 64 * 1024
    opened = []
    real_load = openpyxl.load_workbook
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1) or real_load(*a, **k))
    client = client_for(world.member)
    client.get(upload_url(world.pmo))  # templates compiled before the measure
    tracemalloc.start()
    try:
        response = upload(client, world.pmo, bomb, name="bomb.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_refused(response, world, "This file cannot be read: a part of this workbook unpacks to more than 1.0 MB")
    assert opened == []
    # Less than the part limit: the 16 MiB string was never held, not even the 1 MiB allowed.
    assert peak < MiB, f"{peak / MiB:.1f} MiB"


@override_settings(IMPORT_MAX_XLSX_PART_BYTES=MiB, IMPORT_MAX_XLSX_BYTES=MiB)
def test_the_parts_together_are_bounded_too(world, client_for):
    half = "<!--" + "x" * (MiB // 2) + "-->"
    response = upload(
        client_for(world.member),
        world.pmo,
        workbook(sheet_xml=sheet(padding=half), extra={"docProps/custom.xml": f"<a>{half}</a>"}),
        name="people.xlsx",
    )
    assert_refused(response, world, "This file cannot be read: this workbook unpacks to more than 1.0 MB")


@pytest.mark.parametrize(
    ("part_limit", "message"),
    [
        (MiB, "This file cannot be read: a part of this workbook unpacks to more than 1.0 MB"),
        (32 * MiB, "This file cannot be read: the workbook is damaged (a part is not the size it says)."),
    ],
)
def test_a_part_whose_header_lies_about_its_size_is_unpacked_and_counted(world, client_for, part_limit, message):
    honest = workbook(sheet_xml=sheet(padding="<!--" + "x" * (3 * MiB) + "-->"))
    liar = lie_about_size(honest, "xl/worksheets/sheet1.xml", 2000)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 2000
    with override_settings(IMPORT_MAX_XLSX_PART_BYTES=part_limit):
        response = upload(client_for(world.member), world.pmo, liar, name="people.xlsx")
    assert_refused(response, world, message)


@override_settings(IMPORT_MAX_XLSX_PARTS=20)
def test_too_many_parts(world, client_for):
    extra = {f"xl/media/image{n}.xml": "<a/>" for n in range(20)}
    response = upload(client_for(world.member), world.pmo, workbook(extra=extra), name="people.xlsx")
    assert_refused(response, world, "This file cannot be read: its zip holds 26 parts; a workbook may have up to 20.")


def test_a_row_longer_than_excel_allows(world, client_for):
    row = '<row r="3">' + "<c/>" * 16_385 + "</row>"
    response = upload(client_for(world.member), world.pmo, workbook(sheet_xml=sheet(ROWS + row)), name="p.xlsx")
    assert_refused(response, world, "This file cannot be read: a row of it has more than 16,384 cells")


@override_settings(IMPORT_MAX_XLSX_CELLS=50)
def test_too_many_cells(world, client_for):
    rows = "".join(f'<row r="{n}"><c/><c/><c/><c/></row>' for n in range(3, 16))  # 52 cells, header included
    response = upload(client_for(world.member), world.pmo, workbook(sheet_xml=sheet(ROWS + rows)), name="p.xlsx")
    assert_refused(
        response, world, "This file cannot be read: it holds more than 50 cells, the most a workbook may have."
    )


@pytest.fixture
def scan(monkeypatch):
    """What the check did before openpyxl: the cells it scanned, and whether openpyxl was called."""
    work = {"cells": 0, "opened": 0}
    real_cell, real_load = getattr(spreadsheets._PartScan, "_cell", None), openpyxl.load_workbook

    def cell(self, r):
        work["cells"] += 1
        return real_cell(self, r)

    def load(*args, **kwargs):
        work["opened"] += 1
        return real_load(*args, **kwargs)

    monkeypatch.setattr(spreadsheets._PartScan, "_cell", cell, raising=False)
    monkeypatch.setattr(openpyxl, "load_workbook", load)
    return work


@override_settings(IMPORT_MAX_XLSX_CELLS=100_000)
def test_a_sparse_row_counts_as_wide_as_its_last_cell(world, client_for, scan):
    # Two cells a row, A and an empty XFD: 4,000 <c> elements, but 32 million cells to openpyxl,
    # which fills each row with empty cells up to its last one.
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>P{n}</t></is></c><c r="XFD{n}" s="1"/></row>'
        for n in range(3, 2003)
    )
    data = workbook(sheet_xml=sheet(ROWS + rows))
    assert len(data) < 64 * 1024
    response = upload(client_for(world.member), world.pmo, data, name="sparse.xlsx")
    assert_refused(
        response, world, "This file cannot be read: it holds more than 100,000 cells, the most a workbook may have."
    )
    assert "A row counts every cell up to its last one, empty ones included." in response.content.decode()
    assert scan["opened"] == 0
    assert scan["cells"] < 20  # refused on the seventh row of 16,384 cells: the rest was never looked at


@pytest.mark.parametrize(
    "cells",
    [
        '<c r="XFE3"/>',
        '<c r="ZZZ3" t="inlineStr"><is><t>x</t></is></c>',
        '<c r="xfe3"/>',
        '<c r="XFD3"/><c/>',  # no position: the column after the one before
    ],
)
def test_a_cell_past_excels_last_column(world, client_for, scan, cells):
    row = f'<row r="3"><c r="A3" t="inlineStr"><is><t>Bo</t></is></c>{cells}</row>'
    response = upload(client_for(world.member), world.pmo, workbook(sheet_xml=sheet(ROWS + row)), name="p.xlsx")
    assert_refused(
        response, world, "This file cannot be read: row 3 has a cell past column XFD, the last column of Excel"
    )
    assert scan["opened"] == 0


def test_a_cell_with_a_position_openpyxl_cannot_read(world, client_for, scan):
    row = '<row r="3"><c r="$A$3"/></row>'
    response = upload(client_for(world.member), world.pmo, workbook(sheet_xml=sheet(ROWS + row)), name="p.xlsx")
    assert_refused(
        response, world, "This file cannot be read: the workbook is damaged (a cell's position is not valid)."
    )
    assert scan["opened"] == 0


def test_every_child_of_a_row_is_a_cell_to_openpyxl(world, client_for, scan):
    row = '<row r="3">' + "<x/>" * 16_385 + "</row>"
    response = upload(client_for(world.member), world.pmo, workbook(sheet_xml=sheet(ROWS + row)), name="p.xlsx")
    assert_refused(response, world, "This file cannot be read: a row of it has more than 16,384 cells")
    assert scan["opened"] == 0


@pytest.mark.parametrize("number", ["1048576", "1e6", "21002"])
def test_a_row_numbered_past_what_the_import_reads(world, client_for, scan, number):
    # openpyxl yields an empty row for every number skipped: a million of them here.
    row = f'<row r="{number}"><c t="inlineStr"><is><t>Far Away</t></is></c></row>'
    response = upload(client_for(world.member), world.pmo, workbook(sheet_xml=sheet(ROWS + row)), name="p.xlsx")
    shown = f"{int(float(number)):,}"
    assert_refused(
        response,
        world,
        f"The file has a row numbered {shown}; a file may have up to 20,000 rows. Delete the rows below",
    )
    assert scan["opened"] == 0
    assert scan["cells"] == 4  # the two rows before it


def test_rows_up_to_the_last_the_import_reads_are_read(world, client_for):
    # The rows it takes, the header, and as many empty rows as end a table: blank rows above the
    # header or formatting below the table are no reason to refuse a file.
    row = '<row r="21001"><c r="A21001" s="1"/></row>'
    response = upload(client_for(world.member), world.pmo, workbook(sheet_xml=sheet(ROWS + row)), name="p.xlsx")
    assert response.status_code == 302
    assert ImportJob.objects.get().rows == [[2, {"name": "Ann Able", "email": "ann@corp.example"}]]


def test_openpyxl_reads_no_further_than_the_import_can_use(monkeypatch):
    """The second line, should the scan let a file through: openpyxl is asked for one column past
    the limit and for rows up to the last the import reads, whatever the file's positions."""
    limits = Limits(
        rows=5, columns=3, cell_chars=100, unpacked_bytes=MiB, part_bytes=MiB, parts=50, cells=10**9, strings=100
    )
    rows = (
        ROWS + '<row r="3"><c r="A3" t="inlineStr"><is><t>Bo</t></is></c><c r="XFD3"/></row>'
        '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Far</t></is></c></row>'
    )
    data = workbook(sheet_xml=sheet(rows))
    monkeypatch.setattr(spreadsheets, "_check_workbook", lambda *args: None)  # the first line, out of the way
    widths, real_get_row = [], ReadOnlyWorksheet._get_row

    def get_row(self, *args, **kwargs):
        row = real_get_row(self, *args, **kwargs)
        widths.append(len(row))
        return row

    monkeypatch.setattr(ReadOnlyWorksheet, "_get_row", get_row)
    read = list(spreadsheets._xlsx_rows(data, limits))
    assert len(read) == 5 + 1 + spreadsheets.TRAILING_BLANK_ROWS  # not 1,048,576
    assert set(widths) == {4}  # not 16,384
    assert read[:3] == [(1, ["Name", "E-mail"]), (2, ["Ann Able", "ann@corp.example"]), (3, ["Bo"])]
    table = read_table("p.xlsx", data, limits=limits)
    assert table.rows == [(2, ["Ann Able", "ann@corp.example"]), (3, ["Bo"])]


@override_settings(IMPORT_MAX_XLSX_STRINGS=10)
def test_too_many_shared_strings(world, client_for):
    strings = shared_strings(*(f"text {n}" for n in range(9)))  # and Name, E-mail
    response = upload(client_for(world.member), world.pmo, workbook(strings_xml=strings), name="p.xlsx")
    assert_refused(
        response, world, "This file cannot be read: it holds more than 10 different texts, the most a workbook"
    )


def test_an_encrypted_part(world, client_for):
    data = flag_encrypted(workbook(), "xl/worksheets/sheet1.xml")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").flag_bits & 0x1
    response = upload(client_for(world.member), world.pmo, data, name="people.xlsx")
    assert_refused(response, world, "This file cannot be read: it is encrypted.")


def test_a_part_compressed_in_a_way_excel_never_uses(world, client_for):
    response = upload(client_for(world.member), world.pmo, workbook(compression=zipfile.ZIP_BZIP2), name="people.xlsx")
    assert_refused(response, world, "This file cannot be read: a part of it is compressed in a way Excel never uses.")


def test_a_password_protected_workbook_is_named_as_such(world, client_for):
    response = upload(client_for(world.member), world.pmo, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", name="p.xlsx")
    assert_refused(response, world, "This file cannot be read: it is protected by a password, or an old Excel")


# XML -----------------------------------------------------------------------------------------------


def _billion_laughs():
    entities = ['<!ENTITY lol0 "lol">']
    for n in range(1, 10):
        entities.append(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">')
    cell = '<row r="3"><c r="A3" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return sheet(ROWS + cell, prolog=f"<!DOCTYPE worksheet [{''.join(entities)}]>")


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            {"sheet_xml": "billion laughs"},
            "This file cannot be read: it declares XML entities, which a workbook never does.",
        ),
        (
            {"sheet_xml": "external entity"},
            "This file cannot be read: it declares XML entities, which a workbook never does.",
        ),
        (
            {"strings_xml": "external entity"},
            "This file cannot be read: it declares XML entities, which a workbook never does.",
        ),
        ({"sheet_xml": "malformed"}, "This file cannot be read: its XML is not valid (mismatched tag"),
        ({"strings_xml": "malformed"}, "This file cannot be read: its XML is not valid (no element found"),
        ({"sheet_xml": "not xml"}, "This file cannot be read: its XML is not valid (syntax error"),
    ],
    ids=lambda value: "-".join(value.values()) if isinstance(value, dict) else None,
)
def test_xml_tricks_and_malformed_xml(world, client_for, tmp_path, parts, message):
    secret = tmp_path / "secret.txt"
    secret.write_text("the content of a server file")
    external = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    ((where, what),) = parts.items()
    xml = {
        ("sheet_xml", "billion laughs"): _billion_laughs(),
        ("sheet_xml", "external entity"): sheet(
            ROWS + '<row r="3"><c r="A3" t="inlineStr"><is><t>&xxe;</t></is></c></row>', prolog=external
        ),
        ("strings_xml", "external entity"): shared_strings("&xxe;").replace("<sst", f"{external}<sst", 1),
        ("sheet_xml", "malformed"): sheet().replace("</row>", "</rowx>", 1),
        ("strings_xml", "malformed"): shared_strings()[:-20],
        ("sheet_xml", "not xml"): "Name,E-mail\nAnn,ann@corp.example",
    }[(where, what)]
    response = upload(client_for(world.member), world.pmo, workbook(**{where: xml}), name="people.xlsx")
    assert_refused(response, world, message)
    assert "content of a server file" not in response.content.decode()


# CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("at", ["header", "cell", "ignored column", "after the last row"])
def test_a_nul_byte_anywhere_in_a_csv(world, client_for, at):
    lines = [["Name", "E-mail", "Extra"]] + [[f"Person {n}", f"p{n}@corp.example", "x"] for n in range(300)]
    content = csv_bytes(lines)
    assert len(content) > 4096  # past the first block that was all that used to be looked at
    nul = {
        "header": content.replace(b"Extra", b"Ex\x00tra"),
        "cell": content.replace(b"Person 299", b"Person\x00299"),
        "ignored column": content.replace(b"p299@corp.example,x", b"p299@corp.example,x\x00"),
        "after the last row": content + b"\r\n" * 3 + b"\x00",
    }[at]
    response = upload(client_for(world.member), world.pmo, nul, name="people.csv")
    assert_refused(response, world, "This file cannot be read: line ")
    assert "holds a NUL character, so it is not CSV text." in response.context["form"].errors["file"][0]


def test_a_binary_file_named_csv(world, client_for):
    response = upload(client_for(world.member), world.pmo, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, name="p.csv")
    assert_refused(response, world, "This file cannot be read: line 3 holds a NUL character")


# Rows, columns and cells ------------------------------------------------------------------------


def _files(lines):
    return {"csv": (csv_bytes(lines), "people.csv"), "xlsx": (xlsx_bytes(lines), "people.xlsx")}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@override_settings(IMPORT_MAX_ROWS=5)
def test_too_many_rows(world, client_for, fmt):
    lines = [["Name", "E-mail"]] + [[f"P{n}", f"p{n}@corp.example"] for n in range(6)]
    content, name = _files(lines)[fmt]
    response = upload(client_for(world.member), world.pmo, content, name=name)
    assert_refused(response, world, "The file has more than 5 rows. Split it into files of up to 5 rows.")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_too_many_columns(world, client_for, fmt):
    header = ["Name", "E-mail"] + [f"Extra {n}" for n in range(99)]
    content, name = _files([header, ["Ann", "ann@corp.example"]])[fmt]
    response = upload(client_for(world.member), world.pmo, content, name=name)
    assert_refused(response, world, "Row 1 has more than 100 columns; a file may have up to 100.")


def test_empty_columns_at_the_end_of_a_row_are_not_counted(world, client_for):
    content = b"Name,E-mail" + b"," * 500 + b"\r\nAnn,ann@corp.example" + b"," * 500 + b"\r\n"
    response = upload(client_for(world.member), world.pmo, content, name="people.csv")
    assert response.status_code == 302
    assert ImportJob.objects.get().rows == [[2, {"name": "Ann", "email": "ann@corp.example"}]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_overlong_cell(world, client_for, fmt):
    lines = [["Name", "E-mail", "Notes"], ["Ann", "ann@corp.example", "n" * 10_001]]
    content, name = _files(lines)[fmt]
    response = upload(client_for(world.member), world.pmo, content, name=name)
    assert_refused(
        response, world, "Row 2, column C: a cell holds more than 10,000 characters, the most a cell may hold."
    )


def test_a_cell_beyond_the_csv_modules_own_limit(world, client_for):
    content = csv_bytes([["Name", "E-mail", "Notes"], ["Ann", "ann@corp.example", "n" * 200_000]])
    response = upload(client_for(world.member), world.pmo, content, name="people.csv")
    assert_refused(response, world, "Row 2: a cell holds more than 10,000 characters, the most a cell may hold.")


@override_settings(IMPORT_MAX_COLUMNS=5, IMPORT_MAX_CELL_CHARS=20)
def test_a_csv_row_longer_than_any_within_the_limits_is_refused_before_it_is_split(world, client_for):
    # Five quoted cells of twenty doubled quotes: the longest row the limits allow.
    longest = ",".join(['"' + '""' * 20 + '"'] * 5)
    content = f"Name,E-mail\r\nAnn,ann@corp.example\r\n{longest}\r\n".encode()
    response = upload(client_for(world.member), world.pmo, content)
    assert response.status_code == 302
    ImportJob.objects.all().delete()
    content = b"Name,E-mail\r\nAnn,ann@corp.example," + b"a," * 200 + b"\r\n"
    response = upload(client_for(world.member), world.pmo, content)
    assert_refused(response, world, "Row 2 is too long: a row may have up to 5 columns of up to 20 characters.")


def test_notes_of_the_longest_length_a_stakeholder_takes_still_import(world, client_for):
    content = csv_bytes([["Name", "E-mail", "Notes"], ["Ann", "ann@corp.example", "n" * 5000]])
    assert upload(client_for(world.member), world.pmo, content).status_code == 302


# The request ------------------------------------------------------------------------------------


@override_settings(IMPORT_MAX_BYTES=64 * 1024)
def test_a_file_too_large_is_dropped_as_it_arrives_and_named_on_the_form(world, client_for):
    lines = [["Name", "E-mail"]] + [[f"Person {n}", f"p{n}@corp.example"] for n in range(4000)]
    content = csv_bytes(lines)
    assert len(content) > 64 * 1024
    response = upload(client_for(world.member), world.pmo, content, create_segments=True)
    assert "file" not in response.wsgi_request.FILES  # never kept whole, in memory or on disk
    assert_refused(response, world, "This file is larger than 64.0 KB, the most that can be imported.")
    assert response.context["form"]["create_segments"].value() is True  # what was ticked stays ticked


def test_more_than_one_file_in_a_request_is_refused(world, client_for):
    content = csv_bytes([["Name", "E-mail"], ["Ann", "ann@corp.example"]])
    response = client_for(world.member).post(
        upload_url(world.pmo),
        {"file": [SimpleUploadedFile("a.csv", content), SimpleUploadedFile("b.csv", content)]},
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_the_api_refuses_a_body_larger_than_the_limit_with_its_error_body(world, client_for, content_type):
    client = client_for(world.member)
    url = reverse("api-stakeholder-upsert", kwargs={"slug": world.pmo.slug})
    fields = {"name": "Big Body", "email": "big@corp.example", "padding": "x" * (3 * MiB)}
    body = json.dumps(fields) if content_type == "application/json" else "&".join(f"{k}={v}" for k, v in fields.items())
    response = client.post(url, body, content_type=content_type)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert error["message"] == "The request body is larger than the API takes: at most 2,621,440 bytes."
    assert not Stakeholder.objects.filter(email="big@corp.example").exists()
    small = {"name": "Small Body", "email": "small@corp.example"}
    assert client.post(url, json.dumps(small), content_type="application/json").status_code == 201


def test_the_api_refuses_a_form_body_with_too_many_fields(world, client_for):
    url = reverse("api-stakeholder-upsert", kwargs={"slug": world.pmo.slug})
    body = "name=Many&email=many@corp.example&" + "&".join(f"f{n}=1" for n in range(1000))
    response = client_for(world.member).post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "The request body is larger than the API takes: at most 1,000 fields."
    assert not Stakeholder.objects.filter(email="many@corp.example").exists()
