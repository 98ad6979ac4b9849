"""Figures of the relationships with stakeholders (docs/figures.md, "Per stakeholder" and
"Power–interest grid"): current maturity, its distribution over the grid, and who is at risk.

- at-risk: active, influence ≥ 4 and (current maturity ≤ Aware, or perception down ≥ 10
  points between the stakeholder's last two named responses, or a touch overdue:
  stakeholders/engagement.py, docs/engagement.md).
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, Q, Subquery, Window
from django.utils import timezone

from agenda.figures.present import Kind, shown
from agenda.figures.responses import perception_falls
from agenda.models import MaturityRecord
from pmo5p.domain import MaturityStage
from stakeholders.engagement import Engagement, engagement_of, with_engagement
from stakeholders.models import Stakeholder
from stakeholders.selectors import Quadrant, quadrant_expression

AT_RISK_INFLUENCE = 4
AT_RISK_STAGE = MaturityStage.AWARE
PERCEPTION_DROP = 10


def current_stage_subquery():
    """The stage of a stakeholder's latest maturity record, for .annotate()."""
    latest = MaturityRecord.objects.filter(stakeholder=OuterRef("pk")).order_by("-recorded_on", "-created_at", "-pk")
    return Subquery(latest.values("stage")[:1])


def with_current_stage(stakeholders):
    return stakeholders.annotate(current_stage=current_stage_subquery())


def maturity_distribution(stakeholders) -> dict[int | None, int]:
    """Count of stakeholders per current stage (None: never assessed), one query."""
    return distribution_of_grid(grid_by_maturity(stakeholders))


def distribution_of_grid(grid: dict[Quadrant, dict[int | None, int]]) -> dict[int | None, int]:
    """The maturity distribution of the stakeholders of a grid_by_maturity: its quadrants added up."""
    distribution = {stage.value: 0 for stage in MaturityStage} | {None: 0}
    for stages in grid.values():
        for stage, count in stages.items():
            distribution[stage] += count
    return distribution


def grid_by_maturity(stakeholders) -> dict[Quadrant, dict[int | None, int]]:
    """The power–interest grid with each quadrant split by current stage, one query."""
    rows = (
        with_current_stage(stakeholders)
        .annotate(quadrant=quadrant_expression())
        .values("quadrant", "current_stage")
        .annotate(n=Count("id"))
        .order_by()
    )
    grid = {q: {stage.value: 0 for stage in MaturityStage} | {None: 0} for q in Quadrant}
    for row in rows:
        grid[Quadrant(row["quadrant"])][row["current_stage"]] = row["n"]
    return grid


@dataclass
class AtRisk:
    stakeholder: Stakeholder
    reasons: list[str]
    # Their target, cadence and touch (stakeholders/engagement.py), as of the day asked.
    engagement: Engagement | None = None

    @property
    def touch_overdue(self) -> bool:
        return self.engagement is not None and self.engagement.overdue_days > 0

    @property
    def only_touch_overdue(self) -> bool:
        """At risk for nothing but an overdue touch: the suggestion to get back in touch says it all."""
        return self.touch_overdue and len(self.reasons) == 1


def _perception_drop(perceptions: list[float]) -> float | None:
    """The fall from the perception before to the last, if it is 10 points or more."""
    if len(perceptions) < 2:
        return None
    last, previous = perceptions[:2]
    # Rounded: scores are floats, and 25 − 15 from means 2.0 and 1.6 comes out 9.999….
    drop = round(previous - last, 6)
    return drop if drop >= PERCEPTION_DROP else None


def _perception_fall(perceptions: list[float]) -> str:
    """The reason, for perceptions that _perception_drop finds fell."""
    last, previous = perceptions[:2]
    return (
        f"Perception fell {shown(_perception_drop(perceptions), Kind.CHANGE)} points, "
        f"from {shown(previous, Kind.SCORE)} to {shown(last, Kind.SCORE)}"
    )


def touch_overdue_reason(engagement: Engagement, stakeholder: Stakeholder) -> str:
    """The reason for an overdue touch: how long since the last one, or since they were added
    (in the PMO's time zone, as with_engagement counts it)."""
    return engagement.why_overdue(added_on=_day(timezone.localdate(stakeholder.created_at)))


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def at_risk_stakeholders(
    pmo, segment_id: int | None = None, *, limit: int | None = None, today: date | None = None
) -> list[AtRisk]:
    """Influence ≥ 4 and (current maturity ≤ Aware, or perception down ≥ 10 points, or a touch
    overdue), most influential first, then by name; with a segment, those in it now. The first
    `limit` (all if None): see at_risk_page."""
    return at_risk_page(pmo, segment_id, limit=limit, today=today)[0]


def at_risk_page(
    pmo, segment_id: int | None = None, *, limit: int | None = None, today: date | None = None
) -> tuple[list[AtRisk], int]:
    """The first `limit` at-risk stakeholders (all if None), and how many there are in all: the
    influential stakeholders whose perception fell (perception_falls), then those at risk, counted
    in the same query. Only those returned are loaded whole, with their segment and owner: a
    large PMO has hundreds at risk, and the dashboard shows twenty. `today` is the PMO's today
    (timezone.localdate() in a request), for the overdue touch."""
    today = today or timezone.localdate()
    influential = Stakeholder.objects.filter(pmo=pmo, is_active=True, influence__gte=AT_RISK_INFLUENCE)
    if segment_id is not None:
        influential = influential.filter(segment_id=segment_id)
    # Only those whose perception fell come back from PostgreSQL, with their last two; the
    # rule itself (_perception_drop, its rounding) is applied here, once, to those few.
    falls = {
        pk: values
        for pk, values in perception_falls(influential, [pmo.pk], PERCEPTION_DROP).items()
        if _perception_drop(values) is not None
    }
    at_risk = (
        with_engagement(influential, pmo, today)
        .filter(Q(current_stage__lte=AT_RISK_STAGE) | Q(pk__in=list(falls)) | Q(touch_overdue=True))
        .annotate(at_risk_count=Window(Count("pk")))
        .select_related("segment", "owner__user")
        .order_by("-influence", "name", "pk")
    )
    rows = list(at_risk if limit is None else at_risk[:limit])
    result = []
    for stakeholder in rows:
        reasons = []
        if stakeholder.current_stage is not None and stakeholder.current_stage <= AT_RISK_STAGE:
            reasons.append(f"Maturity only {MaturityStage(stakeholder.current_stage).label}")
        if stakeholder.pk in falls:
            reasons.append(_perception_fall(falls[stakeholder.pk]))
        engagement = engagement_of(stakeholder, today)
        if stakeholder.touch_overdue:
            reasons.append(touch_overdue_reason(engagement, stakeholder))
        result.append(AtRisk(stakeholder, reasons, engagement))
    return result, rows[0].at_risk_count if rows else 0
