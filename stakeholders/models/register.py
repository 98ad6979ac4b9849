from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from pmo5p.domain import MaturityStage
from pmo5p.models import CADENCE_VALIDATORS, STAGE_VALIDATORS, Membership, Pmo

LEVEL_CHOICES = [(1, "1 · Very low"), (2, "2 · Low"), (3, "3 · Medium"), (4, "4 · High"), (5, "5 · Very high")]
LEVEL_VALIDATORS = [
    MinValueValidator(1, "Choose a level from 1 (very low) to 5 (very high)."),
    MaxValueValidator(5, "Choose a level from 1 (very low) to 5 (very high)."),
]
# On the power–interest grid, 4 and 5 count as high.
HIGH_LEVEL = 4


class Segment(models.Model):
    """A group of stakeholders the PMO addresses alike, e.g. Finance or project managers."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("pmo", Lower("name"), name="segment_name_unique_per_pmo")]

    def __str__(self):
        return self.name


class Stakeholder(models.Model):
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="stakeholders")
    name = models.CharField(max_length=150)
    email = models.EmailField("e-mail address", blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    business_unit = models.CharField(max_length=150, blank=True)
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="stakeholders")
    influence = models.PositiveSmallIntegerField(
        choices=LEVEL_CHOICES, validators=LEVEL_VALIDATORS, default=3, help_text="Power to affect the PMO's work."
    )
    interest = models.PositiveSmallIntegerField(
        choices=LEVEL_CHOICES,
        validators=LEVEL_VALIDATORS,
        default=3,
        help_text="How much the PMO's work concerns them.",
    )
    owner = models.ForeignKey(
        Membership,
        verbose_name="relationship owner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_stakeholders",
        help_text="The PMO member who looks after this relationship.",
    )
    # One click on a "you said, we did" e-mail (issue 14): no more such updates, from any survey.
    updates_unsubscribed_at = models.DateTimeField(null=True, blank=True, editable=False)
    notes = models.TextField(blank=True, max_length=5000)
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive stakeholders stay on record but are left out of surveys."
    )
    # Issue 13 (docs/engagement.md). Empty: the PMO's default for the stakeholder's quadrant
    # (Pmo.default_target_stage, Pmo.default_cadence_days); stakeholders/engagement.py reads both.
    target_stage = models.PositiveSmallIntegerField(
        "target maturity",
        choices=MaturityStage.choices,
        null=True,
        blank=True,
        validators=STAGE_VALIDATORS,
        help_text="Where this relationship should be. Leave empty to follow the PMO's default for their quadrant.",
    )
    target_reason = models.CharField(
        "why this target", max_length=300, blank=True, help_text="Needed when the target differs from the default."
    )
    cadence_days = models.PositiveSmallIntegerField(
        "contact every (days)",
        null=True,
        blank=True,
        validators=CADENCE_VALIDATORS,
        help_text="Leave empty to follow the PMO's default for their quadrant.",
    )
    # The date of their latest interaction, kept by the register's interaction writes
    # (register.refresh_last_touched), so that the register sorts and filters by it from the
    # row itself instead of searching 50,000 interactions.
    last_touched_on = models.DateField("last touched", null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "pmo", Lower("email"), condition=~Q(email=""), name="stakeholder_email_unique_per_pmo"
            ),
            models.CheckConstraint(condition=Q(influence__gte=1, influence__lte=5), name="stakeholder_influence_1_5"),
            models.CheckConstraint(condition=Q(interest__gte=1, interest__lte=5), name="stakeholder_interest_1_5"),
            models.CheckConstraint(
                condition=Q(target_stage__isnull=True) | Q(target_stage__gte=1, target_stage__lte=5),
                name="stakeholder_target_stage_1_5",
            ),
            models.CheckConstraint(
                condition=Q(cadence_days__isnull=True) | Q(cadence_days__gte=1, cadence_days__lte=730),
                name="stakeholder_cadence_days_1_730",
            ),
        ]
        indexes = [
            models.Index(fields=["pmo", "is_active", "name"]),
            # A PMO's stakeholders in name order, every one of them: a survey's results page
            # walks it and stops at the end of its page of responses (agenda/results.py).
            models.Index(fields=["pmo", "name", "id"], name="stakeholder_pmo_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("stakeholder_detail", kwargs={"slug": self.pmo.slug, "stakeholder_id": self.pk})
