"""Rules of the register: stakeholders, segments and interactions.

The web forms (forms.py, interaction_forms.py) and the API (api.py) both call these;
each rule is stated here only (pmo5p/rules.py).
"""

from collections.abc import Callable
from datetime import date

from django.db import IntegrityError, transaction

from pmo5p.rules import RuleViolation, not_in_future

# What a user gives of a stakeholder, and the words of a level out of range: the web form
# and the API take the same fields and refuse with the same message.
STAKEHOLDER_FIELDS = [
    "name",
    "email",
    "job_title",
    "business_unit",
    "segment",
    "influence",
    "interest",
    "owner",
    "notes",
    "is_active",
]
LEVEL_ERRORS = {
    "influence": {"invalid_choice": "Choose an influence from 1 (very low) to 5 (very high)."},
    "interest": {"invalid_choice": "Choose an interest from 1 (very low) to 5 (very high)."},
}


def email_key(email: str) -> str:
    """An e-mail address as the register stores and matches it (the web form, the API's
    upsert and the import): without surrounding spaces, in lower case."""
    return email.strip().lower()


def check_email_free(pmo, email: str, stakeholder=None) -> str:
    """An e-mail address names one stakeholder of a PMO (ignoring case): surveys go to it."""
    email = email_key(email)
    if email:
        clash = pmo.stakeholders.filter(email__iexact=email)
        if stakeholder is not None and stakeholder.pk:
            clash = clash.exclude(pk=stakeholder.pk)
        if clash := clash.first():
            raise RuleViolation("email", f"{clash.name} already has this e-mail address in this PMO.")
    return email


def check_segment_name_free(pmo, name: str, segment=None) -> str:
    clash = pmo.segments.filter(name__iexact=name)
    if segment is not None and segment.pk:
        clash = clash.exclude(pk=segment.pk)
    if clash.exists():
        raise RuleViolation("name", "This PMO has a segment with this name already.")
    return name


def check_occurred_on(day: date) -> date:
    """Interactions are logged once they have happened."""
    return not_in_future("occurred_on", day, "That date is in the future: log interactions once they have happened.")


def upsert_by_email(pmo, email: str, save: Callable) -> tuple:
    """Create the stakeholder with this e-mail address, or update the one the register has
    (matched as email_key does): (the stakeholder, whether it was created).

    ``save(existing)`` validates the caller's input and writes it: on ``existing``, or as a
    new stakeholder when it is None.
    """
    email = email_key(email)
    existing = pmo.stakeholders.filter(email__iexact=email).first() if email else None
    try:
        with transaction.atomic():
            return save(existing), existing is None
    except IntegrityError:
        # Two sync jobs created the same address at once: the other one won; update it.
        return save(pmo.stakeholders.get(email__iexact=email)), False
