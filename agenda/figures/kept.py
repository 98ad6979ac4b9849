"""A closed survey's perception and importance per element, kept when it closes
(docs/figures.md, "Kept figures").

A closed survey takes no new answers, so its figures are aggregated once, by the layer's
own aggregation (survey.element_rows, per segment), and stored (agenda.models.
KeptElementFigures): the dashboard, its trend, the results page, the segment rows, the
report's "change" and the API read those rows, a few hundred, instead of a survey's tens of
thousands of answers. An open survey, or a closed one without kept rows, is computed from
its answers as before, so a reader never needs to know which it gets.

The rows are written again in the transaction of every change to a closed survey's answers:
its closing (stakeholders/surveys/lifecycle.py close) and the Django admin's edits, through
stakeholders/surveys/figure_source.py's `keep_figures`; a stakeholder's deletion
(stakeholders/register.py delete_stakeholder) takes their answers' sums out, through its
`forget_responses`. A deleted segment needs nothing:
its rows pass to "No segment" as its responses do (SET_NULL), and readers add rows up.
"""

from collections.abc import Iterable

from django.db import transaction

from agenda.figures.responses import keep_perceptions
from agenda.figures.survey import (
    AGGREGATES,
    ElementFigures,
    answers_of_surveys,
    element_rows,
    figures_from_rows,
    no_figures,
)
from agenda.models import KeptElementFigures
from pmo5p.domain import Element
from stakeholders.models import Answer, Response, Survey, SurveyStatus

# How a survey's rows are kept: per survey and the responses' segment.
KEPT_FIELDS = {"survey_id": "question__survey_id", "segment_id": "response__segment_id"}


def kept_rows(survey_ids: Iterable[int]) -> list[dict]:
    """The rows to keep for those of these surveys that are closed: element_rows per survey and segment."""
    closed = Survey.objects.filter(pk__in=list(survey_ids), status=SurveyStatus.CLOSED)
    answers = answers_of_surveys(closed).filter(response__survey__in=closed)
    return list(element_rows(answers, KEPT_FIELDS))


@transaction.atomic
def keep_figures(survey_ids: Iterable[int], pmo_ids: Iterable[int] = ()) -> None:
    """Write again the kept figures of these surveys: from their answers for those closed,
    none for the others (a survey opened again, or deleted); and the last two perceptions of
    their PMOs' stakeholders, and of `pmo_ids`' (the PMOs of surveys deleted). Call it in the
    transaction that changes their answers, after the change."""
    survey_ids = list(survey_ids)
    pmo_ids = set(pmo_ids)
    if not survey_ids and not pmo_ids:
        return
    KeptElementFigures.objects.filter(survey_id__in=survey_ids).delete()
    KeptElementFigures.objects.bulk_create(KeptElementFigures(**row) for row in kept_rows(survey_ids))
    # The at-risk rule's last two perceptions of each stakeholder rest on the kept surveys too.
    keep_perceptions(pmo_ids | set(Survey.objects.filter(pk__in=survey_ids).values_list("pmo_id", flat=True)))


@transaction.atomic
def forget_responses(responses) -> None:
    """Take these responses' answers out of their closed surveys' kept figures; call it before
    deleting them, in the same transaction.

    The kept rows are sums and counts, so the rows left are the kept ones less these answers'
    own element_rows, exactly: this reads these answers and the surveys' few hundred kept rows,
    where keep_figures reads every answer of each survey again (at 100,000 stakeholders, a
    closed survey holds a million answers, and one person may have answered twenty of them:
    docs/capacity.md). The at-risk rule's kept perceptions need nothing: those of the
    responses' own stakeholder go with the responses (CASCADE), and nobody else's rest on them.
    """
    survey_ids = set(
        KeptElementFigures.objects.filter(survey_id__in=responses.values("survey_id")).values_list(
            "survey_id", flat=True
        )
    )
    if not survey_ids:
        return
    theirs = Answer.objects.filter(response__in=responses.filter(survey_id__in=survey_ids))
    key_fields = (*KEPT_FIELDS, "element", "kind")
    sums: dict = {}
    kept = KeptElementFigures.objects.select_for_update().filter(survey_id__in=survey_ids)
    # A deleted segment leaves two rows under "No segment" for a key: added up here first.
    for sign, rows in ((1, kept.values(*key_fields, *AGGREGATES)), (-1, element_rows(theirs, KEPT_FIELDS))):
        for row in rows:
            added = sums.setdefault(tuple(row[field] for field in key_fields), dict.fromkeys(AGGREGATES, 0))
            for name in AGGREGATES:
                added[name] += sign * (row[name] or 0)
    kept.delete()
    KeptElementFigures.objects.bulk_create(
        KeptElementFigures(**dict(zip(key_fields, key, strict=True)), **figures)
        for key, figures in sums.items()
        # A group none of whose answers is left has no row, as a recomputation writes none.
        if figures["answered"] or figures["dont_know"]
    )


def element_figures_of(
    surveys: list[Survey], *, segment_id: int | None = None, by_segment: bool = False, count_raters: bool = True
) -> dict:
    """Perception and importance per element of each of these surveys: {survey id: {element:
    ElementFigures}}, or {(survey id, segment id): …} with by_segment; with segment_id, of the
    responses given in that segment only. Kept rows for closed surveys that have them (one
    query), the answers for the others (one query more, if any).

    A group without answers is absent: `.get(key) or no_figures()`. count_raters=False may
    leave `perception_responses` at 0 where it is computed (element_rows).
    """

    def key(row):
        return (row["survey_id"], row["segment_id"]) if by_segment else row["survey_id"]

    closed = [survey.pk for survey in surveys if survey.status == SurveyStatus.CLOSED]
    kept = (
        list(
            KeptElementFigures.objects.filter(survey_id__in=closed).values(
                "survey_id", "segment_id", "element", "kind", *AGGREGATES
            )
        )
        if closed
        else []
    )
    kept_ids = {row["survey_id"] for row in kept}
    rows = [row for row in kept if segment_id is None or row["segment_id"] == segment_id]
    live = [survey.pk for survey in surveys if survey.pk not in kept_ids]
    if live:
        rows += list(
            element_rows(
                _live_answers(live, segment_id, by_segment),
                KEPT_FIELDS if by_segment else {"survey_id": "question__survey_id"},
                count_raters=count_raters,
            )
        )
    return figures_from_rows(rows, key)


def survey_element_figures(survey: Survey, segment_id: int | None = None) -> dict[Element, ElementFigures]:
    """Perception and importance per element of the survey; with a segment, of the responses given in it."""
    return element_figures_of([survey], segment_id=segment_id).get(survey.pk) or no_figures()


def _live_answers(survey_ids: list[int], segment_id: int | None, by_segment: bool):
    if segment_id is not None:
        # A segment's answers are a fraction of the surveys': reached from its responses (the
        # (survey, segment) index), twice as fast as filtering them out of the surveys'.
        return Answer.objects.filter(response__in=Response.objects.filter(survey__in=survey_ids, segment_id=segment_id))
    answers = answers_of_surveys(survey_ids)
    if by_segment:
        # The responses named by survey too (the same rows): PostgreSQL then joins these
        # surveys' responses by their index rather than every survey's.
        answers = answers.filter(response__survey__in=survey_ids)
    return answers
