"""Rules and writes of the service catalogue (issue 12; docs/services.md).

Each write is one function here, which the catalogue's web forms (agenda/catalogue/), the
API and the spreadsheet import all call, in the style of register.py: a refusal is a
ValidationError {field: [messages]} or a RuleViolation, and nothing is saved.

Two refusals can be overridden by the person writing, once they have read them:
a target level below the level now (LowerTarget; pass confirm_lower_target=True) and
retiring a service that open agenda actions still develop (OpenActions, which lists them;
pass confirm_retire=True). Each change of a service's status or levels is written to its
history (ServiceEvent) in the same transaction.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from pmo5p.domain import DEFAULT_OFFERING_LEVEL_DESCRIPTIONS, Element, OfferingLevel
from pmo5p.rules import RuleViolation
from stakeholders.models import Service, ServiceEvent, ServiceStatus
from stakeholders.register import _assign, _field_errors, _raise, _refusal, _too_long

# What a user gives of a service: the web form, the API and the import take these fields.
SERVICE_FIELDS = [
    "name",
    "description",
    "owner",
    "segments",
    "elements",
    "status",
    "launched_on",
    "level_now",
    "level_target",
]
# The fields kept on the service's row (segments is a many-to-many relation).
_ROW_FIELDS = [name for name in SERVICE_FIELDS if name != "segments"]


def _levels() -> str:
    labels = [label.lower() for label in OfferingLevel.labels]
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def _statuses() -> str:
    labels = [label.lower() for label in ServiceStatus.labels]
    return f"{', '.join(labels[:-1])} or {labels[-1]}"


def _one(message: str) -> dict[str, str]:
    return {"required": message, "invalid": message}


SERVICE_WORDS = {
    "name": {"required": "Give the service a name.", "max_length": _too_long("service's name", Service, "name")},
    "description": {"max_length": _too_long("description", Service, "description")},
    "owner": {"invalid": "Choose a member of this PMO as the service's owner."},
    "segments": {"invalid": "Choose segments of this PMO."},
    "elements": {"invalid": "Choose among the five P elements."},
    "status": _one(f"Choose a status: {_statuses()}."),
    "launched_on": {"invalid": "Enter a date, e.g. 2026-11-25."},
    "level_now": _one(f"Choose the level now: {_levels()}."),
    "level_target": _one(f"Choose the target level: {_levels()}."),
}

# The PMO's words for one offering level.
LEVEL_WORDS_MAX = 300


def level_field(level: int) -> str:
    """The name of the field that words one offering level (set_offering_levels, the form)."""
    return f"level_{int(level)}"


class ServiceNameTaken(RuleViolation):
    """Another service of the PMO has this name (ignoring case)."""


class LowerTarget(RuleViolation):
    """The target level is below the level now: written only once confirmed."""


class OpenActions(RuleViolation):
    """The service is being retired while open agenda actions develop it: written only once
    confirmed. ``actions`` are those actions."""

    def __init__(self, field, message, actions):
        super().__init__(field, message)
        self.actions = actions


# Checks ------------------------------------------------------------------------------------------


def check_service_name_free(pmo, name: str, service=None) -> str:
    """A name names one service of a PMO, ignoring case (as the database's constraint does)."""
    clash = pmo.services.filter(name__iexact=name.strip())
    if service is not None and service.pk:
        clash = clash.exclude(pk=service.pk)
    if clash.exists():
        raise ServiceNameTaken("name", "This PMO has a service with this name already: choose another name.")
    return name


def check_target(level_now: int, level_target: int, confirmed: bool) -> None:
    """A target below the level now scales the service down: refused unless confirmed."""
    if level_target < level_now and not confirmed:
        raise LowerTarget(
            "level_target",
            f"The target ({OfferingLevel(level_target).label}) is below the level now "
            f"({OfferingLevel(level_now).label}). Confirm that the service is to be scaled down, "
            "or choose a higher target.",
        )


def open_actions(service) -> list:
    """The agenda's open actions that develop this service (the agenda, above this app,
    says which are open: Action.is_open)."""
    if not service.pk:
        return []
    return [action for action in service.actions.order_by("due_on", "pk") if action.is_open]


def check_retire(service, confirmed: bool) -> None:
    """Retiring a service that open actions still develop: refused, listing them, unless confirmed."""
    if confirmed:
        return
    actions = open_actions(service)
    if actions:
        titles = ", ".join(f"“{action.title}”" for action in actions[:10])
        more = f" and {len(actions) - 10} more" if len(actions) > 10 else ""
        count = "1 open action develops" if len(actions) == 1 else f"{len(actions)} open actions develop"
        raise OpenActions(
            "status",
            f"{count} this service: {titles}{more}. Close or move them first, or confirm that the "
            "service is to be retired anyway.",
            actions,
        )


def _in_order(elements) -> list[str]:
    order = {value: index for index, value in enumerate(Element.values)}
    return sorted(dict.fromkeys(elements), key=lambda value: order.get(value, len(order)))


def _check(service: Service, fields: list[str], segments: list | None, *, confirm_lower_target, confirm_retire):
    errors = _field_errors(service, [f for f in fields if f != "segments"], SERVICE_WORDS)
    if "elements" in fields and (
        not isinstance(service.elements, list) or not set(service.elements) <= set(Element.values)
    ):
        errors["elements"] = [_refusal(SERVICE_WORDS, "elements", "invalid")]
    if service.owner is not None and service.owner.pmo_id != service.pmo_id:
        errors["owner"] = [_refusal(SERVICE_WORDS, "owner", "invalid")]
    if segments is not None and any(segment.pmo_id != service.pmo_id for segment in segments):
        errors["segments"] = [_refusal(SERVICE_WORDS, "segments", "invalid")]
    if "name" in fields and "name" not in errors:
        try:
            check_service_name_free(service.pmo, service.name, service)
        except RuleViolation as refusal:
            errors["name"] = [refusal]
    levels_changed = not service.pk or {"level_now", "level_target"} & set(fields)
    if levels_changed and not {"level_now", "level_target"} & set(errors):
        try:
            check_target(service.level_now, service.level_target, confirm_lower_target)
        except RuleViolation as refusal:
            errors["level_target"] = [refusal]
    retiring = service.status == ServiceStatus.RETIRING and (not service.pk or "status" in fields)
    if retiring and "status" not in errors:
        try:
            check_retire(service, confirm_retire)
        except RuleViolation as refusal:
            errors["status"] = [refusal]
    _raise(errors)


def refusals(error: ValidationError) -> dict[str, type]:
    """Which overridable refusals (LowerTarget, OpenActions) a refusal of a write holds, by
    field: a form then offers the confirmation next to the field."""
    found = {}
    for field, errors in getattr(error, "error_dict", {}).items():
        for item in errors:
            if isinstance(item, LowerTarget | OpenActions):
                found[field] = type(item)
    return found


# History -----------------------------------------------------------------------------------------


def _summary(before: dict | None, service: Service) -> str:
    """What changed, in words built from the choices' labels only (never from typed text)."""
    if before is None:
        return (
            f"Added as {service.get_status_display()}: level {service.get_level_now_display()}, "
            f"target {service.get_level_target_display()}."
        )
    parts = []
    if before["status"] != service.status:
        parts.append(f"Status {ServiceStatus(before['status']).label} → {service.get_status_display()}")
    if before["level_now"] != service.level_now:
        parts.append(f"level now {OfferingLevel(before['level_now']).label} → {service.get_level_now_display()}")
    if before["level_target"] != service.level_target:
        parts.append(f"target {OfferingLevel(before['level_target']).label} → {service.get_level_target_display()}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _record(service: Service, author, before: dict | None) -> ServiceEvent:
    return ServiceEvent.objects.create(
        service=service,
        happened_at=timezone.now(),
        author=author,
        summary=_summary(before, service),
        status=service.status,
        level_now=service.level_now,
        level_target=service.level_target,
    )


def _tracked(service: Service) -> dict:
    return {"status": service.status, "level_now": service.level_now, "level_target": service.level_target}


# Writes ------------------------------------------------------------------------------------------


def _normalised(values: dict) -> tuple[dict, list | None]:
    unknown = set(values) - set(SERVICE_FIELDS)
    assert not unknown, f"Not fields of the catalogue's writes: {unknown}"
    values = dict(values)
    segments = values.pop("segments", None)
    for name in ("name", "description"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()
    if "elements" in values and isinstance(values["elements"], list | tuple):
        values["elements"] = _in_order(values["elements"])
    return values, (list(segments) if segments is not None else None)


def _save(service: Service, segments: list | None, update_fields: list[str] | None) -> None:
    try:
        with transaction.atomic():
            service.save(update_fields=update_fields)
            if segments is not None:
                service.segments.set(segments)
    except IntegrityError:
        # The name was taken since it was checked: refused in the words of the check.
        check_service_name_free(service.pmo, service.name, service)
        raise


def create_service(pmo, author, values: dict, *, confirm_lower_target: bool = False) -> Service:
    """Add a service to the PMO's catalogue from `values` (SERVICE_FIELDS; a field not given
    takes the model's default: live, basic now, standard as the target), by `author` (a user
    or None), with the first entry of its history."""
    values, segments = _normalised(values)
    service = Service(pmo=pmo, **values)
    _check(
        service,
        SERVICE_FIELDS,
        segments or [],
        confirm_lower_target=confirm_lower_target,
        confirm_retire=True,  # a new service has no actions yet
    )
    with transaction.atomic():
        _save(service, segments, None)
        _record(service, author, None)
    return service


def update_service(
    service: Service, author, values: dict, *, confirm_lower_target: bool = False, confirm_retire: bool = False
) -> Service:
    """Change what `values` changes of a service, nothing else; a change of its status or
    levels is written to its history, by `author`."""
    values, segments = _normalised(values)
    before = _tracked(service)
    changed = _assign(service, _ROW_FIELDS, values)
    if segments is not None and {s.pk for s in segments} != set(service.segments.values_list("pk", flat=True)):
        changed.append("segments")
    else:
        segments = None
    try:
        _check(service, changed, segments, confirm_lower_target=confirm_lower_target, confirm_retire=confirm_retire)
    except ValidationError:
        # Nothing saved, and the caller's object back as it is stored.
        if row := [name for name in changed if name != "segments"]:
            service.refresh_from_db(fields=row)
        raise
    row = [name for name in changed if name != "segments"]
    with transaction.atomic():
        if row or segments is not None:
            _save(service, segments, [*row, "updated_at"] if row else [])
        if _tracked(service) != before:
            _record(service, author, before)
    return service


def deletion_effects(service: Service) -> dict[str, int]:
    """What deleting the service touches, for the confirmation page: the surveys that asked
    about it (they keep their snapshot and answers) and the actions linked to it (they stay on
    the agenda, unlinked)."""
    return {
        "surveys": service.pmo.surveys.filter(survey_services__service=service).distinct().count(),
        "actions": service.actions.count(),
    }


def delete_service(service: Service) -> None:
    """Delete a service from the catalogue with its history. The surveys that asked about it
    keep their snapshot (SurveyService, its name and answers) and so their figures; its
    agenda actions stay, no longer linked to a service."""
    service.delete()


# The PMO's words for the offering levels ---------------------------------------------------------


def set_offering_levels(pmo, words: dict) -> dict:
    """Set the PMO's own words for the offering levels: {level (1–4 or OfferingLevel): text}.
    Empty text (or the default's words) goes back to the default. Returns the PMO's stored words."""
    errors = {}
    own = dict(pmo.offering_levels) if isinstance(pmo.offering_levels, dict) else {}
    for level, text in words.items():
        try:
            level = OfferingLevel(int(level))
        except (TypeError, ValueError):
            raise AssertionError(f"Not an offering level: {level!r}") from None
        text = (text or "").strip()
        if len(text) > LEVEL_WORDS_MAX:
            errors[level_field(level)] = [
                ValidationError(
                    f"Keep each level's words to {LEVEL_WORDS_MAX:,} characters or fewer (it has {len(text):,}).",
                    code="max_length",
                )
            ]
        elif not text or text == DEFAULT_OFFERING_LEVEL_DESCRIPTIONS[level]:
            own.pop(str(level.value), None)
        else:
            own[str(level.value)] = text
    _raise(errors)
    if own != pmo.offering_levels:
        pmo.offering_levels = own
        pmo.save(update_fields=["offering_levels"])
    return own
