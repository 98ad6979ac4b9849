"""A stakeholder import between its upload and its confirmation.

The upload parses and checks the file and keeps the rows here; the preview reads
the outcome kept with them; the confirm step checks the rows again against the
register as it is then and imports them in one transaction. A job is confirmed at
most once, and jobs are thrown away after a day.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from pmo5p.models import Pmo

# How long an uploaded file waits for its confirmation.
IMPORT_JOB_LIFETIME = timedelta(days=1)


class ImportJobQuerySet(models.QuerySet):
    def expired(self):
        return self.filter(created_at__lt=timezone.now() - IMPORT_JOB_LIFETIME)


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        """What the file imports (stakeholders.imports.Importer.kind): each kind has its own pages."""

        STAKEHOLDERS = "stakeholders", "Stakeholders"
        SERVICES = "services", "Services"

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STAKEHOLDERS)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    file_name = models.CharField(max_length=255)
    create_segments = models.BooleanField(
        "create missing segments",
        default=False,
        help_text="Segments the file names that this PMO does not have are created at the confirm step.",
    )
    # The columns found: {"fields": {field: header}, "ignored": [header, ...]}.
    columns = models.JSONField(default=dict)
    # The rows as read from the file: [[row number, {field: text} or null for an empty row], ...].
    rows = models.JSONField(default=list)
    # The outcome of the last check: counts, segments to create, and per row its action,
    # the fields it changes or its errors (see stakeholders.imports.Plan.as_json).
    preview = models.JSONField(default=dict)
    checked_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the confirm step did: {"created": n, "updated": n, "unchanged": n, "segments": [...]}.
    result = models.JSONField(default=dict, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["pmo", "created_at"])]

    def __str__(self):
        return f"Import of {self.file_name} into {self.pmo}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
