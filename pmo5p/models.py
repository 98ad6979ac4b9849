import hashlib
import secrets
import uuid
import zoneinfo
from datetime import time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from pmo5p.currency import CURRENCY_CHOICES, default_currency
from pmo5p.domain import (
    DEFAULT_OFFERING_LEVEL_DESCRIPTIONS,
    MAX_CADENCE_DAYS,
    WEEKDAY_CHOICES,
    MaturityStage,
    OfferingLevel,
)

STAGE_VALIDATORS = [
    MinValueValidator(MaturityStage.UNAWARE, "Choose a stage from Unaware to Trust."),
    MaxValueValidator(MaturityStage.TRUST, "Choose a stage from Unaware to Trust."),
]
CADENCE_VALIDATORS = [
    MinValueValidator(1, "Contact at least every day: a cadence is 1 to 730 days."),
    MaxValueValidator(MAX_CADENCE_DAYS, "A cadence is 1 to 730 days: two years at most between touches."),
]


def _target_field(stage: MaturityStage, quadrant: str):
    return models.PositiveSmallIntegerField(
        f"target for “{quadrant}”", choices=MaturityStage.choices, default=stage, validators=STAGE_VALIDATORS
    )


def _cadence_field(days: int, quadrant: str):
    return models.PositiveSmallIntegerField(
        f"contact “{quadrant}” every (days)", default=days, validators=CADENCE_VALIDATORS
    )


TIME_ZONE_CHOICES = [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractUser):
    """A person who signs in; they sign in with their e-mail address."""

    username = None
    first_name = None
    last_name = None
    name = models.CharField("full name", max_length=150)
    email = models.EmailField("e-mail address", unique=True)
    # Off only for a self sign-up, until whoever chose its password opens the link sent to the
    # address (pmo5p.accounts). Accounts made by invitation (whose link came to the address),
    # in the admin or with createsuperuser are trusted as they are.
    email_verified = models.BooleanField(
        "e-mail address confirmed",
        default=True,
        help_text="A self sign-up cannot be used until its owner opens the link sent to the address.",
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = UserManager()

    class Meta:
        ordering = ["name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.name or self.email

    def get_full_name(self):
        return self.name

    def get_short_name(self):
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def may_sign_in(self) -> bool:
        """Active, and its e-mail address confirmed: the rule for sessions and API tokens alike."""
        return self.is_active and self.email_verified

    def save(self, *args, **kwargs):
        # set_password() keeps the new password in _password until the save, where Django
        # calls password_changed(): every way of changing a password (the change and reset
        # pages, the admin, `manage.py changepassword`) comes through here. The new
        # password ends the other sessions (their hash no longer matches); it ends the
        # API tokens too, or a stolen token would outlive the password it was made with.
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            self.api_tokens.revoke()


class Pmo(models.Model):
    """A PMO workspace: everything else a PMO owns hangs from one of these."""

    name = models.CharField(max_length=120, validators=[MinLengthValidator(2)])
    slug = models.SlugField(
        max_length=50,
        unique=True,
        help_text="Part of every address of this PMO, e.g. /pmo/finance-pmo/. Lower-case letters, digits and hyphens.",
        error_messages={"unique": "Another PMO already uses this slug. Choose a different one."},
    )
    description = models.TextField(blank=True, max_length=2000)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/London")
    survey_fatigue_days = models.PositiveSmallIntegerField(
        "days between surveys",
        default=90,
        validators=[MaxValueValidator(730)],
        help_text="The fewest days between two surveys of the same stakeholder; a launch leaves out those asked more recently.",
    )
    currency = models.CharField(
        max_length=3,
        choices=CURRENCY_CHOICES,
        default=default_currency,
        help_text="The currency costs are entered and shown in. Changing it converts nothing.",
    )
    # The PMO's own wording of each service offering level ({"1": "…"}); a level it has not
    # worded reads DEFAULT_OFFERING_LEVEL_DESCRIPTIONS (offering_level_descriptions).
    offering_levels = models.JSONField(default=dict, blank=True)
    # Issue 13 (docs/engagement.md): each power–interest quadrant's default target maturity
    # and contact cadence; a stakeholder may override either (Stakeholder.target_stage,
    # Stakeholder.cadence_days). Columns, not a JSON map, so that the database checks them.
    target_stage_manage_closely = _target_field(MaturityStage.TRUST, "Manage closely")
    target_stage_keep_satisfied = _target_field(MaturityStage.RESPECT, "Keep satisfied")
    target_stage_keep_informed = _target_field(MaturityStage.UNDERSTANDING, "Keep informed")
    target_stage_monitor = _target_field(MaturityStage.AWARE, "Monitor")
    cadence_days_manage_closely = _cadence_field(30, "Manage closely")
    cadence_days_keep_satisfied = _cadence_field(60, "Keep satisfied")
    cadence_days_keep_informed = _cadence_field(90, "Keep informed")
    cadence_days_monitor = _cadence_field(180, "Monitor")
    # Issue 14 (docs/follow-up.md): the working days (Monday to Friday) a detractor's case
    # has for its first contact before it is overdue and escalated to the leads.
    follow_up_working_days = models.PositiveSmallIntegerField(
        "working days to first contact",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="A detractor's follow-up case is due its first contact within this many working days (Monday to Friday).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="pmos")

    class Meta:
        ordering = ["name"]
        verbose_name = "PMO"
        verbose_name_plural = "PMOs"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    *(
                        models.Q(**{f"target_stage_{q}__gte": 1, f"target_stage_{q}__lte": 5})
                        for q in ("manage_closely", "keep_satisfied", "keep_informed", "monitor")
                    )
                ),
                name="pmo_target_stages_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    *(
                        models.Q(**{f"cadence_days_{q}__gte": 1, f"cadence_days_{q}__lte": MAX_CADENCE_DAYS})
                        for q in ("manage_closely", "keep_satisfied", "keep_informed", "monitor")
                    )
                ),
                name="pmo_cadence_days_1_730",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("pmo_home", kwargs={"slug": self.slug})

    def default_target_stage(self, quadrant: str) -> int:
        """The target maturity of a stakeholder in `quadrant` (a Quadrant value) who has none of their own."""
        return getattr(self, f"target_stage_{quadrant}")

    def default_cadence_days(self, quadrant: str) -> int:
        """The days between touches of a stakeholder in `quadrant` who has no cadence of their own."""
        return getattr(self, f"cadence_days_{quadrant}")

    def offering_level_descriptions(self) -> dict[OfferingLevel, str]:
        """Each offering level with the PMO's words for it, or the default words."""
        own = self.offering_levels if isinstance(self.offering_levels, dict) else {}
        return {
            level: (own.get(str(level.value)) or "").strip() or DEFAULT_OFFERING_LEVEL_DESCRIPTIONS[level]
            for level in OfferingLevel
        }


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"

    @property
    def rank(self) -> int:
        return {Role.VIEWER: 1, Role.MEMBER: 2, Role.LEAD: 3}[self]

    @property
    def description(self) -> str:
        return {
            Role.LEAD: "everything, including members, settings and the report schedule",
            Role.MEMBER: "edits stakeholders, surveys, assessments and the agenda",
            Role.VIEWER: "sees everything in the PMO and changes nothing",
        }[self]


class Membership(models.Model):
    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    receives_reports = models.BooleanField(
        "receives the agenda report",
        default=False,
        help_text="Gets the scheduled Relationship Marketing Agenda report.",
    )
    # Used to open the PMO a user last worked in when they sign in.
    last_visited_at = models.DateTimeField(null=True, blank=True)
    # The weekly "My week" digest (issue 13, docs/engagement.md): off while digest_weekday is
    # empty; sent on that weekday at digest_time in the PMO's time zone. digest_next_at is the
    # record of the next one due (UTC): the dispatcher claims rows whose moment has come and
    # moves it on in the transaction that queues the e-mail in the outbox.
    digest_weekday = models.PositiveSmallIntegerField(
        "weekly digest on", choices=WEEKDAY_CHOICES, null=True, blank=True, help_text="Leave empty for no digest."
    )
    digest_time = models.TimeField("at", default=time(8, 0))
    digest_next_at = models.DateTimeField(null=True, blank=True, editable=False)
    digest_last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["pmo__name", "user__name"]
        constraints = [
            models.UniqueConstraint(fields=["pmo", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(digest_weekday__isnull=True)
                | models.Q(digest_weekday__gte=0, digest_weekday__lte=6),
                name="membership_digest_weekday_0_6",
            ),
        ]
        # The dispatcher's claim: only the rows with a digest due, by moment.
        indexes = [
            models.Index(
                fields=["digest_next_at"],
                name="membership_digest_due",
                condition=models.Q(digest_next_at__isnull=False),
            )
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.pmo})"

    def has_role(self, role: Role) -> bool:
        return Role(self.role).rank >= Role(role).rank

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    @property
    def can_edit(self) -> bool:
        return self.has_role(Role.MEMBER)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_expiry():
    return timezone.now() + timedelta(days=settings.MEMBER_INVITATION_DAYS)


class MemberInvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class MemberInvitation(models.Model):
    """An invitation for a colleague to join a PMO; only the token's hash is kept."""

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, related_name="member_invitations")
    email = models.EmailField("e-mail address")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = MemberInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} to {self.pmo} as {self.get_role_display()}"

    def issue_token(self) -> str:
        """Set a fresh token and return it; the plain token exists only in the e-mail."""
        token = secrets.token_urlsafe(32)
        self.token_hash = _hash_token(token)
        return token

    @classmethod
    def find_by_token(cls, token: str):
        # The lookup is by the hash of the token, so timing reveals nothing about stored tokens.
        return cls.objects.select_related("pmo").filter(token_hash=_hash_token(token)).first()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "pending"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def revoke(self) -> int:
        return self.active().update(revoked_at=timezone.now())


class ApiToken(models.Model):
    """A personal API token: shown once, stored as a SHA-256 hash, acting with its owner's roles."""

    PREFIX = "pmo5p_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “HR sync” or “Power BI”.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so that the owner can tell their tokens apart.
    hint = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, *, user, name: str) -> tuple["ApiToken", str]:
        """Create a token and return it with its plain key, which is not stored anywhere."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=_hash_token(key), hint=key[: len(cls.PREFIX) + 4])
        return token, key

    @classmethod
    def find(cls, key: str):
        return cls.objects.active().select_related("user").filter(key_hash=_hash_token(key)).first()


def _message_id() -> str:
    return f"<{uuid.uuid4().hex}@pmo5p>"


class OutgoingEmail(models.Model):
    """One e-mail the product sends, from creation to its outcome: the outbox (pmo5p/outbox.py).

    The row is the only record of what is due. A broker message is a wake-up and may be
    lost (a Redis restart): the sweeper finds every row whose `next_attempt_at` has come.
    """

    class Kind(models.TextChoices):
        MEMBER_INVITATION = "member_invitation", "Member invitation"
        SURVEY_INVITATION = "survey_invitation", "Survey invitation"
        SURVEY_REMINDER = "survey_reminder", "Survey reminder"
        DETRACTOR_ALERT = "detractor_alert", "Detractor alert"
        DETRACTOR_ALERT_BATCH = "detractor_alert_batch", "Detractor alert (anonymous survey)"
        REPORT = "report", "Report"
        WEEKLY_DIGEST = "weekly_digest", "Weekly digest"
        CASE_ESCALATION = "case_escalation", "Follow-up case overdue"
        RECOVERY_PULSE = "recovery_pulse", "Recovery pulse"
        SURVEY_UPDATE = "survey_update", "You said, we did"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Not sent because it was no longer wanted when its turn came (the survey closed,
        # the stakeholder answered before their reminder).
        CANCELLED = "cancelled", "Not needed"

    pmo = models.ForeignKey(Pmo, on_delete=models.CASCADE, null=True, blank=True, related_name="outgoing_emails")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    to = models.JSONField(help_text="The recipients' addresses.")
    # Rendered when the row is made, so that what is sent is what was asked for; an
    # attachment (the report's PDF) is read from the source row at send time instead.
    subject = models.TextField()
    text = models.TextField()
    html = models.TextField(blank=True)
    # Extra headers sent with every attempt, e.g. List-Unsubscribe and List-Unsubscribe-Post
    # (RFC 8058) on "you said, we did" updates; rendered with the row, like its text.
    headers = models.JSONField(default=dict, blank=True)
    # Fixed once: every attempt, retry and "send again" carries the same Message-ID.
    message_id = models.CharField(max_length=120, unique=True, default=_message_id, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # `attempts` when the retry budget last started ("send again"): the row fails once
    # attempts - budget_start reaches MAX_ATTEMPTS. `attempts` itself only grows, as the
    # outbox's check for a superseded send needs.
    budget_start = models.PositiveSmallIntegerField(default=0)
    # Queued: when it is due. Sending: when the lease of the send under way ends.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The row this e-mail is about (Invitation, ReportDelivery, MemberInvitation, …).
    source_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["source_type", "source_id"], name="outbox_source"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {', '.join(self.to)} ({self.status})"

    @property
    def can_send_again(self) -> bool:
        """Failed, waiting for a retry, or stuck sending past its lease: a person may ask for it now."""
        if self.status == self.Status.FAILED:
            return True
        if self.status == self.Status.QUEUED:
            return self.attempts > 0
        return self.status == self.Status.SENDING and self.next_attempt_at <= timezone.now()
