"""The lead's full export of a PMO: a zip with a JSON and a CSV file per model, the
reports' PDFs and a manifest. Proved complete against the database: every model with a
path to Pmo is found by walking the models Django knows, so a model added later
without an export fails here; for each, the ids in the zip are exactly the PMO's ids.
No password hash, token hash or token seed travels in it."""

import csv
import io
import json
import re
import zipfile
from collections import deque
from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda import full_export
from agenda.models import Action, AgendaReport, Incident, ReportDelivery, ReportSchedule
from pmo5p.domain import Element
from pmo5p.models import MemberInvitation, Pmo, User
from pmo5p.services import invite_member
from stakeholders.models import (
    CaseNote,
    FollowUpCase,
    ImportJob,
    Interaction,
    RecoveryPulse,
    Service,
    ServiceAnswer,
    ServiceEvent,
    SurveyInvitation,
    SurveyService,
    SurveyUpdate,
    Touchpoint,
    TouchpointOccurrence,
    make_token,
)
from tests.factories import MaturityRecordFactory, ResponseFactory, SelfAssessmentFactory, StakeholderFactory
from tests.survey_helpers import open_survey

T0 = datetime(2026, 4, 1, 11, 0, tzinfo=UTC)


# Which models a PMO owns ---------------------------------------------------------------------------------


def path_to_pmo(model) -> str | None:
    """The shortest chain of foreign keys from `model` to Pmo, as a lookup ("response__survey__pmo")."""
    if model is Pmo:
        return "pk"
    queue = deque([(model, "")])
    seen = {model}
    while queue:
        current, lookup = queue.popleft()
        # Required keys first: a row always reaches its PMO through them.
        relations = sorted(
            (f for f in current._meta.concrete_fields if f.is_relation and (f.many_to_one or f.one_to_one)),
            key=lambda f: f.null,
        )
        for relation in relations:
            target = relation.related_model
            step = f"{lookup}__{relation.name}" if lookup else relation.name
            if target is Pmo:
                return step
            if target not in seen:
                seen.add(target)
                queue.append((target, step))
    return None


PMO_OWNED = {
    model: path
    for model in apps.get_models()
    if (path := path_to_pmo(model)) is not None and model not in full_export.NOT_EXPORTED
}


def test_the_figures_kept_from_the_answers_are_left_out(full, client_for):
    """Derived from the exported answers; an anonymous survey's per-segment sums would show
    its groups under the minimum size."""
    manifest = json.loads(download(client_for(full.lead), full.pmo).read("manifest.json"))
    assert full_export.NOT_EXPORTED
    for model in full_export.NOT_EXPORTED:
        assert path_to_pmo(model) is not None
        assert model._meta.label_lower not in manifest["models"]


def owned_by(model, pmo):
    path = PMO_OWNED[model]
    return model.objects.filter(pk=pmo.pk) if path == "pk" else model.objects.filter(**{path: pmo})


def test_the_walk_finds_the_models_of_every_app():
    labels = {model._meta.label_lower for model in PMO_OWNED}
    for expected in (
        "pmo5p.pmo",
        "pmo5p.membership",
        "stakeholders.answer",
        "stakeholders.importjob",
        "agenda.reportdelivery",
        "agenda.reportschedule",
    ):
        assert expected in labels
    assert "pmo5p.user" not in labels
    assert PMO_OWNED[apps.get_model("stakeholders", "answer")] == "response__survey__pmo"


# A PMO with a row of everything ---------------------------------------------------------------------------


def fill(pmo, lead, member, stakeholder, segment, *, n=0):
    """At least one row of every model a PMO owns, with many-to-many links set (`n` varies what must be unique)."""
    invite_member(pmo=pmo, email=f"new{n}@{pmo.slug}.example", role="member", invited_by=lead)
    other = StakeholderFactory(pmo=pmo, segment=segment, name=f"Other of {pmo.slug}")
    interaction = Interaction.objects.create(pmo=pmo, summary="Workshop", author=lead, elements=["people"])
    interaction.stakeholders.add(stakeholder, other)
    touchpoint = Touchpoint.objects.create(
        pmo=pmo, purpose="Steering committee", element="people", starts_on=date(2026, 1, 5), created_by=lead
    )
    touchpoint.stakeholders.add(stakeholder, other)
    TouchpointOccurrence.objects.create(
        touchpoint=touchpoint, pmo=pmo, on=date(2026, 1, 5), status="done", interaction=interaction
    )
    survey, invitations = open_survey(pmo, [stakeholder, other], title="Named", sent_at=T0)
    survey.target_segments.add(segment)
    survey.target_stakeholders.add(stakeholder)
    named = ResponseFactory(
        invitation=invitations[0],
        ratings={Element.PRODUCT: [4, None]},
        importance={Element.PRODUCT: 5},
        nps=9,
        comment="Named",
    )
    hidden, (secret,) = open_survey(pmo, [other], title=f"Anonymous {n or ''}".strip(), anonymous=True, sent_at=T0)
    anonymous = ResponseFactory(
        invitation=secret, ratings={Element.PEOPLE: [2, 2]}, nps=3, comment="Anonymous comment", submitted_at=T0
    )
    service = Service.objects.create(
        pmo=pmo, name=f"Help desk {n}", owner=pmo.memberships.get(user=lead), elements=["people"], level_target=3
    )
    service.segments.add(segment)
    ServiceEvent.objects.create(
        service=service, happened_at=T0, author=lead, summary="Added", status="live", level_now=1, level_target=3
    )
    for of, response in ((survey, named), (hidden, anonymous)):
        asked = SurveyService.objects.create(survey=of, service=service, name=service.name, segment_ids=[segment.pk])
        ServiceAnswer.objects.create(response=response, survey_service=asked, usage="uses", satisfaction=4)
    SelfAssessmentFactory(pmo=pmo, element=Element.PRICE, rating=3, author=lead)
    MaturityRecordFactory(pmo=pmo, stakeholder=stakeholder, stage=2, rationale="First contact", author=member)
    # Closing the loop: a detractor's case, with a note, a contact and a pulse; a group's case;
    # the survey's "you said, we did".
    detractor = ResponseFactory(invitation=invitations[1], nps=2, comment="Too slow")
    case = FollowUpCase.objects.create(
        pmo=pmo,
        survey=survey,
        response=detractor,
        stakeholder=other,
        segment=segment,
        owner=pmo.memberships.get(user=lead),
        nps_before=2,
        due_on=date(2026, 4, 8),
    )
    case.interactions.add(interaction)
    CaseNote.objects.create(case=case, author=lead, text="Called back")
    RecoveryPulse.new(case, other.email, sent_by=lead).save()
    FollowUpCase.objects.create(pmo=pmo, survey=hidden, group_key="-:people", due_on=date(2026, 4, 8))
    SurveyUpdate.objects.create(pmo=pmo, survey=survey, subject="You said, we did", body="Thanks", created_by=lead)
    action = Action.objects.create(
        pmo=pmo, title="Newsletter", element=Element.PEOPLE, due_on=date(2026, 6, 1), follow_up_case=case
    )
    action.target_segments.add(segment)
    action.target_stakeholders.add(stakeholder, other)
    incident = Incident.objects.create(
        pmo=pmo, title="Late report", problem="cost_and_delay", estimated_cost="1234.50", days_lost="2.5"
    )
    incident.stakeholders.add(other)
    ReportSchedule.objects.get_or_create(pmo=pmo)
    report = AgendaReport.objects.create(
        pmo=pmo,
        frequency="monthly",
        period_start=date(2026, 3, 1 + n),
        period_end=date(2026, 4, 1),
        status="ready",
        figures={"nps": 12.5, "elements": ["product"]},
        html="<p>Report</p>",
        pdf=b"%PDF-1.4 report of " + pmo.slug.encode(),
    )
    AgendaReport.objects.create(
        pmo=pmo, frequency="weekly", period_start=date(2026, 3, 2 + n), period_end=date(2026, 3, 9 + n)
    )
    ReportDelivery.objects.create(report=report, user=lead, email=lead.email)
    ImportJob.objects.create(pmo=pmo, created_by=member, file_name="people.csv", rows=[[2, {"name": "x"}]])


@pytest.fixture
def full(world):
    fill(world.pmo, world.lead, world.member, world.stakeholder, world.segment)
    fill(world.other_pmo, world.outsider, world.outsider, world.other_stakeholder, world.other_segment)
    return world


def download(client, pmo):
    response = client.get(reverse("export_full", kwargs={"slug": pmo.slug}))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/zip"
    assert re.fullmatch(
        rf'attachment; filename="{pmo.slug}-full-export-\d{{4}}-\d{{2}}-\d{{2}}\.zip"', response["Content-Disposition"]
    )
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def json_rows(archive, manifest, model):
    return json.loads(archive.read(manifest["models"][model._meta.label_lower]["json"]))


def csv_rows(archive, manifest, model):
    text = archive.read(manifest["models"][model._meta.label_lower]["csv"]).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# Completeness --------------------------------------------------------------------------------------------

ANONYMOUS = {
    apps.get_model("stakeholders", "response"): "survey__anonymous",
    apps.get_model("stakeholders", "answer"): "response__survey__anonymous",
    apps.get_model("stakeholders", "serviceanswer"): "response__survey__anonymous",
}


def test_the_test_pmo_has_a_row_of_every_model_a_pmo_owns(full):
    for model in PMO_OWNED:
        for pmo in (full.pmo, full.other_pmo):
            assert owned_by(model, pmo).exists(), (
                f"{model._meta.label} has a path to Pmo but no row here: add one to fill() in this file, "
                "and make sure agenda/full_export.py exports it."
            )


def test_the_zip_holds_exactly_the_pmos_rows_of_every_model(full, client_for):
    archive = download(client_for(full.lead), full.pmo)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["pmo"] == {"id": full.pmo.pk, "slug": "alpha", "name": "Alpha PMO", "currency": "GBP"}
    assert manifest["exported_by"] == full.lead.email
    datetime.fromisoformat(manifest["exported_at"])
    names = set(archive.namelist())
    for model in PMO_OWNED:
        label = model._meta.label_lower
        assert label in manifest["models"], f"{model._meta.label} is owned by a PMO but missing from the full export"
        owned = owned_by(model, full.pmo)
        # The responses and answers of anonymous surveys carry no id of theirs (see below).
        hidden = owned.filter(**{ANONYMOUS[model]: True}).count() if model in ANONYMOUS else 0
        ours = set(owned.values_list("pk", flat=True)) - (
            set(owned.filter(**{ANONYMOUS[model]: True}).values_list("pk", flat=True)) if hidden else set()
        )
        theirs = set(owned_by(model, full.other_pmo).values_list("pk", flat=True))
        from_json = [row["id"] for row in json_rows(archive, manifest, model) if isinstance(row["id"], int)]
        from_csv = [int(row["id"]) for row in csv_rows(archive, manifest, model) if row["id"].isdigit()]
        assert len(from_json) == len(set(from_json)), label
        assert set(from_json) == set(from_csv) == ours, label
        assert not set(from_json) & theirs, label
        assert manifest["models"][label]["rows"] == len(ours) + hidden
        entry = manifest["models"][label]
        assert manifest["files"][entry["json"]] == manifest["files"][entry["csv"]] == len(ours) + hidden
    assert set(manifest["files"]) | {"manifest.json"} == names


def test_the_zip_keeps_the_links_between_rows(full, client_for):
    archive = download(client_for(full.lead), full.pmo)
    manifest = json.loads(archive.read("manifest.json"))
    for model, field in [
        (Interaction, "stakeholders"),
        (Action, "target_segments"),
        (Action, "target_stakeholders"),
        (Incident, "stakeholders"),
        (Service, "segments"),
        (apps.get_model("stakeholders", "survey"), "target_segments"),
        (apps.get_model("stakeholders", "survey"), "target_stakeholders"),
    ]:
        exported = {row["id"]: sorted(row[field]) for row in json_rows(archive, manifest, model)}
        expected = {
            obj.pk: sorted(obj_.pk for obj_ in getattr(obj, field).all()) for obj in model.objects.filter(pmo=full.pmo)
        }
        assert exported == expected, f"{model.__name__}.{field}"
        by_csv = {int(row["id"]): row[field] for row in csv_rows(archive, manifest, model)}
        assert by_csv == {pk: ";".join(map(str, ids)) for pk, ids in expected.items()}

    memberships = {row["user_id"]: row for row in json_rows(archive, manifest, apps.get_model("pmo5p", "membership"))}
    assert memberships[full.lead.pk]["user__email"] == "lead@alpha.example"
    assert memberships[full.lead.pk]["role"] == "lead"
    (incident,) = json_rows(archive, manifest, Incident)
    assert (incident["estimated_cost"], incident["days_lost"]) == ("1234.50", "2.5")
    reports = {row["id"]: row for row in json_rows(archive, manifest, AgendaReport)}
    for report in AgendaReport.objects.filter(pmo=full.pmo):
        row = reports[report.pk]
        assert row["figures"] == report.figures and row["html"] == report.html
        if report.pdf:
            assert archive.read(row["pdf_file"]) == bytes(report.pdf)
        else:
            assert row["pdf_file"] == ""
    (schedule,) = json_rows(archive, manifest, ReportSchedule)
    assert schedule["send_at"] == "08:00:00"


def test_no_password_token_hash_or_seed_is_in_the_zip(full, client_for):
    archive = download(client_for(full.lead), full.pmo)
    secrets = set()
    for user in User.objects.all():
        secrets.add(user.password)
    secrets |= set(MemberInvitation.objects.values_list("token_hash", flat=True))
    for seed, token_hash in SurveyInvitation.objects.values_list("token_seed", "token_hash"):
        secrets |= {seed, token_hash, make_token(seed)}
    for pulse in RecoveryPulse.objects.all():  # a pulse's link answers it as the stakeholder
        secrets |= {pulse.token_seed, pulse.token_hash, pulse.token}
    for message in mail.outbox:  # the member invitations' plain tokens
        secrets |= set(re.findall(r"/invitations/([^/\s]+)/", message.body))
    assert len(secrets) > 10 and all(secrets)
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8", errors="replace")
    for secret in secrets:
        assert secret not in everything
    for key in ("password", "token_hash", "token_seed", "key_hash"):
        assert f'"{key}"' not in everything and f"{key}," not in everything


def test_an_anonymous_survey_stays_anonymous_in_the_zip(full, client_for):
    archive = download(client_for(full.lead), full.pmo)
    manifest = json.loads(archive.read("manifest.json"))
    survey = apps.get_model("stakeholders", "survey").objects.get(pmo=full.pmo, anonymous=True)  # one fill()
    responses = [
        r
        for r in json_rows(archive, manifest, apps.get_model("stakeholders", "response"))
        if r["survey_id"] == survey.pk
    ]
    invitations = [r for r in json_rows(archive, manifest, SurveyInvitation) if r["survey_id"] == survey.pk]
    assert len(responses) == len(invitations) == 1
    assert responses[0]["invitation_id"] is None and responses[0]["segment_id"] is None  # one response: too few
    assert responses[0]["submitted_at"] is None  # not even the day
    assert responses[0]["comment"] == "Anonymous comment"
    assert invitations[0]["responded_at"] is None and "draft_answers" not in invitations[0]
    assert invitations[0]["reminded_at"] is None and invitations[0]["reminder_claimed_at"] is None
    named = [
        r
        for r in json_rows(archive, manifest, apps.get_model("stakeholders", "response"))
        if r["survey_id"] != survey.pk
    ]
    assert named[0]["invitation_id"] is not None
    # A service answer of the anonymous survey points at its response's reference, and at nothing else.
    asked = SurveyService.objects.get(survey=survey)
    (secret_answer,) = [r for r in json_rows(archive, manifest, ServiceAnswer) if r["survey_service_id"] == asked.pk]
    assert secret_answer["id"] is None and secret_answer["response_id"] == responses[0]["id"]
    assert not isinstance(secret_answer["response_id"], int) and (
        secret_answer["usage"],
        secret_answer["satisfaction"],
    ) == (
        "uses",
        4,
    )
    named_answers = [r for r in json_rows(archive, manifest, ServiceAnswer) if r["survey_service_id"] != asked.pk]
    assert [r["response_id"] for r in named_answers] == [named[0]["id"]]


# Who may download it, and what it costs ------------------------------------------------------------------


def test_only_a_lead_downloads_the_full_export(full, client_for):
    url = reverse("export_full", kwargs={"slug": full.pmo.slug})
    assert client_for(full.member).get(url).status_code == 403
    assert client_for(full.viewer).get(url).status_code == 403
    assert client_for(full.outsider).get(url).status_code == 404


def _queries(client, pmo):
    with CaptureQueriesContext(connection) as captured:
        download(client, pmo)
    return len(captured.captured_queries)


def test_the_full_export_takes_a_fixed_number_of_queries(full, client_for):
    client = client_for(full.lead)
    before = _queries(client, full.pmo)
    for n in range(1, 4):
        fill(full.pmo, full.lead, full.member, StakeholderFactory(pmo=full.pmo), full.segment, n=n)
    assert _queries(client, full.pmo) == before
    many_to_many = sum(
        1 for model in PMO_OWNED for f in model._meta.many_to_many if isinstance(f, models.ManyToManyField)
    )
    # Session, user, membership; the surveys, small groups and PDFs; one query per model and per many-to-many.
    assert before <= 3 + 3 + len(PMO_OWNED) + many_to_many
