"""The one write path of a follow-up case (docs/follow-up.md, "Owner, due date, status").

The case pages (views.py), the admin and the API change a case through these functions only;
opening and escalating a case are opening.py's and escalation.py's. Each function checks its
rule before it writes anything, so that a refusal (CaseError) leaves the case as it was. Those
that read a status and then change it lock the case's row first (select_for_update): two
clicks on "Resolve" and "Close with no action", or two contacts recorded at once, are served
one after the other, and the second sees what the first did.
"""

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone

from pmo5p.domain import Element
from pmo5p.models import Membership
from pmo5p.rules import RuleViolation
from stakeholders import register
from stakeholders.models import CaseNote, CaseStatus, FollowUpCase, Interaction

NOTE_MAX = CaseNote._meta.get_field("text").max_length
REASON_MAX = FollowUpCase._meta.get_field("closed_reason").max_length


class CaseError(RuleViolation):
    """A change of a case that its rules refuse; nothing was changed. `field` is the input it
    is about, if any, for a form to show it beside that input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(field, message)


def _locked(case: FollowUpCase) -> FollowUpCase:
    """The case's row, locked until the transaction ends, as it is now: the caller's copy is
    brought up to date from it."""
    fresh = FollowUpCase.objects.select_for_update().get(pk=case.pk)
    for field in ("status", "owner_id", "root_element", "first_contact_at", "resolved_at", "closed_at"):
        setattr(case, field, getattr(fresh, field))
    case.closed_reason = fresh.closed_reason
    return case


def _save(case: FollowUpCase, *fields: str) -> None:
    case.save(update_fields=list(fields))


# Owner and P at the root ---------------------------------------------------------------------------


def assign(case: FollowUpCase, owner: Membership | None) -> FollowUpCase:
    """Give the case to `owner`, a member of its PMO who may edit; None gives it to the leads."""
    if case.stakeholder_id is not None and case.stakeholder.pmo_id != case.pmo_id:
        raise CaseError("This case is for a stakeholder of another PMO: it cannot be assigned here.")
    if owner is not None:
        if owner.pmo_id != case.pmo_id:
            raise CaseError("Choose a member of this PMO as the case's owner.", "owner")
        if not owner.can_edit:
            raise CaseError(f"{owner.user} is a viewer here: choose a member who may edit.", "owner")
    case.owner = owner
    _save(case, "owner")
    return case


def set_root(case: FollowUpCase, element: str) -> FollowUpCase:
    """Say which P is at the root of the stakeholder's dissatisfaction ("" for not known yet)."""
    if element and element not in Element.values:
        raise CaseError("Choose one of the five P elements.", "root_element")
    case.root_element = element
    _save(case, "root_element")
    return case


# Notes ---------------------------------------------------------------------------------------------


def _checked_note(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CaseError("Write the note: it is empty.", "text")
    if len(text) > NOTE_MAX:
        raise CaseError(f"Keep the note to {NOTE_MAX:,} characters or fewer (it has {len(text):,}).", "text")
    return text


def add_note(case: FollowUpCase, author, text: str) -> CaseNote:
    """A note on the case, by `author`: non-empty, at most NOTE_MAX characters."""
    return CaseNote.objects.create(case=case, author=author, text=_checked_note(text))


# Contacts ------------------------------------------------------------------------------------------


def _contacted(case: FollowUpCase) -> None:
    """An open case becomes contacted, stamped with its first contact; a later contact changes neither."""
    if case.status == CaseStatus.OPEN:
        case.status = CaseStatus.CONTACTED
        case.first_contact_at = case.first_contact_at or timezone.now()
        _save(case, "status", "first_contact_at")


def _require_open(case: FollowUpCase, doing: str) -> None:
    if not case.is_open:
        raise CaseError(f"This case is {case.get_status_display().lower()}: reopen it before {doing}.")


def record_contact(
    case: FollowUpCase,
    *,
    by,
    date: date,
    kind: str,
    summary: str,
    sentiment: int = 0,
    elements: Iterable[str] = (),
) -> Interaction | CaseNote:
    """A contact with the case's stakeholder: an interaction recorded in the register (its
    write path: register.create_interaction, which keeps the stakeholder's last touch), linked
    to the case, which becomes contacted.

    An anonymous group's case has nobody to record an interaction with, and must say nobody's
    name: its contact is a note (the date, the kind and the summary) and the same change of
    status. The register's refusals (a date in the future, an empty summary) are its own
    ValidationErrors, by field, as the interaction form shows them.
    """
    with transaction.atomic():
        _locked(case)
        _require_open(case, "recording a contact")
        if case.is_anonymous:
            register.check_occurred_on(date)
            kinds = dict(Interaction._meta.get_field("kind").choices)
            if kind not in kinds:
                raise CaseError("Choose a kind of contact.", "kind")
            if not (summary or "").strip():
                raise CaseError("Summarise what happened, in a sentence or two.", "summary")
            text = _checked_note(f"Contact with the group, {kinds[kind].lower()} on {date:%Y-%m-%d}: {summary.strip()}")
            recorded = CaseNote.objects.create(case=case, author=by, text=text)
        else:
            if case.stakeholder.pmo_id != case.pmo_id:
                raise CaseError("This case is for a stakeholder of another PMO: no contact can be recorded here.")
            recorded = register.create_interaction(
                case.pmo,
                by,
                {
                    "occurred_on": date,
                    "kind": kind,
                    "summary": summary,
                    "sentiment": sentiment,
                    "elements": list(elements),
                    "stakeholders": [case.stakeholder],
                },
            )
            case.interactions.add(recorded)
        _contacted(case)
    return recorded


def link_interaction(case: FollowUpCase, interaction: Interaction) -> FollowUpCase:
    """Link an interaction already in the register: of the case's PMO, with its stakeholder.
    Linking counts as a contact, as recording one does."""
    if interaction.pmo_id != case.pmo_id:
        raise CaseError("That interaction is another PMO's: it cannot be linked to this case.", "interaction")
    if case.is_anonymous:
        raise CaseError("An anonymous group's case names nobody: no interaction can be linked to it.", "interaction")
    if not interaction.stakeholders.filter(pk=case.stakeholder_id).exists():
        raise CaseError("That interaction is not with this case's stakeholder.", "interaction")
    with transaction.atomic():
        _locked(case)
        _require_open(case, "linking a contact")
        case.interactions.add(interaction)
        _contacted(case)
    return case


# Status --------------------------------------------------------------------------------------------


def resolve(case: FollowUpCase, by) -> FollowUpCase:
    """The stakeholder's concern is answered. `by` is who says so (kept by the caller's log,
    e.g. the message on the page): the case keeps when."""
    with transaction.atomic():
        _locked(case)
        _require_open(case, "resolving it again")
        case.status = CaseStatus.RESOLVED
        case.resolved_at = timezone.now()
        _save(case, "status", "resolved_at")
    return case


def close_no_action(case: FollowUpCase, reason: str) -> FollowUpCase:
    """Close the case with no action, saying why (the reason is required)."""
    reason = (reason or "").strip()
    if not reason:
        raise CaseError("Say why the case closes with no action.", "reason")
    if len(reason) > REASON_MAX:
        raise CaseError(f"Keep the reason to {REASON_MAX:,} characters or fewer (it has {len(reason):,}).", "reason")
    with transaction.atomic():
        _locked(case)
        _require_open(case, "closing it")
        case.status = CaseStatus.CLOSED
        case.closed_reason = reason
        case.closed_at = timezone.now()
        _save(case, "status", "closed_reason", "closed_at")
    return case


def reopen(case: FollowUpCase) -> FollowUpCase:
    """A resolved or closed case is open again: contacted if a contact was recorded, else open.
    Its first contact is kept; when it was resolved or closed, and why, are cleared (the
    reason belongs to a closed case only)."""
    with transaction.atomic():
        _locked(case)
        if case.is_open:
            raise CaseError("This case is still open: there is nothing to reopen.")
        case.status = CaseStatus.CONTACTED if case.first_contact_at else CaseStatus.OPEN
        case.resolved_at = None
        case.closed_at = None
        case.closed_reason = ""
        _save(case, "status", "resolved_at", "closed_at", "closed_reason")
    return case
