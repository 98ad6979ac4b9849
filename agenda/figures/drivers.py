"""Derived importance (docs/figures.md, "Derived importance"; docs/follow-up.md): per P, how
strongly a respondent's perception of that P moves with their recommendation score, set beside
the importance stakeholders state.

- Each respondent's rating of a P is the mean of their answers to its performance statements
  ("Don't know" left out). A respondent counts for a P if they rated it and gave a 0–10 score.
- r is Pearson's correlation of those means with the scores, over the n respondents who count.
- Its 95% interval is Fisher's: z = atanh(r), z ± 1.96 / sqrt(n − 3), back through tanh.
- Below MIN_DRIVER_RESPONDENTS, r, its interval and the reading are withheld: only n is told.
- A P whose ratings or scores are all alike has no correlation ("not measurable"); at r = ±1
  the interval is not measurable (atanh is infinite) though r is.

PostgreSQL computes every P's r in one query (corr() over the per-respondent means); other
databases (SQLite in development) read the same per-respondent rows and apply the same
formula in Python. The rows come from Answer even for a closed survey: its kept figures
(agenda/figures/kept.py) are sums per element and segment, which hold no pairs of a
respondent's rating and score; a closed survey's answers stay until a stakeholder is deleted.
"""

import enum
import math
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Avg, F, QuerySet

from agenda.figures import elements
from agenda.figures.kept import survey_element_figures
from agenda.figures.survey import answers_of_surveys, survey_responses
from pmo5p.domain import Element
from stakeholders.models import QuestionKind, Survey
from stakeholders.surveys import anonymity

# Below this many respondents a correlation swings too far from one sample to the next to
# read: at n = 30 the 95% interval of r = 0.3 is still −0.07 to 0.60.
MIN_DRIVER_RESPONDENTS = 30
# "High" derived importance: r ≥ 0.3, the conventional start of a moderate correlation
# (Cohen): the P's perception explains about a tenth of the spread of recommendation or more.
DERIVED_HIGH = 0.3
# "High" stated importance: the IPA's own line (elements.MIDPOINT, 50 on 0–100, the middle of
# the scale), so that a P the IPA calls important is the one called stated-high here.
STATED_HIGH = elements.MIDPOINT
# The normal quantile of a two-sided 95% interval.
Z_95 = 1.96
# r within this of ±1 is ±1: floating point lands an exact line a hair off it.
EXACT = 1e-12


class Reading(enum.Enum):
    KEY_DRIVER = "key_driver"
    BASIC_EXPECTATION = "basic_expectation"
    HIDDEN_DRIVER = "hidden_driver"
    LOWER_PRIORITY = "lower_priority"

    @property
    def label(self) -> str:
        return {
            Reading.KEY_DRIVER: "Key driver",
            Reading.BASIC_EXPECTATION: "Basic expectation",
            Reading.HIDDEN_DRIVER: "Hidden driver",
            Reading.LOWER_PRIORITY: "Lower priority",
        }[self]

    @property
    def advice(self) -> str:
        return {
            Reading.KEY_DRIVER: "Said to matter, and moves with recommendation: where improvement pays most.",
            Reading.BASIC_EXPECTATION: "Said to matter, but barely moves recommendation: keep its standard, "
            "don't over-invest.",
            Reading.HIDDEN_DRIVER: "Said to matter less than it does: it moves recommendation, make it visible.",
            Reading.LOWER_PRIORITY: "Neither said to matter nor moving recommendation.",
        }[self]


def stated_is_high(importance: float | None) -> bool:
    return importance is not None and importance >= STATED_HIGH


def derived_is_high(r: float | None) -> bool:
    return r is not None and r >= DERIVED_HIGH


def reading(stated: float | None, r: float | None) -> Reading | None:
    """The quadrant of stated against derived importance; None without both."""
    if stated is None or r is None:
        return None
    if stated_is_high(stated):
        return Reading.KEY_DRIVER if derived_is_high(r) else Reading.BASIC_EXPECTATION
    return Reading.HIDDEN_DRIVER if derived_is_high(r) else Reading.LOWER_PRIORITY


def interval(r: float | None, n: int) -> tuple[float, float] | None:
    """Fisher's 95% interval of r from n pairs; None where it is not measurable (no r, r = ±1, n ≤ 3)."""
    if r is None or n <= 3 or abs(r) >= 1:
        return None
    z = math.atanh(r)
    half = Z_95 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def _exact(r: float | None) -> float | None:
    """r with a line a hair off ±1 taken as ±1, and never outside it."""
    if r is None:
        return None
    if abs(r) >= 1 - EXACT:
        return math.copysign(1.0, r)
    return r


class Status(enum.Enum):
    SHOWN = "shown"
    TOO_FEW = "too_few"  # fewer than MIN_DRIVER_RESPONDENTS
    NOT_MEASURABLE = "not_measurable"  # ratings or scores all alike
    GROUP_HIDDEN = "group_hidden"  # a segment under the minimum group size: not even n is told


@dataclass
class Driver:
    """A P's derived importance beside its stated one. r, the interval and the reading are
    None unless `status` is SHOWN (the interval also at r = ±1)."""

    element: Element
    stated: float | None
    respondents: int
    status: Status
    r: float | None = None
    low: float | None = None
    high: float | None = None
    reading: Reading | None = None

    @property
    def shown(self) -> bool:
        return self.status is Status.SHOWN

    @property
    def too_few(self) -> bool:
        return self.status is Status.TOO_FEW

    @property
    def not_measurable(self) -> bool:
        return self.status is Status.NOT_MEASURABLE

    @property
    def has_interval(self) -> bool:
        return self.low is not None


@dataclass(frozen=True)
class Correlation:
    """What either path computes for a P: n, and r (None: ratings or scores all alike)."""

    respondents: int
    r: float | None


def respondent_rows(survey: Survey, segment_id: int | None = None) -> QuerySet:
    """Per P and respondent, their mean rating of the P's statements and their score: rows
    {element, respondent, score, rating}, one per respondent who rated the P and gave a score.
    Read through the survey's questions (the answer_question_value index holds value and
    response), the response joined for its score."""
    answers = answers_of_surveys([survey.pk]).filter(
        question__kind=QuestionKind.PERFORMANCE,
        value__isnull=False,
        # The responses named by survey too (the same rows), as kept.py does: PostgreSQL then
        # joins this survey's responses by their (survey, segment) index, not every PMO's.
        response__survey=survey,
        response__nps__isnull=False,
    )
    if segment_id is not None:
        answers = answers.filter(response__segment_id=segment_id)
    return (
        answers.values(element=F("question__element"), respondent=F("response_id"), score=F("response__nps"))
        .annotate(rating=Avg("value"))
        .order_by()
    )


def correlations_sql(rows: QuerySet) -> dict[Element, Correlation]:
    """PostgreSQL: every P's r and n over respondent_rows, in one query. A P whose ratings or
    scores are all alike has no r: corr() would give NULL, or a tiny spread of rounding error."""
    inner, params = rows.query.sql_with_params()
    sql = f"""
        SELECT per.element, COUNT(*),
               CASE WHEN MIN(per.rating) = MAX(per.rating) OR MIN(per.score) = MAX(per.score) THEN NULL
                    ELSE CORR(per.rating::double precision, per.score::double precision) END
        FROM ({inner}) per
        GROUP BY per.element
    """  # noqa: S608 - the inner query is SQL that Django compiled; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {Element(element): Correlation(n, _exact(r)) for element, n, r in cursor.fetchall()}


def pearson(pairs: list[tuple[float, float]]) -> float | None:
    """Pearson's r of (x, y) pairs, the formula corr() uses: Sxy / sqrt(Sxx × Syy); None
    when x or y are all alike (or fewer than two pairs)."""
    if len(pairs) < 2:
        return None
    xs, ys = [float(x) for x, _ in pairs], [float(y) for _, y in pairs]
    if len(set(xs)) == 1 or len(set(ys)) == 1:
        return None
    mean_x, mean_y = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    syy = math.fsum((y - mean_y) ** 2 for y in ys)
    return _exact(sxy / math.sqrt(sxx * syy))


def correlations_python(rows) -> dict[Element, Correlation]:
    """Other databases: the same figures from the rows of respondent_rows, read in Python."""
    pairs: dict[Element, list] = defaultdict(list)
    for row in rows:
        pairs[Element(row["element"])].append((row["rating"], row["score"]))
    return {element: Correlation(len(found), pearson(found)) for element, found in pairs.items()}


def correlations(survey: Survey, segment_id: int | None = None) -> dict[Element, Correlation]:
    """Every P's r and n, in one query whatever the number of respondents."""
    rows = respondent_rows(survey, segment_id)
    if connection.vendor == "postgresql":
        return correlations_sql(rows)
    return correlations_python(rows)


def derived_importance(
    survey: Survey,
    segment_id: int | None = None,
    *,
    stated: dict[Element, float | None] | None = None,
    group_responses: int | None = None,
) -> list[Driver]:
    """Per P, in Element order: stated importance, n, and r with its interval and reading
    where there are enough respondents.

    `stated`: the importance per P the caller has already (survey_element_figures' own,
    kept for a closed survey); read here otherwise. With a segment, its responses are counted
    (`group_responses` if the caller has them) and a group under the minimum group size
    (anonymity.group_is_shown) tells nothing, as every figure of such a group.
    Queries: one for the correlations, one for the stated importance unless given, one to
    count the segment's responses unless given.
    """
    if segment_id is not None:
        if group_responses is None:
            group_responses = survey_responses(survey, segment_id).count()
        if not anonymity.group_is_shown(group_responses):
            return [Driver(element, None, 0, Status.GROUP_HIDDEN) for element in Element]
    if stated is None:
        stated = {element: f.importance for element, f in survey_element_figures(survey, segment_id).items()}
    found = correlations(survey, segment_id)
    return [_driver(element, stated.get(element), found.get(element) or Correlation(0, None)) for element in Element]


def _driver(element: Element, stated: float | None, found: Correlation) -> Driver:
    n = found.respondents
    if n < MIN_DRIVER_RESPONDENTS:
        return Driver(element, stated, n, Status.TOO_FEW)
    if found.r is None:
        return Driver(element, stated, n, Status.NOT_MEASURABLE)
    low, high = interval(found.r, n) or (None, None)
    return Driver(element, stated, n, Status.SHOWN, found.r, low, high, reading(stated, found.r))
