"""Survey answers a stakeholder saved on the public form but never sent are theirs: no
export, no API and no figure shows them. One stakeholder sends answers and another only
saves a draft, both through the real form; each output holds the first and nothing of
the second."""

import csv
import io
import json
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from agenda.exports import url_name
from pmo5p.models import ApiToken
from stakeholders.models import Answer, Response, SurveyInvitation
from tests.factories import StakeholderFactory
from tests.survey_helpers import answer_data, open_survey, rated_questions, survey_url

SENT = "Sent and meant"
UNSENT = "Drafted but never sent"


@pytest.fixture
def answered(world):
    """Sam sent his answers; Dana only saved a draft (autosave, then "Save and finish later")."""
    sam = StakeholderFactory(pmo=world.pmo, name="Sam Sender", email="sam@corp.example", segment=world.segment)
    dana = StakeholderFactory(pmo=world.pmo, name="Dana Drafter", email="dana@corp.example", segment=world.segment)
    survey, (sent, drafted) = open_survey(world.pmo, [sam, dana], title="Named")
    public = Client()
    assert public.post(sent.path, answer_data(survey, rating="5", nps="10", comment=SENT)).status_code == 200
    draft = answer_data(survey, rating="1", nps="0", comment=UNSENT)
    saved = public.post(reverse("survey_save", kwargs={"token": drafted.token}), draft)
    assert saved.json() == {"saved": True}
    assert public.post(drafted.path, {**draft, "action": "save"}).status_code == 200
    drafted.refresh_from_db()
    assert drafted.draft_answers["comment"] == UNSENT and drafted.draft_saved_at is not None
    assert drafted.responded_at is None
    (response,) = Response.objects.all()
    assert response.invitation == sent
    return survey


def test_the_results_page_counts_the_sent_answers_only(world, answered, client_for):
    page = client_for(world.lead).get(survey_url("survey_results", answered))
    assert page.context["participation"].responses == 1
    assert page.context["nps"].answers == 1 and page.context["nps"].detractors == 0
    text = page.content.decode()
    assert SENT in text and UNSENT not in text


def test_the_results_csv_holds_the_sent_answers_only(world, answered, client_for):
    content = client_for(world.lead).get(survey_url("survey_export", answered)).content.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(content)))
    assert [row[header.index("stakeholder")] for row in rows] == ["Sam Sender"]
    assert rows[0][header.index("comment")] == SENT
    assert "Dana" not in content and UNSENT not in content


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_responses_export_holds_the_sent_answers_only(world, answered, client_for, fmt):
    response = client_for(world.lead).get(reverse(url_name("responses", fmt), kwargs={"slug": world.pmo.slug}))
    assert response.status_code == 200
    if fmt == "csv":
        content = response.content.decode("utf-8-sig")
    else:
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        content = "\n".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)
    assert "Sam Sender" in content and SENT in content
    assert "Dana" not in content and UNSENT not in content


def test_the_full_export_holds_no_draft(world, answered, client_for):
    response = client_for(world.lead).get(reverse("export_full", kwargs={"slug": world.pmo.slug}))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8", errors="replace")
    assert SENT in everything and UNSENT not in everything
    invitations = json.loads(archive.read(manifest["models"]["stakeholders.surveyinvitation"]["json"]))
    assert len(invitations) == 2
    for invitation in invitations:
        assert "draft_answers" not in invitation and "draft_saved_at" not in invitation
    header = archive.read(manifest["models"]["stakeholders.surveyinvitation"]["csv"]).decode().splitlines()[0]
    assert "draft" not in header
    assert manifest["models"]["stakeholders.response"]["rows"] == 1
    assert manifest["models"]["stakeholders.answer"]["rows"] == Answer.objects.count() == len(rated_questions(answered))


def test_the_api_results_count_the_sent_answers_only(world, answered):
    _token, key = ApiToken.issue(user=world.lead, name="tests")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    results = api.get(reverse("api-survey-results", kwargs={"slug": world.pmo.slug, "pk": answered.pk})).json()
    assert results["responses"] == 1
    assert results["nps"] == {"score": 100.0, "answers": 1, "promoters": 1, "passives": 0, "detractors": 0}
    product = next(row for row in results["elements"] if row["element"] == "product")
    assert product["perception"] == 100.0  # Sam's fives alone; Dana's ones count for nothing
    assert SurveyInvitation.objects.filter(draft_saved_at__isnull=False, responded_at__isnull=True).count() == 1
