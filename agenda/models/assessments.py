"""Assessments: where the PMO thinks it stands on each P, and how mature each
stakeholder relationship is. Every record is kept, so the history shows movement;
the current value is the latest."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmo5p.domain import Element, MaturityStage
from pmo5p.models import Pmo
from stakeholders.models import Stakeholder

SELF_RATING_CHOICES = [
    (1, "1 · Poor"),
    (2, "2 · Weak"),
    (3, "3 · Adequate"),
    (4, "4 · Good"),
    (5, "5 · Excellent"),
]


class SelfAssessment(models.Model):
    """The PMO's own rating of itself on one P, with the evidence behind it."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="self_assessments")
    element = models.CharField(max_length=20, choices=Element.choices)
    rating = models.PositiveSmallIntegerField(
        choices=SELF_RATING_CHOICES, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    evidence = models.TextField(max_length=1000, blank=True)
    assessed_on = models.DateField(default=timezone.localdate)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="self_assessment_rating_1_5")
        ]
        indexes = [models.Index(fields=["pmo", "element", "assessed_on"])]

    def __str__(self):
        return f"{self.get_element_display()}: {self.rating} ({self.assessed_on})"


class MaturityRecord(models.Model):
    """A member's judgement of how mature one stakeholder relationship is."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="maturity_records")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="maturity_records")
    stage = models.PositiveSmallIntegerField(
        choices=MaturityStage.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rationale = models.TextField(max_length=2000)
    recorded_on = models.DateField(default=timezone.localdate)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_on", "-created_at"]
        constraints = [models.CheckConstraint(condition=Q(stage__gte=1, stage__lte=5), name="maturity_stage_1_5")]
        indexes = [
            # In the order of current_stage_subquery, with the stage: a stakeholder's current
            # stage is the index's first entry for them, read from the index alone (the
            # dashboard's grid reads it for each of a large PMO's thousands of stakeholders).
            models.Index(
                fields=["stakeholder", "-recorded_on", "-created_at", "-id"],
                name="maturity_current_stage",
                include=["stage"],
            )
        ]

    def __str__(self):
        return f"{self.stakeholder}: {self.get_stage_display()} ({self.recorded_on})"
