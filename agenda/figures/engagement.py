"""The engagement index (docs/figures.md, "Engagement"; docs/engagement.md): how many
relationships have reached their target maturity, for the dashboard and the report.

Everything reads target and gap from stakeholders/engagement.py (`with_engagement`), the one
definition of both; this module only counts.

- index: reached / active stakeholders × 100, where reached means gap ≤ 0. The denominator
  is every active stakeholder, the never-assessed included (they have no gap, so they are
  neither reached nor below);
- by segment: the same counts per segment now, "No segment" included;
- trend: the index at each of the last 12 month ends and today, from the maturity records
  as they stood on each date, against today's targets and today's active stakeholders (see
  `engagement_trend`);
- drifted: the stakeholders below their target, most influential first, then largest gap.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, ExpressionWrapper, F, IntegerField, Q, Window
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from agenda.figures.relationships import stage_on_subquery
from stakeholders.engagement import engagement_of, with_engagement
from stakeholders.models import Stakeholder

TREND_MONTHS = 12
DRIFTED_SHOWN = 10
NO_SEGMENT = "No segment"


@dataclass(frozen=True)
class EngagementCounts:
    reached: int = 0  # gap ≤ 0: at or above target
    below: int = 0  # gap > 0
    not_assessed: int = 0  # no maturity record: no gap
    total: int = 0  # active stakeholders

    @property
    def index(self) -> float | None:
        """reached / total × 100, unrounded; None for a PMO (or segment) with nobody active."""
        return self.reached / self.total * 100 if self.total else None

    def __add__(self, other: "EngagementCounts") -> "EngagementCounts":
        return EngagementCounts(
            self.reached + other.reached,
            self.below + other.below,
            self.not_assessed + other.not_assessed,
            self.total + other.total,
        )


@dataclass(frozen=True)
class SegmentEngagement:
    segment_id: int | None
    name: str
    counts: EngagementCounts


@dataclass(frozen=True)
class TrendPoint:
    day: date
    counts: EngagementCounts
    is_today: bool = False


@dataclass
class Drifted:
    stakeholders: list = field(default_factory=list)  # annotated by with_engagement
    count: int = 0  # all below target, not only those listed


def _active(pmo, segment_id: int | None = None):
    stakeholders = Stakeholder.objects.filter(pmo=pmo, is_active=True)
    if segment_id is not None:
        stakeholders = stakeholders.filter(segment_id=segment_id)
    return stakeholders


def _counts(gap: str = "gap", stage: str = "current_stage") -> dict:
    """The conditional aggregates of EngagementCounts, over the annotations named."""
    return {
        "reached": Count("pk", filter=Q(**{f"{gap}__lte": 0})),
        "below": Count("pk", filter=Q(**{f"{gap}__gt": 0})),
        "not_assessed": Count("pk", filter=Q(**{f"{stage}__isnull": True})),
        "total": Count("pk"),
    }


def _of(row: dict, suffix: str = "") -> EngagementCounts:
    return EngagementCounts(*(row[f"{name}{suffix}"] or 0 for name in ("reached", "below", "not_assessed", "total")))


def engagement_index(pmo, segment_id: int | None = None, *, today: date | None = None) -> EngagementCounts:
    """The counts behind the index of the PMO's active stakeholders (of one segment, if
    given), in one query."""
    today = today or timezone.localdate()
    return _of(with_engagement(_active(pmo, segment_id), pmo, today).aggregate(**_counts()))


def engagement_by_segment(pmo, segment_id: int | None = None, *, today: date | None = None) -> list[SegmentEngagement]:
    """The counts per segment (of the one segment given, if any), by name, "No segment" last,
    in one query. Their sum is engagement_index's."""
    today = today or timezone.localdate()
    rows = (
        with_engagement(_active(pmo, segment_id), pmo, today)
        .values("segment_id", "segment__name")
        .annotate(**_counts())
        .order_by()
    )
    found = [SegmentEngagement(row["segment_id"], row["segment__name"] or NO_SEGMENT, _of(row)) for row in rows]
    return sorted(found, key=lambda s: (s.segment_id is None, s.name.lower(), s.segment_id or 0))


def total_of(rows: list[SegmentEngagement]) -> EngagementCounts:
    """The index's counts from the rows per segment: the dashboard's, without a query of its own."""
    return sum((row.counts for row in rows), EngagementCounts())


def month_ends(today: date, months: int = TREND_MONTHS) -> list[date]:
    """The last day of each of the `months` months before today's, oldest first."""
    ends = []
    day = today.replace(day=1) - timedelta(days=1)
    for _ in range(months):
        ends.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return list(reversed(ends))


def engagement_trend(
    pmo, segment_id: int | None = None, *, today: date | None = None, months: int = TREND_MONTHS
) -> list[TrendPoint]:
    """The index at each of the last `months` month ends, and today, oldest first, in one query.

    On each date a stakeholder's stage is that of their latest maturity record recorded on it
    or before (records are kept history: agenda/models/assessments.py), one probe each of
    the maturity_current_stage index. Targets and the stakeholders counted are today's: the
    denominator is the same at every point, so the line moves only as relationships are
    assessed, not as people join or leave the register or targets are changed; someone
    added since a month end counts as not assessed there.
    """
    today = today or timezone.localdate()
    days = [*month_ends(today, months), today]
    aggregates = {"total": Count("pk")}
    for number, day in enumerate(days):
        # Each point's gap is one subquery (target − the stage then, NULL if not assessed yet),
        # read by two aggregates: the assessed (COUNT skips NULL) and the reached. PostgreSQL
        # probes the index once per stakeholder for each aggregate that names it, so the
        # below and the not assessed are worked out from these rather than counted.
        gap = ExpressionWrapper(F("target") - stage_on_subquery(day), output_field=IntegerField())
        aggregates[f"assessed_{number}"] = Count(gap)
        aggregates[f"reached_{number}"] = Count("pk", filter=LessThanOrEqual(gap, 0))
    row = with_engagement(_active(pmo, segment_id), pmo, today).aggregate(**aggregates)
    total = row["total"]
    points = []
    for number, day in enumerate(days):
        assessed, reached = row[f"assessed_{number}"], row[f"reached_{number}"]
        counts = EngagementCounts(reached, assessed - reached, total - assessed, total)
        points.append(TrendPoint(day, counts, is_today=day == today))
    return points


def drifted(pmo, segment_id: int | None = None, *, today: date | None = None, limit: int = DRIFTED_SHOWN) -> Drifted:
    """The active stakeholders below their target (gap > 0), most influential first, then the
    largest gap, then by name: the first `limit`, with their segment and owner and their
    Engagement (`.engagement`), and how many there are in all, in one query."""
    today = today or timezone.localdate()
    below = (
        with_engagement(_active(pmo, segment_id), pmo, today)
        .filter(gap__gt=0)
        .annotate(drifted_count=Window(Count("pk")))
        .select_related("segment", "owner__user")
        .order_by("-influence", "-gap", "name", "pk")
    )
    rows = list(below[:limit])
    for stakeholder in rows:
        stakeholder.engagement = engagement_of(stakeholder, today)
    return Drifted(rows, rows[0].drifted_count if rows else 0)
