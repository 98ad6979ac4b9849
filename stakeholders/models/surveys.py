"""Perception surveys: a survey, its questions, one invitation per stakeholder asked,
at most one response per invitation, and the answers of a response."""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from pmo5p.domain import DETRACTOR_MAX, Element
from pmo5p.models import Pmo

from .register import Segment, Stakeholder


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Survey(models.Model):
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=150)
    intro = models.TextField("introduction", max_length=3000, blank=True)
    status = models.CharField(max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    anonymous = models.BooleanField(
        default=False,
        help_text="Nobody in the PMO sees who answered what; detractor alerts give counts only.",
    )
    closes_on = models.DateField(help_text="The last day stakeholders can answer; the survey closes at its end.")
    reminder_delay_days = models.PositiveSmallIntegerField(
        "reminder after (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="One reminder goes to those who have not answered after this many days.",
    )
    target_segments = models.ManyToManyField(Segment, blank=True, related_name="+")
    target_stakeholders = models.ManyToManyField(Stakeholder, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def is_draft(self):
        return self.status == SurveyStatus.DRAFT

    @property
    def is_open(self):
        return self.status == SurveyStatus.OPEN

    @property
    def is_closed(self):
        return self.status == SurveyStatus.CLOSED


class QuestionKind(models.TextChoices):
    PERFORMANCE = "performance", "Performance statement"
    IMPORTANCE = "importance", "Importance"
    NPS = "nps", "Recommendation (NPS)"
    COMMENT = "comment", "Open comment"


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=12, choices=QuestionKind.choices)
    element = models.CharField(max_length=20, choices=Element.choices, blank=True)
    text = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["performance", "importance"], element__gt="")
                | Q(kind__in=["nps", "comment"], element=""),
                name="question_element_matches_kind",
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def scale(self) -> tuple[int, int]:
        return (0, 10) if self.kind == QuestionKind.NPS else (1, 5)


def _new_token_seed() -> str:
    return secrets.token_hex(16)


class SurveyInvitation(models.Model):
    """One stakeholder asked to answer one survey (a member of a PMO is asked to join by a
    pmo5p.models.MemberInvitation). Its e-mails are outbox rows that point back at it.

    The link's token is an HMAC of `token_seed` under SURVEY_TOKEN_KEY, so a copy of
    the database alone opens no link, and reminders rebuild the same link. Lookups go
    through `token_hash`, the SHA-256 of the token.
    """

    class SendStatus(models.TextChoices):
        PENDING = "pending", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Its e-mail was cancelled: the survey closed before its turn came.
        CANCELLED = "cancelled", "Not needed"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    # Indexed with the id (Meta.indexes), not alone: the at-risk rule's "last two named
    # perceptions" reads each influential stakeholder's invitations from that index alone.
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="invitations", db_index=False)
    # The stakeholder's segment at launch: the invitation and its response count there, so
    # that moving someone afterwards changes no segment's figures (docs/figures.md). None is
    # "No segment", also once the segment is deleted.
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    email = models.EmailField(help_text="The address the invitation went to.")
    token_seed = models.CharField(max_length=32, default=_new_token_seed, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    send_status = models.CharField(max_length=10, choices=SendStatus.choices, default=SendStatus.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    reminder_claimed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # Answers kept as the stakeholder goes, so that the link resumes where they left off.
    draft_answers = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table keeps the name it had as "Invitation" (migration 0009).
        db_table = "stakeholders_invitation"
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["survey", "stakeholder"], name="invitation_once_per_survey")]
        indexes = [
            models.Index(fields=["stakeholder", "sent_at"]),
            models.Index(fields=["stakeholder", "id"], name="invitation_stakeholder"),
        ]

    def __str__(self):
        return f"{self.stakeholder} for {self.survey}"

    @classmethod
    def new(cls, survey: "Survey", stakeholder: Stakeholder) -> "SurveyInvitation":
        invitation = cls(
            survey=survey, stakeholder=stakeholder, segment_id=stakeholder.segment_id, email=stakeholder.email
        )
        invitation.token_hash = hash_token(invitation.token)
        return invitation

    @property
    def token(self) -> str:
        return make_token(self.token_seed)

    @property
    def path(self) -> str:
        return reverse("survey_answer", kwargs={"token": self.token})


def make_token(seed: str) -> str:
    digest = hmac.new(settings.SURVEY_TOKEN_KEY.encode(), seed.encode(), hashlib.sha256).digest()
    # 192 bits of the HMAC, URL-safe: enough beyond the 128 bits asked, and short links.
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Response(models.Model):
    """A submitted survey: exactly one per invitation, held by the database."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="response")
    # No index of its own: response_survey_segment (survey, segment) serves it, one fewer to
    # write at each answer.
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses", db_index=False)
    # Its invitation's segment (the stakeholder's at launch), so that both count in one group.
    segment = models.ForeignKey(Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    nps = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    comment = models.TextField(blank=True, max_length=4000)
    submitted_at = models.DateTimeField(default=timezone.now)
    detractor_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Its perception, the mean rating of its performance answers (None: none, or all "Don't
    # know"), kept by the figures layer as its answers are written (agenda/figures/responses.py,
    # store_perceptions), so that the at-risk rule reads one number per response.
    perception_rating = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [models.CheckConstraint(condition=Q(nps__lte=10), name="response_nps_0_10")]
        # A segment's responses to a survey (the dashboard with a segment, the segment rows).
        indexes = [
            models.Index(fields=["survey", "segment"], name="response_survey_segment"),
            # The detractors whose alert is not queued yet (stakeholders/surveys/emails.py
            # ALERT_DUE, each outbox sweep; anonymous surveys' batches): a few rows at most.
            models.Index(
                fields=["survey"],
                condition=Q(nps__lte=DETRACTOR_MAX, detractor_alerted_at__isnull=True),
                name="response_alert_due",
            ),
        ]

    def __str__(self):
        return f"Response to {self.survey}"


class Answer(models.Model):
    # No index of their own: answer_once_per_question (response, question) serves the
    # response's answers, answer_question_value (question, value) the question's; each
    # answer's INSERT writes two indexes fewer (15 rows a submit).
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers", db_index=False)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers", db_index=False)
    # None is "Don't know": it counts as answered, and is left out of every mean.
    value = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once_per_question"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=1, value__lte=5), name="answer_value_1_5"
            ),
        ]
        # A survey's figures read its answers through its questions (agenda/figures/survey.py,
        # answers_of_surveys): with the response in the index, from the index alone.
        indexes = [models.Index(fields=["question", "value"], include=["response"], name="answer_question_value")]

    def __str__(self):
        return f"{self.question}: {self.value}"
