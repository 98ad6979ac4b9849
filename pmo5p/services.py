"""Writes on PMO workspaces and their members."""

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from pmo5p import outbox
from pmo5p.clock import next_weekly_moment
from pmo5p.currency import default_currency
from pmo5p.domain import MAX_CADENCE_DAYS, QUADRANT_LABELS
from pmo5p.models import MemberInvitation, Membership, OutgoingEmail, Pmo, Role, User
from pmo5p.rules import RuleViolation, worded


class LastLeadError(Exception):
    """Every PMO keeps at least one lead, or nobody could manage it."""

    message = "A PMO needs at least one lead: make another member lead first."


@transaction.atomic
def create_pmo(
    *,
    user: User,
    name: str,
    slug: str,
    description: str = "",
    time_zone: str = "UTC",
    currency: str = "",
    survey_fatigue_days: int = 90,
) -> Pmo:
    pmo = Pmo.objects.create(
        name=name,
        slug=slug,
        description=description,
        time_zone=time_zone,
        currency=currency or default_currency(),
        survey_fatigue_days=survey_fatigue_days,
    )
    Membership.objects.create(pmo=pmo, user=user, role=Role.LEAD)
    return pmo


@transaction.atomic
def invite_member(*, pmo: Pmo, email: str, role: Role, invited_by: User) -> MemberInvitation:
    invitation = MemberInvitation(pmo=pmo, email=email.lower(), role=role, invited_by=invited_by)
    token = invitation.issue_token()
    invitation.save()
    # Sent once the invitation is committed (delay_on_commit), so that the link in it works.
    outbox.queue(
        OutgoingEmail.Kind.MEMBER_INVITATION,
        [invitation.email],
        "member-invitation",
        _invitation_context(invitation, token),
        pmo=pmo,
        source=invitation,
    )
    return invitation


def _invitation_context(invitation: MemberInvitation, token: str) -> dict:
    return {
        "invitation": invitation,
        "pmo": invitation.pmo,
        "invited_by": invitation.invited_by,
        "accept_path": reverse("accept_invitation", kwargs={"token": token}),
    }


def _check_invitation(email: OutgoingEmail) -> str | None:
    """A revoked, accepted or expired invitation is not e-mailed, even if its turn comes later."""
    invitation = MemberInvitation.objects.filter(pk=email.source_id).first()
    return None if invitation is not None and invitation.status == "pending" else OutgoingEmail.Status.CANCELLED


def _forget_the_link(email: OutgoingEmail) -> None:
    """Once the e-mail will not be sent again by itself (sent, failed, cancelled), its copy of
    the link goes: the database keeps only the token's hash. "Send again" issues a new one."""
    done = (OutgoingEmail.Status.SENT, OutgoingEmail.Status.FAILED, OutgoingEmail.Status.CANCELLED)
    if email.status in done and email.text:
        OutgoingEmail.objects.filter(pk=email.pk).update(text="", html="")


outbox.register(OutgoingEmail.Kind.MEMBER_INVITATION, check=_check_invitation, record=_forget_the_link)


def invitation_emails(invitations: list[MemberInvitation]) -> dict[int, OutgoingEmail]:
    """The e-mail of each invitation, by the invitation's id (one query)."""
    rows = outbox.for_sources(MemberInvitation, [i.pk for i in invitations], OutgoingEmail.Kind.MEMBER_INVITATION)
    return {row.source_id: row for row in rows}


@transaction.atomic
def resend_invitation(invitation: MemberInvitation) -> bool:
    """Send a failed or stuck invitation e-mail again; False if it went out or is on its way.

    A failed e-mail's link was forgotten (only its hash is kept): a new token replaces it, so
    the old link, never delivered, opens nothing."""
    invitation = (
        MemberInvitation.objects.select_for_update(of=("self",))
        .select_related("pmo", "invited_by")
        .get(pk=invitation.pk)
    )
    email = invitation_emails([invitation]).get(invitation.pk)
    if email is None or invitation.status != "pending" or not email.can_send_again:
        return False
    rerender = None
    if not email.text:
        token = invitation.issue_token()
        invitation.save(update_fields=["token_hash"])
        rerender = ("member-invitation", _invitation_context(invitation, token))
    if not outbox.send_again(email, rerender=rerender):
        transaction.set_rollback(True)  # taken meanwhile: keep the token it carries
        return False
    return True


@transaction.atomic
def accept_invitation(*, invitation: MemberInvitation, user: User) -> Membership:
    # Lock the row: the same link opened twice at once must not create two memberships.
    invitation = MemberInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise ValueError(f"This invitation is {invitation.status}.")
    membership, _ = Membership.objects.get_or_create(pmo=invitation.pmo, user=user, defaults={"role": invitation.role})
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def _is_last_lead(membership: Membership) -> bool:
    # Lock every lead row of the PMO: two leads demoting each other at once must
    # not both see the other one still in place.
    leads = Membership.objects.select_for_update().filter(pmo_id=membership.pmo_id, role=Role.LEAD).order_by("pk")
    lead_ids = list(leads.values_list("pk", flat=True))
    return lead_ids == [membership.pk]


@transaction.atomic
def change_role(*, membership: Membership, role: Role) -> Membership:
    if role != Role.LEAD and _is_last_lead(membership):
        raise LastLeadError
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership: Membership) -> None:
    if _is_last_lead(membership):
        raise LastLeadError
    membership.delete()


def revoke_invitation(*, invitation: MemberInvitation) -> bool:
    """Withdraw a pending invitation; False if it was accepted or withdrawn already."""
    pending = MemberInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
    return bool(pending.update(revoked_at=timezone.now()))


def record_visit(membership: Membership) -> None:
    Membership.objects.filter(pk=membership.pk).update(last_visited_at=timezone.now())


# The quadrant defaults of the engagement plan (docs/engagement.md#settings): a stage and a
# cadence per quadrant, in the order of the grid's quadrants.
ENGAGEMENT_DEFAULT_FIELDS = [
    *(f"target_stage_{quadrant}" for quadrant in QUADRANT_LABELS),
    *(f"cadence_days_{quadrant}" for quadrant in QUADRANT_LABELS),
]
STAGE_REFUSAL = "Choose a stage from Unaware to Trust."
CADENCE_REFUSAL = f"Choose a cadence from 1 to {MAX_CADENCE_DAYS} days."
ENGAGEMENT_WORDS = {
    name: {
        "required": STAGE_REFUSAL if name.startswith("target") else CADENCE_REFUSAL,
        "invalid": STAGE_REFUSAL if name.startswith("target") else CADENCE_REFUSAL,
    }
    for name in ENGAGEMENT_DEFAULT_FIELDS
}


def update_engagement_defaults(*, pmo: Pmo, values: dict) -> Pmo:
    """Set the PMO's default target stage and cadence per quadrant (ENGAGEMENT_DEFAULT_FIELDS):
    all of them or none; a refusal is {field: [message]} in ENGAGEMENT_WORDS."""
    unknown = set(values) - set(ENGAGEMENT_DEFAULT_FIELDS)
    assert not unknown, f"Not engagement defaults: {unknown}"
    for name, value in values.items():
        setattr(pmo, name, value)
    try:
        pmo.clean_fields(exclude=[f.name for f in Pmo._meta.concrete_fields if f.name not in values])
    except ValidationError as error:
        raise worded(error, ENGAGEMENT_WORDS) from None
    pmo.save(update_fields=list(values))
    return pmo


# The weekly "My week" digest (docs/engagement.md, "The weekly digest") ----------------------

DIGEST_WEEKDAY_WORDS = "Choose a day of the week, or “No digest”."
DIGEST_TIME_WORDS = "Enter a time of day, e.g. 08:00."


def next_digest_at(membership: Membership, after: datetime) -> datetime | None:
    """The moment (UTC) of the member's first digest strictly after `after`: their weekday at their
    time in the PMO's time zone, by the report schedule's daylight saving rule (pmo5p/clock.py).
    None when they take no digest."""
    if membership.digest_weekday is None:
        return None
    return next_weekly_moment(membership.pmo.time_zone, membership.digest_weekday, membership.digest_time, after)


def set_digest(
    *, membership: Membership, weekday: int | None, at: time | None, now: datetime | None = None
) -> Membership:
    """A member's own choice of weekly digest: `weekday` 0 (Monday) to 6, or None for none, at
    `at` in the PMO's time zone. Any role may make it: it changes nobody's data but their own."""
    if weekday is not None and (isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6):
        raise RuleViolation("weekday", DIGEST_WEEKDAY_WORDS)
    if weekday is not None and not isinstance(at, time):
        raise RuleViolation("at", DIGEST_TIME_WORDS)
    membership.digest_weekday = weekday
    if at is not None:
        membership.digest_time = at.replace(second=0, microsecond=0, tzinfo=None)
    membership.digest_next_at = next_digest_at(membership, now or timezone.now())
    membership.save(update_fields=["digest_weekday", "digest_time", "digest_next_at"])
    return membership


def follow_time_zone_with_digests(pmo: Pmo, *, now: datetime | None = None) -> int:
    """Move each member's next digest to their same local time in the PMO's (new) time zone;
    returns how many moved. A digest already due is left to the dispatcher, which sends it and
    then counts the next one in the new zone: moving it could skip a week."""
    now = now or timezone.now()
    memberships = list(
        pmo.memberships.filter(digest_weekday__isnull=False)
        .exclude(digest_next_at__lte=now)
        .only("pk", "pmo_id", "digest_weekday", "digest_time", "digest_next_at")
    )
    moved = []
    for membership in memberships:
        membership.pmo = pmo
        upcoming = next_digest_at(membership, now)
        if upcoming != membership.digest_next_at:
            membership.digest_next_at = upcoming
            moved.append(membership)
    Membership.objects.bulk_update(moved, ["digest_next_at"])
    return len(moved)
