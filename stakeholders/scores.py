"""Survey figures, computed in the database (docs/figures.md).

The score of a rating r on the 1–5 scale is (r − 1) / 4 × 100, and a mean of
scores is the score of the mean rating, so every figure here is one SQL aggregate
(AVG, COUNT) grouped by element, never a loop over answers in Python. "Don't know"
answers are stored as NULL and so drop out of every mean and count of values.

These live with the surveys because the survey pages need them and dependencies
point agenda → stakeholders; agenda's insights build gaps, quadrants and
priorities on top of them.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet

from pmo5p.domain import Element
from stakeholders.models import Answer, QuestionKind, Response, SurveyInvitation


def score(mean_rating: float | None) -> float | None:
    """Turn a mean rating on the 1–5 scale into a 0–100 score."""
    if mean_rating is None:
        return None
    return (float(mean_rating) - 1) / 4 * 100


@dataclass
class ElementScore:
    element: Element
    perception: float | None = None
    perception_answers: int = 0
    importance: float | None = None
    importance_answers: int = 0
    dont_know: int = 0


def element_scores(answers: QuerySet[Answer]) -> dict[Element, ElementScore]:
    """Perception and importance per element over the given answers, in one query."""
    scores = {element: ElementScore(element) for element in Element}
    rows = (
        answers.filter(question__kind__in=[QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE])
        .values("question__element", "question__kind")
        .annotate(mean=Avg("value"), answered=Count("value"), dont_know=Count("id", filter=Q(value__isnull=True)))
    )
    for row in rows:
        entry = scores[Element(row["question__element"])]
        if row["question__kind"] == QuestionKind.PERFORMANCE:
            entry.perception = score(row["mean"])
            entry.perception_answers = row["answered"]
            entry.dont_know += row["dont_know"]
        else:
            entry.importance = score(row["mean"])
            entry.importance_answers = row["answered"]
    return scores


@dataclass
class NpsSummary:
    answers: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> float | None:
        """% promoters (9–10) − % detractors (0–6), from −100 to 100."""
        if not self.answers:
            return None
        return (self.promoters - self.detractors) / self.answers * 100

    def share(self, count: int) -> float | None:
        return count / self.answers * 100 if self.answers else None


def nps_summary(responses: QuerySet[Response]) -> NpsSummary:
    totals = responses.aggregate(
        answers=Count("nps"),
        promoters=Count("id", filter=Q(nps__gte=9)),
        passives=Count("id", filter=Q(nps__in=[7, 8])),
        detractors=Count("id", filter=Q(nps__lte=6)),
    )
    return NpsSummary(**totals)


@dataclass
class Participation:
    invited: int
    sent: int
    failed: int
    responses: int

    @property
    def response_rate(self) -> float | None:
        """Responses / invitations sent, as a percentage."""
        return self.responses / self.sent * 100 if self.sent else None


def participation(survey) -> Participation:
    totals = SurveyInvitation.objects.filter(survey=survey).aggregate(
        invited=Count("id"),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        failed=Count("id", filter=Q(send_status=SurveyInvitation.SendStatus.FAILED)),
        responses=Count("response"),
    )
    return Participation(**totals)


@dataclass
class SegmentRow:
    segment_id: int | None
    name: str
    responses: int
    hidden: bool
    scores: dict[Element, ElementScore] = field(default_factory=dict)

    @property
    def perceptions(self) -> list[float | None]:
        """Perception per element, in the order of Element."""
        return [self.scores[e].perception if e in self.scores else None for e in Element]


def segment_breakdown(survey) -> list[SegmentRow]:
    """Perception per element per segment; groups under MIN_GROUP_SIZE responses are hidden.

    The rows are the segments of everyone invited, by name, and "No segment" last if
    anyone invited has none: a function of the audience alone. Built from the segments
    that have responses, the list would grow a "hidden" row the moment the one member
    of a segment answered; so every group under the threshold is hidden alike, none
    who answered as well as one. For the same reason a response counts in the segment
    it was given in (Response.segment) but adds no row: a segment that nobody invited
    is in any more (they moved) is not listed, answered or not.

    Three queries: the segments invited, the response count per segment, then the
    means per segment and element.
    """
    minimum = settings.MIN_GROUP_SIZE
    invited = (
        SurveyInvitation.objects.filter(survey=survey)
        .values_list("stakeholder__segment_id", "stakeholder__segment__name")
        .distinct()
        .order_by()
    )
    counts = dict(Response.objects.filter(survey=survey).values_list("segment_id").annotate(n=Count("id")).order_by())
    rows = {
        segment_id: SegmentRow(
            segment_id, name or "No segment", counts.get(segment_id, 0), counts.get(segment_id, 0) < minimum
        )
        for segment_id, name in sorted(invited, key=lambda pair: (pair[0] is None, pair[1] or ""))
    }
    visible = [segment_id for segment_id, row in rows.items() if not row.hidden]
    if visible:
        segment_filter = Q(response__segment_id__in=[s for s in visible if s is not None])
        if None in visible:
            segment_filter |= Q(response__segment__isnull=True)
        means = (
            Answer.objects.filter(segment_filter, response__survey=survey, question__kind=QuestionKind.PERFORMANCE)
            .values("response__segment_id", "question__element")
            .annotate(mean=Avg("value"), answered=Count("value"))
        )
        for mean in means:
            row = rows[mean["response__segment_id"]]
            element = Element(mean["question__element"])
            row.scores[element] = ElementScore(
                element, perception=score(mean["mean"]), perception_answers=mean["answered"]
            )
    return list(rows.values())


def lowest_elements(response: Response, limit: int = 2) -> list[tuple[Element, float]]:
    """The elements this one response scored lowest on (for the detractor alert)."""
    rows = (
        Answer.objects.filter(response=response, question__kind=QuestionKind.PERFORMANCE, value__isnull=False)
        .values("question__element")
        .annotate(mean=Avg("value"))
        .order_by("mean", "question__element")[:limit]
    )
    return [(Element(row["question__element"]), score(row["mean"])) for row in rows]
