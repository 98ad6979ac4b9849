"""Importing from CSV or XLSX: upload, preview, confirm; for stakeholders and for the
service catalogue alike (stakeholders.imports.Importer; each kind's pages are an ImportPages).

The upload checks the whole file and keeps it as an ImportJob; the preview says per
row what will happen; the confirm step checks the rows again against the PMO's data
as it is then, and imports them all in one transaction, or nothing.
"""

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from pmo5p.models import Role
from pmo5p.tenancy import pmo_view
from pmo5p.uploads import dropped_upload
from stakeholders import catalogue_import, imports
from stakeholders.models import ImportJob
from stakeholders.models.imports import IMPORT_JOB_LIFETIME

ROWS_PER_PAGE = 100
ACTION_LABELS = {
    imports.INVALID: "Cannot be imported",
    imports.CREATE: "New",
    imports.UPDATE: "Update",
    imports.UNCHANGED: "Unchanged",
    imports.SKIPPED: "Skipped",
}


@dataclass(frozen=True)
class ImportPages:
    """One kind of import's pages: its importer, its routes and its words."""

    importer: imports.Importer
    upload_url: str  # the upload page's route name
    preview_url: str
    home_url: str  # where the imported rows are: the register, the catalogue
    home_label: str  # its name in the breadcrumbs
    export_url: str  # the export that imports back, as XLSX
    how: str  # the template that says how the import works
    create_segments: bool = False  # whether the upload offers "Create missing segments"

    def context(self) -> dict:
        return {"pages": self, "importer": self.importer}


STAKEHOLDER_PAGES = ImportPages(
    importer=imports.STAKEHOLDERS,
    upload_url="stakeholder_import",
    preview_url="stakeholder_import_preview",
    home_url="stakeholder_list",
    home_label="Stakeholders",
    export_url="export_stakeholders_xlsx",
    how="stakeholders/import_how_stakeholders.html",
    create_segments=True,
)
SERVICE_PAGES = ImportPages(
    importer=catalogue_import.SERVICES,
    upload_url="service_import",
    preview_url="service_import_preview",
    home_url="service_list",
    home_label="Services",
    export_url="export_services_xlsx",
    how="stakeholders/import_how_services.html",
)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel (.xlsx) file",
        help_text="The first row names the columns. CSV may be separated by commas, semicolons or tabs.",
        error_messages={"required": "Choose the file to import.", "empty": "This file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )
    create_segments = forms.BooleanField(
        label="Create missing segments",
        required=False,
        help_text="Segments the file names that this PMO does not have yet are created when you confirm. "
        "Otherwise such rows cannot be imported.",
    )

    def __init__(self, *args, dropped=None, pages=STAKEHOLDER_PAGES, **kwargs):
        super().__init__(*args, **kwargs)
        self.importer = pages.importer
        if not pages.create_segments:
            del self.fields["create_segments"]
        # A file dropped as it arrived for being too large (pmo5p.uploads): there is no file to require.
        self.dropped = dropped
        if dropped:
            self.fields["file"].required = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Checked before the file is read.
        if self.dropped or upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"This file is larger than {filesizeformat(settings.IMPORT_MAX_BYTES)}, the most that can be "
                "imported. Split it into smaller files."
            )
        try:
            self.parsed = imports.read_rows(upload.name, upload.read(), self.importer)
        except imports.ImportRefused as error:
            raise forms.ValidationError(str(error)) from error
        if not any(values for _, values in self.parsed.rows):
            raise forms.ValidationError(f"The file has column names but no {self.importer.noun} rows.")
        return upload


@pmo_view(role=Role.MEMBER)
def import_upload(request, pmo, pages=STAKEHOLDER_PAGES):
    # request.FILES first: reading the body is what finds a file too large to keep.
    files = request.FILES or None
    form = ImportUploadForm(request.POST or None, files, dropped=dropped_upload(request, "file"), pages=pages)
    if request.method == "POST" and form.is_valid():
        create_segments = form.cleaned_data.get("create_segments", False)
        parsed = form.parsed
        plan = pages.importer.analyse(pmo, parsed.rows, parsed.columns, create_segments=create_segments)
        job = ImportJob.objects.create(
            pmo=pmo,
            kind=pages.importer.kind,
            created_by=request.user,
            file_name=form.cleaned_data["file"].name[:255],
            create_segments=create_segments,
            columns=parsed.columns,
            rows=parsed.rows,
            preview=plan.as_json(),
        )
        return redirect(pages.preview_url, slug=pmo.slug, job_id=job.pk)
    return render(
        request,
        "stakeholders/import_upload.html",
        {
            "pmo": pmo,
            "form": form,
            "columns": pages.importer.columns,
            "limits": pages.importer.limits(),
            "max_bytes": settings.IMPORT_MAX_BYTES,
            **pages.context(),
        },
    )


@pmo_view(role=Role.MEMBER)
@require_http_methods(["GET", "HEAD", "POST"])
def import_preview(request, pmo, job_id, pages=STAKEHOLDER_PAGES):
    if request.method == "POST":
        return _confirm(request, pmo, job_id, pages)
    job = get_object_or_404(pmo.import_jobs.defer("rows"), pk=job_id, kind=pages.importer.kind)
    # Cheap cleanup: uploads older than a day are thrown away, this one included.
    pmo.import_jobs.expired().delete()
    if job.created_at < timezone.now() - IMPORT_JOB_LIFETIME:
        messages.info(request, "That upload is more than a day old and has been thrown away. Upload the file again.")
        return redirect(pages.upload_url, slug=pmo.slug)

    preview = job.preview
    counts = preview["counts"]
    show = request.GET.get("show")
    if show not in imports.ACTIONS:
        show = imports.INVALID if counts[imports.INVALID] else "all"
    rows = preview["rows"] if show == "all" else [row for row in preview["rows"] if row[1] == show]
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = [_row(row) for row in page.object_list]
    filters = [("all", "All rows", counts["total"])] + [
        (action, ACTION_LABELS[action], counts[action]) for action in imports.ACTIONS if counts[action]
    ]
    return render(
        request,
        "stakeholders/import_preview.html",
        {
            "pmo": pmo,
            "job": job,
            "counts": counts,
            "warnings": len(imports.warnings(preview["rows"])),
            "segments_to_create": preview["segments_to_create"],
            "page": page,
            "show": show,
            "filters": filters,
            "query_without_page": f"show={show}",
            "can_confirm": not job.is_confirmed and counts[imports.INVALID] == 0,
            **pages.context(),
        },
    )


def _row(row):
    number, action, name, email, details, *warnings = row
    return {
        "number": number,
        "action": action,
        "label": ACTION_LABELS[action],
        "name": name,
        "email": email,
        "errors": details if action == imports.INVALID else [],
        "changes": details if action == imports.UPDATE else [],
        "notes": details if action == imports.CREATE else [],
        "reason": details if action in (imports.SKIPPED, imports.UNCHANGED) else "",
        "warnings": warnings[0] if warnings else [],
    }


def _confirm(request, pmo, job_id, pages):
    try:
        job, result = imports.confirm(pmo, request.user, job_id, pages.importer)
    except ImportJob.DoesNotExist as error:
        raise Http404 from error
    except imports.AlreadyImported as refusal:
        messages.info(request, refusal.message)
        return redirect(pages.home_url, slug=pmo.slug)
    except imports.PlanOutdated as refusal:
        messages.error(request, refusal.message)
        return redirect(pages.preview_url, slug=pmo.slug, job_id=job_id)
    summary = f"{result['created']:,} created, {result['updated']:,} updated"
    if result["unchanged"]:
        summary += f", {result['unchanged']:,} unchanged"
    if result["segments"]:
        summary += f"; new segment{'s' if len(result['segments']) != 1 else ''}: {', '.join(result['segments'])}"
    messages.success(request, f"Import of {job.file_name} done: {summary}.")
    return redirect(pages.home_url, slug=pmo.slug)
