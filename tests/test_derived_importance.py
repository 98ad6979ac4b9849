"""Derived importance (agenda/figures/drivers.py; docs/figures.md, "Derived importance"):
Pearson's r of each respondent's mean rating of a P against their 0–10 score, against
correlations worked out in closed form from a fixed set of 34 answers; Fisher's interval;
hidden below 30 respondents; the four readings; the SQL and Python paths agree; the results
page and the suggestions."""

import math
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.figures import drivers
from agenda.figures.drivers import Reading, Status
from agenda.figures.elements import ElementInsight
from agenda.figures.kept import keep_figures
from agenda.figures.survey import ElementFigures
from agenda.plan import suggestions
from agenda.plan.services import adopt_suggestion
from pmo5p.domain import Element
from stakeholders.models import Survey, SurveyStatus
from tests.factories import ResponseFactory, SegmentFactory, StakeholderFactory
from tests.survey_helpers import open_survey, survey_url

P, PE, PR, PEO, PRO = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS
DK = None
N = 34


# The fixed answers of respondent i (0 … 33). Their score is i mod 11; the last gave none.
def score_of(i):
    return None if i == N - 1 else i % 11


def ratings_of(i, score=score_of) -> dict:
    s = score(i) if score(i) is not None else 5
    if i == 0:
        product = (DK, DK)  # rated nothing: left out of Product
    elif i % 5 == 2:
        product = (1 + s // 4, DK)  # one "Don't know": the mean of the other
    else:
        product = (1 + s // 4, 1 + (s + 1) // 4)
    ratings = {
        P: product,
        PRO: (1 + s // 4, 1 + s // 4),
        PEO: (4 + i % 2, 4),  # unrelated to the score
        PR: (3, 3),  # everyone alike: nothing to correlate
        # Physical Evidence: never answered.
    }
    if i == 1:
        del ratings[P]  # no Product answer at all: left out of Product
    return ratings


# Importance 1–5: Product said to matter little (25), Price at the IPA's line (50),
# People and Process essential (100).
IMPORTANCE = {P: 2, PR: 3, PEO: 5, PRO: 5}


def closed_form_r(pairs) -> float:
    """Pearson's r, exactly in fractions: Sxy / sqrt(Sxx × Syy)."""
    n = len(pairs)
    mean_x = sum(Fraction(x) for x, _ in pairs) / n
    mean_y = sum(Fraction(y) for _, y in pairs) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    return float(sxy) / math.sqrt(float(sxx * syy))


def hand_pairs(element):
    """(mean rating, score) of each respondent who rated `element` and gave a score."""
    pairs = []
    for i in range(N):
        values = [v for v in ratings_of(i).get(element, ()) if v is not None]
        if values and score_of(i) is not None:
            pairs.append((Fraction(sum(values), len(values)), score_of(i)))
    return pairs


# Worked out by hand from the sums above (Sxy, Sxx, Syy):
# Process: 33 respondents, Sxy = 78, Sxx = 228/11, Syy = 330: r = 78 / sqrt(6840).
# Product: 31 respondents (one rated nothing, one has no answer, one no score),
#          Sxy = 4189/62, Sxx = 1065/62, Syy = 8878/31.
# People: Sxy = 0: r = 0.
R_PROCESS = 78 / math.sqrt(6840)
R_PRODUCT = (4189 / 62) / math.sqrt(1065 / 62 * 8878 / 31)


def fisher(r, n):
    """Fisher's interval, written out: z = ½ ln((1 + r) / (1 − r)), back by (e^2z − 1) / (e^2z + 1)."""
    z = 0.5 * math.log((1 + r) / (1 - r))
    half = 1.96 / math.sqrt(n - 3)

    def back(x):
        return (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)

    return back(z - half), back(z + half)


def build(pmo, n=N, *, segment=None, ratings=ratings_of, score=score_of, **survey_kwargs) -> Survey:
    people = [StakeholderFactory(pmo=pmo, segment=segment) for _ in range(n)]
    survey, invitations = open_survey(pmo, people, **survey_kwargs)
    for i, invitation in enumerate(invitations):
        ResponseFactory(invitation=invitation, ratings=ratings(i, score), importance=IMPORTANCE, nps=score(i))
    return survey


@pytest.fixture
def survey(world):
    return build(world.pmo)


def by_element(rows):
    return {row.element: row for row in rows}


# The figures ----------------------------------------------------------------------------------


def test_the_closed_forms_are_those_of_the_answers():
    """The hand sums above are the answers' (a check of the test's own arithmetic)."""
    assert closed_form_r(hand_pairs(PRO)) == pytest.approx(R_PROCESS, abs=1e-12)
    assert closed_form_r(hand_pairs(P)) == pytest.approx(R_PRODUCT, abs=1e-12)
    assert len(hand_pairs(P)) == 31 and len(hand_pairs(PRO)) == 33


def test_correlations_against_the_hand_computed_ones(survey):
    found = by_element(drivers.derived_importance(survey))
    assert found[PRO].respondents == 33
    assert found[PRO].r == pytest.approx(R_PROCESS, abs=1e-9)  # 0.9431
    assert found[P].respondents == 31
    assert found[P].r == pytest.approx(R_PRODUCT, abs=1e-9)  # 0.9633
    assert found[PEO].r == pytest.approx(0.0, abs=1e-9)
    assert (found[PRO].low, found[PRO].high) == pytest.approx(fisher(R_PROCESS, 33), abs=1e-9)
    assert (found[P].low, found[P].high) == pytest.approx(fisher(R_PRODUCT, 31), abs=1e-9)
    # Stated importance as the figures layer has it: (rating − 1) / 4 × 100.
    assert [found[e].stated for e in (P, PR, PEO, PRO)] == [25.0, 50.0, 100.0, 100.0]
    # Price: everyone rated it alike. Physical Evidence: nobody rated it.
    assert found[PR].status is Status.NOT_MEASURABLE and found[PR].r is None and found[PR].respondents == 33
    assert found[PE].status is Status.TOO_FEW and found[PE].respondents == 0
    # The readings: Product stated low, derived high; People stated high, derived low.
    assert found[P].reading is Reading.HIDDEN_DRIVER
    assert found[PRO].reading is Reading.KEY_DRIVER
    assert found[PEO].reading is Reading.BASIC_EXPECTATION
    assert found[PR].reading is None


def test_sql_and_python_paths_agree_on_the_same_rows(survey):
    rows = drivers.respondent_rows(survey)
    in_python = drivers.correlations_python(list(rows))
    assert in_python[PRO].r == pytest.approx(R_PROCESS, abs=1e-12)
    if connection.vendor != "postgresql":
        pytest.skip("the SQL path is PostgreSQL's")
    in_sql = drivers.correlations_sql(rows)
    assert in_sql.keys() == in_python.keys() == {P, PR, PEO, PRO}
    for element, found in in_sql.items():
        assert found.respondents == in_python[element].respondents
        if found.r is None:
            assert in_python[element].r is None
        else:
            assert found.r == pytest.approx(in_python[element].r, abs=1e-12)


def test_one_query_for_the_correlations_whatever_the_number_of_respondents(world):
    small = build(world.pmo, 10)
    large = build(world.pmo, 60)
    for survey in (small, large):
        with CaptureQueriesContext(connection) as queries:
            drivers.correlations(survey)
        assert len(queries) == 1
    # With the stated importance given (the results page has it): one query in all.
    with CaptureQueriesContext(connection) as queries:
        drivers.derived_importance(large, stated={})
    assert len(queries) == 1


def test_hidden_at_29_respondents_and_shown_at_30(world):
    found = by_element(drivers.derived_importance(build(world.pmo, 29, score=lambda i: i % 11)))
    assert found[PRO].respondents == 29
    assert found[PRO].status is Status.TOO_FEW
    assert (found[PRO].r, found[PRO].low, found[PRO].reading) == (None, None, None)
    found = by_element(drivers.derived_importance(build(world.pmo, 30, score=lambda i: i % 11)))
    assert found[PRO].respondents == 30 and found[PRO].shown
    assert found[PRO].r is not None and found[PRO].reading is Reading.KEY_DRIVER


def test_a_constant_score_is_not_measurable(world):
    survey = build(world.pmo, 33, score=lambda i: 7)
    found = by_element(drivers.derived_importance(survey))
    assert all(found[e].status is Status.NOT_MEASURABLE for e in (P, PR, PEO, PRO))
    assert drivers.correlations_python(list(drivers.respondent_rows(survey)))[PRO].r is None


def test_a_perfect_line_has_r_but_no_interval(world):
    # Process rated 1 + score // 4 twice, the score a multiple of 4: an exact line.
    found = by_element(drivers.derived_importance(build(world.pmo, 30, score=lambda i: 4 * (i % 3))))
    assert found[PRO].r == pytest.approx(1.0)
    assert found[PRO].shown and not found[PRO].has_interval
    assert drivers.interval(1.0, 30) is None and drivers.interval(-1.0, 30) is None
    assert drivers.interval(None, 30) is None


def test_fisher_interval_against_the_formula():
    for r, n in ((0.5, 39), (0.3, 30), (-0.42, 100), (0.0, 64)):
        assert drivers.interval(r, n) == pytest.approx(fisher(r, n), abs=1e-12)
    # 0.5 over 39: z = 0.5493, ± 1.96 / 6.
    assert drivers.interval(0.5, 39) == pytest.approx((0.2190, 0.7043), abs=1e-4)


@pytest.mark.parametrize(
    ("stated", "r", "expected"),
    [
        (50.0, 0.3, Reading.KEY_DRIVER),
        (50.0, 0.2999, Reading.BASIC_EXPECTATION),
        (49.99, 0.3, Reading.HIDDEN_DRIVER),
        (49.99, 0.2999, Reading.LOWER_PRIORITY),
        (100.0, -0.8, Reading.BASIC_EXPECTATION),  # a negative r is not a driver
        (None, 0.5, None),
        (80.0, None, None),
    ],
)
def test_the_four_readings_at_their_boundaries(stated, r, expected):
    assert drivers.reading(stated, r) is expected


def test_a_closed_survey_reads_its_answers_and_its_kept_importance(survey):
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)
    survey.refresh_from_db()
    keep_figures([survey.pk])
    found = by_element(drivers.derived_importance(survey))
    assert found[PRO].r == pytest.approx(R_PROCESS, abs=1e-9)
    assert found[P].stated == 25.0


def test_a_segment_under_the_minimum_group_size_tells_nothing(world, settings):
    settings.MIN_GROUP_SIZE = 3
    small = SegmentFactory(pmo=world.pmo, name="Tiny")
    survey = build(world.pmo, 2, segment=small)
    found = drivers.derived_importance(survey, small.pk)
    assert all(row.status is Status.GROUP_HIDDEN and row.respondents == 0 for row in found)
    # Shown as a group, still too few for a correlation: its n is told.
    settings.MIN_GROUP_SIZE = 2
    found = by_element(drivers.derived_importance(survey, small.pk))
    assert found[PRO].status is Status.TOO_FEW and found[PRO].respondents == 2


def test_a_segment_counts_its_own_respondents(world):
    finance = world.segment
    survey = build(world.pmo, 31, segment=finance, score=lambda i: i % 11)
    others = SegmentFactory(pmo=world.pmo, name="Others")
    for stakeholder in [StakeholderFactory(pmo=world.pmo, segment=others) for _ in range(3)]:
        ResponseFactory(survey=survey, stakeholder=stakeholder, ratings=ratings_of(0), nps=0)
    assert by_element(drivers.derived_importance(survey, finance.pk))[PRO].respondents == 31
    assert by_element(drivers.derived_importance(survey))[PRO].respondents == 34


# The results page -----------------------------------------------------------------------------


def test_the_results_page_shows_derived_beside_stated_importance(world, survey, client_for):
    page = client_for(world.viewer).get(survey_url("survey_results", survey)).content.decode()
    for column in ("Stated importance", "Derived importance (r)", "95% interval", "Respondents", "Reading"):
        assert f'scope="col" class="text-end">{column}<' in page or f'scope="col">{column}<' in page
    assert 'data-explains="derived-importance"' in page
    assert "Correlation is not cause" in page and "Small samples mislead" in page
    row = page.split('data-driver="process"')[1].split("</tr>")[0]
    assert 'data-figure="derived-importance">0.94<' in row
    low, high = fisher(R_PROCESS, 33)
    assert f"{low:.2f} to {high:.2f}" in row
    assert 'data-figure="driver-respondents">33<' in row and "Key driver" in row
    assert "Hidden driver" in page.split('data-driver="product"')[1].split("</tr>")[0]
    price = page.split('data-driver="price"')[1].split("</tr>")[0]
    assert "not measurable" in price and "driver-not-measurable" in price


def test_the_results_page_hides_r_below_30(world, client_for):
    survey = build(world.pmo, 29, score=lambda i: i % 11)
    page = client_for(world.viewer).get(survey_url("survey_results", survey)).content.decode()
    row = page.split('data-driver="process"')[1].split("</tr>")[0]
    assert "29 respondents; derived importance needs 30" in row
    assert "Key driver" not in row and 'data-figure="driver-interval"' not in row


def test_an_anonymous_survey_shows_its_whole_figures(world, client_for):
    survey = build(world.pmo, 30, score=lambda i: i % 11, anonymous=True)
    page = client_for(world.viewer).get(survey_url("survey_results", survey)).content.decode()
    assert "Key driver" in page.split('data-driver="process"')[1].split("</tr>")[0]


# Suggestions ----------------------------------------------------------------------------------


def test_readings_feed_the_suggestions(world, survey):
    found = {s.key: s for s in suggestions.suggestions(world.pmo, survey)}
    key_driver = found["process:driver-key_driver:all:0"]
    assert key_driver.title == "Make Process the top priority: personalising the service"
    # Above every element's own priority: first of all.
    assert key_driver.priority > 100
    assert suggestions.suggestions(world.pmo, survey)[0].key == key_driver.key
    hidden = found["product:driver-hidden_driver:all:0"]
    assert hidden.title == "Make Product visible: it moves recommendation more than stakeholders say"
    low, high = fisher(R_PRODUCT, 31)
    assert f"(r = 0.96, 95% {low:.2f} to {high:.2f}, n = 31; stated importance 25.0)" in hidden.why
    basic = found["people:driver-basic_expectation:all:0"]
    assert basic.title == "Keep People at its standard, without over-investing"
    assert "r = 0.00" in basic.why
    # Nothing for a P without a reading (Price, not measurable; Physical Evidence, unrated).
    assert not [key for key in found if key.startswith(("price:driver", "physical_evidence:driver"))]


def test_a_driver_suggestion_is_adopted_once(world, survey):
    membership = world.membership(world.lead)
    action = adopt_suggestion(world.pmo, membership, "process:driver-key_driver:all:0")
    assert action.element == PRO and action.suggestion_key == "process:driver-key_driver:all:0"
    keys = {s.key for s in suggestions.suggestions(world.pmo, survey)}
    assert "process:driver-key_driver:all:0" not in keys
    assert "product:driver-hidden_driver:all:0" in keys


def test_no_driver_suggestion_below_30(world):
    survey = build(world.pmo, 29, score=lambda i: i % 11)
    assert not [s for s in suggestions.suggestions(world.pmo, survey) if ":driver-" in s.key]


def _insight(element, perception, importance):
    return ElementInsight.of(ElementFigures(element, perception=perception, importance=importance))


def test_strong_drivers_call_for_nothing():
    """A key or hidden driver already seen as strong, and a lower priority, propose nothing."""
    found = [
        drivers.Driver(P, 80.0, 40, Status.SHOWN, 0.5, 0.2, 0.7, Reading.KEY_DRIVER),
        drivers.Driver(PRO, 20.0, 40, Status.SHOWN, 0.5, 0.2, 0.7, Reading.HIDDEN_DRIVER),
        drivers.Driver(PEO, 20.0, 40, Status.SHOWN, 0.1, -0.2, 0.4, Reading.LOWER_PRIORITY),
    ]
    rows = [_insight(P, 50.0, 80.0), _insight(PRO, 75.0, 20.0), _insight(PEO, 10.0, 20.0)]
    assert suggestions._driver_suggestions(found, rows) == []
    # At perception 49.9 both are weak.
    rows = [_insight(P, 49.9, 80.0), _insight(PRO, 49.9, 20.0)]
    keys = [s.key for s in suggestions._driver_suggestions(found, rows)]
    assert keys == ["product:driver-key_driver:all:0", "process:driver-hidden_driver:all:0"]


def test_the_suggestions_page_lists_them(world, survey, client_for):
    page = client_for(world.lead).get(reverse("suggestion_list", args=[world.pmo.slug])).content.decode()
    assert "Make Process the top priority" in page
