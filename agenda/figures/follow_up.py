"""How fast the PMO follows up its detractors (docs/figures.md, "Follow-up";
docs/follow-up.md): the follow-up cases and recovery pulses, for the dashboard and the report.

- open now: cases open or contacted; of them, overdue (open, no contact recorded, first
  contact due before today, the PMO's today) and escalated;
- of the cases opened in a period (the dashboard: the last 90 days; the report: its period):
  the median time to first contact, in days, over those with a first contact, and the share
  of them contacted on or before their due date; the share resolved, resolved ÷ (resolved +
  closed with no action), and how many were closed with no action;
- the recovery pulses sent in the period: how many, how many answered, and over the answered
  ones the mean recommendation score before (the case's `nps_before`) and after (the pulse's
  score). Pulses are counted apart: nothing here enters a survey's NPS.

An anonymous group's case counts as a case like a named one; only counts leave this module,
never a stakeholder. Three queries whatever the number of cases (`follow_up_figures`).
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, ExpressionWrapper, F, FloatField, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from stakeholders.models import OPEN_CASE_STATUSES, CaseStatus, FollowUpCase, RecoveryPulse

# The dashboard's period: the cases opened in the last 90 days, today included.
DASHBOARD_DAYS = 90
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Local dates, in the PMO's time zone: from `start` up to, not including, `end`."""

    start: date
    end: date


@dataclass(frozen=True)
class OpenCases:
    open: int = 0  # open or contacted
    overdue: int = 0  # open, no contact recorded, due before today
    escalated: int = 0  # open or contacted, escalated to the leads


@dataclass(frozen=True)
class FirstContact:
    """Cases opened in the period that have had a first contact."""

    contacted: int = 0
    median_days: float | None = None  # unrounded; None with no contact
    within_due: int = 0  # first contact on or before the due date, the PMO's date

    @property
    def within_due_share(self) -> float | None:
        return self.within_due / self.contacted * 100 if self.contacted else None


@dataclass(frozen=True)
class Outcomes:
    """Cases opened in the period that are no longer open."""

    opened: int = 0  # every case opened in the period, for context
    resolved: int = 0
    closed: int = 0  # closed with no action

    @property
    def finished(self) -> int:
        return self.resolved + self.closed

    @property
    def resolved_share(self) -> float | None:
        return self.resolved / self.finished * 100 if self.finished else None


@dataclass(frozen=True)
class Pulses:
    """Recovery pulses sent in the period; the means over the answered ones (0–10)."""

    sent: int = 0
    answered: int = 0
    compared: int = 0  # answered, of a case with a score before: the n of the means
    before: float | None = None  # mean of the cases' nps_before
    after: float | None = None  # mean of the pulses' scores

    @property
    def change(self) -> float | None:
        """after − before: the mean change, as both are over the same answered pulses."""
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class FollowUpFigures:
    period: Period
    today: date
    open: OpenCases = field(default_factory=OpenCases)
    first_contact: FirstContact = field(default_factory=FirstContact)
    outcomes: Outcomes = field(default_factory=Outcomes)
    pulses: Pulses = field(default_factory=Pulses)

    @property
    def is_empty(self) -> bool:
        """Nothing to show: no case open, none opened and no pulse sent in the period."""
        return not (self.open.open or self.outcomes.opened or self.pulses.sent)


class Median(Aggregate):
    """PostgreSQL's continuous median of an expression (percentile_cont(0.5))."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def dashboard_period(today: date) -> Period:
    """The last DASHBOARD_DAYS days, today included."""
    return Period(today - timedelta(days=DASHBOARD_DAYS - 1), today + DAY)


def _moment(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _cases(pmo, segment_id: int | None):
    cases = FollowUpCase.objects.filter(pmo=pmo)
    return cases if segment_id is None else cases.filter(segment_id=segment_id)


def open_cases(pmo, segment_id: int | None = None, *, today: date) -> OpenCases:
    """The cases open now, overdue and escalated: one query, which reads only the open cases
    through the (pmo, status, due_on) index, case_pmo_status_due."""
    row = (
        _cases(pmo, segment_id)
        .filter(status__in=OPEN_CASE_STATUSES)
        .aggregate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(status=CaseStatus.OPEN, first_contact_at__isnull=True, due_on__lt=today)),
            escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
        )
    )
    return OpenCases(row["open"], row["overdue"], row["escalated"])


def period_cases(pmo, period: Period, segment_id: int | None = None) -> tuple[FirstContact, Outcomes]:
    """Time to first contact and the outcomes of the cases opened in the period: one query
    (on SQLite, which has no median, one more for the contacted cases' times)."""
    tz = zoneinfo.ZoneInfo(pmo.time_zone)
    cases = _cases(pmo, segment_id).filter(
        opened_at__gte=_moment(period.start, tz), opened_at__lt=_moment(period.end, tz)
    )
    waited = ExpressionWrapper(F("first_contact_at") - F("opened_at"), output_field=DurationField())
    contacted = Q(first_contact_at__isnull=False)
    aggregates = {
        "opened": Count("pk"),
        "resolved": Count("pk", filter=Q(status=CaseStatus.RESOLVED)),
        "closed": Count("pk", filter=Q(status=CaseStatus.CLOSED)),
        "contacted": Count("pk", filter=contacted),
        "within_due": Count("pk", filter=contacted & Q(contact_day__lte=F("due_on"))),
    }
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["median"] = Median(waited, filter=contacted, output_field=DurationField())
    row = cases.annotate(contact_day=TruncDate("first_contact_at", tzinfo=tz)).aggregate(**aggregates)
    if postgres:
        median = row["median"]
    else:
        median = _median(list(cases.filter(contacted).annotate(waited=waited).values_list("waited", flat=True)))
    first = FirstContact(
        row["contacted"],
        median.total_seconds() / DAY.total_seconds() if median is not None else None,
        row["within_due"],
    )
    return first, Outcomes(row["opened"], row["resolved"], row["closed"])


def _median(values: list[timedelta]) -> timedelta | None:
    """The median as percentile_cont(0.5) takes it: the mean of the two middle values of an even count."""
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def pulses(pmo, period: Period, segment_id: int | None = None) -> Pulses:
    """The recovery pulses sent in the period and the means of the answered ones: one query."""
    tz = zoneinfo.ZoneInfo(pmo.time_zone)
    sent = RecoveryPulse.objects.filter(
        case__pmo=pmo, created_at__gte=_moment(period.start, tz), created_at__lt=_moment(period.end, tz)
    )
    if segment_id is not None:
        sent = sent.filter(case__segment_id=segment_id)
    # Before and after over the same pulses: answered, of a case with a score before (every
    # named case has one), so that after − before is the mean change.
    compared = Q(answered_at__isnull=False, case__nps_before__isnull=False)
    row = sent.aggregate(
        sent=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        compared=Count("pk", filter=compared),
        before=Avg("case__nps_before", filter=compared, output_field=FloatField()),
        after=Avg("score", filter=compared, output_field=FloatField()),
    )
    return Pulses(row["sent"], row["answered"], row["compared"], row["before"], row["after"])


def follow_up_figures(
    pmo, period: Period | None = None, segment_id: int | None = None, *, today: date | None = None
) -> FollowUpFigures:
    """Every follow-up figure of the PMO (of one segment, if given), in three queries: the
    open cases as of `today` (the PMO's), the cases opened in `period` (by default the
    dashboard's, the last 90 days) and the pulses sent in it."""
    today = today or timezone.localdate(timezone=zoneinfo.ZoneInfo(pmo.time_zone))
    period = period or dashboard_period(today)
    now_open = open_cases(pmo, segment_id, today=today)
    first, outcomes = period_cases(pmo, period, segment_id)
    return FollowUpFigures(
        period=period,
        today=today,
        open=now_open,
        first_contact=first,
        outcomes=outcomes,
        pulses=pulses(pmo, period, segment_id),
    )
