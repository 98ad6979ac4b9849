"""Closing the loop (issue 14, docs/follow-up.md): a follow-up case for each detractor, the
notes kept on it, and the recovery pulse sent once it is resolved.

A named survey's detractor (0–6) opens one case, for their response, in the transaction
that claims the detractor's alert (stakeholders/cases/opening.py). An anonymous survey
opens no case per person: when it closes, one case per segment and element theme whose
detractors are a group of at least the minimum group size, with no response and no stakeholder,
so that nothing on it says who.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from pmo5p.domain import Element
from pmo5p.models import Membership, Pmo

from .interactions import Interaction
from .register import Segment, Stakeholder
from .surveys import Response, Survey, _new_token_seed, hash_token, make_token


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONTACTED = "contacted", "Contacted"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed with no action"


# The statuses that still ask something of the owner (My week, the open count, escalation).
OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.CONTACTED)


class FollowUpCase(models.Model):
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="follow_up_cases")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="follow_up_cases")
    # A named detractor's case: their response and stakeholder. An anonymous group's case
    # has neither.
    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, null=True, blank=True, related_name="follow_up_case"
    )
    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, null=True, blank=True, related_name="follow_up_cases"
    )
    # The response's segment (the stakeholder's at launch), or the anonymous group's.
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # An anonymous group's key within its survey, "<segment id or ->:<element>"; empty for
    # a named case. Unique per survey, so that closing twice opens each group's case once.
    group_key = models.CharField(max_length=60, blank=True, editable=False)
    # The relationship owner when it opened; None: the leads'.
    owner = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_up_cases"
    )
    # The P at the root: suggested from the response's lowest-scored elements (or the group's
    # theme), which the owner may change. `suggested_element` keeps what was suggested.
    root_element = models.CharField("P at the root", max_length=20, choices=Element.choices, blank=True)
    suggested_element = models.CharField(max_length=20, choices=Element.choices, blank=True, editable=False)
    # The recommendation score that opened it (a named case's response.nps): "before".
    nps_before = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    # The last day for the first contact, in the PMO's time zone: opened_at's date plus
    # Pmo.follow_up_working_days working days.
    due_on = models.DateField("first contact due")
    first_contact_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_reason = models.TextField("reason", max_length=2000, blank=True)
    # Stamped in the transaction that queues the escalation to the leads: once per case.
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    interactions = models.ManyToManyField(Interaction, blank=True, related_name="follow_up_cases")

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "group_key"], condition=~Q(group_key=""), name="case_once_per_anonymous_group"
            ),
            models.CheckConstraint(
                condition=Q(response__isnull=False, stakeholder__isnull=False, group_key="")
                | Q(response__isnull=True, stakeholder__isnull=True, group_key__gt=""),
                name="case_named_or_group",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_reason__gt=""), name="case_closed_has_reason"
            ),
        ]
        indexes = [
            # The case list and the figures: a PMO's cases by status and due date.
            models.Index(fields=["pmo", "status", "due_on"], name="case_pmo_status_due"),
            # My week: a member's open cases.
            models.Index(fields=["owner", "status"], name="case_owner_status"),
            # The escalation's claim: open cases past due, not escalated yet.
            models.Index(
                fields=["due_on"],
                condition=Q(status="open", escalated_at__isnull=True),
                name="case_escalation_due",
            ),
            models.Index(fields=["stakeholder", "opened_at"], name="case_stakeholder"),
        ]

    def __str__(self):
        if self.stakeholder_id:
            return f"Follow-up of {self.stakeholder}"
        return f"Follow-up of {self.segment or 'no segment'} on {self.get_root_element_display() or 'the survey'}"

    @property
    def is_anonymous(self) -> bool:
        return self.response_id is None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES


class CaseNote(models.Model):
    case = models.ForeignKey(FollowUpCase, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Note on {self.case}"


class RecoveryPulse(models.Model):
    """One question (0–10) and a comment, sent once a case is resolved: "after".

    Its link is made as a survey invitation's is (make_token over token_seed, looked up by
    token_hash), answered exactly once, and rate limited like survey links.
    """

    # One pulse per case: a second "send" is refused (the database says so too).
    case = models.OneToOneField(FollowUpCase, on_delete=models.CASCADE, related_name="pulse")
    email = models.EmailField()
    token_seed = models.CharField(max_length=32, default=_new_token_seed, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    score = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    comment = models.TextField(max_length=4000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__lte=10), name="pulse_score_0_10"),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(score__isnull=False), name="pulse_answered_has_score"
            ),
        ]

    def __str__(self):
        return f"Recovery pulse for {self.case}"

    @classmethod
    def new(cls, case: FollowUpCase, email: str, **fields) -> "RecoveryPulse":
        pulse = cls(case=case, email=email, **fields)
        pulse.token_hash = hash_token(pulse.token)
        return pulse

    @property
    def token(self) -> str:
        # A pulse's seed and an invitation's never share a token: the prefix differs.
        return make_token(f"pulse:{self.token_seed}")
