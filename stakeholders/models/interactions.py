"""Touchpoints between the PMO and its stakeholders."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmo5p.domain import Element
from pmo5p.models import Pmo

from .register import Stakeholder


class InteractionKind(models.TextChoices):
    MEETING = "meeting", "Meeting"
    WORKSHOP = "workshop", "Workshop"
    NEWSLETTER = "newsletter", "Newsletter"
    REPORT = "report", "Report"
    SHOWCASE = "showcase", "Showcase"
    ESCALATION = "escalation", "Escalation"
    OTHER = "other", "Other"


SENTIMENT_CHOICES = [
    (-2, "−2 · Very negative"),
    (-1, "−1 · Negative"),
    (0, "0 · Neutral"),
    (1, "+1 · Positive"),
    (2, "+2 · Very positive"),
]


class Interaction(models.Model):
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="interactions")
    stakeholders = models.ManyToManyField(Stakeholder, related_name="interactions")
    occurred_on = models.DateField("date", default=timezone.localdate)
    kind = models.CharField(max_length=12, choices=InteractionKind.choices, default=InteractionKind.MEETING)
    # The P elements the touchpoint served: a list of Element values.
    elements = models.JSONField(default=list, blank=True)
    sentiment = models.SmallIntegerField(
        choices=SENTIMENT_CHOICES,
        default=0,
        validators=[MinValueValidator(-2), MaxValueValidator(2)],
        help_text="How it went for the relationship, from −2 to +2.",
    )
    summary = models.TextField(max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(sentiment__gte=-2, sentiment__lte=2), name="interaction_sentiment_range")
        ]
        indexes = [models.Index(fields=["pmo", "occurred_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.occurred_on}"

    @property
    def element_labels(self) -> list[str]:
        return [Element(value).label for value in self.elements if value in Element.values]
