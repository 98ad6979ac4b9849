"""Exactly one answer per recovery pulse when many submits of the same link race each
other: the conditional UPDATE … WHERE answered_at IS NULL decides, and every loser gets
the clear "already answered" page with nothing stored."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from stakeholders.cases.pulses import send_pulse
from stakeholders.models import RecoveryPulse
from tests.helpers import at_once
from tests.pulse_helpers import named_case

THREADS = 24


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_of_one_pulse_store_exactly_one_answer(world):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite serialises writers, so submits cannot race (set DATABASE_URL).")
    cache.clear()
    pulse = send_pulse(named_case(world.pmo, world.stakeholder, nps=2), by=world.member)
    url = reverse("pulse_answer", kwargs={"token": pulse.token})

    def submit(n):
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        response = client.post(url, {"score": str(n % 11), "comment": f"thread {n}"})
        return response.status_code, response.content.decode()

    outcomes = at_once(THREADS, submit)
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [200] + [410] * (THREADS - 1)
    for status, content in outcomes:
        if status == 410:
            assert "You have already answered, thank you" in content
    stored = RecoveryPulse.objects.get(pk=pulse.pk)
    winner = int(stored.comment.removeprefix("thread "))
    assert stored.score == winner % 11
    assert stored.answered_at is not None
