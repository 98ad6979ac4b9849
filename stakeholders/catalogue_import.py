"""Importing the service catalogue from a spreadsheet (issue 12; docs/services.md, "Data in
and out").

The stakeholder import's machinery (stakeholders/imports.py: reading the file within the
hostile-upload bounds, the plan, the preview, the confirm step and its job) with the
catalogue's columns. Every row is written through the catalogue's one write path
(stakeholders/catalogue.py: create_service, update_service), as the web form and the API
write it, and refused in its words:

- the preview runs those writes row by row inside a transaction that is rolled back, so
  that each row meets every rule (a name taken ignoring case, another PMO's segment or
  owner, the levels) exactly as it will when it is written;
- a row the catalogue would ask to confirm (a target below the level now, retiring a
  service that open actions develop) is a warning on the preview: confirming the import
  confirms it, and the confirm step writes no warning the preview did not show;
- rows are matched to the catalogue on the service's name, ignoring case: a known name
  updates that service, a new one adds a service.

A catalogue has tens of services: at most MAX_ROWS rows are taken, and each costs the write
path's own queries (about 12 to check a new service, 21 to check it again and write it), not a batch:
300 rows take about 2.6 s to preview and 4.4 s to confirm (docs/services.md).
"""

import re
from collections import defaultdict
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from pmo5p.domain import Element, OfferingLevel
from stakeholders import catalogue
from stakeholders.imports import (
    CREATE,
    INVALID,
    SKIPPED,
    UNCHANGED,
    UPDATE,
    Column,
    Importer,
    Plan,
    _text,
)
from stakeholders.models import ImportJob, Segment, ServiceStatus
from stakeholders.register import email_key, segment_key

MAX_ROWS = 300

COLUMNS = [
    Column(
        "name",
        "Name",
        frozenset({"name", "service", "servicename"}),
        "Required. Rows are matched to the catalogue on it, ignoring case: a known name updates that service, "
        "a new one adds a service.",
    ),
    Column("description", "Description", frozenset({"description", "summary", "about"}), ""),
    Column(
        "owner",
        "Owner e-mail",
        frozenset({"owner", "owneremail", "serviceowner", "serviceowneremail", "owneremailaddress"}),
        "The e-mail address of the member of this PMO who answers for the service.",
    ),
    Column(
        "segments",
        "Segments",
        frozenset({"segments", "segment", "serves", "whomitserves"}),
        "The names of this PMO's segments it serves, separated by semicolons; blank: every stakeholder.",
    ),
    Column(
        "elements",
        "P elements",
        frozenset({"pelements", "elements", "ps", "5ps", "pelement"}),
        "The P's it mainly serves: Product, Physical Evidence, Price, People, Process, separated by semicolons.",
    ),
    Column(
        "status",
        "Status",
        frozenset({"status"}),
        f"{', '.join(ServiceStatus.labels[:-1])} or {ServiceStatus.labels[-1]}; Live if blank.",
    ),
    Column(
        "launched_on",
        "Launch date",
        frozenset({"launchdate", "launchedon", "launched", "launch"}),
        "A date as year-month-day, e.g. 2026-03-01.",
    ),
    Column(
        "level_now",
        "Level now",
        frozenset({"levelnow", "level", "offeringlevel", "offeringlevelnow", "currentlevel"}),
        f"{', '.join(OfferingLevel.labels[:-1])} or {OfferingLevel.labels[-1]} (or 1 to 4); Basic if blank.",
    ),
    Column(
        "level_target",
        "Target level",
        frozenset({"targetlevel", "target", "leveltarget", "targetofferinglevel"}),
        "As the level now; Standard if blank. Below the level now: a warning you confirm with the import.",
    ),
]
COLUMN_OF = {column.field: column for column in COLUMNS}
REQUIRED = ("name",)
# Cells that keep the service's value when blank (a new service takes the model's default).
KEPT_WHEN_BLANK = ("status", "level_now", "level_target")


# Reading a row's cells ----------------------------------------------------------------------


def _words(cell: str) -> list[str]:
    """The items of a list cell: separated by semicolons or line breaks, blanks left out."""
    return [item.strip() for item in re.split(r"[;\n]", cell) if item.strip()]


def _choice(choices, message: str):
    by_word = {}
    for value, label in choices:
        by_word[str(value).casefold()] = value
        by_word[" ".join(str(label).casefold().split())] = value

    def read(cell: str):
        text = " ".join(_text(cell).casefold().split())
        if not text:
            return None
        number = re.fullmatch(r"(\d+)(?:[.,]0+)?(?:\s*·.*)?", text)  # "2", "2.0", the form's "2 · Standard"
        value = by_word.get(number.group(1) if number else text)
        if value is None:
            raise ValidationError(message)
        return value

    return read


def _elements(cell: str) -> list[str]:
    read = _choice(Element.choices, "")
    values, unknown = [], []
    for item in _words(_text(cell).replace(",", ";")):
        try:
            values.append(read(item))
        except ValidationError:
            unknown.append(item)
    if unknown:
        raise ValidationError(
            f"“{'”, “'.join(unknown)}” {'is not a P' if len(unknown) == 1 else 'are not P'} of the model: "
            "use Product, Physical Evidence, Price, People or Process."
        )
    return values


def _date(cell: str) -> date | None:
    text = _text(cell)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10] if re.fullmatch(r"\d{4}-\d\d-\d\d(?:[ T]00:00(?::00)?)?", text) else "")
    except ValueError:
        raise ValidationError(f"“{text}” is not a date: give it as year-month-day, e.g. 2026-03-01.") from None


READERS = {
    "name": _text,
    "description": _text,
    "owner": lambda cell: email_key(_text(cell)),
    "segments": lambda cell: _text(cell),
    "elements": _elements,
    "status": _choice(ServiceStatus.choices, catalogue.SERVICE_WORDS["status"]["invalid"]),
    "launched_on": _date,
    "level_now": _choice(OfferingLevel.choices, catalogue.SERVICE_WORDS["level_now"]["invalid"]),
    "level_target": _choice(OfferingLevel.choices, catalogue.SERVICE_WORDS["level_target"]["invalid"]),
}


# The plan -----------------------------------------------------------------------------------


class ServicePlan(Plan):
    """A Plan whose writes are the catalogue's: (existing service or None, values, confirmations)."""

    def __init__(self):
        super().__init__()
        self.writes: list[tuple] = []


class _Context:
    """What each row is checked against, read once: the catalogue by name (ignoring case),
    the segments by name (register.segment_key), the members by e-mail, and the rows that give
    each name."""

    def __init__(self, pmo, parsed_rows, columns: dict, *, lock: bool):
        services = pmo.services.prefetch_related("segments")
        if lock:
            services = services.select_for_update(of=("self",))
        self.pmo = pmo
        self.header = columns["fields"]
        self.services = {service.name.casefold(): service for service in services}
        self.segments = {segment_key(s.name): s for s in Segment.objects.filter(pmo=pmo)}
        self.members = {email_key(m.user.email): m for m in pmo.memberships.select_related("user")}
        self.rows_of_name = defaultdict(list)
        for number, values in parsed_rows:
            if values and values.get("name", "").strip():
                self.rows_of_name[values["name"].strip().casefold()].append(number)

    def duplicate_error(self, number: int, name: str) -> str | None:
        rows = self.rows_of_name[name.casefold()]
        if len(rows) < 2:
            return None
        others = ", ".join(str(n) for n in rows if n != number)
        return f"“{name}” is also on row {others}: give each service one row."

    def segments_named(self, cell: str) -> tuple[list, str | None]:
        """The segments a cell names (the whole cell first: a segment's name may hold a ";")."""
        whole = self.segments.get(segment_key(cell)) if cell else None
        if whole is not None:
            return [whole], None
        found, unknown = [], []
        for name in _words(cell):
            segment = self.segments.get(segment_key(name))
            (found if segment is not None else unknown).append(segment or name)
        if unknown:
            names = "”, “".join(unknown)
            return [], f"This PMO has no segment “{names}”. Use the names of its segments, separated by semicolons."
        return found, None

    def owner(self, email: str | None) -> tuple:
        if not email:
            return None, None
        owner = self.members.get(email)
        if owner is None:
            return None, catalogue.SERVICE_WORDS["owner"]["invalid"]
        return owner, None


def _read(number: int, values: dict, context: _Context) -> tuple[dict, dict]:
    """(the values the file gives, for the catalogue's writes; {field: [messages]})."""
    data, errors = {}, {}
    for name in context.header:
        try:
            data[name] = READERS[name](values.get(name) or "")
        except ValidationError as refusal:
            errors[name] = refusal.messages
    if "segments" in data:
        data["segments"], error = context.segments_named(data["segments"])
        if error:
            errors["segments"] = [error]
    if "owner" in data:
        data["owner"], error = context.owner(data["owner"])
        if error:
            errors["owner"] = [error]
    if duplicate := context.duplicate_error(number, data.get("name") or ""):
        errors.setdefault("name", []).append(duplicate)
    for name in KEPT_WHEN_BLANK:
        if data.get(name) is None:
            data.pop(name, None)
    return data, errors


def _changed(service, data: dict) -> list[str]:
    """The fields of `data` that differ from the service's."""
    changed = []
    for name, value in data.items():
        if name == "segments":
            differs = {s.pk for s in value} != {s.pk for s in service.segments.all()}
        elif name == "elements":
            differs = sorted(value) != sorted(service.elements)
        else:
            differs = getattr(service, name) != value
        if differs:
            changed.append(name)
    return changed


def _write(pmo, user, existing, data: dict, *, confirm_lower_target: bool, confirm_retire: bool):
    if existing is None:
        return catalogue.create_service(pmo, user, data, confirm_lower_target=confirm_lower_target)
    return catalogue.update_service(
        existing, user, data, confirm_lower_target=confirm_lower_target, confirm_retire=confirm_retire
    )


CONFIRMATION = {catalogue.LowerTarget: "confirm_lower_target", catalogue.OpenActions: "confirm_retire"}


def _try(pmo, existing, data: dict) -> tuple[dict, list[str], dict]:
    """Write the row through the catalogue in a savepoint that is rolled back: ({field: [messages]}
    of its refusals, the warnings that a confirmation overrides, those confirmations)."""
    warnings = []
    confirm = {"confirm_lower_target": False, "confirm_retire": False}
    while True:
        try:
            with transaction.atomic():
                _write(pmo, None, existing, dict(data), **confirm)
                transaction.set_rollback(True)
            return {}, warnings, confirm
        except ValidationError as refusal:
            overridable = {
                f: kind for f, kind in catalogue.refusals(refusal).items() if not confirm[CONFIRMATION[kind]]
            }
            messages = refusal.message_dict if hasattr(refusal, "error_dict") else {None: refusal.messages}
            errors = {field: list(texts) for field, texts in messages.items() if field not in overridable}
            if errors or not overridable:
                return errors or messages, warnings, confirm
            for field, kind in overridable.items():
                warnings.extend(messages[field])
                confirm[CONFIRMATION[kind]] = True
        finally:
            if existing is not None:
                existing.refresh_from_db()


def analyse(pmo, parsed_rows, columns: dict, *, create_segments: bool = False, lock: bool = False) -> ServicePlan:
    """Check every row by the catalogue's rules, its writes rolled back: the plan. With `lock`
    (the confirm step, inside its transaction) the PMO's services stay locked until written."""
    context = _Context(pmo, parsed_rows, columns, lock=lock)
    plan = ServicePlan()
    with transaction.atomic():
        for number, values in parsed_rows:
            if values is None:
                plan.rows.append([number, SKIPPED, "", "", "Empty row"])
                continue
            _plan_row(plan, context, number, values)
        transaction.set_rollback(True)  # nothing of the check is kept
    return plan


def _plan_row(plan: ServicePlan, context: _Context, number: int, values: dict) -> None:
    data, errors = _read(number, values, context)
    name = data.get("name") or values.get("name", "")
    existing = context.services.get(name.strip().casefold()) if name else None
    warnings, confirm = [], {}
    if not errors:
        if existing is not None and not _changed(existing, data):
            plan.rows.append([number, UNCHANGED, existing.name, "", "Same as the catalogue"])
            return
        errors, warnings, confirm = _try(context.pmo, existing, data)
    if errors:
        listed = [
            [context.header.get(field, COLUMN_OF[field].label if field in COLUMN_OF else "Row"), message]
            for field in [*COLUMN_OF, None]
            if field in errors
            for message in errors[field]
        ]
        plan.rows.append([number, INVALID, name, "", listed])
        return
    plan.writes.append((existing.pk if existing else None, data, confirm))
    if existing is None:
        plan.rows.append([number, CREATE, data["name"], "", [], *([warnings] if warnings else [])])
    else:
        changed = [context.header.get(field, field) for field in _changed(existing, data)]
        plan.rows.append([number, UPDATE, existing.name, "", changed, *([warnings] if warnings else [])])


def apply(pmo, plan: ServicePlan, user) -> dict:
    """Write a valid plan through the catalogue, the previewed warnings confirmed. Call inside
    a transaction (the confirm step's), so that any refusal leaves the catalogue as it was."""
    assert plan.is_valid, "A plan with invalid rows is never applied."
    assert transaction.get_connection().in_atomic_block, "Apply an import inside transaction.atomic()."
    services = {service.pk: service for service in pmo.services.all()}
    for existing_id, data, confirm in plan.writes:
        existing = services.get(existing_id) if existing_id else None
        _write(pmo, user, existing, dict(data), **confirm)
    return {
        "created": plan.count(CREATE),
        "updated": plan.count(UPDATE),
        "unchanged": plan.count(UNCHANGED),
        "skipped": plan.count(SKIPPED),
        "segments": [],
    }


SERVICES = Importer(
    kind=ImportJob.Kind.SERVICES,
    noun="service",
    plural="services",
    whole="the catalogue",
    columns=COLUMNS,
    required=REQUIRED,
    analyse=analyse,
    apply=apply,
    max_rows=MAX_ROWS,
)
