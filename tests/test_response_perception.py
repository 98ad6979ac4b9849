"""Each response's perception is kept on it (Response.perception_rating), written with its
answers by lifecycle.submit through the figures layer (agenda/figures/responses.py
store_perceptions), filled for older responses by migration 0011, and read by the at-risk
rule. The kept figure always equals a recomputation from the raw answers."""

from importlib import import_module

import pytest
from django.apps import apps as current_apps
from django.test import Client

from agenda.figures import relationships
from agenda.figures.responses import last_two_perceptions, store_perceptions
from pmo5p.domain import Element
from stakeholders.models import Answer, QuestionKind, Response, Stakeholder
from stakeholders.surveys.lifecycle import submit
from tests.factories import ResponseFactory, StakeholderFactory, every
from tests.survey_helpers import answer_data, days_ago, open_survey, questions, rated_questions


def recomputed(response: Response) -> float | None:
    """The mean rating of the response's performance answers, from the raw rows, in Python."""
    values = [
        answer.value
        for answer in Answer.objects.filter(response=response, question__kind=QuestionKind.PERFORMANCE)
        if answer.value is not None
    ]
    return sum(values) / len(values) if values else None


def assert_kept_equals_recomputed(responses):
    for response in Response.objects.filter(pk__in=[r.pk for r in responses]):
        expected = recomputed(response)
        if expected is None:
            assert response.perception_rating is None, response.pk
        else:
            assert response.perception_rating == pytest.approx(expected, abs=1e-9), response.pk


def test_submit_keeps_the_perception_of_each_response(world):
    people = [world.stakeholder, *StakeholderFactory.create_batch(3, pmo=world.pmo)]
    survey, invitations = open_survey(world.pmo, people)
    statements = questions(survey, QuestionKind.PERFORMANCE)
    importance = questions(survey, QuestionKind.IMPORTANCE)
    ratings = [
        # Mixed ratings, one "Don't know": the mean leaves it out.
        {q.pk: (None if n == 0 else 1 + n % 5) for n, q in enumerate(statements)},
        # All "Don't know": no perception.
        dict.fromkeys((q.pk for q in statements), None),
        # Importance ratings never count in the perception.
        {**{q.pk: 2 for q in statements}, **{q.pk: 5 for q in importance}},
        {q.pk: 5 for q in statements},
    ]
    responses = [
        submit(invitation, values=values, nps=7, comment="")
        for invitation, values in zip(invitations, ratings, strict=True)
    ]

    assert_kept_equals_recomputed(responses)
    kept = dict(Response.objects.filter(pk__in=[r.pk for r in responses]).values_list("pk", "perception_rating"))
    assert kept[responses[1].pk] is None
    assert kept[responses[2].pk] == 2
    assert kept[responses[3].pk] == 5


def test_the_public_form_keeps_the_perception(world):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    statements = questions(survey, QuestionKind.PERFORMANCE)
    data = answer_data(survey, rating="4") | {f"q_{statements[0].pk}": "1"}
    assert Client().post(invitation.path, data).status_code == 200

    response = Response.objects.get(invitation=invitation)
    assert response.perception_rating == pytest.approx((1 + 4 * (len(statements) - 1)) / len(statements))
    assert_kept_equals_recomputed([response])


def test_deleting_a_stakeholder_leaves_the_others_kept_figures_true(world):
    people = StakeholderFactory.create_batch(3, pmo=world.pmo)
    survey, invitations = open_survey(world.pmo, people)
    responses = [
        ResponseFactory(invitation=invitation, ratings=every(1 + n), importance=dict.fromkeys(Element, 5))
        for n, invitation in enumerate(invitations)
    ]
    people[0].delete()  # its invitation, response and answers go with it (the only erasure there is)

    assert not Response.objects.filter(pk=responses[0].pk).exists()
    assert_kept_equals_recomputed(responses[1:])


def test_store_perceptions_recomputes_after_answers_change(world):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    response = ResponseFactory(invitation=invitation, ratings=every(5))
    # No page changes or deletes an answer; the function is the one to call if one ever does.
    Answer.objects.filter(response=response, question__kind=QuestionKind.PERFORMANCE).update(value=2)
    Answer.objects.filter(response=response, question__element=Element.PRODUCT).delete()
    store_perceptions(Response.objects.filter(pk=response.pk))

    assert_kept_equals_recomputed([response])
    response.refresh_from_db()
    assert response.perception_rating == 2


def test_at_risk_reads_the_kept_perception(world):
    influential = StakeholderFactory(pmo=world.pmo, influence=5, name="Ivy Influential")
    _, (older,) = open_survey(world.pmo, [influential], sent_at=days_ago(100))
    _, (newer,) = open_survey(world.pmo, [influential], sent_at=days_ago(10))
    before = ResponseFactory(invitation=older, ratings=every(4), submitted_at=days_ago(95))
    after = ResponseFactory(invitation=newer, ratings=every(4), submitted_at=days_ago(5))
    assert not relationships.at_risk_stakeholders(world.pmo)

    # Only the kept figure says the perception fell (75 to 25): the rule must read it.
    Response.objects.filter(pk=after.pk).update(perception_rating=2)
    (entry,) = relationships.at_risk_stakeholders(world.pmo)
    assert entry.stakeholder == influential
    assert entry.reasons == ["Perception fell 50.0 points, from 75.0 to 25.0"]
    assert last_two_perceptions(Stakeholder.objects.filter(pk=influential.pk)) == {influential.pk: [25.0, 75.0]}
    assert before.perception_rating == 4


def test_the_migration_fills_the_perception_of_earlier_responses(world):
    survey, invitations = open_survey(
        world.pmo, [world.stakeholder, *StakeholderFactory.create_batch(2, pmo=world.pmo)]
    )
    responses = [
        ResponseFactory(invitation=invitations[0], ratings={Element.PRODUCT: (1, 2), Element.PRICE: (None, 5)}),
        ResponseFactory(invitation=invitations[1], ratings=every(None), importance=dict.fromkeys(Element, 4)),
        ResponseFactory(invitation=invitations[2], ratings=every(3)),
    ]
    Response.objects.update(perception_rating=None)  # as before the column was filled

    migration = import_module("stakeholders.migrations.0012_response_perception_rating")
    migration.store_perceptions(current_apps, None)

    assert_kept_equals_recomputed(responses)
    assert Response.objects.get(pk=responses[0].pk).perception_rating == pytest.approx(8 / 3)
    assert len(rated_questions(survey)) == 15
