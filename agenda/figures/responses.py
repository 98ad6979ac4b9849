"""Figures of one response, that is of one stakeholder's answer to one survey
(docs/figures.md, "Per stakeholder").

- perception per element of a response: `survey.element_figures_by` grouped by response
  (the results page's per-stakeholder table, the detractor alert's lowest elements);
- perception of a response: the mean score of all its performance answers, one number
  (the at-risk rule, the suggested maturity stage). It is kept on the response
  (Response.perception_rating, the mean rating), so that reading it never averages answers:
  `perception` computes it from the ratings being stored, and submit writes it in the
  response's INSERT (stakeholders/surveys/lifecycle.py, through
  stakeholders/surveys/figure_source.py); `store_perceptions` recomputes it in SQL for
  responses whose answers were written otherwise (the demo, bulk loads).
"""

from collections.abc import Iterable

from django.db.models import Avg, F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from agenda.figures.survey import ElementFigures, element_figures_by, no_figures, score
from pmo5p.domain import Element
from stakeholders.models import Answer, QuestionKind, Response


def per_response(responses: list[Response]) -> dict[int, dict[Element, ElementFigures]]:
    """Perception and importance per element of each response, by its id, in one query."""
    figures = element_figures_by(Answer.objects.filter(response__in=responses), "response_id")
    return {response.pk: figures.get(response.pk) or no_figures() for response in responses}


def lowest_elements(response: Response, limit: int = 2) -> list[tuple[Element, float]]:
    """The elements this one response scored lowest on (for the detractor alert), lowest
    first, then in the order of Element; elements it did not rate are left out."""
    rated = [entry for entry in per_response([response])[response.pk].values() if entry.perception is not None]
    lowest = sorted(rated, key=lambda entry: entry.perception)[:limit]
    return [(entry.element, entry.perception) for entry in lowest]


def perception(ratings: Iterable[int | None]) -> float | None:
    """A response's perception from its performance ratings: their mean, leaving out
    "Don't know" (None); None if nothing is left. The same figure as `store_perceptions`."""
    rated = [value for value in ratings if value is not None]
    return sum(rated) / len(rated) if rated else None


def store_perceptions(responses: QuerySet[Response]) -> int:
    """Write the perception of each of these responses, the mean rating of its performance
    answers (None if it has none, or all "Don't know"), in one UPDATE. Called whenever a
    response's answers are written; returns the number of responses updated."""
    mean_rating = (
        Answer.objects.filter(response=OuterRef("pk"), question__kind=QuestionKind.PERFORMANCE)
        .values("response")
        .annotate(mean=Avg("value"))
        .values("mean")
    )
    return responses.update(perception_rating=Subquery(mean_rating))


def last_two_perceptions(stakeholders) -> dict[int, list[float]]:
    """Each stakeholder's perception in their last two named responses, newest first, in one query.

    Anonymous surveys are left out: their answers are never tied to a person. So is a
    response with no performance rating (all "Don't know"): it has no perception.
    """
    rows = (
        Response.objects.filter(invitation__stakeholder__in=stakeholders, survey__anonymous=False)
        .filter(perception_rating__isnull=False)
        .values("id", "invitation__stakeholder_id", "submitted_at", "perception_rating")
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
    result: dict[int, list[float]] = {}
    for row in rows:
        result.setdefault(row["invitation__stakeholder_id"], []).append(score(row["perception_rating"]))
    return result
