"""Aggregates over a survey's answers, responses and invitations (docs/figures.md): perception
and importance per element, NPS, participation and the response rate, and which survey the
dashboard, the report and the suggestions use.

The score of a rating r on the 1–5 scale is (r − 1) / 4 × 100, and a mean of scores is the
score of the mean rating, so every figure here is one SQL aggregate (SUM, COUNT) grouped by
what the caller asks for, never a loop over answers in Python. "Don't know" answers are
stored as NULL and so drop out of every mean and count of values.

Each aggregation is written once: `element_rows` sums and counts the answers per element for
any grouping (the whole survey, its segments, each survey of a trend, each response), which
`figures_from_rows` turns into perception and importance, for answers read now and for the
rows a closed survey keeps (agenda/figures/kept.py); `participation_by` gives the response
rate for any grouping of invitations (a survey, its segments, a list of surveys).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from pmo5p.domain import DETRACTOR_MAX, PROMOTER_MIN, Element
from stakeholders.models import Answer, QuestionKind, Response, Survey, SurveyInvitation, SurveyStatus


def score(mean_rating: float | None) -> float | None:
    """Turn a mean rating on the 1–5 scale into a 0–100 score."""
    if mean_rating is None:
        return None
    return (float(mean_rating) - 1) / 4 * 100


# Perception and importance per element -------------------------------------------------------


@dataclass
class ElementFigures:
    element: Element
    perception: float | None = None
    perception_answers: int = 0
    # Responses that rated the element (not "Don't know"): a group's size for this figure.
    perception_responses: int = 0
    importance: float | None = None
    importance_answers: int = 0
    dont_know: int = 0


def no_figures() -> dict[Element, ElementFigures]:
    """Every element, with no answers."""
    return {element: ElementFigures(element) for element in Element}


# The aggregate of the answers to one element's questions of one kind: their sum and count,
# never their mean, so that rows of several groups add up exactly (a survey's rows per segment
# to the survey's, agenda/figures/kept.py).
AGGREGATES = ("total", "answered", "dont_know", "rated_by")


def element_rows(answers: QuerySet[Answer], fields: dict[str, str], *, count_raters: bool = True) -> QuerySet:
    """The one aggregation of answers: per element, kind (performance or importance) and
    value of each of `fields` ({name: field of Answer, such as "response__segment_id"}), the
    sum of the ratings, their count, the "Don't know" count and the responses that rated, in
    one query. Rows {**fields, "element", "kind", *AGGREGATES}.

    count_raters=False leaves `rated_by` out: counting distinct responses makes PostgreSQL
    sort every answer, which a caller reading many surveys' answers and not that count (the
    trend) need not pay for.
    """
    figures = {
        "total": Coalesce(Sum("value"), 0),
        "answered": Count("value"),
        # Counted on a column of the (question, value, response) index, so that an
        # aggregate over a survey's questions reads the index alone.
        "dont_know": Count("response", filter=Q(value__isnull=True)),
    }
    if count_raters:
        figures["rated_by"] = Count("response", distinct=True, filter=Q(value__isnull=False))
    return (
        answers.filter(question__kind__in=[QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE])
        .values(
            **{name: F(path) for name, path in fields.items()}, element=F("question__element"), kind=F("question__kind")
        )
        .annotate(**figures)
        .order_by()
    )


def figures_from_rows(rows, key: Callable[[dict], object]) -> dict:
    """Rows of element_rows (or of their kept copies) added up per `key(row)`, into
    {key: {element: ElementFigures}}. The mean is taken once, of the sums."""
    sums: dict = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        added = sums[(key(row), row["element"], row["kind"])]
        added[0] += row["total"] or 0
        added[1] += row["answered"]
        added[2] += row["dont_know"]
        added[3] += row.get("rated_by") or 0
    groups: dict = defaultdict(no_figures)
    for (group, element, kind), (total, answered, dont_know, rated_by) in sums.items():
        entry = groups[group][Element(element)]
        mean = score(total / answered) if answered else None
        if kind == QuestionKind.PERFORMANCE:
            entry.perception = mean
            entry.perception_answers = answered
            entry.perception_responses = rated_by
            entry.dont_know = dont_know
        else:
            entry.importance = mean
            entry.importance_answers = answered
    return dict(groups)


def element_figures_by(answers: QuerySet[Answer], group: str | None = None, *, count_raters: bool = True) -> dict:
    """Perception and importance per element of these answers, for each value of `group`
    (a field of Answer, such as "response__segment_id"; None: all the answers together, under
    the key None), in one query: {group value: {element: ElementFigures}}. count_raters=False
    leaves `perception_responses` at 0 (element_rows).

    A group without answers is absent: `.get(key) or no_figures()`.
    """
    rows = element_rows(answers, {"group": group} if group else {}, count_raters=count_raters)
    return figures_from_rows(rows, lambda row: row.get("group"))


def answers_of_surveys(surveys) -> QuerySet[Answer]:
    """The answers to these surveys, reached through their questions: the (question, value,
    response) index holds them, so PostgreSQL reads only these surveys' answers, from the
    index alone, never every PMO's answers table. Group them by "question__survey_id".
    An answer's question is always one of its response's survey (lifecycle.submit)."""
    return Answer.objects.filter(question__survey__in=surveys)


# NPS -----------------------------------------------------------------------------------------


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


def nps(responses: QuerySet[Response]) -> NpsSummary:
    """The recommendation answers of these responses, in one query."""
    totals = responses.aggregate(
        answers=Count("nps"),
        promoters=Count("id", filter=Q(nps__gte=PROMOTER_MIN)),
        passives=Count("id", filter=Q(nps__gt=DETRACTOR_MAX, nps__lt=PROMOTER_MIN)),
        detractors=Count("id", filter=Q(nps__lte=DETRACTOR_MAX)),
    )
    return NpsSummary(**totals)


def survey_responses(survey: Survey, segment_id: int | None = None) -> QuerySet[Response]:
    """A survey's responses; with a segment, those counted in it (their invitation's segment)."""
    responses = Response.objects.filter(survey=survey)
    if segment_id is not None:
        responses = responses.filter(segment_id=segment_id)
    return responses


# Participation and the response rate ---------------------------------------------------------


@dataclass
class Participation:
    invited: int = 0
    sent: int = 0
    failed: int = 0
    responses: int = 0

    @property
    def response_rate(self) -> float | None:
        """Responses / invitations sent, as a percentage."""
        return self.responses / self.sent * 100 if self.sent else None

    @classmethod
    def total(cls, parts: Iterable["Participation"]) -> "Participation":
        """The participation of groups together, such as a survey's segments."""
        whole = cls()
        for part in parts:
            whole.invited += part.invited
            whole.sent += part.sent
            whole.failed += part.failed
            whole.responses += part.responses
        return whole


def participation_by(invitations: QuerySet[SurveyInvitation], group: str) -> dict:
    """Invitations, those sent, those that failed, and responses, for each value of `group`
    (a field or annotation of the invitations), in one query: {group value: Participation}.

    Responses are counted through their invitation (one to one): joining a survey's
    invitations and its responses side by side would multiply the rows, invitations ×
    responses per survey."""
    rows = (
        # The response joined on its survey too (always its invitation's): PostgreSQL then
        # reads only these surveys' responses, by their index, not every PMO's.
        invitations.annotate(answer=FilteredRelation("response", condition=Q(response__survey_id=F("survey_id"))))
        .values(group)
        .annotate(
            invited=Count("id"),
            sent=Count("id", filter=Q(sent_at__isnull=False)),
            failed=Count("id", filter=Q(send_status=SurveyInvitation.SendStatus.FAILED)),
            responses=Count("answer"),
        )
        .order_by()
    )
    return {row.pop(group): Participation(**row) for row in rows}


def participation_by_survey(surveys: list[Survey]) -> dict[int, Participation]:
    """The participation of each of these surveys, by its id, in one query."""
    found = participation_by(SurveyInvitation.objects.filter(survey__in=surveys), "survey_id")
    return {survey.pk: found.get(survey.pk) or Participation() for survey in surveys}


def participation_by_segment(survey: Survey) -> dict[int | None, Participation]:
    """The survey's participation per segment, by segment id (None: "No segment"), in one query.

    An invitation counts in the segment it was given at launch (SurveyInvitation.segment), and
    its response, which takes that segment, with it: an answer and its invitation always
    count in the same group, a rate never passes 100%, and moving someone after the launch
    changes no segment's counts, answered or not (docs/security.md, "Anonymous surveys")."""
    return participation_by(SurveyInvitation.objects.filter(survey=survey), "segment_id")


def participation(survey: Survey, segment_id: int | None = None) -> Participation:
    """The survey's participation; with a segment, that segment's (participation_by_segment)."""
    if segment_id is not None:
        return participation_by_segment(survey).get(segment_id) or Participation()
    return participation_by_survey([survey])[survey.pk]


# Which survey ----------------------------------------------------------------------------------


def closed_surveys(pmo) -> QuerySet[Survey]:
    """The PMO's closed surveys, the latest closed first."""
    return Survey.objects.filter(pmo=pmo, status=SurveyStatus.CLOSED).order_by("-closed_at", "-pk")


def default_survey(pmo) -> Survey | None:
    """The latest closed survey, else the latest open one with responses."""
    return (
        closed_surveys(pmo).first()
        or Survey.objects.filter(pmo=pmo, status=SurveyStatus.OPEN, responses__isnull=False)
        .order_by("-launched_at", "-pk")
        .first()
    )
