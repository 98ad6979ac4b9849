"""Importing from a spreadsheet: columns, row checks, the plan, and its application.

The machinery is shared by every import (an `Importer`: the stakeholder register here,
the service catalogue in stakeholders/catalogue_import.py): `read_rows` turns an uploaded
file into rows of text keyed by the importer's fields, within the hostile-upload bounds
(`limits`); the importer's `analyse` checks every row against the PMO's data as it is now
and says, per row, whether it will be created, updated, left unchanged or skipped, or why
it cannot be imported (a `Plan`); `confirm` checks the rows again when the user confirms
the preview, and applies the plan, all of it or nothing, once.

For stakeholders: every row is checked by the register's rules (register.py, as for the
web form and the API). The register, the segments and the members are each read once,
whatever the number of rows; writes go in batches.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from pmo5p.domain import MaturityStage
from pmo5p.rules import RuleViolation
from stakeholders import register
from stakeholders.models import Segment, Stakeholder
from stakeholders.register import email_key
from stakeholders.spreadsheets import Limits, SpreadsheetError, read_table, unneutralise


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: frozenset[str]
    help: str


def _key(header: str) -> str:
    """Headers compare without case, spaces or punctuation: "E-mail address" is "emailaddress"."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


COLUMNS = [
    Column("name", "Name", frozenset({"name", "fullname", "stakeholder", "stakeholdername"}), "Required."),
    Column(
        "email",
        "E-mail",
        frozenset({"email", "emailaddress", "mail", "emails"}),
        "Required. Rows are matched to the register on it, ignoring case.",
    ),
    Column("job_title", "Job title", frozenset({"jobtitle", "title", "position"}), ""),
    Column("business_unit", "Business unit", frozenset({"businessunit", "unit", "department"}), ""),
    Column("segment", "Segment", frozenset({"segment", "segmentname"}), "The name of one of this PMO's segments."),
    Column("influence", "Influence", frozenset({"influence", "power"}), "1 (very low) to 5 (very high); 3 if blank."),
    Column("interest", "Interest", frozenset({"interest"}), "1 (very low) to 5 (very high); 3 if blank."),
    Column(
        "owner",
        "Owner e-mail",
        frozenset({"owner", "owneremail", "relationshipowner", "relationshipowneremail", "owneremailaddress"}),
        "The e-mail address of a member of this PMO who looks after the relationship.",
    ),
    Column("notes", "Notes", frozenset({"notes", "note", "comments", "comment"}), ""),
    Column("is_active", "Active", frozenset({"active", "isactive"}), "yes or no; yes if blank."),
    Column(
        "target_stage",
        "Target maturity",
        frozenset({"targetmaturity", "target", "targetstage"}),
        "Unaware, Aware, Understanding, Respect or Trust (or 1 to 5); blank: their quadrant's default, "
        "or the target they have.",
    ),
    Column(
        "target_reason",
        "Why this target",
        frozenset({"whythistarget", "targetreason"}),
        "Needed with a target of their own.",
    ),
    Column(
        "cadence_days",
        "Contact every (days)",
        frozenset({"contactevery", "contacteverydays", "cadence", "cadencedays"}),
        "1 to 730; blank: their quadrant's default, or the cadence they have.",
    ),
]
COLUMN_OF = {column.field: column for column in COLUMNS}
FIELD_OF_KEY = {alias: column.field for column in COLUMNS for alias in column.aliases}
REQUIRED = ("name", "email")
# Compared and written on update: all but the e-mail address, which rows are matched on.
UPDATABLE = [name for name in register.STAKEHOLDER_FIELDS if name != "email"]


class ImportRefused(Exception):
    """The file cannot be imported at all (rather than some of its rows)."""


@dataclass(frozen=True)
class Importer:
    """What one kind of import reads and how it checks and writes its rows; the upload, the
    preview, the confirm step and the job (ImportJob of this `kind`) are the same for all."""

    kind: str  # ImportJob.kind
    noun: str  # "stakeholder": one row's thing
    plural: str
    whole: str  # what the rows are checked against: "the register"
    columns: list  # [Column, ...]
    required: tuple  # fields the header must name
    # (pmo, parsed_rows, columns, *, create_segments, lock) -> Plan
    analyse: Callable
    # (pmo, plan, user) -> the counts shown once imported ({"created", "updated", "unchanged", ...})
    apply: Callable
    # At most this many rows (below the site's PMO5P_IMPORT_MAX_ROWS), None: the site's limit.
    max_rows: int | None = None

    @property
    def column_of(self) -> dict:
        return {column.field: column for column in self.columns}

    @property
    def field_of_key(self) -> dict:
        return {alias: column.field for column in self.columns for alias in column.aliases}

    def limits(self) -> Limits:
        bounds = limits()
        if self.max_rows is not None and self.max_rows < bounds.rows:
            bounds = replace(bounds, rows=self.max_rows)
        return bounds


# Reading the file ---------------------------------------------------------------------------


@dataclass
class ParsedFile:
    columns: dict  # {"fields": {field: header}, "ignored": [header, ...]}
    rows: list  # [[number, {field: text}] or [number, None] for an empty row]


def limits() -> Limits:
    """The limits on an imported file, from the settings (PMO5P_IMPORT_*)."""
    return Limits(
        rows=settings.IMPORT_MAX_ROWS,
        columns=settings.IMPORT_MAX_COLUMNS,
        cell_chars=settings.IMPORT_MAX_CELL_CHARS,
        unpacked_bytes=settings.IMPORT_MAX_XLSX_BYTES,
        part_bytes=settings.IMPORT_MAX_XLSX_PART_BYTES,
        parts=settings.IMPORT_MAX_XLSX_PARTS,
        cells=settings.IMPORT_MAX_XLSX_CELLS,
        strings=settings.IMPORT_MAX_XLSX_STRINGS,
    )


def read_rows(name: str, data: bytes, importer: Importer | None = None) -> ParsedFile:
    importer = importer or STAKEHOLDERS
    found = {}

    def keep(header: list[str]) -> list[int]:
        found.update(_columns(header, importer))
        return list(found["positions"].values())

    try:
        # Only the imported columns are kept as the rows are read: a file may have many others.
        table = read_table(name, data, limits=importer.limits(), columns=keep)
    except SpreadsheetError as error:
        raise ImportRefused(str(error)) from error
    fields = list(found["positions"])
    rows = []
    for number, cells in table.rows:
        if not cells:  # an empty row of the file
            rows.append([number, None])
            continue
        rows.append([number, {f: unneutralise(cell) for f, cell in zip(fields, cells, strict=True)}])
    return ParsedFile(columns={"fields": found["headers"], "ignored": found["ignored"]}, rows=rows)


def _columns(header: list[str], importer: Importer) -> dict:
    """The imported columns the header names (field → position, field → header), and the ignored ones."""
    column_of, field_of_key = importer.column_of, importer.field_of_key
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored = []
    for index, text in enumerate(header):
        if not text:
            continue
        field_name = field_of_key.get(_key(text))
        if field_name is None:
            ignored.append(text)
        elif field_name in positions:
            raise ImportRefused(
                f"Two columns give the {column_of[field_name].label.lower()}: “{headers[field_name]}” and “{text}”. "
                "Keep one of them and upload the file again."
            )
        else:
            positions[field_name] = index
            headers[field_name] = text
    missing = [column_of[f].label for f in importer.required if f not in positions]
    if missing:
        found_text = ", ".join(f"“{h}”" for h in header if h) or "none"
        at_least = " and ".join(column_of[f].label for f in importer.required)
        raise ImportRefused(
            f"The file has no {' and no '.join(missing)} column. The first row must name the columns "
            f"(at least {at_least}); the columns found are: {found_text}."
        )
    return {"positions": positions, "headers": headers, "ignored": ignored}


# Reading a row's cells ----------------------------------------------------------------------
#
# What only a spreadsheet says: levels as words, yes or no, the owner by e-mail address. The
# values read are checked by the register's rules (register.new_stakeholder and
# change_stakeholder), as the web form's and the API's are. Plain functions rather than a
# form: a form's machinery costs more than the checks themselves over thousands of rows.

LEVEL_WORDS = {"very low": 1, "low": 2, "medium": 3, "high": 4, "very high": 5}
YES = {"yes", "y", "true", "1", "active", "x", "oui", "ja"}
NO = {"no", "n", "false", "0", "inactive", "non", "nein"}
_no_nul = ProhibitNullCharactersValidator()


def _text(cell: str) -> str:
    text = cell.strip()
    _no_nul(text)
    return text


def _email(cell: str) -> str:
    """The e-mail address rows are matched to the register on: required."""
    email = email_key(_text(cell))
    if not email:
        raise ValidationError(register.EMAIL_KEY_REQUIRED)
    return email


def _level(name: str) -> Callable[[str], int | None]:
    def read(cell: str) -> int | None:
        """A number ("4", "4.0"), the form's label ("4 · High") or a word ("High"); blank: None."""
        text = _text(cell)
        if not text:
            return None
        number = re.fullmatch(r"(\d+)(?:[.,]0+)?(?:\s*·.*)?", text)
        level = int(number.group(1)) if number else LEVEL_WORDS.get(" ".join(text.casefold().split()))
        if level is None:
            raise ValidationError(register.STAKEHOLDER_WORDS[name]["invalid"])
        return level  # its range is the register's rule

    return read


STAGE_WORDS = {stage.label.casefold(): stage.value for stage in MaturityStage}


def _stage(cell: str) -> int | None:
    """A maturity stage by name ("Trust") or number ("5"); blank: None."""
    text = _text(cell)
    if not text:
        return None
    number = re.fullmatch(r"-?\d+(?:[.,]0+)?", text)
    stage = int(re.split(r"[.,]", text)[0]) if number else STAGE_WORDS.get(" ".join(text.casefold().split()))
    if stage is None:
        raise ValidationError(register.STAKEHOLDER_WORDS["target_stage"]["invalid"])
    return stage  # its range is the register's rule


def _days(cell: str) -> int | None:
    """A whole number of days ("30", "30.0"); blank: None."""
    text = _text(cell)
    if not text:
        return None
    if not re.fullmatch(r"-?\d+(?:[.,]0+)?", text):
        raise ValidationError(register.STAKEHOLDER_WORDS["cadence_days"]["invalid"])
    return int(re.split(r"[.,]", text)[0])  # its range is the register's rule


def _active(cell: str) -> bool | None:
    text = _text(cell).casefold()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValidationError(f"“{cell.strip()}” is not yes or no.")


READERS = {
    "name": _text,
    "email": _email,
    "job_title": _text,
    "business_unit": _text,
    "segment": _text,
    "influence": _level("influence"),
    "interest": _level("interest"),
    "owner": lambda cell: email_key(_text(cell)),
    "notes": _text,
    "is_active": _active,
    "target_stage": _stage,
    "target_reason": _text,
    "cadence_days": _days,
}


def read_row(values: dict) -> tuple[dict, dict]:
    """(the row's values, {field: [messages]} of the cells that cannot be read); a column the
    file does not have reads as a blank cell."""
    data, errors = {}, {}
    for name, read in READERS.items():
        try:
            data[name] = read(values.get(name) or "")
        except ValidationError as refusal:
            errors[name] = refusal.messages
    return data, errors


# The plan -----------------------------------------------------------------------------------

CREATE, UPDATE, UNCHANGED, SKIPPED, INVALID = "create", "update", "unchanged", "skipped", "invalid"
ACTIONS = [CREATE, UPDATE, UNCHANGED, SKIPPED, INVALID]


@dataclass
class Plan:
    # Per row: [number, action, name, email, details] (an importer without e-mails leaves it ""),
    # and for a row with warnings, a sixth item: [message, ...]. Details are [[column, message], ...]
    # for an invalid row, the changed columns for an update, a reason for a skipped row, notes for
    # a new one. A warning is a change the user confirms by confirming the import (a service's
    # target below its level now, say); the confirm step writes no warning the preview did not show.
    rows: list = field(default_factory=list)
    to_create: list = field(default_factory=list)
    to_update: list = field(default_factory=list)
    update_fields: set = field(default_factory=set)
    # Segments to create (unsaved), by register.segment_key, in the spelling first met; and who joins them.
    new_segments: dict = field(default_factory=dict)
    joins_new_segment: list = field(default_factory=list)

    def count(self, action) -> int:
        return sum(1 for row in self.rows if row[1] == action)

    @property
    def counts(self) -> dict:
        counts = {action: self.count(action) for action in ACTIONS}
        counts["total"] = len(self.rows)
        return counts

    @property
    def is_valid(self) -> bool:
        return not any(row[1] == INVALID for row in self.rows)

    def as_json(self) -> dict:
        segments = [segment.name for segment in self.new_segments.values()]
        return {"counts": self.counts, "segments_to_create": segments, "rows": self.rows}


def warnings(preview_rows: list) -> set:
    """The (row, warning) pairs of a plan's rows (Plan.rows, or a job's preview["rows"])."""
    return {(row[0], message) for row in preview_rows if len(row) > 5 for message in row[5]}


def analyse(pmo, parsed_rows, columns: dict, *, create_segments: bool, lock: bool = False) -> Plan:
    """Check every row against the PMO's register as it is now: three queries, whatever the size.

    With `lock` (the confirm step, inside its transaction) the stakeholders read are locked
    until the import is written, so that nobody edits or deletes them in between.
    """
    context = _Context.read(pmo, parsed_rows, columns, create_segments=create_segments, lock=lock)
    plan = Plan()
    for number, values in parsed_rows:
        if values is None:
            plan.rows.append([number, SKIPPED, "", "", "Empty row"])
        else:
            _plan_row(plan, context, number, values)
    return plan


@dataclass
class _Context:
    """What each row is checked against, read once: the register by e-mail (lower case), the
    segments by name (register.segment_key), the members by e-mail, and the rows that give each e-mail."""

    pmo: object
    header: dict  # field → the file's header for it
    create_segments: bool
    register: dict
    segments: dict
    members: dict
    rows_of_email: dict

    @classmethod
    def read(cls, pmo, parsed_rows, columns: dict, *, create_segments: bool, lock: bool) -> "_Context":
        stakeholders = Stakeholder.objects.filter(pmo=pmo).exclude(email="")
        if lock:
            stakeholders = stakeholders.select_for_update()
        rows_of_email = defaultdict(list)
        for number, values in parsed_rows:
            if values and values.get("email", "").strip():
                rows_of_email[email_key(values["email"])].append(number)
        return cls(
            pmo=pmo,
            header=columns["fields"],
            create_segments=create_segments,
            register={email_key(s.email): s for s in stakeholders},
            segments={register.segment_key(s.name): s for s in Segment.objects.filter(pmo=pmo)},
            members={email_key(m.user.email): m for m in pmo.memberships.select_related("user")},
            rows_of_email=rows_of_email,
        )

    def duplicate_error(self, number: int, email: str | None) -> str | None:
        """The message if another row gives the same e-mail."""
        if not email or len(self.rows_of_email[email]) < 2:
            return None
        others = ", ".join(str(n) for n in self.rows_of_email[email] if n != number)
        return f"{email} is also on row {others}: give each stakeholder one row."

    def segment(self, name: str) -> tuple:
        """(the segment named, a segment to create, the message if neither)."""
        if not name:
            return None, None, None
        segment = self.segments.get(register.segment_key(name))
        if segment is not None:
            return segment, None, None
        if not self.create_segments:
            message = (
                f"This PMO has no segment “{name}”. Correct the name, or tick "
                "“Create missing segments” when you upload the file."
            )
            return None, None, message
        try:
            return None, register.new_segment(self.pmo, {"name": name}), None
        except ValidationError as refusal:
            return None, None, refusal.messages[0]

    def owner(self, email: str | None) -> tuple:
        """(the member with this e-mail, the message if there is none)."""
        if not email:
            return None, None
        owner = self.members.get(email)
        if owner is None:
            return None, register.STAKEHOLDER_WORDS["owner"]["invalid"]
        return owner, None


def _plan_row(plan: Plan, context: _Context, number: int, values: dict) -> None:
    """Add one non-empty row to the plan: invalid with its errors, or to create, update or leave."""
    data, errors = read_row(values)
    email = data.get("email")
    segment, new_segment, segment_error = context.segment(data.get("segment") or "")
    owner, owner_error = context.owner(data.get("owner"))
    found = {"email": context.duplicate_error(number, email), "segment": segment_error, "owner": owner_error}
    for name, error in found.items():
        if error:
            errors.setdefault(name, []).append(error)
    # The columns the file has; a blank level or active flag is not given: the register's
    # default for a new stakeholder (3, active), and kept as it is on an update.
    given = {name: data[name] for name in UPDATABLE if name in context.header and data.get(name) is not None}
    given.update({name: value for name, value in (("segment", segment), ("owner", owner)) if name in given})
    existing = context.register.get(email)
    outcome = _prepare(context, existing, email, given, new_segment, errors)

    shown = [data.get("name") or values.get("name", ""), email or values.get("email", "")]
    if errors:
        plan.rows.append([number, INVALID, *shown, _error_list(errors, context.header)])
    elif existing is None:
        notes = []
        if new_segment:
            notes.append(f"new segment “{_join_new_segment(plan, outcome, new_segment).name}”")
        plan.to_create.append(outcome)
        plan.rows.append([number, CREATE, *shown, notes])
    elif not outcome:
        plan.rows.append([number, UNCHANGED, *shown, "Same as the register"])
    else:
        if new_segment:
            _join_new_segment(plan, existing, new_segment)
        plan.to_update.append(existing)
        plan.update_fields.update(outcome)
        plan.rows.append([number, UPDATE, *shown, [context.header.get(c, c) for c in outcome]])


def _prepare(context: _Context, existing, email, given: dict, new_segment, errors: dict):
    """The row by the register's rules: a new stakeholder, or the fields it changes on `existing`.
    Their refusals join `errors`, but on a column that could not be read already."""
    try:
        if existing is None:
            return register.new_stakeholder(context.pmo, {**given, "email": email or ""})
        if new_segment:
            # The segment is created, and joined, when the plan is applied.
            given.pop("segment")
            return sorted(
                [*register.change_stakeholder(existing, given), "segment"], key=register.STAKEHOLDER_FIELDS.index
            )
        return register.change_stakeholder(existing, given)
    except ValidationError as refusal:
        for name, messages in refusal.message_dict.items():
            errors.setdefault(name, messages)
        return None


def _error_list(errors: dict, header: dict) -> list:
    """[[column, message], ...] in the order of the columns."""
    return [
        [header.get(name, COLUMN_OF[name].label), str(m)] for name in COLUMN_OF if name in errors for m in errors[name]
    ]


def _join_new_segment(plan: Plan, stakeholder: Stakeholder, segment: Segment) -> Segment:
    """The stakeholder joins a segment the plan creates, spelt as the first row that names it."""
    key = register.segment_key(segment.name)
    plan.joins_new_segment.append((stakeholder, key))
    return plan.new_segments.setdefault(key, segment)


def apply(pmo, plan: Plan) -> dict:
    """Carry out a valid plan: one insert for the new segments, then batches of stakeholders.

    Call inside a transaction, so that any failure leaves the register as it was.
    """
    assert plan.is_valid, "A plan with invalid rows is never applied."
    assert transaction.get_connection().in_atomic_block, "Apply an import inside transaction.atomic()."
    created_segments = register.create_segments(list(plan.new_segments.values()))
    for stakeholder, key in plan.joins_new_segment:
        stakeholder.segment = plan.new_segments[key]
    register.create_stakeholders(plan.to_create)
    if plan.to_update:
        register.update_stakeholders(plan.to_update, [name for name in UPDATABLE if name in plan.update_fields])
    return {
        "created": len(plan.to_create),
        "updated": len(plan.to_update),
        "unchanged": plan.count(UNCHANGED),
        "skipped": plan.count(SKIPPED),
        "segments": [segment.name for segment in created_segments],
    }


STAKEHOLDERS = Importer(
    kind="stakeholders",
    noun="stakeholder",
    plural="stakeholders",
    whole="the register",
    columns=COLUMNS,
    required=REQUIRED,
    analyse=analyse,
    apply=lambda pmo, plan, user: apply(pmo, plan),
)


# Confirming ---------------------------------------------------------------------------------


class AlreadyImported(RuleViolation):
    """The job was confirmed before (another click, another tab): nothing is imported again."""


class PlanOutdated(RuleViolation):
    """The register changed since the preview: the job's preview is checked anew and kept."""


def confirm(pmo, user, job_id: int, importer: Importer | None = None):
    """Import a previewed file once: (the job, the importer's counts).

    The job is locked, so two clicks on Confirm import the file once; the rows are checked
    again against the PMO's data as it is now, and all of them are written or none. A
    warning the preview did not show (the data changed since) stops the import as an
    invalid row does: the user confirms only what they saw.
    """
    importer = importer or STAKEHOLDERS
    try:
        with transaction.atomic():
            job = pmo.import_jobs.select_for_update().get(pk=job_id, kind=importer.kind)
            if job.is_confirmed:
                raise AlreadyImported(
                    None,
                    f"This file was already imported on {timezone.localtime(job.confirmed_at):%-d %b %Y at %H:%M}; "
                    "nothing was imported again.",
                )
            previewed = warnings(job.preview.get("rows", []))
            plan = importer.analyse(pmo, job.rows, job.columns, create_segments=job.create_segments, lock=True)
            job.preview = plan.as_json()
            job.checked_at = timezone.now()
            if not plan.is_valid or not warnings(plan.rows) <= previewed:
                job.save(update_fields=["preview", "checked_at"])
                outdated = PlanOutdated(
                    None,
                    f"{importer.whole.capitalize()} changed since this preview and some rows can no longer be "
                    "imported as they were shown. Nothing was imported: check the rows below.",
                )
            else:
                result = importer.apply(pmo, plan, user)
                job.confirmed_at = job.checked_at
                job.confirmed_by = user
                job.result = result
                job.save(update_fields=["preview", "checked_at", "confirmed_at", "confirmed_by", "result"])
                return job, result
    except IntegrityError as error:
        taken = "an e-mail address or segment name" if importer is STAKEHOLDERS else "a name"
        raise PlanOutdated(
            None,
            f"Someone changed {importer.whole} while the file was being imported ({taken} "
            "was taken meanwhile). Nothing was imported: confirm again to check the rows anew.",
        ) from error
    # Raised after the transaction, which keeps the preview checked anew.
    raise outdated
