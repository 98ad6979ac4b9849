"""The Relationship Marketing Agenda: the actions planned per P, and the log of what
poor perception has cost, so that the agenda can show what it is worth."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmo5p.domain import Element, Problem
from pmo5p.models import Membership, Pmo
from stakeholders.models import FollowUpCase, Segment, Service, Stakeholder


class ActionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


OPEN_STATUSES = [ActionStatus.PLANNED, ActionStatus.IN_PROGRESS]


class Action(models.Model):
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    element = models.CharField("P element", max_length=20, choices=Element.choices)
    problem = models.CharField(
        "problem it addresses", max_length=24, choices=Problem.choices, default=Problem.PERFORMANCE
    )
    target_segments = models.ManyToManyField(Segment, blank=True, related_name="actions")
    target_stakeholders = models.ManyToManyField(Stakeholder, blank=True, related_name="actions")
    # The catalogue service the action develops, if any (issue 12: the path from a
    # service's level now to its target, with the actions that move it).
    service = models.ForeignKey(Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    owner = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_actions"
    )
    # The follow-up case the action answers (issue 14, docs/follow-up.md), shown on the case.
    follow_up_case = models.ForeignKey(
        FollowUpCase, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    due_on = models.DateField("due date")
    status = models.CharField(max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED)
    expected_effect = models.TextField(max_length=2000, blank=True)
    notes = models.TextField(max_length=4000, blank=True)
    # The suggestion this action was adopted from, so it is not proposed again.
    suggestion_key = models.CharField(max_length=120, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["pmo", "status", "due_on"])]
        constraints = [
            # A suggestion is adopted once, even when two people click at the same moment.
            models.UniqueConstraint(
                fields=["pmo", "suggestion_key"], condition=~Q(suggestion_key=""), name="action_suggestion_adopted_once"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()


class Incident(models.Model):
    """Something poor perception of the PMO cost the organisation."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="incidents")
    title = models.CharField(max_length=200)
    problem = models.CharField(max_length=24, choices=Problem.choices)
    occurred_on = models.DateField("date", default=timezone.localdate)
    description = models.TextField(max_length=4000, blank=True)
    stakeholders = models.ManyToManyField(Stakeholder, blank=True, related_name="incidents")
    # The P elements involved: a list of Element values.
    elements = models.JSONField(default=list, blank=True)
    estimated_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    days_lost = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(estimated_cost__isnull=True) | Q(estimated_cost__gte=0))
                & (Q(days_lost__isnull=True) | Q(days_lost__gte=0)),
                name="incident_cost_not_negative",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def element_labels(self) -> list[str]:
        return [Element(value).label for value in self.elements if value in Element.values]
