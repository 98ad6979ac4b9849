"""The stored figures of an agenda report: one typed, versioned schema (docs/figures.md,
"The agenda report").

A report is a snapshot: `reports.build_figures` returns a `ReportFigures`, stored as
JSON in `AgendaReport.figures` by `dump`. Everything that reads a stored report (its
render, the next report, the API) goes through `load`, which reads any version ever
stored and upgrades it to the current form, so an old report still renders.

Version 1 (no "schema_version" key), stored up to commit 50bd431: numbers rounded
before storing; "change" against the previous *report*; maturity movers keyed
"from"/"to"; no currency and no previous survey.
Version 2: numbers unrounded (rounded once, in the templates); "change" against the
previous *survey*; movers keyed "stage_from"/"stage_to"; the PMO's currency.
Version 3: the three services to work on ("services"); None in versions 1 and 2, which
did not look at services.
Version 4: the engagement index ("engagement", issue 13: its counts, its change since the
previous report, by segment, the drifted); None in versions 1 to 3, which did not measure it.
Version 5: the follow-up of detractors ("follow_up", issue 14: time to first contact, share
resolved, open and overdue cases, recovery pulses); None in versions 1 to 4, which did not
measure it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field

SCHEMA_VERSION = 5


@dataclass
class Period:
    start: str  # ISO dates
    end: str  # the first day after the period
    last_day: str


@dataclass
class SurveyRef:
    id: int
    title: str
    closed_at: str | None = None


@dataclass
class SurveyFigures:
    id: int
    title: str
    closed_at: str | None = None
    responses: int = 0
    sent: int = 0
    response_rate: float | None = None
    nps: float | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0


@dataclass
class ElementRow:
    element: str
    label: str
    aim: str
    perception: float | None = None
    importance: float | None = None
    self_score: float | None = None
    gap: float | None = None
    quadrant: str | None = None
    priority: float | None = None
    # Perception minus the earlier perception it is compared with; None: nothing to compare.
    change: float | None = None
    # The survey "change" compares with (version 2); None in version 1 and when there is none.
    compared_with: SurveyRef | None = None


@dataclass
class FocusRow:
    element: str
    label: str
    aim: str
    quadrant: str
    advice: str
    priority: float | None = None
    perception: float | None = None
    importance: float | None = None


@dataclass
class ServiceFocusRow:
    """A catalogue service to work on (agenda/figures/services.py services_to_work_on)."""

    id: int
    name: str
    quadrant: str
    advice: str
    why: str
    priority: float | None = None
    satisfaction: float | None = None
    importance: float | None = None
    awareness: float | None = None
    usage: float | None = None
    answered: int = 0


@dataclass
class Mover:
    id: int
    name: str
    stage_from: str
    stage_to: str


@dataclass
class StageCount:
    stage: str
    count: int


@dataclass
class Maturity:
    up: int = 0
    down: int = 0
    movers: list[Mover] = field(default_factory=list)
    more: int = 0
    distribution: list[StageCount] = field(default_factory=list)


@dataclass
class AtRiskRow:
    id: int
    name: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class EngagementSegment:
    """The engagement index of a segment ("No segment" included, segment_id None)."""

    segment_id: int | None
    name: str
    reached: int = 0
    below: int = 0
    not_assessed: int = 0
    total: int = 0
    index: float | None = None


@dataclass
class DriftedRow:
    """A relationship below its target (agenda/figures/engagement.py drifted)."""

    id: int
    name: str
    influence: int
    stage: str
    target: str
    gap: int
    segment: str | None = None


@dataclass
class EngagementFigures:
    """The engagement index (version 4): active stakeholders at or above their target."""

    reached: int = 0
    below: int = 0
    not_assessed: int = 0
    total: int = 0
    index: float | None = None
    # What the change compares with: "report" (the previous report's index), "first" (no
    # previous report) or "not_measured" (a previous report of a version before 4).
    compared_with: str = "first"
    previous_index: float | None = None
    change: float | None = None  # index − previous_index, in percentage points
    segments: list[EngagementSegment] = field(default_factory=list)
    drifted: list[DriftedRow] = field(default_factory=list)
    drifted_count: int = 0  # all below target, not only those listed

    @property
    def drifted_more(self) -> int:
        return max(0, self.drifted_count - len(self.drifted))


@dataclass
class FollowUpFigures:
    """How fast the PMO follows up its detractors (version 5; agenda/figures/follow_up.py).

    The cases opened in the report's period: time to first contact and outcomes; the cases
    open at `as_of`; the recovery pulses sent in the period (0–10, apart from any NPS)."""

    as_of: str  # ISO date: "open" and "overdue" are counted as of it
    working_days: int  # the PMO's working days to first contact when the report was built
    opened: int = 0
    contacted: int = 0
    median_days: float | None = None
    within_due: int = 0
    within_due_share: float | None = None
    resolved: int = 0
    closed: int = 0  # closed with no action
    resolved_share: float | None = None
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    pulses_sent: int = 0
    pulses_answered: int = 0
    pulses_compared: int = 0
    before: float | None = None
    after: float | None = None
    change: float | None = None


@dataclass
class IncidentRow:
    title: str
    problem: str
    date: str
    cost: float | None = None
    days: float | None = None


@dataclass
class Incidents:
    count: int = 0
    cost: float | None = None
    days: float | None = None
    items: list[IncidentRow] = field(default_factory=list)


@dataclass
class ActionRow:
    id: int
    title: str
    element: str
    owner: str | None
    due_on: str
    status: str


@dataclass
class Actions:
    as_of: str
    next_period_end: str
    done: list[ActionRow] = field(default_factory=list)
    overdue: list[ActionRow] = field(default_factory=list)
    due_next: list[ActionRow] = field(default_factory=list)


@dataclass
class SuggestionRow:
    key: str
    title: str
    element: str
    why: str
    new: bool


@dataclass
class ReportFigures:
    pmo: str
    period: Period
    frequency: str
    actions: Actions
    currency: str = ""
    previous_report: int | None = None
    survey: SurveyFigures | None = None
    # What "change" compares with: the latest earlier survey any element is compared with.
    previous_survey: SurveyRef | None = None
    # "survey" (version 2) or "report" (version 1: the previous report's stored perception).
    change_basis: str = "survey"
    elements: list[ElementRow] = field(default_factory=list)
    focus: list[FocusRow] = field(default_factory=list)
    # The three services to work on (version 3); None: a report of a version that did not look.
    services: list[ServiceFocusRow] | None = field(default_factory=list)
    maturity: Maturity = field(default_factory=Maturity)
    # The engagement index (version 4); None: a report of a version that did not measure it.
    engagement: EngagementFigures | None = None
    # The follow-up of detractors (version 5); None: a report of a version that did not measure it.
    follow_up: FollowUpFigures | None = None
    at_risk: list[AtRiskRow] = field(default_factory=list)
    incidents: Incidents = field(default_factory=Incidents)
    suggestions: list[SuggestionRow] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION


def dump(figures: ReportFigures) -> dict:
    """The JSON stored in AgendaReport.figures."""
    return dataclasses.asdict(figures)


def load(data: dict, *, currency: str) -> ReportFigures:
    """Any stored version, as the current typed form.

    `currency` is the PMO's: version 1 did not store one, and its costs were entered
    in the PMO's currency.
    """
    data = dict(data)
    version = data.get("schema_version", 1)
    if version > SCHEMA_VERSION:
        raise ValueError(f"Report figures of schema version {version}, newer than this code ({SCHEMA_VERSION}).")
    if version == 1:
        data = _upgrade_1_to_2(data, currency)
    if data["schema_version"] == 2:
        data = {**data, "services": None, "schema_version": 3}
    if data["schema_version"] == 3:
        data = {**data, "engagement": None, "schema_version": 4}
    if data["schema_version"] == 4:
        data = {**data, "follow_up": None, "schema_version": 5}
    return _build(ReportFigures, data)


def _upgrade_1_to_2(data: dict, currency: str) -> dict:
    maturity = dict(data.get("maturity") or {})
    maturity["movers"] = [
        {"id": m["id"], "name": m["name"], "stage_from": m["from"], "stage_to": m["to"]}
        for m in maturity.get("movers", [])
    ]
    return {
        **data,
        "maturity": maturity,
        "currency": currency,
        "previous_survey": None,
        "change_basis": "report",
        "schema_version": 2,
    }


def _build(cls, data):
    """A dataclass from its dict, nested dataclasses included; unknown keys are ignored."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _value(hints[f.name], data[f.name])
    return cls(**values)


def _value(hint, value):
    if value is None:
        return None
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType):  # X | None
        hint = next(a for a in args if a is not type(None))
        args = typing.get_args(hint)
    if typing.get_origin(hint) is list:
        return [_value(args[0], item) for item in value]
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)
    return value
