"""A survey's figures per segment (docs/figures.md, "Per segment, and the minimum group size"):
the one list of segment rows that the results page, the API and the suggestions show.

The rows are the segments the invitations were given at launch (SurveyInvitation.segment),
by name, and "No segment" last if any invitation has none: a function of the audience
alone, which nothing done after the launch changes. Built from the segments that have
responses, the list would grow a "hidden" row the moment the one member of a segment
answered; so every group under the minimum size is hidden alike, none who answered as well
as one. A response counts in its invitation's segment (Response.segment is set from it).

"No segment" is a group like any other: it has its row, its figures and the same
threshold. The suggestions leave it out only because an action targets a segment, and
"No segment" is none.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from agenda.figures.kept import element_figures_of
from agenda.figures.responses import lowest_of
from agenda.figures.survey import (
    ElementFigures,
    Participation,
    figures_from_rows,
    no_figures,
    participation_by_segment,
)
from pmo5p.domain import DETRACTOR_MAX, Element
from stakeholders.models import QuestionKind, Response, Segment, Survey
from stakeholders.surveys import anonymity

NO_SEGMENT = "No segment"


@dataclass
class SegmentFigures:
    segment_id: int | None  # None: "No segment"
    name: str
    participation: Participation
    hidden: bool
    # Per element; every element without answers when the group is hidden.
    elements: dict[Element, ElementFigures] = field(default_factory=no_figures)

    @property
    def responses(self) -> int:
        return self.participation.responses

    @property
    def perceptions(self) -> list[float | None]:
        """Perception per element, in the order of Element."""
        return [self.elements[element].perception for element in Element]


def segment_figures(survey: Survey, counts: dict[int | None, Participation] | None = None) -> list[SegmentFigures]:
    """A row per segment of those invited, with its figures unless it has too few responses.

    Three queries: the participation per segment (unless given as `counts`, the survey's
    participation_by_segment), the names of those segments, then the means per segment and
    element of the groups shown. The segments invited are the participation's groups: every
    invitation counts in one.
    """
    counts = participation_by_segment(survey) if counts is None else counts
    names = dict(Segment.objects.filter(pk__in=[pk for pk in counts if pk is not None]).values_list("pk", "name"))
    invited = [(segment_id, names.get(segment_id)) for segment_id in counts]
    rows = []
    for segment_id, name in sorted(invited, key=lambda pair: (pair[0] is None, pair[1] or "")):
        taking_part = counts.get(segment_id) or Participation()
        rows.append(
            SegmentFigures(
                segment_id, name or NO_SEGMENT, taking_part, not anonymity.group_is_shown(taking_part.responses)
            )
        )
    if any(not row.hidden for row in rows):
        # Every group's means in one query (kept, once the survey is closed); only those of
        # the groups shown leave this function.
        figures = element_figures_of([survey], by_segment=True)
        for row in rows:
            if not row.hidden:
                row.elements = figures.get((survey.pk, row.segment_id)) or no_figures()
    return rows


@dataclass(frozen=True)
class DetractorGroup:
    """A survey's detractors (0–6) in one segment: how many, and the elements they scored
    lowest (the mean of their performance answers per element), lowest first."""

    segment_id: int | None  # None: "No segment"
    detractors: int
    lowest: list[tuple[Element, float]]


def detractor_groups(survey: Survey) -> dict[int | None, DetractorGroup]:
    """Per segment (the responses' segment, at launch; None: "No segment") with detractors,
    those detractors: how many (each detractor response, whatever it rated) and their lowest
    elements, in one query. The element means are the layer's (figures_from_rows: the score
    of the mean rating, "Don't know" left out); the ties go to the order of Element, so the
    result depends on the answers alone, never on who gave them or when
    (stakeholders/cases/opening.py opens an anonymous survey's group cases from it).

    The counts and the sums come from one aggregate over the detractors' responses, their
    answers joined: a response with no answer still counts (LEFT JOIN, distinct ids)."""
    aggregates = {"detractors": Count("pk", distinct=True)}
    for element in Element:
        rated = Q(answers__question__kind=QuestionKind.PERFORMANCE, answers__question__element=element)
        aggregates[f"{element.value}_total"] = Coalesce(Sum("answers__value", filter=rated), 0)
        aggregates[f"{element.value}_answered"] = Count("answers__value", filter=rated)
    groups = list(
        Response.objects.filter(survey=survey, nps__lte=DETRACTOR_MAX)
        .values("segment_id")
        .annotate(**aggregates)
        .order_by()
    )
    # As element_rows would give them, so that the mean is taken by the layer's one formula.
    rows = [
        {
            "group": group["segment_id"],
            "element": element.value,
            "kind": QuestionKind.PERFORMANCE,
            "total": group[f"{element.value}_total"],
            "answered": group[f"{element.value}_answered"],
            "dont_know": 0,
        }
        for group in groups
        for element in Element
    ]
    figures = figures_from_rows(rows, lambda row: row["group"])
    return {
        group["segment_id"]: DetractorGroup(
            group["segment_id"],
            group["detractors"],
            lowest_of(figures.get(group["segment_id"]) or no_figures(), len(Element)),
        )
        for group in groups
    }
