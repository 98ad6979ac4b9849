"""Formula injection through separators: text such as "Bob;=1+1" must not become a formula
in any spreadsheet, whatever delimiter it splits a CSV line on. Every CSV the product
writes quotes every field, and every CSV and XLSX cell has an apostrophe before a formula
start that follows a separator (, ; tab |) or a line break, not only at its start.

Each output that carries user text is checked: the register and every other dataset as
CSV and XLSX, a survey's results CSV, and every CSV file of the full export."""

import csv
import io
import re
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from agenda.exports import DATASETS
from agenda.models import Action
from pmo5p.domain import Element
from stakeholders.models import ImportJob, Interaction, QuestionKind, Service
from stakeholders.spreadsheets import neutralise, unneutralise
from tests.factories import MaturityRecordFactory, ResponseFactory, SelfAssessmentFactory, StakeholderFactory
from tests.survey_helpers import open_survey, survey_url
from tests.test_exports import download
from tests.test_import import upload_ok

HOSTILE = [
    "Bob;=1+1",
    'x,=HYPERLINK("http://evil.example")',
    "a\t=1",
    "a\n=1",
    "a|@SUM(1)",
    "a;  -1+2",
    "a\r\n+cmd",
    "a,\uff1d1",  # a full-width equals sign
    "'=already quoted",
]
SEPARATORS = re.compile(r"[,;|\t\r\n]")
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def assert_no_formula(cell, where):
    """No piece of the cell, split on any separator and stripped, starts a formula."""
    if not isinstance(cell, str) or NUMBER.fullmatch(cell):
        return  # a number is a number (the sentiment -2), never a formula
    for piece in SEPARATORS.split(cell):
        assert not piece.strip().startswith(FORMULA_STARTS), f"{cell!r} in {where}"


def csv_rows(content: bytes, where) -> list[list[str]]:
    """The rows of a CSV export, checked to quote every field: written again with every
    field quoted, the rows give back the file exactly."""
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    again = io.StringIO()
    csv.writer(again, quoting=csv.QUOTE_ALL).writerows(rows)
    assert again.getvalue() == text, f"a field of {where} is not quoted"
    for row in rows:
        for cell in row:
            assert_no_formula(cell, where)
    return rows


def xlsx_rows(content: bytes, where) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} of {where} is a formula"
            assert_no_formula(cell.value, where)
        rows.append([cell.value for cell in row])
    return rows


@pytest.fixture
def hostile(world):
    """Every hostile text in every place of the PMO that an export carries."""
    pmo, lead = world.pmo, world.lead
    people = [
        StakeholderFactory(pmo=pmo, name=text, email=f"h{n}@corp.example", notes=text, job_title=text)
        for n, text in enumerate(HOSTILE)
    ]
    survey, invitations = open_survey(pmo, people, title=HOSTILE[0])
    survey.questions.filter(kind=QuestionKind.PERFORMANCE, element=Element.PRODUCT).update(text=HOSTILE[1])
    for invitation, text in zip(invitations, HOSTILE, strict=True):
        ResponseFactory(invitation=invitation, ratings={Element.PRODUCT: [4, 4]}, nps=8, comment=text)
        interaction = Interaction.objects.create(pmo=pmo, summary=text, author=lead)
        interaction.stakeholders.add(*people)
        SelfAssessmentFactory(pmo=pmo, element=Element.PRICE, rating=3, evidence=text, author=lead)
        MaturityRecordFactory(pmo=pmo, stakeholder=invitation.stakeholder, stage=2, rationale=text)
        service = Service.objects.create(pmo=pmo, name=text, description=text)
        Action.objects.create(
            pmo=pmo,
            title=text[:150],
            element=Element.PEOPLE,
            due_on="2026-09-01",
            notes=text,
            expected_effect=text,
            service=service,
        )
    ImportJob.objects.create(pmo=pmo, created_by=lead, file_name=HOSTILE[0], columns={"fields": {"name": HOSTILE[1]}})
    return {"people": people, "survey": survey}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_every_dataset_export(world, hostile, client_for, dataset, fmt):
    response = download(client_for(world.lead), world.pmo, dataset, fmt)
    assert response.status_code == 200
    where = f"{dataset}.{fmt}"
    rows = csv_rows(response.content, where) if fmt == "csv" else xlsx_rows(response.content, where)
    cells = {cell for row in rows for cell in row if isinstance(cell, str)}
    # The text is all there, behind its apostrophes ("\r\n" reads back as a line break from XLSX).
    expected = {neutralise(text) if fmt == "csv" else neutralise(text.replace("\r\n", "\n")) for text in HOSTILE}
    assert expected & cells, f"no hostile text in {where}"


def test_the_register_csv_quotes_bob_in_one_cell(world, hostile, client_for):
    content = download(client_for(world.lead), world.pmo, "stakeholders", "csv").content.decode("utf-8-sig")
    assert '"Bob;\'=1+1"' in content
    assert '"x,\'=HYPERLINK(""http://evil.example"")"' in content


def test_a_survey_results_csv(world, hostile, client_for):
    response = client_for(world.lead).get(survey_url("survey_export", hostile["survey"]))
    rows = csv_rows(response.content, "the survey's CSV")
    header, *body = rows
    assert f"Product: {neutralise(HOSTILE[1])}" in header  # a question's text, in the header
    by_name = {row[2]: row for row in body}
    assert set(by_name) == {neutralise(text) for text in HOSTILE}
    assert by_name["Bob;'=1+1"][-1] == "Bob;'=1+1"  # the comment


def test_every_csv_of_the_full_export(world, hostile, client_for):
    response = client_for(world.lead).get(reverse("export_full", kwargs={"slug": world.pmo.slug}))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = [name for name in archive.namelist() if name.endswith(".csv")]
    assert len(names) > 15
    everything = set()
    for name in names:
        everything |= {cell for row in csv_rows(archive.read(name), name) for cell in row}
    assert {neutralise(text) for text in HOSTILE} <= everything


def test_a_control_character_cannot_uncover_a_formula_in_xlsx(world, client_for):
    # XLSX drops control characters XML cannot hold: they go before the formula check.
    StakeholderFactory(pmo=world.pmo, name="\x07=1+1", email="bell@corp.example")
    rows = xlsx_rows(download(client_for(world.lead), world.pmo, "stakeholders", "xlsx").content, "stakeholders")
    assert "'=1+1" in [row[1] for row in rows]


@pytest.mark.parametrize("text", HOSTILE + ["plain", "Smith-Jones", "a=b", "'\t'x", "1;2"])
def test_neutralise_is_undone_exactly_on_import(text):
    assert unneutralise(neutralise(text)) == text


def test_an_exported_register_with_hostile_names_imports_back_unchanged(world, hostile, client_for):
    client = client_for(world.member)
    for fmt in ("csv", "xlsx"):
        exported = download(client, world.pmo, "stakeholders", fmt).content
        job = upload_ok(client, world.pmo, exported, name=f"register.{fmt}")
        counts = job.preview["counts"]
        # "a\r\n+cmd" comes back from XLSX as "a\n+cmd": the one update, in that format only.
        assert counts["unchanged"] == len(HOSTILE) + 1 - (fmt == "xlsx"), job.preview["rows"]
