"""Aggregates over a survey's answers, responses and invitations (docs/figures.md): perception
and importance per element, NPS, participation and the response rate, and which survey the
dashboard, the report and the suggestions use.

The score of a rating r on the 1–5 scale is (r − 1) / 4 × 100, and a mean of scores is the
score of the mean rating, so every figure here is one SQL aggregate (AVG, COUNT) grouped by
what the caller asks for, never a loop over answers in Python. "Don't know" answers are
stored as NULL and so drop out of every mean and count of values.

Each aggregation is written once: `element_figures_by` gives perception and importance per
element for any grouping of answers (the whole survey, a segment, each survey of a trend,
each response), and `participation_by` the response rate for any grouping of invitations
(a survey, its segments, a list of surveys).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet

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


def element_figures_by(answers: QuerySet[Answer], group: str | None = None, *, count_raters: bool = True) -> dict:
    """Perception and importance per element of these answers, for each value of `group`
    (a field of Answer, such as "response__segment_id"; None: all the answers together, under
    the key None), in one query: {group value: {element: ElementFigures}}.

    count_raters=False leaves `perception_responses` at 0: counting distinct responses makes
    PostgreSQL sort every answer, which a caller reading many surveys' answers and not that
    count (the trend) need not pay for.

    A group without answers is absent: `.get(key) or no_figures()`.
    """
    fields = [group] if group else []
    figures = {
        "mean": Avg("value"),
        "answered": Count("value"),
        # Counted on a column of the (question, value, response) index, so that an
        # aggregate over a survey's questions reads the index alone.
        "dont_know": Count("response", filter=Q(value__isnull=True)),
    }
    if count_raters:
        figures["rated_by"] = Count("response", distinct=True, filter=Q(value__isnull=False))
    rows = (
        answers.filter(question__kind__in=[QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE])
        .values(*fields, "question__element", "question__kind")
        .annotate(**figures)
        .order_by()
    )
    groups: dict = defaultdict(no_figures)
    for row in rows:
        entry = groups[row[group] if group else None][Element(row["question__element"])]
        if row["question__kind"] == QuestionKind.PERFORMANCE:
            entry.perception = score(row["mean"])
            entry.perception_answers = row["answered"]
            entry.perception_responses = row.get("rated_by", 0)
            entry.dont_know = row["dont_know"]
        else:
            entry.importance = score(row["mean"])
            entry.importance_answers = row["answered"]
    return dict(groups)


def element_figures(answers: QuerySet[Answer]) -> dict[Element, ElementFigures]:
    """Perception and importance per element over all these answers, in one query."""
    return element_figures_by(answers).get(None) or no_figures()


def survey_answers(survey: Survey, segment_id: int | None = None) -> QuerySet[Answer]:
    """The answers of survey_responses(survey, segment_id)."""
    if segment_id is None:
        return answers_of_surveys([survey])
    # A segment's answers are a fraction of the survey's: reached from its responses (the
    # (survey, segment) index), twice as fast as filtering them out of the survey's.
    return Answer.objects.filter(response__in=survey_responses(survey, segment_id))


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


def participation_by(invitations: QuerySet[SurveyInvitation], group: str) -> dict:
    """Invitations, those sent, those that failed, and responses, for each value of `group`
    (a field or annotation of the invitations), in one query: {group value: Participation}.

    Responses are counted through their invitation (one to one): joining a survey's
    invitations and its responses side by side would multiply the rows, invitations ×
    responses per survey."""
    rows = (
        invitations.values(group)
        .annotate(
            invited=Count("id"),
            sent=Count("id", filter=Q(sent_at__isnull=False)),
            failed=Count("id", filter=Q(send_status=SurveyInvitation.SendStatus.FAILED)),
            responses=Count("response"),
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
