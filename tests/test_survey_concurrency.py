"""Exactly one response per invitation when many submits of the same link race each
other: the database's unique constraint decides, and every loser gets the clear page."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from stakeholders.models import Answer, Response, SurveyInvitation
from tests.helpers import at_once
from tests.survey_helpers import answer_data, open_survey, rated_questions

THREADS = 24


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_of_one_link_leave_exactly_one_response(world):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite serialises writers, so submits cannot race (set DATABASE_URL).")
    cache.clear()
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    data = answer_data(survey, rating="3", nps="8")

    def submit(n):
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        response = client.post(invitation.path, {**data, "comment": f"thread {n}"})
        return response.status_code, response.content.decode()

    outcomes = at_once(THREADS, submit)
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [200] + [410] * (THREADS - 1)
    for status, content in outcomes:
        if status == 410:
            assert "You have already answered this survey" in content.replace("&#x27;", "'")
    assert Response.objects.count() == 1
    response = Response.objects.get()
    assert Answer.objects.count() == len(rated_questions(survey))
    assert set(Answer.objects.values_list("response_id", flat=True)) == {response.pk}
    assert SurveyInvitation.objects.get(pk=invitation.pk).responded_at == response.submitted_at
