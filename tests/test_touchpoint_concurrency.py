"""Two clicks on "Done" make one interaction: the date's row is locked (select_for_update)
before the interaction is written, so the second waits, finds the date done and is refused."""

from datetime import date, time

import pytest
from django.db import connection

from pmo5p.rules import RuleViolation
from stakeholders import touchpoints
from stakeholders.models import Interaction, OccurrenceStatus, Recurrence
from tests.helpers import at_once

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_simultaneous_dones_of_one_date_record_one_interaction(world):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SQLite serialises writers, so the clicks cannot race (set DATABASE_URL).")
    touchpoint = touchpoints.create_touchpoint(
        world.pmo,
        world.member,
        {
            "purpose": "Steering committee",
            "element": "people",
            "owner": world.membership(world.member),
            "stakeholders": [world.stakeholder],
            "starts_on": date(2026, 1, 5),
            "at_time": time(9, 0),
            "recurrence": Recurrence.ONCE,
        },
    )
    occurrence = touchpoint.occurrences.get()
    values = touchpoints.interaction_values(occurrence, date(2026, 1, 5))

    def click(n):
        try:
            touchpoints.mark_done(world.pmo, world.member, occurrence, {**values, "summary": f"Click {n}"})
        except RuleViolation as refusal:
            return refusal.message
        return "done"

    outcomes = at_once(THREADS, click)
    assert sorted(outcomes) == sorted(["done"] + [touchpoints.ALREADY_DONE] * (THREADS - 1))
    assert Interaction.objects.count() == 1
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.DONE and occurrence.interaction == Interaction.objects.get()
