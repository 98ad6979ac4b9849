"""Figures of one response, that is of one stakeholder's answer to one survey
(docs/figures.md, "Per stakeholder").

- perception per element of a response: `survey.element_figures_by` grouped by response
  (the detractor alert's lowest elements; `perceptions_of`, the perceptions alone, for the
  results page's per-stakeholder table);
- perception of a response: the mean score of all its performance answers, one number
  (the at-risk rule, the suggested maturity stage). It is kept on the response
  (Response.perception_rating, the mean rating), so that reading it never averages answers:
  `perception` computes it from the ratings being stored, and submit writes it in the
  response's INSERT (stakeholders/surveys/lifecycle.py, through
  stakeholders/surveys/figure_source.py); `store_perceptions` recomputes it in SQL for
  responses whose answers were written otherwise (the demo, bulk loads);
- each stakeholder's last two named perceptions (the at-risk rule): kept for the closed
  surveys whose figures are kept (KeptPerception, keep_perceptions), ranked from the
  responses for the others.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import Avg, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from agenda.figures.survey import (
    ElementFigures,
    element_figures_by,
    element_rows,
    figures_from_rows,
    no_figures,
    score,
)
from agenda.models import KeptElementFigures, KeptPerception
from pmo5p.domain import Element
from stakeholders.models import Answer, QuestionKind, Response, Survey, SurveyStatus


def per_response(responses: list[Response]) -> dict[int, dict[Element, ElementFigures]]:
    """Perception and importance per element of each response, by its id, in one query."""
    figures = element_figures_by(Answer.objects.filter(response__in=responses), "response_id")
    return {response.pk: figures.get(response.pk) or no_figures() for response in responses}


def perceptions_of(response_ids: list[int]) -> dict[int, list[float | None]]:
    """The perception per element (in the order of Element) of each of these responses, by
    its id, in one query: per_response's perceptions, without the importance answers and the
    count of raters, which a table of perceptions does not show."""
    answers = Answer.objects.filter(response_id__in=response_ids, question__kind=QuestionKind.PERFORMANCE)
    rows = element_rows(answers, {"group": "response_id"}, count_raters=False)
    figures = figures_from_rows(rows, lambda row: row["group"])
    return {pk: [(figures.get(pk) or no_figures())[e].perception for e in Element] for pk in response_ids}


def lowest_elements(response: Response, limit: int = 2) -> list[tuple[Element, float]]:
    """The elements this one response scored lowest on (for the detractor alert), lowest
    first, then in the order of Element; elements it did not rate are left out."""
    return lowest_of(per_response([response])[response.pk], limit)


def lowest_elements_of(response_ids: list[int], limit: int = 2) -> dict[int, list[tuple[Element, float]]]:
    """lowest_elements of each of these responses, by its id, in one query (the suggestions
    to get back in touch, for every stakeholder whose touch is overdue)."""
    figures = element_figures_by(Answer.objects.filter(response_id__in=response_ids), "response_id")
    return {pk: lowest_of(figures.get(pk) or no_figures(), limit) for pk in response_ids}


def lowest_of(figures: dict[Element, ElementFigures], limit: int) -> list[tuple[Element, float]]:
    """The `limit` elements of these figures with the lowest perception, lowest first, then in
    the order of Element; elements with no perception are left out."""
    rated = [entry for entry in figures.values() if entry.perception is not None]
    lowest = sorted(rated, key=lambda entry: entry.perception)[:limit]
    return [(entry.element, entry.perception) for entry in lowest]


def latest_named_responses(stakeholder_ids: list[int]) -> dict[int, int]:
    """Each of these stakeholders' latest response to a named survey that has a perception,
    {stakeholder id: response id}, in one query: the ranking of the at-risk rule (_ranked)."""
    if not stakeholder_ids:
        return {}
    rows = _ranked(_named(Response.objects.filter(invitation__stakeholder_id__in=stakeholder_ids)))
    return {row["stakeholder"]: row["id"] for row in rows if row["rank"] == 1}


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


def _ranked(responses: QuerySet[Response], *more: str) -> QuerySet:
    """The last two of these responses per stakeholder, newest first: rows (id, stakeholder,
    submitted_at, perception_rating, rank, *more). The one ranking of the at-risk rule, for
    the responses read live and for those kept (keep_perceptions)."""
    return (
        responses.values("id", "submitted_at", "perception_rating", *more, stakeholder=F("invitation__stakeholder_id"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("invitation__stakeholder_id"),
                order_by=[F("submitted_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=2)
        .order_by()
    )


def _named(responses: QuerySet[Response]) -> QuerySet[Response]:
    """Anonymous surveys are left out: their answers are never tied to a person. So is a
    response with no performance rating (all "Don't know"): it has no perception."""
    return responses.filter(survey__anonymous=False, perception_rating__isnull=False)


def _kept_surveys(pmos) -> QuerySet[Survey]:
    """The closed surveys of these PMOs whose figures are kept (agenda/figures/kept.py)."""
    kept = KeptElementFigures.objects.filter(survey=OuterRef("pk"))
    return Survey.objects.filter(pmo__in=pmos, status=SurveyStatus.CLOSED).filter(Exists(kept))


def kept_perception_rows(pmo_ids: Iterable[int]) -> list[dict]:
    """The KeptPerception rows of these PMOs: each stakeholder's last two named perceptions
    among the PMO's kept closed surveys."""
    responses = _named(Response.objects.filter(survey__in=_kept_surveys(list(pmo_ids))))
    return [
        {
            "pmo_id": row["pmo_id"],
            "stakeholder_id": row["stakeholder"],
            "response_id": row["id"],
            "submitted_at": row["submitted_at"],
            "perception_rating": row["perception_rating"],
        }
        for row in _ranked(responses.annotate(pmo_id=F("survey__pmo_id")), "pmo_id")
    ]


def keep_perceptions(pmo_ids: Iterable[int]) -> None:
    """Write again, for each stakeholder of these PMOs, their last two named perceptions among
    the PMO's kept closed surveys (KeptPerception). Called by kept.keep_figures, in the same
    transaction, whenever a survey's kept figures are written again."""
    pmo_ids = list(pmo_ids)
    KeptPerception.objects.filter(pmo_id__in=pmo_ids).delete()
    KeptPerception.objects.bulk_create(KeptPerception(**row) for row in kept_perception_rows(pmo_ids))


def _live_surveys(pmos: list[int]) -> list[int]:
    """The named surveys of these PMOs whose perceptions are not kept (KeptPerception): the
    open ones, and any closed one whose figures are not kept yet. One query."""
    kept = KeptElementFigures.objects.filter(survey=OuterRef("pk"))
    return list(
        Survey.objects.filter(pmo__in=pmos, anonymous=False)
        .exclude(status=SurveyStatus.DRAFT)
        .exclude(Q(status=SurveyStatus.CLOSED) & Exists(kept))
        .values_list("pk", flat=True)
    )


def last_two_perceptions(stakeholders, pmos: list[int] | None = None) -> dict[int, list[float]]:
    """Each stakeholder's perception in their last two named responses, newest first, in four
    queries: their PMOs (unless given, as `pmos`) and those PMOs' surveys not kept, the last two among the kept closed
    surveys (KeptPerception), and the last two among the other surveys' (the open ones),
    ranked from their responses; then the last two of both.

    Anonymous surveys are left out: their answers are never tied to a person. So is a
    response with no performance rating (all "Don't know"): it has no perception.
    """
    if pmos is None:  # the caller may know them (the PMO of its page): a query fewer
        pmos = list(stakeholders.order_by().values_list("pmo_id", flat=True).distinct())
    live_surveys = _live_surveys(pmos)
    # (submitted_at, response id, rating) per stakeholder, newest first.
    mine: dict[int, list[tuple]] = {}
    kept_rows = (
        KeptPerception.objects.filter(stakeholder__in=stakeholders)
        .order_by("stakeholder_id", "-submitted_at", "-response_id")
        .values_list("stakeholder_id", "submitted_at", "response_id", "perception_rating")
    )
    for stakeholder_id, *row in kept_rows:
        mine.setdefault(stakeholder_id, []).append(tuple(row))
    if live_surveys:
        live = _named(Response.objects.filter(survey_id__in=live_surveys, invitation__stakeholder__in=stakeholders))
        for row in _ranked(live):
            found = mine.setdefault(row["stakeholder"], [])
            found.append((row["submitted_at"], row["id"], row["perception_rating"]))
            found.sort(reverse=True)
    return {
        stakeholder_id: [score(rating) for _, _, rating in found[:2]] for stakeholder_id, found in sorted(mine.items())
    }


def perception_falls(stakeholders, pmos: list[int], points: float) -> dict[int, list[float]]:
    """The last two perceptions, newest first, of those of these stakeholders whose last is
    about `points` or more below the one before: the same pairs as last_two_perceptions, but
    ranked and compared in PostgreSQL, so that only the stakeholders who fell come back (a
    large PMO's dashboard read and sorted the two perceptions of each of its 971 influential
    stakeholders in Python, to keep 170). Two queries: the surveys not kept, then the pairs.

    The comparison is loose by a millionth of a point, never strict: the caller applies its
    exact rule to these pairs (agenda/figures/relationships.py, _perception_drop), so that
    the rule, and its rounding, is written once.
    """
    live_surveys = _live_surveys(pmos)
    parts = [
        # By PMO too: PostgreSQL then reads these PMOs' kept rows by their index, not every PMO's.
        KeptPerception.objects.filter(pmo_id__in=pmos, stakeholder__in=stakeholders)
        .order_by()
        .values_list("stakeholder_id", "submitted_at", "response_id", "perception_rating")
    ]
    if live_surveys:
        live = _named(Response.objects.filter(survey_id__in=live_surveys, invitation__stakeholder__in=stakeholders))
        parts.append(
            live.order_by().values_list("invitation__stakeholder_id", "submitted_at", "id", "perception_rating")
        )
    compiled = [part.query.sql_with_params() for part in parts]
    # The columns take the names of the first SELECT's (no parentheses, no column list: SQLite too).
    candidates = " UNION ALL ".join(sql for sql, _ in compiled)
    params = [param for _, part_params in compiled for param in part_params]
    # A score is linear in the rating (survey.score): a fall of `points` is a fall of the mean
    # rating by points / (score(2) - score(1)).
    rating_fall = points / (score(2) - score(1)) - 1e-6 / (score(2) - score(1))
    # The candidates are querysets compiled by Django, their values passed as parameters.
    sql = f"""SELECT stakeholder_id, last, previous FROM (
            SELECT stakeholder_id,
                   MAX(CASE WHEN rank = 1 THEN perception_rating END) AS last,
                   MAX(CASE WHEN rank = 2 THEN perception_rating END) AS previous
            FROM (
                SELECT stakeholder_id, perception_rating, ROW_NUMBER() OVER (
                    PARTITION BY stakeholder_id ORDER BY submitted_at DESC, response_id DESC
                ) AS rank
                FROM ({candidates}) AS candidates
            ) AS ranked
            WHERE rank <= 2
            GROUP BY stakeholder_id
        ) AS pairs
        WHERE previous - last >= %s
        ORDER BY stakeholder_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, rating_fall])
        return {stakeholder_id: [score(last), score(previous)] for stakeholder_id, last, previous in cursor.fetchall()}
