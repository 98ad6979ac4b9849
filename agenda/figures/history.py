"""A PMO's survey figures over time (docs/figures.md, "Trends" and "The agenda report"): the
perception trend across closed surveys, and the earlier perception the report's "change"
column compares with. Both are the closed surveys' figures per element, read from their
kept rows (kept.element_figures_of).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from agenda.figures.kept import element_figures_of
from agenda.figures.survey import closed_surveys
from pmo5p.domain import Element
from stakeholders.models import Response, Survey
from stakeholders.surveys import anonymity

TREND_SURVEYS = 8


@dataclass
class TrendPoint:
    survey_id: int
    title: str
    closed_at: datetime
    perception: dict[Element, float | None] = field(default_factory=dict)
    answers: int = 0  # the performance answers (not "Don't know") the point rests on


def perception_trend(pmo, segment_id: int | None = None, limit: int = TREND_SURVEYS) -> list[TrendPoint]:
    """Perception per element for the last closed surveys, oldest first, in two queries (three
    with a segment).

    With a segment, each survey uses the responses given in it, and one in which it has too
    few responses keeps its place with no figures: the minimum group size, survey by survey.
    """
    recent = list(closed_surveys(pmo)[:limit])
    if segment_id is not None:
        hidden = anonymity.hidden_groups(Response.objects.filter(survey__in=recent, segment_id=segment_id))
        recent_shown = [survey for survey in recent if (survey.pk, segment_id) not in hidden]
    else:
        recent_shown = recent
    figures = element_figures_of(recent_shown, segment_id=segment_id, count_raters=False)
    points = []
    for survey in reversed(recent):
        point = TrendPoint(survey.pk, survey.title, survey.closed_at)
        for element, entry in (figures.get(survey.pk) or {}).items():
            if entry.perception is not None:
                point.perception[element] = entry.perception
                point.answers += entry.perception_answers
        points.append(point)
    return points


@dataclass
class EarlierPerception:
    survey_id: int
    title: str
    closed_at: datetime
    perception: float


def earlier_perceptions(pmo, survey: Survey) -> dict[Element, EarlierPerception]:
    """Per element, its perception in the latest closed survey before `survey` in which
    enough responses rated it for a group to be shown (docs/figures.md, "The agenda
    report"); an element no earlier survey has enough answers for is left out. Two queries.

    "Before" is by closing time; an open survey comes after every closed one. The group is
    counted per element, in responses with a rating (not "Don't know"), so that a perception
    is never compared with one a handful of people gave.
    """
    earlier = closed_surveys(pmo).exclude(pk=survey.pk)
    if survey.closed_at is not None:
        earlier = earlier.filter(Q(closed_at__lt=survey.closed_at) | Q(closed_at=survey.closed_at, pk__lt=survey.pk))
    earlier = list(earlier)
    figures = element_figures_of(earlier)
    found: dict[Element, EarlierPerception] = {}
    # Oldest first, so that the latest survey is the one left for each element.
    for before in reversed(earlier):
        for element, entry in (figures.get(before.pk) or {}).items():
            if entry.perception is not None and anonymity.group_is_shown(entry.perception_responses):
                found[element] = EarlierPerception(before.pk, before.title, before.closed_at, entry.perception)
    return found
