"""Importing stakeholders from a spreadsheet: columns, row checks, the plan, and its application.

`read_rows` turns an uploaded file into rows of text keyed by field. `analyse` checks
every row against the register as it is now and says, per row, whether it will be
created, updated, left unchanged or skipped, or why it cannot be imported. `apply`
carries out a plan without a single invalid row. The register, the segments and
the members are each read once, whatever the number of rows; writes go in batches.
"""

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from pmo5p.rules import RuleViolation
from stakeholders.import_forms import StakeholderRowForm
from stakeholders.models import Segment, Stakeholder
from stakeholders.register import email_key
from stakeholders.spreadsheets import Limits, SpreadsheetError, read_table, unneutralise

BATCH_SIZE = 500


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
]
COLUMN_OF = {column.field: column for column in COLUMNS}
FIELD_OF_KEY = {alias: column.field for column in COLUMNS for alias in column.aliases}
REQUIRED = ("name", "email")
# Compared and written on update, in this order.
UPDATABLE = ["name", "job_title", "business_unit", "segment", "influence", "interest", "owner", "notes", "is_active"]


class ImportRefused(Exception):
    """The file cannot be imported at all (rather than some of its rows)."""


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


def read_rows(name: str, data: bytes) -> ParsedFile:
    found = {}

    def keep(header: list[str]) -> list[int]:
        found.update(_columns(header))
        return list(found["positions"].values())

    try:
        # Only the imported columns are kept as the rows are read: a file may have many others.
        table = read_table(name, data, limits=limits(), columns=keep)
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


def _columns(header: list[str]) -> dict:
    """The imported columns the header names (field → position, field → header), and the ignored ones."""
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored = []
    for index, text in enumerate(header):
        if not text:
            continue
        field_name = FIELD_OF_KEY.get(_key(text))
        if field_name is None:
            ignored.append(text)
        elif field_name in positions:
            raise ImportRefused(
                f"Two columns give the {COLUMN_OF[field_name].label.lower()}: “{headers[field_name]}” and “{text}”. "
                "Keep one of them and upload the file again."
            )
        else:
            positions[field_name] = index
            headers[field_name] = text
    missing = [COLUMN_OF[f].label for f in REQUIRED if f not in positions]
    if missing:
        found_text = ", ".join(f"“{h}”" for h in header if h) or "none"
        raise ImportRefused(
            f"The file has no {' and no '.join(missing)} column. The first row must name the columns "
            f"(at least Name and E-mail); the columns found are: {found_text}."
        )
    return {"positions": positions, "headers": headers, "ignored": ignored}


# The plan -----------------------------------------------------------------------------------

CREATE, UPDATE, UNCHANGED, SKIPPED, INVALID = "create", "update", "unchanged", "skipped", "invalid"
ACTIONS = [CREATE, UPDATE, UNCHANGED, SKIPPED, INVALID]


@dataclass
class Plan:
    # Per row: [number, action, name, email, details]; details are [[column, message], ...] for an
    # invalid row, the changed columns for an update, a reason for a skipped row, notes for a new one.
    rows: list = field(default_factory=list)
    to_create: list = field(default_factory=list)
    to_update: list = field(default_factory=list)
    update_fields: set = field(default_factory=set)
    # Segments to create, by lower-case name, in the spelling first met; and who joins them.
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
        return {"counts": self.counts, "segments_to_create": list(self.new_segments.values()), "rows": self.rows}


def analyse(pmo, parsed_rows, columns: dict, *, create_segments: bool, lock: bool = False) -> Plan:
    """Check every row against the PMO's register as it is now: three queries, whatever the size.

    With `lock` (the confirm step, inside its transaction) the stakeholders read are locked
    until the import is written, so that nobody edits or deletes them in between.
    """
    context = _Context.read(pmo, parsed_rows, columns, create_segments=create_segments, lock=lock)
    plan = Plan()
    form = StakeholderRowForm({})
    for number, values in parsed_rows:
        if values is None:
            plan.rows.append([number, SKIPPED, "", "", "Empty row"])
        else:
            _plan_row(plan, context, form, number, values)
    return plan


@dataclass
class _Context:
    """What each row is checked against, read once: the register by e-mail (lower case), the
    segments by name (case-folded), the members by e-mail, and the rows that give each e-mail."""

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
            segments={s.name.casefold(): s for s in Segment.objects.filter(pmo=pmo)},
            members={m.user.email.lower(): m for m in pmo.memberships.select_related("user")},
            rows_of_email=rows_of_email,
        )

    def duplicate_error(self, number: int, email: str | None) -> list | None:
        """[column, message] if another row gives the same e-mail."""
        if not email or len(self.rows_of_email[email]) < 2:
            return None
        others = ", ".join(str(n) for n in self.rows_of_email[email] if n != number)
        return [self.header["email"], f"{email} is also on row {others}: give each stakeholder one row."]

    def segment(self, name: str) -> tuple:
        """(the segment named, the key of a segment to create, [column, message] or None)."""
        if not name:
            return None, None, None
        segment = self.segments.get(name.casefold())
        if segment is not None:
            return segment, None, None
        if self.create_segments:
            return None, name.casefold(), None
        message = (
            f"This PMO has no segment “{name}”. Correct the name, or tick "
            "“Create missing segments” when you upload the file."
        )
        return None, None, [self.header["segment"], message]

    def owner(self, email: str | None) -> tuple:
        """(the member with this e-mail, [column, message] or None)."""
        if not email:
            return None, None
        owner = self.members.get(email)
        if owner is None:
            return None, [self.header["owner"], f"{email} is not a member of this PMO."]
        return owner, None


def _plan_row(plan: Plan, context: _Context, form: StakeholderRowForm, number: int, values: dict) -> None:
    """Add one non-empty row to the plan: invalid with its errors, or to create, update or leave."""
    form.check(values)
    data = form.cleaned_data
    errors = [
        [context.header.get(f, COLUMN_OF[f].label), str(m)] for f, messages in form.errors.items() for m in messages
    ]
    email = data.get("email")
    name_of_segment = data.get("segment") or ""
    segment, new_segment, segment_error = context.segment(name_of_segment)
    owner, owner_error = context.owner(data.get("owner"))
    errors += [e for e in (context.duplicate_error(number, email), segment_error, owner_error) if e]

    shown = [data.get("name") or values.get("name", ""), email or values.get("email", "")]
    if errors:
        plan.rows.append([number, INVALID, *shown, errors])
        return
    wanted = {
        "name": data["name"],
        "job_title": data.get("job_title", ""),
        "business_unit": data.get("business_unit", ""),
        "segment": segment,
        "influence": data.get("influence"),
        "interest": data.get("interest"),
        "owner": owner,
        "notes": data.get("notes", ""),
        "is_active": data.get("is_active"),
    }
    existing = context.register.get(email)
    if existing is None:
        stakeholder = _new_stakeholder(context.pmo, email, wanted)
        notes = []
        if new_segment:
            _join_new_segment(plan, stakeholder, new_segment, name_of_segment)
            notes.append(f"new segment “{plan.new_segments[new_segment]}”")
        plan.to_create.append(stakeholder)
        plan.rows.append([number, CREATE, *shown, notes])
        return

    changed = _changes(existing, wanted, context.header, new_segment)
    if not changed:
        plan.rows.append([number, UNCHANGED, *shown, "Same as the register"])
        return
    if new_segment:
        _join_new_segment(plan, existing, new_segment, name_of_segment)
    plan.to_update.append(existing)
    plan.update_fields.update(changed)
    plan.rows.append([number, UPDATE, *shown, [context.header.get(c, c) for c in changed]])


def _join_new_segment(plan: Plan, stakeholder: Stakeholder, key: str, name: str) -> None:
    """The stakeholder joins a segment the plan creates, spelt as the first row that names it."""
    plan.new_segments.setdefault(key, name)
    plan.joins_new_segment.append((stakeholder, key))


def _new_stakeholder(pmo, email: str, wanted: dict) -> Stakeholder:
    """A stakeholder from a row; a blank level is 3 and a blank active flag is yes."""
    return Stakeholder(
        pmo=pmo,
        email=email,
        name=wanted["name"],
        job_title=wanted["job_title"],
        business_unit=wanted["business_unit"],
        segment=wanted["segment"],
        influence=wanted["influence"] or 3,
        interest=wanted["interest"] or 3,
        owner=wanted["owner"],
        notes=wanted["notes"],
        is_active=True if wanted["is_active"] is None else wanted["is_active"],
    )


def _changes(existing: Stakeholder, wanted: dict, present: Collection[str], new_segment: str | None) -> list[str]:
    """Set on `existing` what the row changes, of the columns the file has; the names changed,
    in UPDATABLE's order."""
    changed = []
    for name in UPDATABLE:
        if name not in present:
            continue
        if name == "segment" and new_segment:
            changed.append(name)  # the segment is created, and joined, when the plan is applied
        elif _differs(existing, name, wanted[name]):
            setattr(existing, name, wanted[name])
            changed.append(name)
    return changed


def _differs(existing: Stakeholder, name: str, value) -> bool:
    if name in ("segment", "owner"):  # compared by id; a blank one clears it
        return (value.pk if value else None) != getattr(existing, f"{name}_id")
    # A blank level or active flag keeps what the register says.
    return value is not None and getattr(existing, name) != value


def apply(pmo, plan: Plan) -> dict:
    """Carry out a valid plan: one insert for the new segments, then batches of stakeholders.

    Call inside a transaction, so that any failure leaves the register as it was.
    """
    assert plan.is_valid, "A plan with invalid rows is never applied."
    assert transaction.get_connection().in_atomic_block, "Apply an import inside transaction.atomic()."
    created_segments = Segment.objects.bulk_create(
        [Segment(pmo=pmo, name=name) for name in plan.new_segments.values()], batch_size=BATCH_SIZE
    )
    by_key = {segment.name.casefold(): segment for segment in created_segments}
    for stakeholder, key in plan.joins_new_segment:
        stakeholder.segment = by_key[key]
    Stakeholder.objects.bulk_create(plan.to_create, batch_size=BATCH_SIZE)
    if plan.to_update:
        # An upsert on the primary key: each batch is one INSERT ... ON CONFLICT (id) DO UPDATE
        # of the changed columns, which PostgreSQL and SQLite both run as an update of the
        # existing rows (created_at and the columns not listed keep their stored values).
        # bulk_update would do the same in one query per batch too, but builds a CASE
        # expression per row and column: over seconds for a few thousand rows.
        fields = [name for name in UPDATABLE if name in plan.update_fields] + ["updated_at"]
        Stakeholder.objects.bulk_create(
            plan.to_update, batch_size=BATCH_SIZE, update_conflicts=True, unique_fields=["pk"], update_fields=fields
        )
    return {
        "created": len(plan.to_create),
        "updated": len(plan.to_update),
        "unchanged": plan.count(UNCHANGED),
        "skipped": plan.count(SKIPPED),
        "segments": [segment.name for segment in created_segments],
    }


# Confirming ---------------------------------------------------------------------------------


class AlreadyImported(RuleViolation):
    """The job was confirmed before (another click, another tab): nothing is imported again."""


class PlanOutdated(RuleViolation):
    """The register changed since the preview: the job's preview is checked anew and kept."""


def confirm(pmo, user, job_id: int):
    """Import a previewed file into the register once: (the job, apply's counts).

    The job is locked, so two clicks on Confirm import the file once; the rows are checked
    again against the register as it is now, and all of them are written or none.
    """
    try:
        with transaction.atomic():
            job = pmo.import_jobs.select_for_update().get(pk=job_id)
            if job.is_confirmed:
                raise AlreadyImported(
                    None,
                    f"This file was already imported on {timezone.localtime(job.confirmed_at):%-d %b %Y at %H:%M}; "
                    "nothing was imported again.",
                )
            plan = analyse(pmo, job.rows, job.columns, create_segments=job.create_segments, lock=True)
            job.preview = plan.as_json()
            job.checked_at = timezone.now()
            if not plan.is_valid:
                job.save(update_fields=["preview", "checked_at"])
                outdated = PlanOutdated(
                    None,
                    "The register changed since this preview and some rows can no longer be imported. "
                    "Nothing was imported: check the rows below.",
                )
            else:
                result = apply(pmo, plan)
                job.confirmed_at = job.checked_at
                job.confirmed_by = user
                job.result = result
                job.save(update_fields=["preview", "checked_at", "confirmed_at", "confirmed_by", "result"])
                return job, result
    except IntegrityError as error:
        raise PlanOutdated(
            None,
            "Someone changed the register while the file was being imported (an e-mail address or segment name "
            "was taken meanwhile). Nothing was imported: confirm again to check the rows anew.",
        ) from error
    # Raised after the transaction, which keeps the preview checked anew.
    raise outdated
