"""The communication plan (issue 13, docs/engagement.md): planned touchpoints, once or
recurring, and each of their occurrences.

A recurring touchpoint is stored as its rule and as one row per occurrence, made when the
touchpoint is saved (stakeholders/touchpoints.py). The rows carry what happens to each
date: done (with the interaction it recorded) or cancelled (with a reason); a planned one
whose date has passed is missed and stays visible until it is either. A recurrence ends at
most MAX_RECURRENCE_YEARS after it starts, so a touchpoint has a few hundred rows at most.

An occurrence keeps its date, not a moment: its time of day is the touchpoint's, in the
PMO's time zone, and is turned into a moment when shown (stakeholders/touchpoints.py,
occurrence_start), so that a change of time zone or of daylight saving moves nothing stored.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from pmo5p.domain import Element
from pmo5p.models import Membership, Pmo

from .interactions import Interaction, InteractionKind
from .register import Segment, Stakeholder

MAX_RECURRENCE_YEARS = 5


class Recurrence(models.TextChoices):
    ONCE = "once", "Once"
    WEEKLY = "weekly", "Every week"
    FORTNIGHTLY = "fortnightly", "Every two weeks"
    MONTHLY = "monthly", "Every month"
    QUARTERLY = "quarterly", "Every quarter"
    HALF_YEARLY = "half_yearly", "Every six months"
    YEARLY = "yearly", "Every year"


class Touchpoint(models.Model):
    """A planned touchpoint: a steering committee, a showcase, a one-to-one; once or recurring."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="touchpoints")
    purpose = models.CharField(max_length=200, help_text="What it is for, e.g. “Show the benefits realised”.")
    channel = models.CharField(max_length=12, choices=InteractionKind.choices, default=InteractionKind.MEETING)
    element = models.CharField("P it serves", max_length=20, choices=Element.choices)
    owner = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_touchpoints"
    )
    # Whom it is for: named stakeholders, or everyone in a segment (as it is on each date).
    stakeholders = models.ManyToManyField(Stakeholder, blank=True, related_name="touchpoints")
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="touchpoints")
    starts_on = models.DateField("date", help_text="The first date, for a recurring touchpoint.")
    # Local time in the PMO's time zone; empty for an all-day touchpoint.
    at_time = models.TimeField("time", null=True, blank=True, help_text="Leave empty for all day.")
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)", default=60, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    recurrence = models.CharField("repeats", max_length=12, choices=Recurrence.choices, default=Recurrence.ONCE)
    until = models.DateField(
        "repeats until", null=True, blank=True, help_text="The last date it may fall on; at most five years on."
    )
    notes = models.TextField(max_length=2000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recurrence=Recurrence.ONCE, until__isnull=True)
                | (~Q(recurrence=Recurrence.ONCE) & Q(until__gte=models.F("starts_on"))),
                name="touchpoint_recurrence_ends",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=24 * 60), name="touchpoint_duration"
            ),
        ]

    def __str__(self):
        return self.purpose


class OccurrenceStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TouchpointOccurrence(models.Model):
    """One date of a touchpoint, and what became of it."""

    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="occurrences")
    # The touchpoint's PMO, repeated so that the calendar reads a PMO's dates from one index.
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="+")
    on = models.DateField("date")
    status = models.CharField(max_length=10, choices=OccurrenceStatus.choices, default=OccurrenceStatus.PLANNED)
    # Done: the interaction it recorded.
    interaction = models.OneToOneField(
        Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="occurrence"
    )
    cancel_reason = models.CharField("reason", max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["touchpoint", "on"], name="occurrence_once_per_date"),
            models.CheckConstraint(
                condition=~Q(status=OccurrenceStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="occurrence_cancelled_with_reason",
            ),
        ]
        indexes = [
            # The calendar and the feed: a PMO's dates in a range.
            models.Index(fields=["pmo", "on"], name="occurrence_pmo_on"),
            # Missed ones: still planned, dated before today.
            models.Index(fields=["pmo", "on"], name="occurrence_planned", condition=Q(status=OccurrenceStatus.PLANNED)),
        ]

    def __str__(self):
        return f"{self.touchpoint} on {self.on}"
