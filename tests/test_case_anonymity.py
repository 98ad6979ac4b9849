"""An anonymous survey's follow-up cases say nothing of who answered, or when: a property-based
test. hypothesis draws the answers of up to five people in each of two segments and "No
segment" (recommendation scores, ratings with "Don't know", answers left out); the same
answers are given once in the order drawn and once by other people of the same segment, in
another order, at other times. Closing each survey must open the same cases, field for field
(but their ids and their survey), and exactly for the groups of MIN_GROUP_SIZE detractors or
more."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmo5p.domain import DETRACTOR_MAX, Element
from stakeholders.models import FollowUpCase
from stakeholders.surveys import lifecycle as surveys
from tests.factories import PmoFactory, ResponseFactory, SegmentFactory, StakeholderFactory
from tests.survey_helpers import open_survey

GROUPS = ("a", "b", None)
PER_GROUP = 5
CLOSED_AT = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)

rating = st.one_of(st.none(), st.integers(1, 5))
# Per P: its two statements (None: "Don't know"), or None: the P left out.
ratings = st.tuples(*[st.one_of(st.none(), st.tuples(rating, rating)) for _ in Element])
reply = st.tuples(st.one_of(st.none(), st.integers(0, 10)), ratings)


@st.composite
def scenario(draw):
    """Per group, its answers; then per group a permutation of who gave them, and an order of arrival."""
    answers = {group: draw(st.lists(reply, max_size=PER_GROUP)) for group in GROUPS}
    # Detractors often: a group of MIN_GROUP_SIZE detractors must come up.
    answers["a"] += [(draw(st.integers(0, DETRACTOR_MAX)), draw(ratings)) for _ in range(draw(st.integers(0, 3)))]
    answers["a"] = answers["a"][:PER_GROUP]
    givers = {group: draw(st.permutations(range(PER_GROUP))) for group in GROUPS}
    count = sum(len(given) for given in answers.values())
    arrival = draw(st.permutations(range(count)))
    return answers, givers, arrival


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def case_fields(survey) -> list[tuple]:
    ignored = {"id", "survey"}
    fields = [f.attname for f in FollowUpCase._meta.concrete_fields if f.name not in ignored]
    return sorted(FollowUpCase.objects.filter(survey=survey).values_list(*fields))


def give(survey, invitations, answers, givers, arrival) -> None:
    given = [
        (invitations[group][givers[group][index]], reply)
        for group in GROUPS
        for index, reply in enumerate(answers[group])
    ]
    for position in arrival:
        invitation, (nps, by_element) = given[position]
        ResponseFactory(
            invitation=invitation,
            nps=nps,
            ratings={e: pair for e, pair in zip(Element, by_element, strict=True) if pair is not None},
            submitted_at=CLOSED_AT - timedelta(days=3, minutes=position),
        )


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=scenario())
def test_the_cases_are_the_same_whoever_gave_which_answers_and_when(drawn):
    answers, givers, arrival = drawn
    with rolled_back():
        pmo = PmoFactory(slug="anon")
        segments = {"a": SegmentFactory(pmo=pmo, name="A"), "b": SegmentFactory(pmo=pmo, name="B"), None: None}
        people = {g: [StakeholderFactory(pmo=pmo, segment=segments[g]) for _ in range(PER_GROUP)] for g in GROUPS}
        opened = []
        for who, order in ((dict.fromkeys(GROUPS, range(PER_GROUP)), range(len(arrival))), (givers, arrival)):
            survey, invitations = open_survey(pmo, [p for g in GROUPS for p in people[g]], anonymous=True)
            by_group = {g: invitations[i * PER_GROUP : (i + 1) * PER_GROUP] for i, g in enumerate(GROUPS)}
            give(survey, by_group, answers, who, order)
            assert surveys.close(survey, now=CLOSED_AT)
            opened.append(case_fields(survey))

        assert opened[0] == opened[1]
        shown = {
            segments[g].pk if g else None
            for g in GROUPS
            if sum(nps is not None and nps <= DETRACTOR_MAX for nps, _ in answers[g]) >= django_settings.MIN_GROUP_SIZE
        }
        cases = FollowUpCase.objects.filter(survey=survey)
        assert {case.segment_id for case in cases} == shown
        assert len(cases) == len(shown)
        for case in cases:
            assert (case.response_id, case.stakeholder_id, case.owner_id, case.nps_before) == (None, None, None, None)
            assert case.opened_at == CLOSED_AT
