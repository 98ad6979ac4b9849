"""Insights: the figures the dashboard, the API and the reports share (docs/figures.md).

Each is defined once, here, on top of the survey scores of stakeholders.scores, and
computed with SQL aggregates: a fixed number of queries whatever the data size.

- self-assessment score: (rating − 1) / 4 × 100 of the latest rating per element;
- perception gap: perception − self-assessment score;
- IPA quadrant against the midpoint 50;
- priority: importance × (100 − perception) / 100;
- at-risk: influence ≥ 4 and (current maturity ≤ 2, or perception down ≥ 10 points
  between the stakeholder's last two named responses).
"""

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Avg, Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from agenda.models import MaturityRecord, SelfAssessment
from pmo5p.domain import Element, MaturityStage
from stakeholders import scores
from stakeholders.models import Answer, QuestionKind, Response, Stakeholder, Survey, SurveyInvitation, SurveyStatus
from stakeholders.selectors import Quadrant, quadrant_expression

MIDPOINT = 50
AT_RISK_INFLUENCE = 4
AT_RISK_STAGE = MaturityStage.AWARE
PERCEPTION_DROP = 10


class IpaQuadrant(models.TextChoices):
    CONCENTRATE = "concentrate", "Concentrate here"
    KEEP_UP = "keep_up", "Keep up the good work"
    LOW_PRIORITY = "low_priority", "Low priority"
    OVERKILL = "overkill", "Possible overkill"

    @property
    def advice(self) -> str:
        return {
            IpaQuadrant.CONCENTRATE: "Important to stakeholders and seen as weak: work on this first.",
            IpaQuadrant.KEEP_UP: "Important and seen as strong: protect it.",
            IpaQuadrant.LOW_PRIORITY: "Neither important nor strong: watch, don't invest yet.",
            IpaQuadrant.OVERKILL: "Strong, but matters less to stakeholders: effort may be better spent elsewhere.",
        }[self]


def ipa_quadrant(importance: float | None, perception: float | None) -> IpaQuadrant | None:
    if importance is None or perception is None:
        return None
    if importance >= MIDPOINT:
        return IpaQuadrant.CONCENTRATE if perception < MIDPOINT else IpaQuadrant.KEEP_UP
    return IpaQuadrant.LOW_PRIORITY if perception < MIDPOINT else IpaQuadrant.OVERKILL


def priority(importance: float | None, perception: float | None) -> float | None:
    if importance is None or perception is None:
        return None
    return importance * (100 - perception) / 100


# Self-assessment -----------------------------------------------------------------------


def latest_self_assessments(pmo, *, on: date | None = None) -> dict[Element, SelfAssessment]:
    """The latest self-assessment per element (as of a date, if given), in one query."""
    rows = SelfAssessment.objects.filter(pmo=pmo)
    if on is not None:
        rows = rows.filter(assessed_on__lte=on)
    rows = rows.annotate(
        rank=Window(
            RowNumber(),
            partition_by=F("element"),
            order_by=[F("assessed_on").desc(), F("created_at").desc(), F("pk").desc()],
        )
    ).filter(rank=1)
    return {Element(row.element): row for row in rows.select_related("author")}


# Per element ---------------------------------------------------------------------------


@dataclass
class ElementInsight:
    element: Element
    perception: float | None
    perception_answers: int
    importance: float | None
    importance_answers: int
    dont_know: int
    self_rating: int | None
    self_assessed_on: date | None

    @property
    def self_score(self) -> float | None:
        return scores.score(self.self_rating)

    @property
    def gap(self) -> float | None:
        if self.perception is None or self.self_score is None:
            return None
        return self.perception - self.self_score

    @property
    def quadrant(self) -> IpaQuadrant | None:
        return ipa_quadrant(self.importance, self.perception)

    @property
    def priority(self) -> float | None:
        return priority(self.importance, self.perception)


def survey_answers(survey: Survey, segment_id: int | None = None):
    answers = Answer.objects.filter(response__survey=survey)
    if segment_id is not None:
        answers = answers.filter(response__segment_id=segment_id)
    return answers


def element_insights(pmo, survey: Survey | None, segment_id: int | None = None) -> list[ElementInsight]:
    """Perception, importance, self-assessment, gap, quadrant and priority per element."""
    element_scores = scores.element_scores(survey_answers(survey, segment_id)) if survey else {}
    selves = latest_self_assessments(pmo)
    insights = []
    for element in Element:
        s = element_scores.get(element) or scores.ElementScore(element)
        own = selves.get(element)
        insights.append(
            ElementInsight(
                element=element,
                perception=s.perception,
                perception_answers=s.perception_answers,
                importance=s.importance,
                importance_answers=s.importance_answers,
                dont_know=s.dont_know,
                self_rating=own.rating if own else None,
                self_assessed_on=own.assessed_on if own else None,
            )
        )
    return insights


def ranked_by_priority(insights: list[ElementInsight]) -> list[ElementInsight]:
    """Highest priority first; elements without figures last, in model order."""
    order = {element: index for index, element in enumerate(Element)}
    return sorted(insights, key=lambda i: (i.priority is None, -(i.priority or 0), order[i.element]))


# Surveys -------------------------------------------------------------------------------


def closed_surveys(pmo):
    return Survey.objects.filter(pmo=pmo, status=SurveyStatus.CLOSED).order_by("-closed_at", "-pk")


def default_survey(pmo) -> Survey | None:
    """The latest closed survey, else the latest open one with responses."""
    return (
        closed_surveys(pmo).first()
        or Survey.objects.filter(pmo=pmo, status=SurveyStatus.OPEN, responses__isnull=False)
        .order_by("-launched_at", "-pk")
        .first()
    )


def segment_response_count(survey: Survey, segment_id: int) -> int:
    return Response.objects.filter(survey=survey, segment_id=segment_id).count()


def segment_is_shown(survey: Survey, segment_id: int) -> bool:
    return segment_response_count(survey, segment_id) >= settings.MIN_GROUP_SIZE


@dataclass
class TrendPoint:
    survey_id: int
    title: str
    closed_at: object
    perception: dict[Element, float | None] = field(default_factory=dict)
    answers: int = 0  # the performance answers (not "Don't know") the point rests on


def perception_trend(pmo, segment_id: int | None = None, limit: int = 8) -> list[TrendPoint]:
    """Perception per element for the last closed surveys, oldest first, in two queries."""
    recent = list(closed_surveys(pmo)[:limit])
    points = {s.pk: TrendPoint(s.pk, s.title, s.closed_at) for s in reversed(recent)}
    answers = Answer.objects.filter(response__survey__in=recent, question__kind=QuestionKind.PERFORMANCE)
    if segment_id is not None:
        # Respect the anonymity threshold survey by survey.
        shown = [
            row["survey_id"]
            for row in Response.objects.filter(survey__in=recent, segment_id=segment_id)
            .values("survey_id")
            .annotate(n=Count("id"))
            if row["n"] >= settings.MIN_GROUP_SIZE
        ]
        answers = answers.filter(response__segment_id=segment_id, response__survey_id__in=shown)
    rows = answers.values("response__survey_id", "question__element").annotate(
        mean=Avg("value"), answered=Count("value")
    )
    for row in rows:
        point = points[row["response__survey_id"]]
        point.perception[Element(row["question__element"])] = scores.score(row["mean"])
        point.answers += row["answered"]
    return list(points.values())


@dataclass
class EarlierPerception:
    survey_id: int
    title: str
    closed_at: object
    perception: float


def earlier_perceptions(pmo, survey: Survey) -> dict[Element, EarlierPerception]:
    """Per element, its perception in the latest closed survey before `survey` in which
    at least MIN_GROUP_SIZE responses rated it (docs/figures.md, "The report's change
    column"); an element no earlier survey has enough answers for is left out. One query.

    "Before" is by closing time; an open survey comes after every closed one. The
    threshold is counted per element, in responses with a rating (not "Don't know"), so
    that a perception is never compared with one a handful of people gave.
    """
    earlier = closed_surveys(pmo).exclude(pk=survey.pk)
    if survey.closed_at is not None:
        earlier = earlier.filter(Q(closed_at__lt=survey.closed_at) | Q(closed_at=survey.closed_at, pk__lt=survey.pk))
    rows = (
        Answer.objects.filter(
            response__survey__in=earlier, question__kind=QuestionKind.PERFORMANCE, value__isnull=False
        )
        .values("response__survey_id", "response__survey__title", "response__survey__closed_at", "question__element")
        .annotate(mean=Avg("value"), responses=Count("response", distinct=True))
        .filter(responses__gte=settings.MIN_GROUP_SIZE)
    )
    found: dict[Element, EarlierPerception] = {}
    # Oldest first, so that the latest survey is the one left for each element.
    for row in sorted(rows, key=lambda r: (r["response__survey__closed_at"], r["response__survey_id"])):
        found[Element(row["question__element"])] = EarlierPerception(
            row["response__survey_id"],
            row["response__survey__title"],
            row["response__survey__closed_at"],
            scores.score(row["mean"]),
        )
    return found


# Maturity ------------------------------------------------------------------------------


def current_stage_subquery():
    """The stage of a stakeholder's latest maturity record, for .annotate()."""
    latest = MaturityRecord.objects.filter(stakeholder=OuterRef("pk")).order_by("-recorded_on", "-created_at", "-pk")
    return Subquery(latest.values("stage")[:1])


def with_current_stage(stakeholders):
    return stakeholders.annotate(current_stage=current_stage_subquery())


def maturity_distribution(stakeholders) -> dict[int | None, int]:
    """Count of stakeholders per current stage (None: never assessed), one query."""
    rows = with_current_stage(stakeholders).values("current_stage").annotate(n=Count("id")).order_by()
    distribution = {stage.value: 0 for stage in MaturityStage} | {None: 0}
    for row in rows:
        distribution[row["current_stage"]] = row["n"]
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


# Perception per stakeholder, and who is at risk -----------------------------------------


def response_perception():
    """Mean rating of a response's performance answers, for .annotate() on Response."""
    return Avg("answers__value", filter=Q(answers__question__kind=QuestionKind.PERFORMANCE))


def last_two_perceptions(stakeholders) -> dict[int, list[float | None]]:
    """Each stakeholder's perception in their last two named responses, newest first.

    Anonymous surveys are left out: their answers are never tied to a person. So is a
    response with no performance rating (all "Don't know"): it has no perception.
    """
    rows = (
        Response.objects.filter(invitation__stakeholder__in=stakeholders, survey__anonymous=False)
        .values("id", "invitation__stakeholder_id", "submitted_at")
        .annotate(mean=response_perception())
        .filter(mean__isnull=False)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("invitation__stakeholder_id"),
                order_by=[F("submitted_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=2)
        .order_by("invitation__stakeholder_id", "rank")
    )
    result: dict[int, list[float | None]] = {}
    for row in rows:
        result.setdefault(row["invitation__stakeholder_id"], []).append(scores.score(row["mean"]))
    return result


@dataclass
class AtRisk:
    stakeholder: Stakeholder
    reasons: list[str]


def at_risk_stakeholders(pmo, segment_id: int | None = None) -> list[AtRisk]:
    """Influence ≥ 4 and (current maturity ≤ 2, or perception down ≥ 10 points)."""
    influential = Stakeholder.objects.filter(pmo=pmo, is_active=True, influence__gte=AT_RISK_INFLUENCE)
    if segment_id is not None:
        influential = influential.filter(segment_id=segment_id)
    candidates = list(
        with_current_stage(influential).select_related("segment", "owner__user").order_by("-influence", "name")
    )
    perceptions = last_two_perceptions(influential)
    result = []
    for stakeholder in candidates:
        reasons = []
        if stakeholder.current_stage is not None and stakeholder.current_stage <= AT_RISK_STAGE:
            reasons.append(f"Maturity only {MaturityStage(stakeholder.current_stage).label}")
        last, previous = (perceptions.get(stakeholder.pk, []) + [None, None])[:2]
        # Rounded: scores are floats, and 25 − 15 from means 2.0 and 1.6 comes out 9.999….
        drop = round(previous - last, 6) if last is not None and previous is not None else None
        if drop is not None and drop >= PERCEPTION_DROP:
            reasons.append(f"Perception fell {drop:.0f} points, from {previous:.0f} to {last:.0f}")
        if reasons:
            result.append(AtRisk(stakeholder, reasons))
    return result


def invitations_sent(survey: Survey, segment_id: int | None = None) -> int:
    sent = SurveyInvitation.objects.filter(survey=survey, sent_at__isnull=False)
    if segment_id is not None:
        # As responses count: by the segment they answered in, else the stakeholder's own.
        sent = sent.filter(
            Q(response__segment_id=segment_id) | Q(response__isnull=True, stakeholder__segment_id=segment_id)
        )
    return sent.count()


@dataclass
class SegmentInsight:
    segment_id: int
    name: str
    responses: int
    elements: list[ElementInsight]


def segment_element_insights(survey: Survey) -> list[SegmentInsight]:
    """Perception and importance per element for each segment with enough responses, two queries."""
    counts = {
        row["segment_id"]: (row["segment__name"], row["n"])
        for row in Response.objects.filter(survey=survey, segment__isnull=False)
        .values("segment_id", "segment__name")
        .annotate(n=Count("id"))
        if row["n"] >= settings.MIN_GROUP_SIZE
    }
    rows = (
        Answer.objects.filter(response__survey=survey, response__segment_id__in=list(counts))
        .filter(question__kind__in=[QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE])
        .values("response__segment_id", "question__element", "question__kind")
        .annotate(mean=Avg("value"), answered=Count("value"))
    )
    figures: dict[int, dict[Element, dict]] = {segment_id: {} for segment_id in counts}
    for row in rows:
        entry = figures[row["response__segment_id"]].setdefault(Element(row["question__element"]), {})
        entry[row["question__kind"]] = (scores.score(row["mean"]), row["answered"])
    result = []
    for segment_id, (name, responses) in sorted(counts.items(), key=lambda item: item[1][0]):
        elements = []
        for element in Element:
            entry = figures[segment_id].get(element, {})
            perception, perception_n = entry.get(QuestionKind.PERFORMANCE, (None, 0))
            importance, importance_n = entry.get(QuestionKind.IMPORTANCE, (None, 0))
            elements.append(ElementInsight(element, perception, perception_n, importance, importance_n, 0, None, None))
        result.append(SegmentInsight(segment_id, name, responses, elements))
    return result
