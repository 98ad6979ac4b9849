"""The scheduled Relationship Marketing Agenda report: the schedule, each report as a
stored snapshot (one per PMO and period), and one delivery per recipient."""

import uuid
from datetime import time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from pmo5p.domain import WEEKDAY_CHOICES
from pmo5p.models import Pmo


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class ReportSchedule(models.Model):
    """When the PMO's report goes out, in the PMO's time zone; at most one per PMO."""

    pmo = models.OneToOneField(Pmo, on_delete=models.CASCADE, related_name="report_schedule")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAY_CHOICES, default=0, help_text="For weekly reports.")
    day_of_month = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text="For monthly and quarterly reports. Days past a month's end run on its last day.",
    )
    send_at = models.TimeField("time of day", default=time(8, 0))
    is_active = models.BooleanField("active", default=True)
    # The next due moment, in UTC; the dispatcher claims schedules whose moment has come.
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    failure_count = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="schedule_weekday_0_6"),
            models.CheckConstraint(condition=Q(day_of_month__gte=1, day_of_month__lte=31), name="schedule_day_1_31"),
        ]

    def __str__(self):
        return f"{self.get_frequency_display()} report of {self.pmo}"


class ReportKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ON_DEMAND = "on_demand", "Sent on demand"


class ReportStatus(models.TextChoices):
    BUILDING = "building", "Being built"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed to build"


class AgendaReport(models.Model):
    """A snapshot: its figures as JSON, the HTML shown in the archive and e-mailed, and a PDF.

    One per (PMO, kind, period), held by the database, so that a second beat, a
    retry or a restart never makes two.
    """

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=10, choices=ReportKind.choices, default=ReportKind.SCHEDULED)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="The first day after the period.")
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.BUILDING)
    figures = models.JSONField(default=dict, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    pdf = models.BinaryField(blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)
    build_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_end", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pmo", "kind", "period_start", "period_end"], name="report_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")), name="report_period_not_empty"
            ),
        ]

    def __str__(self):
        return f"{self.pmo} report {self.period_start}–{self.period_end}"

    @property
    def last_day(self):
        return self.period_end - timedelta(days=1)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


def _message_id() -> str:
    return f"<report-{uuid.uuid4().hex}@pmo5p>"


class ReportDelivery(models.Model):
    """One report to one recipient: sent once, whatever fails and is retried."""

    report = models.ForeignKey(AgendaReport, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    email = models.EmailField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Fixed when the delivery is created, so a resend after a crash is recognisably the same message.
    message_id = models.CharField(max_length=120, default=_message_id, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["report", "email"], name="delivery_once_per_recipient")]

    def __str__(self):
        return f"{self.report} to {self.email}"
