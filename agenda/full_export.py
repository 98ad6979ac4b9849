"""The full export of a PMO: everything it owns, as a zip of JSON and CSV, for its lead.

One JSON file (an array of objects) and one CSV file per model, the reports' PDFs
under reports/, and manifest.json with the export time and the row count of every
file. Each model costs a fixed number of queries (one, plus one per many-to-many
field), read in chunks; the zip is written into a spooled temporary file, so a
large PMO goes to disk rather than memory.

Left out on purpose: password hashes (memberships carry the user's name and e-mail
only), the hashes of member-invitation tokens, the seeds and hashes of survey links
(either would open a survey as the stakeholder) and of recovery pulses, and the answers a stakeholder saved
on the survey form but never sent (an invitation's draft, and when it was saved):
only a submitted response is an answer. Anonymous surveys stay anonymous
(stakeholders.surveys.anonymity): their responses are exported without the invitation they
came from, without a time, without a segment whose group is too small to be shown,
and in no order of arrival: their ids, which the database hands out in that order,
are replaced by references drawn for this export, which link a response to its
answers (to the questions and to the services) and to nothing else, and their answers
have no id. Their invitations leave
out whatever says who answered (the answer's time, the reminder).

Not exported either: the figures kept from the answers (NOT_EXPORTED, agenda/figures/kept.py),
which the exported answers give again, and whose per-segment sums would show the groups of an
anonymous survey that are too small to be shown.
"""

import io
import json
import secrets
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.db import models
from django.db.models import Case, CharField, Value, When
from django.db.models.functions import MD5, Cast, Concat
from django.utils import timezone

from agenda.models import (
    Action,
    AgendaReport,
    Incident,
    KeptElementFigures,
    KeptPerception,
    MaturityRecord,
    ReportDelivery,
    ReportSchedule,
    SelfAssessment,
)
from pmo5p.models import MemberInvitation, Membership, OutgoingEmail, Pmo
from stakeholders.models import (
    Answer,
    CaseNote,
    FollowUpCase,
    ImportJob,
    Interaction,
    Question,
    RecoveryPulse,
    Response,
    Segment,
    Service,
    ServiceAnswer,
    ServiceEvent,
    Stakeholder,
    Survey,
    SurveyInvitation,
    SurveyService,
    SurveyUpdate,
    Touchpoint,
    TouchpointOccurrence,
)
from stakeholders.spreadsheets import CsvWriter
from stakeholders.surveys import anonymity
from stakeholders.surveys.anonymity import ANSWER_STATE_FIELDS

CHUNK = 2000
# Rows the figures layer derives from the answers, kept for speed: see the docstring.
NOT_EXPORTED = (KeptElementFigures, KeptPerception)
SPOOL_BYTES = 20 * 1024 * 1024


@dataclass
class ModelExport:
    model: type[models.Model]
    rows: object  # pmo -> queryset of the model's rows owned by the PMO
    exclude: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # values() lookups across relations, e.g. "user__email"
    many_to_many: tuple[str, ...] = ()
    # (row, context) -> row: a last change before writing, e.g. anonymity.
    adjust: object = None
    # context -> {name: expression}: values computed by the query for adjust, not written.
    annotate: object = None
    # context -> order_by() terms; by primary key if None.
    order: object = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def columns(self) -> list[str]:
        concrete = [
            f.attname
            for f in self.model._meta.concrete_fields
            if f.name not in self.exclude and not isinstance(f, models.BinaryField)
        ]
        return concrete + list(self.extra)


def _anonymous_invitation(row, context):
    if row["survey_id"] in context["anonymous_surveys"]:
        for name in ANSWER_STATE_FIELDS:
            if name in row:  # the draft fields are left out of every export
                row[name] = None
    return row


def _anonymous_reference(context, survey_id: str, response_id: str):
    """For a response of an anonymous survey, a reference that says nothing of when it came:
    a hash of its id under a key drawn for this export only. "" for other responses."""
    return Case(
        When(
            **{f"{survey_id}__in": context["anonymous_surveys"]},
            then=MD5(Concat(Value(context["reference_key"]), Cast(response_id, CharField()))),
        ),
        default=Value(""),
        output_field=CharField(),
    )


def _anonymous_response(row, context):
    reference = row.pop("reference")
    if reference:
        row["id"] = reference
        row["invitation_id"] = None
        row["submitted_at"] = None
        row["detractor_alerted_at"] = None
        if (row["survey_id"], row["segment_id"]) in context["small_segments"]:
            row["segment_id"] = None
    return row


def _anonymous_answer(row, context):
    reference = row.pop("reference")
    if reference:
        row["id"] = None
        row["response_id"] = reference
    return row


def _report_row(row, context):
    row["pdf_file"] = context["pdf_files"].get(row["id"], "")
    return row


EXPORTS = [
    ModelExport(Pmo, lambda pmo: Pmo.objects.filter(pk=pmo.pk)),
    ModelExport(Membership, lambda pmo: Membership.objects.filter(pmo=pmo), extra=("user__name", "user__email")),
    ModelExport(MemberInvitation, lambda pmo: MemberInvitation.objects.filter(pmo=pmo), exclude=("token_hash",)),
    ModelExport(Segment, lambda pmo: Segment.objects.filter(pmo=pmo)),
    ModelExport(Stakeholder, lambda pmo: Stakeholder.objects.filter(pmo=pmo)),
    ModelExport(Interaction, lambda pmo: Interaction.objects.filter(pmo=pmo), many_to_many=("stakeholders",)),
    # The communication plan: each touchpoint's rule and whom it is for, and each of its dates.
    ModelExport(Touchpoint, lambda pmo: Touchpoint.objects.filter(pmo=pmo), many_to_many=("stakeholders",)),
    ModelExport(TouchpointOccurrence, lambda pmo: TouchpointOccurrence.objects.filter(pmo=pmo)),
    ModelExport(
        Survey,
        lambda pmo: Survey.objects.filter(pmo=pmo),
        many_to_many=("target_segments", "target_stakeholders"),
    ),
    ModelExport(Question, lambda pmo: Question.objects.filter(survey__pmo=pmo)),
    ModelExport(
        SurveyInvitation,
        lambda pmo: SurveyInvitation.objects.filter(survey__pmo=pmo),
        exclude=("token_seed", "token_hash", "draft_answers", "draft_saved_at"),
        adjust=_anonymous_invitation,
    ),
    ModelExport(
        Response,
        lambda pmo: Response.objects.filter(survey__pmo=pmo),
        adjust=_anonymous_response,
        annotate=lambda context: {"reference": _anonymous_reference(context, "survey_id", "pk")},
        order=lambda context: ["reference", "pk"],
    ),
    ModelExport(
        Answer,
        lambda pmo: Answer.objects.filter(response__survey__pmo=pmo),
        adjust=_anonymous_answer,
        annotate=lambda context: {"reference": _anonymous_reference(context, "response__survey_id", "response_id")},
        order=lambda context: ["reference", "response_id", "question_id", "pk"],
    ),
    # The service catalogue (docs/services.md): each service, its history, what each survey asked
    # about it (the snapshot at launch) and each respondent's answer, anonymous as the P answers are.
    ModelExport(Service, lambda pmo: Service.objects.filter(pmo=pmo), many_to_many=("segments",)),
    ModelExport(ServiceEvent, lambda pmo: ServiceEvent.objects.filter(service__pmo=pmo)),
    ModelExport(SurveyService, lambda pmo: SurveyService.objects.filter(survey__pmo=pmo)),
    ModelExport(
        ServiceAnswer,
        lambda pmo: ServiceAnswer.objects.filter(response__survey__pmo=pmo),
        adjust=_anonymous_answer,
        annotate=lambda context: {"reference": _anonymous_reference(context, "response__survey_id", "response_id")},
        order=lambda context: ["reference", "response_id", "survey_service_id", "pk"],
    ),
    # Closing the loop (docs/follow-up.md): the follow-up cases, their notes and the contacts
    # linked to them, the recovery pulses without their link (its seed and hash would answer
    # it as the stakeholder), and the "you said, we did" updates. An anonymous group's case
    # has no response and no stakeholder: nothing in it says who.
    ModelExport(FollowUpCase, lambda pmo: FollowUpCase.objects.filter(pmo=pmo), many_to_many=("interactions",)),
    ModelExport(CaseNote, lambda pmo: CaseNote.objects.filter(case__pmo=pmo)),
    ModelExport(
        RecoveryPulse, lambda pmo: RecoveryPulse.objects.filter(case__pmo=pmo), exclude=("token_seed", "token_hash")
    ),
    ModelExport(SurveyUpdate, lambda pmo: SurveyUpdate.objects.filter(pmo=pmo)),
    ModelExport(SelfAssessment, lambda pmo: SelfAssessment.objects.filter(pmo=pmo)),
    ModelExport(MaturityRecord, lambda pmo: MaturityRecord.objects.filter(pmo=pmo)),
    ModelExport(
        Action,
        lambda pmo: Action.objects.filter(pmo=pmo),
        many_to_many=("target_segments", "target_stakeholders"),
    ),
    ModelExport(Incident, lambda pmo: Incident.objects.filter(pmo=pmo), many_to_many=("stakeholders",)),
    ModelExport(ReportSchedule, lambda pmo: ReportSchedule.objects.filter(pmo=pmo)),
    ModelExport(AgendaReport, lambda pmo: AgendaReport.objects.filter(pmo=pmo), adjust=_report_row),
    ModelExport(ReportDelivery, lambda pmo: ReportDelivery.objects.filter(report__pmo=pmo)),
    # The e-mails and how they fared, without their bodies: those hold links that open a
    # survey or a membership. An anonymous survey's reminders are left out: they went only
    # to those who had not answered (stakeholders/surveys/anonymity.py).
    ModelExport(
        OutgoingEmail,
        lambda pmo: OutgoingEmail.objects.filter(pmo=pmo).exclude(
            kind=OutgoingEmail.Kind.SURVEY_REMINDER,
            source_id__in=SurveyInvitation.objects.filter(survey__anonymous=True).values("pk"),
        ),
        exclude=("text", "html"),
    ),
    # The uploads waiting for their confirmation (kept a day): what was imported, not the file's rows again.
    ModelExport(ImportJob, lambda pmo: ImportJob.objects.filter(pmo=pmo), exclude=("rows", "preview")),
]


def _plain(value):
    """A value JSON can hold: times as full ISO 8601, decimals as text (no precision lost)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, memoryview | bytes):
        return None
    raise TypeError(f"{type(value).__name__} is not exportable")


def _cell(value):
    """A value as a CSV cell; CsvWriter then neutralises it like any other."""
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=_plain)
    if isinstance(value, datetime | date | time | UUID):
        return _plain(value)
    return value


def _many_to_many(spec, name, rows_queryset) -> dict[int, list[int]]:
    relation = spec.model._meta.get_field(name)
    through = relation.remote_field.through
    source, target = relation.m2m_field_name(), relation.m2m_reverse_field_name()
    links: dict[int, list[int]] = {}
    pairs = (
        through.objects.filter(**{f"{source}__in": rows_queryset.values("pk")})
        .values_list(f"{source}_id", f"{target}_id")
        .order_by(f"{source}_id", f"{target}_id")
    )
    for owner_id, target_id in pairs.iterator(chunk_size=CHUNK):
        links.setdefault(owner_id, []).append(target_id)
    return links


def _context(pmo, archive) -> dict:
    """What the adjust functions need, read once: anonymous surveys, small groups, the PDFs."""
    anonymous = set(Survey.objects.filter(pmo=pmo, anonymous=True).values_list("pk", flat=True))
    small = anonymity.hidden_groups(Response.objects.filter(survey__pmo=pmo, survey__anonymous=True))
    pdf_files = {}
    reports = AgendaReport.objects.filter(pmo=pmo).values_list("pk", "pdf").order_by("pk")
    for pk, pdf in reports.iterator(chunk_size=20):
        if pdf:
            name = f"reports/agenda-report-{pk}.pdf"
            archive.writestr(name, bytes(pdf))
            pdf_files[pk] = name
    return {
        "anonymous_surveys": anonymous,
        "small_segments": small,
        "pdf_files": pdf_files,
        "reference_key": secrets.token_hex(16),
    }


def _write_model(archive, spec: ModelExport, pmo, context) -> tuple[int, str, str]:
    queryset = spec.rows(pmo)
    links = {name: _many_to_many(spec, name, queryset) for name in spec.many_to_many}
    columns = spec.columns() + list(spec.many_to_many) + (["pdf_file"] if spec.model is AgendaReport else [])
    stem = spec.label
    json_name, csv_name = f"json/{stem}.json", f"csv/{stem}.csv"
    count = 0
    # Two entries of a zip cannot be open for writing at once: the CSV waits in a spooled file.
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b") as csv_buffer:
        csv_text = io.TextIOWrapper(csv_buffer, encoding="utf-8", newline="")
        writer = CsvWriter(csv_text)
        writer.writerow(columns)
        with archive.open(json_name, "w") as json_out:
            json_out.write(b"[")
            annotations = spec.annotate(context) if spec.annotate else {}
            order = spec.order(context) if spec.order else ["pk"]
            rows = queryset.values(*spec.columns(), **annotations).order_by(*order)
            for row in rows.iterator(chunk_size=CHUNK):
                for name in spec.many_to_many:
                    row[name] = links[name].get(row["id"], [])
                if spec.adjust:
                    row = spec.adjust(row, context)
                text = json.dumps(row, ensure_ascii=False, default=_plain)
                json_out.write(((",\n" if count else "\n") + text).encode())
                writer.writerow([_cell(row.get(column)) for column in columns])
                count += 1
            json_out.write(b"\n]\n")
        csv_text.flush()
        csv_buffer.seek(0)
        with archive.open(csv_name, "w") as csv_out:
            while chunk := csv_buffer.read(1024 * 1024):
                csv_out.write(chunk)
        csv_text.detach()
    return count, json_name, csv_name


def build_full_export(pmo, *, exported_by=None):
    """The zip, as an open file positioned at its start: the caller (a FileResponse) closes it."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (handed to the caller)
    try:
        _write_archive(spool, pmo, exported_by)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _write_archive(spool, pmo, exported_by):
    manifest = {
        "format": 1,
        # Every cost in the export (incidents, reports) is in this currency.
        "pmo": {"id": pmo.pk, "slug": pmo.slug, "name": pmo.name, "currency": pmo.currency},
        "exported_at": timezone.now().isoformat(),
        "exported_by": exported_by.email if exported_by else None,
        "models": {},
        "files": {},
    }
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        context = _context(pmo, archive)
        for name in context["pdf_files"].values():
            manifest["files"][name] = 1
        for spec in EXPORTS:
            count, json_name, csv_name = _write_model(archive, spec, pmo, context)
            manifest["models"][spec.label] = {"json": json_name, "csv": csv_name, "rows": count}
            manifest["files"][json_name] = count
            manifest["files"][csv_name] = count
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
