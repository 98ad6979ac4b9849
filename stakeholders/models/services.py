"""The PMO's service catalogue (issue 12; docs/services.md): each service, what a survey
asked about it, and what each respondent answered.

A service lives in this app, beside the segments it serves and the surveys that ask about
it; the agenda (above) links its actions to a service and reads its figures.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from pmo5p.domain import Element, OfferingLevel, ServiceUsage
from pmo5p.models import Membership, Pmo

from .register import Segment
from .surveys import Response, Survey

RATING_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class ServiceStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    PILOT = "pilot", "Pilot"
    LIVE = "live", "Live"
    RETIRING = "retiring", "Being retired"


class Service(models.Model):
    """One service of the PMO's offering, e.g. portfolio reporting or a help desk."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    owner = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_services",
        help_text="The PMO member who answers for this service.",
    )
    # None chosen: the service serves every stakeholder, whatever their segment.
    segments = models.ManyToManyField(Segment, blank=True, related_name="services")
    # The P's it mainly serves: a list of Element values, as Incident.elements.
    elements = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=ServiceStatus.choices, default=ServiceStatus.LIVE)
    launched_on = models.DateField("launch date", null=True, blank=True)
    level_now = models.PositiveSmallIntegerField(
        "offering level now", choices=OfferingLevel.choices, default=OfferingLevel.BASIC
    )
    level_target = models.PositiveSmallIntegerField(
        "target offering level", choices=OfferingLevel.choices, default=OfferingLevel.STANDARD
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint("pmo", Lower("name"), name="service_name_unique_per_pmo"),
            models.CheckConstraint(
                condition=Q(level_now__gte=1, level_now__lte=4, level_target__gte=1, level_target__lte=4),
                name="service_levels_1_4",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("service_detail", kwargs={"slug": self.pmo.slug, "service_id": self.pk})

    @property
    def element_labels(self) -> list[str]:
        return [Element(value).label for value in self.elements if value in Element.values]


class ServiceEvent(models.Model):
    """The service's history: each change of its status or levels, and by whom."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="events")
    happened_at = models.DateTimeField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # What changed, in words built from the choices' labels (never from typed text).
    summary = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=ServiceStatus.choices)
    level_now = models.PositiveSmallIntegerField(choices=OfferingLevel.choices)
    level_target = models.PositiveSmallIntegerField(choices=OfferingLevel.choices)

    class Meta:
        ordering = ["-happened_at", "-id"]
        indexes = [models.Index(fields=["service", "-happened_at"], name="service_event_latest")]

    def __str__(self):
        return f"{self.service}: {self.summary}"


class SurveyService(models.Model):
    """A service a survey asks about, as it was when the survey launched: a launched survey
    keeps its name, description, segments and P's whatever the catalogue does afterwards,
    and its answers stay when the service is deleted (service becomes None)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="survey_services")
    service = models.ForeignKey(Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    # The ids of the segments the service served at launch; empty: every stakeholder.
    segment_ids = models.JSONField(default=list, blank=True)
    elements = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "service"], condition=Q(service__isnull=False), name="survey_service_once"
            )
        ]

    def __str__(self):
        return self.name

    def serves_segment(self, segment_id: int | None) -> bool:
        """Whether a respondent of this segment (at launch) is asked about the service."""
        return not self.segment_ids or segment_id in self.segment_ids


class ServiceAnswer(models.Model):
    """One respondent's answer about one service: whether they use it, and, only if they
    do, how satisfied they are and how much it matters to them (1–5, None: "Don't know")."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="service_answers", db_index=False)
    survey_service = models.ForeignKey(SurveyService, on_delete=models.CASCADE, related_name="answers", db_index=False)
    usage = models.CharField(max_length=8, choices=ServiceUsage.choices)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True, validators=RATING_VALIDATORS)
    importance = models.PositiveSmallIntegerField(null=True, blank=True, validators=RATING_VALIDATORS)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "survey_service"], name="service_answer_once"),
            models.CheckConstraint(
                condition=(Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5))
                & (Q(importance__isnull=True) | Q(importance__gte=1, importance__lte=5)),
                name="service_answer_ratings_1_5",
            ),
            # Only a user rates the service.
            models.CheckConstraint(
                condition=Q(usage="uses") | Q(satisfaction__isnull=True, importance__isnull=True),
                name="service_answer_rated_by_users_only",
            ),
        ]
        # A survey's service figures read each service's answers from this index alone.
        indexes = [
            models.Index(
                fields=["survey_service", "usage"],
                include=["satisfaction", "importance", "response"],
                name="service_answer_figures",
            )
        ]

    def __str__(self):
        return f"{self.survey_service}: {self.get_usage_display()}"
