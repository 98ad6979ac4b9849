"""What is built on each element's survey figures (docs/figures.md, "Per element"): the
PMO's self-assessment score, the perception gap, the IPA quadrant and the priority.

- self-assessment score: (rating − 1) / 4 × 100 of the latest rating per element;
- perception gap: perception − self-assessment score;
- IPA quadrant against the midpoint 50;
- priority: importance × (100 − perception) / 100.
"""

from dataclasses import asdict, dataclass
from datetime import date

from django.db import models
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from agenda.figures.kept import survey_element_figures
from agenda.figures.survey import ElementFigures, no_figures, score
from agenda.models import SelfAssessment
from pmo5p.domain import Element
from stakeholders.models import Survey

MIDPOINT = 50


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


@dataclass
class ElementInsight(ElementFigures):
    """An element's survey figures, with the PMO's own rating of it and what follows."""

    self_rating: int | None = None
    self_assessed_on: date | None = None

    @classmethod
    def of(cls, figures: ElementFigures, own: SelfAssessment | None = None) -> "ElementInsight":
        return cls(
            **asdict(figures),
            self_rating=own.rating if own else None,
            self_assessed_on=own.assessed_on if own else None,
        )

    @property
    def self_score(self) -> float | None:
        return score(self.self_rating)

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


def element_insights(pmo, survey: Survey | None, segment_id: int | None = None) -> list[ElementInsight]:
    """Perception, importance, self-assessment, gap, quadrant and priority per element, in
    two queries; with a segment, from the responses given in it."""
    figures = survey_element_figures(survey, segment_id) if survey else no_figures()
    selves = latest_self_assessments(pmo)
    return [ElementInsight.of(figures[element], selves.get(element)) for element in Element]


def ranked_by_priority(insights: list[ElementInsight]) -> list[ElementInsight]:
    """Highest priority first; elements without figures last, in model order."""
    order = {element: index for index, element in enumerate(Element)}
    return sorted(insights, key=lambda i: (i.priority is None, -(i.priority or 0), order[i.element]))
