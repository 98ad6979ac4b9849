"""Rules and writes of the register: stakeholders, segments and interactions.

Each write is one function here, which the web forms' views (views.py,
interaction_views.py), the API (api.py) and the spreadsheet import (imports.py) all
call; each rule, and the words of its refusal, is stated here only (pmo5p/rules.py).
A refusal is a ValidationError: {field: [messages]}, or a RuleViolation.

The import writes thousands of rows in batches: it prepares each row with
new_stakeholder or change_stakeholder, which check it by the same rules as
create_stakeholder and update_stakeholder, and writes the batches with
create_stakeholders and update_stakeholders.
"""

from collections.abc import Callable, Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Max, OuterRef, Subquery

from pmo5p.domain import MAX_CADENCE_DAYS, Element
from pmo5p.rules import RuleViolation, error_messages, not_in_future, worded
from stakeholders.models import Interaction, InteractionKind, Response, Segment, Stakeholder
from stakeholders.surveys import figure_source

# Rows a bulk write sends in one query.
BATCH_SIZE = 500

# What a user gives of a stakeholder: the web form, the API and the import take these fields.
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
    # The engagement plan (docs/engagement.md): empty target and cadence follow the PMO's
    # default for the stakeholder's quadrant.
    "target_stage",
    "target_reason",
    "cadence_days",
]
SEGMENT_FIELDS = ["name", "description"]
INTERACTION_FIELDS = ["occurred_on", "kind", "stakeholders", "elements", "sentiment", "summary"]
# Kept without surrounding spaces, as the web form and the API read them.
TEXT_FIELDS = {"name", "job_title", "business_unit", "notes", "target_reason", "description", "summary"}


def _too_long(what: str, model: type[models.Model], field: str) -> str:
    limit = model._meta.get_field(field).max_length
    return f"Keep the {what} to {limit:,} characters or fewer (it has %(show_value)d)."


def _one_message(message: str) -> dict[str, str]:
    return {"required": message, "invalid": message}


def _kinds() -> str:
    labels = [label.lower() for label in InteractionKind.labels]
    return f"Choose a kind: {', '.join(labels[:-1])} or {labels[-1]}."


# The words of each field's refusals, per failure (pmo5p.rules.FAILURE_CODES): the web
# forms, the API's serializers and the import show these, and the functions below raise them.
STAKEHOLDER_WORDS = {
    "name": {"required": "Give the stakeholder's name.", "max_length": _too_long("name", Stakeholder, "name")},
    "email": {
        "invalid": "Enter a valid e-mail address.",
        "max_length": _too_long("e-mail address", Stakeholder, "email"),
    },
    "job_title": {"max_length": _too_long("job title", Stakeholder, "job_title")},
    "business_unit": {"max_length": _too_long("business unit", Stakeholder, "business_unit")},
    "segment": {"invalid": "Choose one of this PMO's segments."},
    "influence": _one_message("Choose an influence from 1 (very low) to 5 (very high)."),
    "interest": _one_message("Choose an interest from 1 (very low) to 5 (very high)."),
    "owner": {"invalid": "Choose a member of this PMO as the relationship owner."},
    "notes": {"max_length": _too_long("notes", Stakeholder, "notes")},
    "target_stage": _one_message("Choose a stage from Unaware to Trust."),
    "target_reason": {
        "required": "Say why this relationship's target differs from their quadrant's default.",
        "max_length": _too_long("reason", Stakeholder, "target_reason"),
    },
    "cadence_days": {
        # One message for 0, 731 and a word: the page, the API and the import read each alike.
        "invalid": f"Choose a cadence from 1 to {MAX_CADENCE_DAYS} days, or leave it empty for their quadrant's default.",
    },
}
# Where the e-mail address is what finds the stakeholder: the import and the API's upsert.
EMAIL_KEY_REQUIRED = "Give an e-mail address: stakeholders are matched to the register on it."
SEGMENT_WORDS = {
    "name": {"required": "Give the segment a name.", "max_length": _too_long("segment's name", Segment, "name")},
    "description": {"max_length": _too_long("description", Segment, "description")},
}
INTERACTION_WORDS = {
    "occurred_on": {"required": "Give the date it happened.", "invalid": "Enter a date, e.g. 2026-11-25."},
    "kind": _one_message(_kinds()),
    "stakeholders": {"required": "Choose at least one stakeholder.", "invalid": "Choose stakeholders of this PMO."},
    "elements": {"invalid": "Choose among the five P elements."},
    "sentiment": _one_message("Choose a sentiment from −2 to +2."),
    "summary": {
        "required": "Summarise what happened, in a sentence or two.",
        "max_length": _too_long("summary", Interaction, "summary"),
    },
}


def messages(words: dict, field: str) -> dict[str, str]:
    """A field's error_messages for a form or serializer field, from STAKEHOLDER_WORDS and the like."""
    return error_messages(words.get(field, {}))


def _refusal(words: dict, field: str, failure: str) -> ValidationError:
    return ValidationError(words[field][failure], code=failure)


# Checking a model's fields ------------------------------------------------------------------------


def _normalised(fields: Iterable[str], values: dict) -> dict:
    """`values` as the register keeps them: text without surrounding spaces, e-mail addresses as email_key."""
    unknown = set(values) - set(fields)
    assert not unknown, f"Not fields of the register's writes: {unknown}"
    kept = {}
    for name, value in values.items():
        if name == "email" and value is not None:
            value = email_key(value)
        elif name in TEXT_FIELDS and isinstance(value, str):
            value = value.strip()
        kept[name] = value
    return kept


def _assign(obj: models.Model, fields: list[str], values: dict) -> list[str]:
    """Set on `obj` the `values` that differ from its own: the names changed, in the order of `fields`."""
    values = _normalised(fields, values)
    changed = []
    for name in fields:
        if name not in values:
            continue
        value = values[name]
        field = obj._meta.get_field(name)
        if (value.pk if field.is_relation and value is not None else value) != field.value_from_object(obj):
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _field_errors(obj: models.Model, fields: Iterable[str], words: dict) -> dict:
    """The model's own rules (blank, length, choices, e-mail format) on these fields, in `words`.

    Foreign keys are left out: the model would look each one up in the database; the
    functions below check them against the PMO instead.
    """
    checked = set(fields)
    exclude = [f.name for f in obj._meta.concrete_fields if f.is_relation or f.name not in checked]
    errors = {}
    try:
        obj.clean_fields(exclude=exclude)
    except ValidationError as error:
        errors = error.error_dict
    for name in checked - set(errors):
        field = obj._meta.get_field(name)
        # Django leaves a TextField's max_length to forms: it is a rule here, whoever calls.
        if isinstance(field, models.TextField) and field.max_length:
            try:
                MaxLengthValidator(field.max_length)(field.value_from_object(obj))
            except ValidationError as error:
                errors[name] = error.error_list
    return dict(worded(ValidationError(errors), words).error_dict) if errors else {}


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# Stakeholders -------------------------------------------------------------------------------------


def email_key(email: str) -> str:
    """An e-mail address as the register stores and matches it (the web form, the API's
    upsert and the import): without surrounding spaces, in lower case."""
    return email.strip().lower()


class EmailTaken(RuleViolation):
    """Another stakeholder of the PMO has this e-mail address."""


def check_email_free(pmo, email: str, stakeholder=None) -> str:
    """An e-mail address names one stakeholder of a PMO (ignoring case): surveys go to it."""
    email = email_key(email)
    if email:
        clash = pmo.stakeholders.filter(email__iexact=email)
        if stakeholder is not None and stakeholder.pk:
            clash = clash.exclude(pk=stakeholder.pk)
        if clash := clash.first():
            raise EmailTaken("email", f"{clash.name} already has this e-mail address in this PMO.")
    return email


def _check_stakeholder(stakeholder: Stakeholder, fields: list[str]) -> None:
    """Every rule of the register on these fields of one stakeholder but the e-mail address's
    uniqueness, which needs the register (check_email_free, and the database's constraint)."""
    errors = _field_errors(stakeholder, fields, STAKEHOLDER_WORDS)
    # The segment and the owner belong to the stakeholder's PMO.
    for name in ("segment", "owner"):
        related = getattr(stakeholder, name) if name in fields else None
        if related is not None and related.pmo_id != stakeholder.pmo_id:
            errors[name] = [_refusal(STAKEHOLDER_WORDS, name, "invalid")]
    # A target of their own is a decision someone will be asked about: it carries its reason.
    if (
        {"target_stage", "target_reason"} & set(fields)
        and "target_stage" not in errors
        and stakeholder.target_stage is not None
        and not stakeholder.target_reason
    ):
        errors.setdefault("target_reason", []).append(_refusal(STAKEHOLDER_WORDS, "target_reason", "required"))
    _raise(errors)


def _default_target_has_no_reason(stakeholder: Stakeholder) -> bool:
    """Back to the quadrant's default target, the reason for an own target goes: True if it went."""
    if stakeholder.target_stage is None and stakeholder.target_reason:
        stakeholder.target_reason = ""
        return True
    return False


def new_stakeholder(pmo, values: dict) -> Stakeholder:
    """A stakeholder of the PMO from `values` (STAKEHOLDER_FIELDS; a field not given takes the
    model's default: a level of 3, active, the quadrant's target and cadence), checked, not saved."""
    stakeholder = Stakeholder(pmo=pmo, **_normalised(STAKEHOLDER_FIELDS, values))
    _default_target_has_no_reason(stakeholder)
    _check_stakeholder(stakeholder, STAKEHOLDER_FIELDS)
    return stakeholder


def change_stakeholder(stakeholder: Stakeholder, values: dict) -> list[str]:
    """Set `values` on the stakeholder and check what they change, not saved: the fields changed."""
    changed = _assign(stakeholder, STAKEHOLDER_FIELDS, values)
    if _default_target_has_no_reason(stakeholder) and "target_reason" not in changed:
        changed = sorted([*changed, "target_reason"], key=STAKEHOLDER_FIELDS.index)
    _check_stakeholder(stakeholder, changed)
    return changed


def _save_stakeholder(stakeholder: Stakeholder, update_fields: list[str] | None = None) -> Stakeholder:
    try:
        with transaction.atomic():
            stakeholder.save(update_fields=update_fields)
    except IntegrityError:
        # The address was taken since it was checked: refused as check_email_free words it.
        check_email_free(stakeholder.pmo, stakeholder.email, stakeholder)
        raise
    return stakeholder


def create_stakeholder(pmo, values: dict) -> Stakeholder:
    """Add a stakeholder to the PMO's register (see new_stakeholder).

    The e-mail address's uniqueness is checked by check_email_free, which the web form and
    the API's serializer call as they validate, so that a clash shows with the other
    errors; here the database's constraint holds it, refused in the same words.
    """
    return _save_stakeholder(new_stakeholder(pmo, values))


def update_stakeholder(stakeholder: Stakeholder, values: dict) -> Stakeholder:
    """Change a stakeholder of the register: what `values` changes is written, nothing else
    (see create_stakeholder for the e-mail address)."""
    changed = change_stakeholder(stakeholder, values)
    if changed:
        _save_stakeholder(stakeholder, [*changed, "updated_at"])
    return stakeholder


def delete_stakeholder(stakeholder: Stakeholder) -> None:
    """Delete a stakeholder from the register, with their invitations, responses and answers.

    Their answers are taken out of the closed surveys' kept figures in the same transaction
    (figure_source.forget_responses), so that no figure still counts them."""
    with transaction.atomic():
        figure_source.source().forget_responses(Response.objects.filter(invitation__stakeholder=stakeholder))
        stakeholder.delete()


def create_stakeholders(stakeholders: list[Stakeholder]) -> None:
    """Insert stakeholders made by new_stakeholder, in batches. Run it in a transaction: a
    clash with an address taken meanwhile raises IntegrityError, and the batch is refused."""
    Stakeholder.objects.bulk_create(stakeholders, batch_size=BATCH_SIZE)


def update_stakeholders(stakeholders: list[Stakeholder], fields: Iterable[str]) -> None:
    """Write `fields` of stakeholders changed by change_stakeholder, in batches."""
    # An upsert on the primary key: each batch is one INSERT ... ON CONFLICT (id) DO UPDATE
    # of the changed columns, which PostgreSQL and SQLite both run as an update of the
    # existing rows (created_at and the columns not listed keep their stored values).
    # bulk_update would do the same in one query per batch too, but builds a CASE
    # expression per row and column: over seconds for a few thousand rows.
    Stakeholder.objects.bulk_create(
        stakeholders,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["pk"],
        update_fields=[*fields, "updated_at"],
    )


def upsert_by_email(pmo, email: str, save: Callable) -> tuple:
    """Create the stakeholder with this e-mail address, or update the one the register has
    (matched as email_key does): (the stakeholder, whether it was created).

    ``save(existing)`` validates the caller's input and writes it with create_stakeholder, or
    update_stakeholder on ``existing`` when it is not None.
    """
    email = email_key(email)
    existing = pmo.stakeholders.filter(email__iexact=email).first() if email else None
    try:
        with transaction.atomic():
            return save(existing), existing is None
    except EmailTaken:
        # Two sync jobs created the same address at once: the other one won; update it.
        return save(pmo.stakeholders.get(email__iexact=email)), False


# Segments -----------------------------------------------------------------------------------------


def segment_key(name: str) -> str:
    """A segment's name as the register compares names (as its unique constraint does): lower case."""
    return name.strip().lower()


def check_segment_name_free(pmo, name: str, segment=None) -> str:
    clash = pmo.segments.filter(name__iexact=name)
    if segment is not None and segment.pk:
        clash = clash.exclude(pk=segment.pk)
    if clash.exists():
        raise RuleViolation("name", "This PMO has a segment with this name already.")
    return name


def new_segment(pmo, values: dict) -> Segment:
    """A segment of the PMO from `values` (SEGMENT_FIELDS), checked but for its name's
    uniqueness (check_segment_name_free), not saved."""
    segment = Segment(pmo=pmo, **_normalised(SEGMENT_FIELDS, values))
    _raise(_field_errors(segment, SEGMENT_FIELDS, SEGMENT_WORDS))
    return segment


def _save_segment(segment: Segment, update_fields: list[str] | None = None) -> Segment:
    try:
        with transaction.atomic():
            segment.save(update_fields=update_fields)
    except IntegrityError:
        check_segment_name_free(segment.pmo, segment.name, segment)
        raise
    return segment


def create_segment(pmo, values: dict) -> Segment:
    """Add a segment to the PMO. Its name's uniqueness is held as a stakeholder's e-mail
    address is (create_stakeholder), by check_segment_name_free and the database's constraint."""
    return _save_segment(new_segment(pmo, values))


def update_segment(segment: Segment, values: dict) -> Segment:
    """Change what `values` changes of a segment, nothing else."""
    changed = _assign(segment, SEGMENT_FIELDS, values)
    _raise(_field_errors(segment, changed, SEGMENT_WORDS))
    if changed:
        _save_segment(segment, changed)
    return segment


def create_segments(segments: list[Segment]) -> list[Segment]:
    """Insert segments made by new_segment, in batches (see create_stakeholders)."""
    return Segment.objects.bulk_create(segments, batch_size=BATCH_SIZE)


# Interactions -------------------------------------------------------------------------------------


def check_occurred_on(day: date) -> date:
    """Interactions are logged once they have happened."""
    return not_in_future("occurred_on", day, "That date is in the future: log interactions once they have happened.")


def _in_order(elements: Iterable[str]) -> list[str]:
    """The P elements an interaction served, each once, in the model's order (any other value
    last, for the check to refuse)."""
    order = {value: index for index, value in enumerate(Element.values)}
    return sorted(dict.fromkeys(elements), key=lambda value: order.get(value, len(order)))


def _check_interaction(interaction: Interaction, fields: list[str], stakeholders: list | None) -> None:
    errors = _field_errors(interaction, fields, INTERACTION_WORDS)
    if "occurred_on" in fields and "occurred_on" not in errors:
        try:
            check_occurred_on(interaction.occurred_on)
        except RuleViolation as refusal:
            errors["occurred_on"] = [refusal]
    if "elements" in fields and not set(interaction.elements) <= set(Element.values):
        errors["elements"] = [_refusal(INTERACTION_WORDS, "elements", "invalid")]
    if stakeholders is not None and not stakeholders:
        errors["stakeholders"] = [_refusal(INTERACTION_WORDS, "stakeholders", "required")]
    elif any(stakeholder.pmo_id != interaction.pmo_id for stakeholder in stakeholders or []):
        errors["stakeholders"] = [_refusal(INTERACTION_WORDS, "stakeholders", "invalid")]
    _raise(errors)


def _save_interaction(interaction: Interaction, values: dict) -> Interaction:
    """Set and check the given `values` (INTERACTION_FIELDS), then save the interaction and whom it involved."""
    values = dict(values)
    stakeholders = values.pop("stakeholders", None)
    if stakeholders is not None:
        stakeholders = list(stakeholders)
    if "elements" in values:
        values["elements"] = _in_order(values["elements"])
    _assign(interaction, INTERACTION_FIELDS, values)
    _check_interaction(interaction, list(values), stakeholders)
    with transaction.atomic():
        # Whom it involved before the change: someone taken off it, or whose interaction moved
        # to another date, has another last touch too.
        before = list(interaction.stakeholders.values_list("pk", flat=True)) if interaction.pk else []
        interaction.save()
        if stakeholders is not None:
            interaction.stakeholders.set(stakeholders)
            after = [stakeholder.pk for stakeholder in stakeholders]
        else:
            after = before
        refresh_last_touched([*before, *after])
    return interaction


def create_interaction(pmo, author, values: dict) -> Interaction:
    """Log an interaction of the PMO, by `author`; `values` must name its stakeholders."""
    return _save_interaction(Interaction(pmo=pmo, author=author), {"stakeholders": [], **values})


def update_interaction(interaction: Interaction, values: dict) -> Interaction:
    """Change the given fields of an interaction, the others as they are."""
    return _save_interaction(interaction, values)


def delete_interaction(interaction: Interaction) -> None:
    """Delete an interaction; whom it involved get their last touch from the ones left."""
    with transaction.atomic():
        involved = list(interaction.stakeholders.values_list("pk", flat=True))
        interaction.delete()
        refresh_last_touched(involved)


def refresh_last_touched(stakeholder_ids: Iterable[int]) -> None:
    """Set Stakeholder.last_touched_on of these stakeholders to the date of their latest
    interaction (None: none left), in one UPDATE. Every write of interactions calls it, in
    its transaction: the register sorts and filters on the column, never on the interactions."""
    ids = set(stakeholder_ids)
    if not ids:
        return
    latest = (
        Interaction.stakeholders.through.objects.filter(stakeholder_id=OuterRef("pk"))
        .values("stakeholder_id")
        .annotate(on=Max("interaction__occurred_on"))
        .values("on")
    )
    # An update of the column only: the last touch is no edit of the stakeholder (updated_at stays).
    Stakeholder.objects.filter(pk__in=ids).update(last_touched_on=Subquery(latest))
