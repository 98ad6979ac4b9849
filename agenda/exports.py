"""Spreadsheet exports of a PMO's data, and the lead's full export.

The pages live here, in agenda, because assessments and actions are agenda's and
stakeholders never imports agenda; the stakeholder-side tables come from
stakeholders.exports. Every cell goes through neutralise() on its way out.
"""

from dataclasses import dataclass

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from agenda.figures import services as service_figures
from agenda.full_export import build_full_export
from agenda.models import Action, MaturityRecord, SelfAssessment
from pmo5p.domain import Element
from pmo5p.models import Role
from pmo5p.tenancy import pmo_view
from stakeholders.exports import (
    CHUNK,
    SERVICE_HEADERS,
    interaction_table,
    response_table,
    service_rows,
    stakeholder_table,
)
from stakeholders.spreadsheets import FORMATS, spreadsheet_response
from stakeholders.surveys import anonymity


def _local(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _person(user):
    return (user.name or user.email) if user else ""


def self_assessment_table(pmo):
    headers = ["ID", "Assessed on", "P element", "Rating", "Rating label", "Evidence", "Assessed by", "Recorded at"]
    records = SelfAssessment.objects.filter(pmo=pmo).select_related("author").order_by("-assessed_on", "-pk")

    def rows():
        for r in records.iterator(chunk_size=CHUNK):
            label = r.get_rating_display().split("·")[-1].strip()
            yield [
                r.pk,
                r.assessed_on,
                r.get_element_display(),
                r.rating,
                label,
                r.evidence,
                _person(r.author),
                _local(r.created_at),
            ]

    return headers, rows()


def maturity_table(pmo):
    headers = [
        "ID",
        "Recorded on",
        "Stakeholder",
        "Stakeholder e-mail",
        "Stage",
        "Stage name",
        "Rationale",
        "Recorded by",
        "Recorded at",
    ]
    records = (
        MaturityRecord.objects.filter(pmo=pmo).select_related("stakeholder", "author").order_by("-recorded_on", "-pk")
    )

    def rows():
        for r in records.iterator(chunk_size=CHUNK):
            yield [
                r.pk,
                r.recorded_on,
                r.stakeholder.name,
                r.stakeholder.email,
                r.stage,
                r.get_stage_display(),
                r.rationale,
                _person(r.author),
                _local(r.created_at),
            ]

    return headers, rows()


def action_table(pmo):
    headers = [
        "ID",
        "Title",
        "P element",
        "Problem",
        "Status",
        "Due",
        "Owner",
        "Service",
        "Target segments",
        "Target stakeholders",
        "Expected effect",
        "Notes",
        "Created",
        "Completed",
    ]
    actions = (
        Action.objects.filter(pmo=pmo)
        .select_related("owner__user", "service")
        .prefetch_related("target_segments", "target_stakeholders")
        .order_by("due_on", "pk")
    )

    def rows():
        for a in actions.iterator(chunk_size=CHUNK):
            yield [
                a.pk,
                a.title,
                Element(a.element).label,
                a.get_problem_display(),
                a.get_status_display(),
                a.due_on,
                _person(a.owner.user) if a.owner else "",
                a.service.name if a.service else "",
                "; ".join(sorted(s.name for s in a.target_segments.all())),
                "; ".join(sorted(s.name for s in a.target_stakeholders.all())),
                a.expected_effect,
                a.notes,
                _local(a.created_at),
                _local(a.completed_at),
            ]

    return headers, rows()


FIGURE_HEADERS = [
    "Survey",
    "Answered",
    "Awareness %",
    "Usage %",
    "Satisfaction",
    "Satisfaction answers",
    "Importance",
    "Importance answers",
    "Quadrant",
    "Priority",
]


def _one_decimal(value):
    return "" if value is None else round(value, 1)


def service_table(pmo):
    """The catalogue (stakeholders.exports.service_rows: the import's columns), each service
    with its figures in the survey the catalogue reads them from (agenda/figures/services.py).
    A service no survey asked about has no figures; a group under the minimum size shows none,
    nor how many answered."""
    figures = service_figures.catalogue_figures(pmo)
    titles = dict(pmo.surveys.filter(pk__in={f.survey_id for f in figures.values()}).values_list("pk", "title"))

    def cells(found):
        if found is None:
            return [""] * len(FIGURE_HEADERS)
        if found.suppressed:
            hidden = f"fewer than {anonymity.min_group_size()}"
            return [titles.get(found.survey_id, ""), hidden, *[""] * (len(FIGURE_HEADERS) - 2)]
        return [
            titles.get(found.survey_id, ""),
            found.answered,
            _one_decimal(found.awareness),
            _one_decimal(found.usage),
            _one_decimal(found.satisfaction),
            found.satisfaction_n,
            _one_decimal(found.importance),
            found.importance_n,
            found.quadrant.label if found.quadrant else "",
            _one_decimal(found.priority),
        ]

    rows = ([*row, *cells(figures.get(service.pk))] for service, row in service_rows(pmo))
    return [*SERVICE_HEADERS, *FIGURE_HEADERS], rows


@dataclass(frozen=True)
class DatasetSpec:
    slug: str
    title: str
    description: str
    build: object


DATASETS = {
    spec.slug: spec
    for spec in [
        DatasetSpec(
            "stakeholders",
            "Stakeholders",
            "The register: contact, segment, influence, interest, owner. Its columns can be imported back.",
            stakeholder_table,
        ),
        DatasetSpec(
            "interactions",
            "Interactions",
            "Touchpoints, the P elements they served and their sentiment.",
            interaction_table,
        ),
        DatasetSpec(
            "self-assessments", "Self-assessments", "The PMO's own rating of each P over time.", self_assessment_table
        ),
        DatasetSpec(
            "maturity", "Relationship maturity", "Every maturity stage recorded per stakeholder.", maturity_table
        ),
        DatasetSpec(
            "actions", "Agenda actions", "The marketing agenda: actions per P, owner, due date, status.", action_table
        ),
        DatasetSpec(
            "services",
            "Service catalogue",
            "Each service: owner, whom it serves, its P's, status, level now and target, and how the "
            "latest survey that asked about it sees it. Its columns can be imported back.",
            service_table,
        ),
        DatasetSpec(
            "responses",
            "Survey responses",
            "One row per response with the answer to each question. Anonymous surveys carry no identity.",
            response_table,
        ),
    ]
}


def url_name(slug: str, fmt: str) -> str:
    return f"export_{slug.replace('-', '_')}_{fmt}"


@pmo_view()
@require_GET
def exports_page(request, pmo):
    datasets = [
        {
            "spec": spec,
            "links": [(fmt.upper(), reverse(url_name(spec.slug, fmt), kwargs={"slug": pmo.slug})) for fmt in FORMATS],
        }
        for spec in DATASETS.values()
    ]
    return render(request, "agenda/exports.html", {"pmo": pmo, "datasets": datasets})


@pmo_view()
@require_GET
def export_dataset(request, pmo, dataset, fmt):
    spec = DATASETS.get(dataset)
    if spec is None or fmt not in FORMATS:
        raise Http404("No such export.")
    headers, rows = spec.build(pmo)
    filename = f"{pmo.slug}-{spec.slug}-{timezone.localdate():%Y-%m-%d}"
    return spreadsheet_response(filename, headers, rows, fmt, title=spec.title)


@pmo_view(role=Role.LEAD)
@require_GET
def export_full(request, pmo):
    archive = build_full_export(pmo, exported_by=request.user)
    filename = f"{pmo.slug}-full-export-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(archive, as_attachment=True, filename=filename, content_type="application/zip")
