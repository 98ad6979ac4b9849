"""The figures layer (agenda/figures/) and agenda.assessments.services.suggest_stage against figures worked out by hand.

The PMO is built in tests/insight_fixtures.py; its comments show each sum.
"""

from datetime import date, timedelta

import pytest

from agenda.assessments.services import suggest_stage
from agenda.figures import elements, history, relationships, responses
from agenda.figures import survey as survey_figures
from agenda.figures.elements import ElementInsight, IpaQuadrant, ipa_quadrant, priority, ranked_by_priority
from agenda.figures.present import Kind, shown
from agenda.models import SelfAssessment
from pmo5p.domain import Element, MaturityStage
from stakeholders.models import Interaction, Stakeholder, SurveyStatus
from stakeholders.selectors import Quadrant
from tests.factories import MaturityRecordFactory, ResponseFactory, StakeholderFactory, every
from tests.insight_fixtures import (
    AT_RISK,
    AUTUMN,
    AUTUMN_GAP,
    AUTUMN_PERCEPTION,
    AUTUMN_PRIORITY,
    AUTUMN_QUADRANT,
    AUTUMN_RANKING,
    FINANCE,
    FINANCE_AT_RISK,
    FINANCE_GAP,
    FINANCE_MATURITY,
    FINANCE_QUADRANT,
    FINANCE_RANKING,
    FINANCE_TREND,
    MATURITY,
    SELF,
    SPRING_PERCEPTION,
    SUMMER_PERCEPTION,
    at,
    build_survey,
)

# The `known` fixture: the hand-computed PMO.
pytest_plugins = ["tests.known_pmo"]

P, E, C, PE, PR = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS


def approx(value):
    return None if value is None else pytest.approx(value, abs=1e-9)


def by_element(rows):
    return {row.element: row for row in rows}


# The figures per element ---------------------------------------------------------------------


def test_element_insights_of_the_latest_closed_survey(known):
    rows = elements.element_insights(known.world.pmo, known.autumn)
    assert [row.element for row in rows] == list(Element)
    for element, row in by_element(rows).items():
        expected = AUTUMN[element]
        assert row.perception == approx(expected["perception"]), element
        assert row.perception_answers == expected["perception_answers"], element
        assert row.importance == approx(expected["importance"]), element
        assert row.importance_answers == expected["importance_answers"], element
        assert row.dont_know == expected["dont_know"], element
        assert row.self_rating == SELF[element][0], element
        assert row.self_score == approx(SELF[element][1]), element
        assert row.gap == approx(AUTUMN_GAP[element]), element
        assert (row.quadrant.label if row.quadrant else None) == AUTUMN_QUADRANT[element], element
        assert row.priority == approx(AUTUMN_PRIORITY[element]), element


def test_ranking_of_the_latest_closed_survey(known):
    ranked = ranked_by_priority(elements.element_insights(known.world.pmo, known.autumn))
    assert [row.element for row in ranked] == AUTUMN_RANKING


def test_element_insights_of_a_segment_at_the_threshold(known):
    rows = by_element(elements.element_insights(known.world.pmo, known.autumn, known.world.segment.pk))
    for element, expected in FINANCE.items():
        assert rows[element].perception == approx(expected["perception"]), element
        assert rows[element].importance == approx(expected["importance"]), element
        assert rows[element].gap == approx(FINANCE_GAP[element]), element
        assert (rows[element].quadrant.label if rows[element].quadrant else None) == FINANCE_QUADRANT[element]
    assert [row.element for row in ranked_by_priority(list(rows.values()))] == FINANCE_RANKING
    # 3 + 3 performance answers per P from Ada, Ben and Cara; none from Dan or Eve.
    assert rows[P].perception_answers == 6 and rows[P].importance_answers == 3


def test_element_insights_without_a_survey_still_show_the_self_assessment(known):
    rows = by_element(elements.element_insights(known.world.pmo, None))
    assert all(row.perception is None and row.perception_answers == 0 for row in rows.values())
    assert rows[P].self_score == 75.0
    assert all(row.gap is None and row.quadrant is None and row.priority is None for row in rows.values())


def test_an_element_answered_only_with_dont_know_has_no_perception(world):
    built = build_survey(world.pmo, world.lead, "All unsure", closed_on=date(2025, 1, 1))
    ResponseFactory(
        survey=built,
        stakeholder=world.stakeholder,
        ratings={P: (None, None), E: (4, 4)},
        importance={P: 5},
        submitted_at=at(date(2025, 1, 1)),
    )
    rows = by_element(elements.element_insights(world.pmo, built))
    assert rows[P].perception is None
    assert rows[P].perception_answers == 0
    assert rows[P].dont_know == 2
    assert rows[P].importance == 100.0
    assert rows[P].quadrant is None and rows[P].priority is None
    assert rows[E].perception == 75.0 and rows[E].dont_know == 0


@pytest.mark.parametrize(
    ("importance", "perception", "quadrant"),
    [
        (50, 50, IpaQuadrant.KEEP_UP),  # ≥ 50 counts as high on both axes
        (50, 49.99, IpaQuadrant.CONCENTRATE),
        (100, 0, IpaQuadrant.CONCENTRATE),
        (49.99, 50, IpaQuadrant.OVERKILL),
        (49.99, 49.99, IpaQuadrant.LOW_PRIORITY),
        (0, 100, IpaQuadrant.OVERKILL),
        (None, 50, None),
        (50, None, None),
    ],
)
def test_ipa_quadrant_against_the_midpoint(importance, perception, quadrant):
    assert ipa_quadrant(importance, perception) == quadrant


def test_quadrant_labels_are_the_designs():
    assert [q.label for q in IpaQuadrant] == [
        "Concentrate here",
        "Keep up the good work",
        "Low priority",
        "Possible overkill",
    ]
    assert all(q.advice for q in IpaQuadrant)


@pytest.mark.parametrize(
    ("importance", "perception", "expected"),
    [(100, 0, 100), (50, 50, 25), (80, 75, 20), (0, 10, 0), (100, 100, 0), (None, 10, None), (10, None, None)],
)
def test_priority_formula(importance, perception, expected):
    assert priority(importance, perception) == expected


def insight(element, importance, perception):
    return ElementInsight(
        element, perception=perception, perception_answers=1, importance=importance, importance_answers=1
    )


def test_ranking_breaks_ties_by_element_order_and_puts_unknowns_last():
    rows = [
        insight(PR, 50, 50),  # 25
        insight(PE, None, 10),  # unknown
        insight(C, 100, 75),  # 25
        insight(E, 50, None),  # unknown
        insight(P, 60, 0),  # 60
    ]
    assert [row.element for row in ranked_by_priority(rows)] == [P, C, PR, E, PE]


# Self-assessment --------------------------------------------------------------------------------


def test_latest_self_assessment_per_element_and_the_history_is_kept(known):
    pmo = known.world.pmo
    latest = elements.latest_self_assessments(pmo)
    assert {element: row.rating for element, row in latest.items()} == {P: 4, E: 3, C: 5, PR: 5}
    assert latest[P].author == known.world.member
    assert SelfAssessment.objects.filter(pmo=pmo).count() == 6
    assert SelfAssessment.objects.filter(pmo=pmo, element=P).count() == 2


def test_self_assessment_as_of_a_date(known):
    before = elements.latest_self_assessments(known.world.pmo, on=date(2025, 5, 31))
    assert {element: row.rating for element, row in before.items()} == {P: 2}


# Surveys and trends -----------------------------------------------------------------------------


def test_default_survey_is_the_latest_closed(known):
    assert survey_figures.default_survey(known.world.pmo) == known.autumn
    assert list(survey_figures.closed_surveys(known.world.pmo)) == [known.autumn, known.summer, known.spring]


def test_default_survey_falls_back_to_an_open_survey_with_responses(world):
    assert survey_figures.default_survey(world.pmo) is None
    empty_open = build_survey(world.pmo, world.lead, "Open, unanswered", status=SurveyStatus.OPEN)
    assert survey_figures.default_survey(world.pmo) is None
    answered = build_survey(world.pmo, world.lead, "Open, answered", status=SurveyStatus.OPEN)
    ResponseFactory(survey=answered, stakeholder=world.stakeholder, ratings=every(4), submitted_at=at(date(2025, 1, 1)))
    ResponseFactory(
        survey=answered,
        stakeholder=StakeholderFactory(pmo=world.pmo),
        ratings=every(4),
        submitted_at=at(date(2025, 1, 1)),
    )
    assert survey_figures.default_survey(world.pmo) == answered
    build_survey(world.pmo, world.lead, "Draft", status=SurveyStatus.DRAFT)
    assert survey_figures.default_survey(world.pmo) == answered
    assert empty_open != answered


def test_perception_trend_oldest_first(known):
    trend = history.perception_trend(known.world.pmo)
    assert [point.title for point in trend] == ["Spring", "Summer", "Autumn"]
    assert [point.survey_id for point in trend] == [known.spring.pk, known.summer.pk, known.autumn.pk]
    # Performance answers other than Don't know: Gus 10 + Ada 8 + Ben 10 + Cara 10; Ben 10 + Dan 5 + Eve 9; …
    assert [point.answers for point in trend] == [38, 24, 36]
    for point, expected in zip(trend, [SPRING_PERCEPTION, SUMMER_PERCEPTION, AUTUMN_PERCEPTION], strict=True):
        for element in Element:
            assert point.perception.get(element) == approx(expected[element]), (point.title, element)


def test_perception_trend_of_a_segment_respects_the_threshold_survey_by_survey(known):
    trend = history.perception_trend(known.world.pmo, known.world.segment.pk)
    assert [point.title for point in trend] == ["Spring", "Summer", "Autumn"]
    assert [point.answers for point in trend] == [28, 0, 24]
    for point, expected in zip(trend, FINANCE_TREND, strict=True):
        for element in Element:
            assert point.perception.get(element) == approx(expected[element]), (point.title, element)


def test_perception_trend_of_a_small_segment_is_all_hidden(known, settings):
    # IT: Gus in Spring, Dan and Eve in Summer and Autumn.
    trend = history.perception_trend(known.world.pmo, known.it.pk)
    assert all(point.perception == {} for point in trend)
    settings.MIN_GROUP_SIZE = 2
    spring, summer, autumn = history.perception_trend(known.world.pmo, known.it.pk)
    assert spring.perception == {}
    # Dan 3,3 1,1 2 and Eve 4,4 4,4 … : product 3,3,4,4 → 3.5 → 62.5
    assert summer.perception[P] == 62.5
    # Dan 2 and Eve 4 → 3 → 50
    assert autumn.perception[P] == 50.0


def test_perception_trend_limit_keeps_the_latest(known):
    assert [point.title for point in history.perception_trend(known.world.pmo, limit=2)] == ["Summer", "Autumn"]


# Maturity -------------------------------------------------------------------------------------------


def active(known, segment=None):
    stakeholders = known.world.pmo.stakeholders.filter(is_active=True)
    return stakeholders.filter(segment=segment) if segment else stakeholders


def test_maturity_distribution_counts_the_latest_record_of_each_active_stakeholder(known):
    assert relationships.maturity_distribution(active(known)) == MATURITY
    assert relationships.maturity_distribution(active(known, known.world.segment)) == FINANCE_MATURITY


def test_current_stage_is_the_latest_by_date_then_by_entry(known):
    staged = {s.name: s.current_stage for s in relationships.with_current_stage(known.world.pmo.stakeholders.all())}
    assert staged["Ada"] == 2
    assert staged["Dan"] == 3  # dated later, entered first
    assert staged["Fiona Finance"] is None
    dan = known.people["Dan"]
    MaturityRecordFactory(
        pmo=known.world.pmo, stakeholder=dan, stage=5, rationale="Same day, entered last", recorded_on=date(2025, 8, 1)
    )
    assert relationships.with_current_stage(Stakeholder.objects.filter(pk=dan.pk)).get().current_stage == 5


def test_grid_by_maturity(known):
    grid = relationships.grid_by_maturity(active(known))
    empty = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, None: 0}
    assert grid == {
        Quadrant.MANAGE_CLOSELY: {**empty, 2: 1, 3: 1, None: 2},  # Ada 2, Dan 3, Gus, Hal
        Quadrant.KEEP_SATISFIED: {**empty, 1: 1, None: 1},  # Ben 1, Eve
        Quadrant.KEEP_INFORMED: {**empty, 1: 1},  # Cara 1
        Quadrant.MONITOR: {**empty, 5: 1, None: 1},  # Ivy 5, Fiona
    }
    assert sum(sum(counts.values()) for counts in grid.values()) == sum(MATURITY.values())


# Who is at risk -------------------------------------------------------------------------------------


def test_last_two_perceptions_newest_first_and_anonymous_surveys_ignored(known):
    s = known.people
    perceptions = responses.last_two_perceptions(known.world.pmo.stakeholders.all())
    assert perceptions[s["Ada"].pk] == [approx(53.125), approx(50.0)]
    assert perceptions[s["Ben"].pk] == [approx(50.0), approx(100.0)]  # Spring's 0 is a third, older answer
    assert perceptions[s["Dan"].pk] == [approx(15.0), approx(25.0)]
    assert perceptions[s["Eve"].pk] == [approx(26 / 7 * 25 - 25), approx(37 / 9 * 25 - 25)]
    assert perceptions[s["Gus"].pk] == [100.0]  # his anonymous 0 is not his
    assert s["Fiona"].pk not in perceptions


def test_at_risk_stakeholders_with_their_reasons(known):
    at_risk = relationships.at_risk_stakeholders(known.world.pmo)
    assert [(item.stakeholder.name, item.reasons) for item in at_risk] == AT_RISK


def test_at_risk_stakeholders_of_a_segment(known):
    at_risk = relationships.at_risk_stakeholders(known.world.pmo, known.world.segment.pk)
    assert [(item.stakeholder.name, item.reasons) for item in at_risk] == FINANCE_AT_RISK


def test_influence_three_and_inactive_stakeholders_are_never_at_risk(known):
    names = {item.stakeholder.name for item in relationships.at_risk_stakeholders(known.world.pmo)}
    assert "Cara" not in names  # stage 1 and down 50, but influence 3
    assert "Fay" not in names  # stage 1 and influence 5, but inactive
    assert "Eve" not in names  # down 9.9
    assert "Gus" not in names  # only anonymous answers after his first


@pytest.mark.parametrize(
    ("previous", "last", "reason"),
    [
        # mean ratings 2.0 → 1.6: 25 → 15, exactly 10 (a float subtraction gives 9.999…)
        ([2, 2, 2, 2, 2], [2, 2, 2, 1, 1], "Perception fell 10.0 points, from 25.0 to 15.0"),
        # 3.4 → 3.0: 60 → 50
        ([4, 4, 3, 3, 3], [3, 3, 3, 3, 3], "Perception fell 10.0 points, from 60.0 to 50.0"),
        # 5 → 4.6: 100 → 90
        ([5, 5, 5, 5, 5], [5, 5, 5, 4, 4], "Perception fell 10.0 points, from 100.0 to 90.0"),
        # 37/9 → 26/7: 77.8 → 67.9, down 9.9
        ([5, 4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 3, 3], None),
        # up, not down
        ([1, 1, 1, 1, 1], [5, 5, 5, 5, 5], None),
    ],
)
def test_a_drop_of_exactly_ten_points_counts_and_less_does_not(world, previous, last, reason):
    s = StakeholderFactory(pmo=world.pmo, name="Drop", influence=4)
    answered(world, s, previous, on=date(2025, 1, 1))
    answered(world, s, last, on=date(2025, 2, 1))
    found = [item.reasons for item in relationships.at_risk_stakeholders(world.pmo) if item.stakeholder == s]
    assert found == ([[reason]] if reason else [])


def test_the_falls_found_in_postgresql_are_the_last_two_perceptions_that_fell(world):
    """perception_falls ranks and compares in SQL what last_two_perceptions and the rule do in
    Python: the same stakeholders with the same pairs, on the cases where they could differ."""
    cases = {
        "Ten in floating point": [([2, 2, 2, 2, 2], date(2025, 1, 1)), ([2, 2, 2, 1, 1], date(2025, 2, 1))],
        "Ten exactly": [([4, 4, 3, 3, 3], date(2025, 1, 1)), ([3, 3, 3, 3, 3], date(2025, 2, 1))],
        "Nine point nine": [([5, 4, 4, 4, 4, 4, 4, 4, 4], date(2025, 1, 1)), ([4, 4, 4, 4, 4, 3, 3], date(2025, 2, 1))],
        "Up": [([1, 1], date(2025, 1, 1)), ([5, 5], date(2025, 2, 1))],
        "Once": [([1, 1], date(2025, 2, 1))],
        # Fell, then rose again: the last two are the rise.
        "Recovered": [([5, 5], date(2025, 1, 1)), ([1, 1], date(2025, 2, 1)), ([5, 5], date(2025, 3, 1))],
        # The same moment: the later response (its id) is the last, as in last_two_perceptions.
        "Same moment": [([5, 5], date(2025, 3, 1)), ([1, 1], date(2025, 3, 1))],
        # An all "Don't know" last response has no perception: the two before count.
        "Unsure last": [([4, 4], date(2025, 1, 1)), ([3, 3], date(2025, 2, 1)), ([None, None], date(2025, 3, 1))],
    }
    people = {}
    for name, answers in cases.items():
        people[name] = StakeholderFactory(pmo=world.pmo, name=name, influence=4)
        for ratings, on in answers:
            answered(world, people[name], ratings, on=on)
    # An anonymous answer is never tied to a person: it does not make "Up" a fall.
    answered(world, people["Up"], [1, 1], on=date(2025, 4, 1), anonymous=True)
    mine = Stakeholder.objects.filter(pk__in=[p.pk for p in people.values()])
    fell = {pk: v for pk, v in responses.last_two_perceptions(mine).items() if relationships._perception_drop(v)}
    found = responses.perception_falls(mine, [world.pmo.pk], relationships.PERCEPTION_DROP)
    assert found == fell
    names = {"Ten in floating point", "Ten exactly", "Same moment", "Unsure last"}
    assert set(found) == {people[name].pk for name in names}


def test_a_response_of_only_dont_know_does_not_hide_a_drop(world):
    s = StakeholderFactory(pmo=world.pmo, name="Unsure", influence=5)
    answered(world, s, [4, 4], on=date(2025, 1, 1))  # 75
    answered(world, s, [3, 3], on=date(2025, 2, 1))  # 50
    answered(world, s, [None, None], on=date(2025, 3, 1))  # no perception at all
    assert responses.last_two_perceptions(Stakeholder.objects.filter(pk=s.pk)) == {s.pk: [50.0, 75.0]}
    [item] = relationships.at_risk_stakeholders(world.pmo)
    assert item.reasons == ["Perception fell 25.0 points, from 75.0 to 50.0"]
    assert suggest_stage(s, today=TODAY).reason.startswith("Latest perception 50.0/100")


def test_at_risk_maturity_rule_stops_above_aware(world):
    pmo = world.pmo
    aware = StakeholderFactory(pmo=pmo, name="Aware", influence=4)
    understanding = StakeholderFactory(pmo=pmo, name="Understanding", influence=5)
    unassessed = StakeholderFactory(pmo=pmo, name="Unassessed", influence=5)
    for s, stage in [(aware, MaturityStage.AWARE), (understanding, MaturityStage.UNDERSTANDING)]:
        MaturityRecordFactory(pmo=pmo, stakeholder=s, stage=stage, rationale="r", recorded_on=date(2025, 1, 1))
    names = [item.stakeholder.name for item in relationships.at_risk_stakeholders(pmo)]
    assert names == ["Aware"]
    assert unassessed.name not in names


def test_at_risk_is_per_pmo(known):
    # Bob Beta is at stage 1 in the other PMO, with influence 3; raise it: still not ours.
    Stakeholder.objects.filter(pk=known.world.other_stakeholder.pk).update(influence=5)
    assert [item.stakeholder.name for item in relationships.at_risk_stakeholders(known.world.other_pmo)] == ["Bob Beta"]
    assert "Bob Beta" not in {item.stakeholder.name for item in relationships.at_risk_stakeholders(known.world.pmo)}


# Response rate ---------------------------------------------------------------------------------------


def test_participation_of_a_survey_and_of_a_segment(known):
    everyone = survey_figures.participation(known.autumn)
    assert (everyone.sent, everyone.responses) == (7, 5)
    finance = survey_figures.participation(known.autumn, known.world.segment.pk)
    assert (finance.sent, finance.responses) == (4, 3)
    assert finance.response_rate == 75.0


# The suggested maturity stage -------------------------------------------------------------------------

TODAY = date(2025, 12, 1)


def interact(stakeholder, sentiment, days_ago):
    interaction = Interaction.objects.create(
        pmo=stakeholder.pmo, summary="Met", sentiment=sentiment, occurred_on=TODAY - timedelta(days=days_ago)
    )
    interaction.stakeholders.add(stakeholder)


def answered(world, stakeholder, ratings, *, anonymous=False, on=date(2025, 11, 1)):
    """One named response whose performance answers are `ratings` (spread over the P's)."""
    built = build_survey(world.pmo, world.lead, f"S{on}", closed_on=on, anonymous=anonymous)
    padded = ratings + [None] * (10 - len(ratings))
    ResponseFactory(
        survey=built,
        stakeholder=stakeholder,
        ratings={e: (padded[2 * i], padded[2 * i + 1]) for i, e in enumerate(Element)},
        submitted_at=at(on),
    )


def test_suggestion_with_nothing_known_is_unaware(world):
    suggestion = suggest_stage(world.stakeholder, today=TODAY)
    assert suggestion.stage == MaturityStage.UNAWARE
    assert suggestion.reason == "No survey answer and no interaction in the last 180 days."


def test_suggestion_ignores_interactions_older_than_180_days(world):
    interact(world.stakeholder, 2, 181)
    suggestion = suggest_stage(world.stakeholder, today=TODAY)
    assert suggestion.stage == MaturityStage.UNAWARE
    assert "in the last 180 days" in suggestion.reason
    interact(world.stakeholder, 2, 180)
    assert suggest_stage(world.stakeholder, today=TODAY).stage == MaturityStage.AWARE


def test_suggestion_with_interactions_but_no_answer_is_aware(world):
    interact(world.stakeholder, 1, 10)
    interact(world.stakeholder, 0, 20)
    suggestion = suggest_stage(world.stakeholder, today=TODAY)
    assert suggestion.stage == MaturityStage.AWARE
    assert suggestion.reason == "No survey answer yet; 2 interactions in the last 180 days, average sentiment +0.5."


def test_suggestion_ignores_anonymous_answers(world):
    answered(world, world.stakeholder, [5, 5, 5, 5, 5], anonymous=True)
    assert suggest_stage(world.stakeholder, today=TODAY).stage == MaturityStage.UNAWARE


@pytest.mark.parametrize(
    ("ratings", "sentiments", "stage", "perception"),
    [
        ([2, 3], [], MaturityStage.AWARE, 37.5),
        ([3, 3, 3, 2, 2], [], MaturityStage.UNDERSTANDING, 40),
        ([3, 3, 4, 3, 3, 4, 4, 3], [2], MaturityStage.UNDERSTANDING, 59.375),
        ([4, 4, 3, 3, 3], [], MaturityStage.RESPECT, 60),
        ([4, 4, 4, 4, 4], [2], MaturityStage.RESPECT, 75),
        ([5, 4, 4, 4, 4], [], MaturityStage.RESPECT, 80),  # no recent interaction: not Trust
        ([5, 4, 4, 4, 4], [1, 0], MaturityStage.RESPECT, 80),  # +0.5 on average
        ([5, 4, 4, 4, 4], [1, 1], MaturityStage.TRUST, 80),
        ([5, 5, 5, 5, 5], [2, 2, -1], MaturityStage.TRUST, 100),
    ],
)
def test_suggestion_from_the_latest_perception(world, ratings, sentiments, stage, perception):
    answered(world, world.stakeholder, [1, 1], on=date(2025, 1, 1))  # an older answer does not count
    answered(world, world.stakeholder, ratings)
    for days_ago, sentiment in enumerate(sentiments, start=1):
        interact(world.stakeholder, sentiment, days_ago)
    suggestion = suggest_stage(world.stakeholder, today=TODAY)
    assert suggestion.stage == stage
    assert suggestion.reason.startswith(f"Latest perception {shown(perception, Kind.SCORE)}/100; ")
    count = len(sentiments)
    assert f"{count} interaction{'s' if count != 1 else ''} in the last 180 days" in suggestion.reason
