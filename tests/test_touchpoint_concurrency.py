"""Two clicks on "Done" make one interaction: the date's row is locked (select_for_update)
before the interaction is written, so the second waits, finds the date done and is refused."""

import threading
from datetime import date, time

import pytest
from django.db import connection, connections

from pmo5p.rules import RuleViolation
from stakeholders import touchpoints
from stakeholders.models import Interaction, OccurrenceStatus, Recurrence

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
    barrier = threading.Barrier(THREADS, timeout=30)
    outcomes, errors = [], []
    lock = threading.Lock()

    def click(n):
        try:
            barrier.wait()
            touchpoints.mark_done(world.pmo, world.member, occurrence, {**values, "summary": f"Click {n}"})
            outcome = "done"
        except RuleViolation as refusal:
            outcome = refusal.message
        except BaseException as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(error)
            return
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == sorted(["done"] + [touchpoints.ALREADY_DONE] * (THREADS - 1))
    assert Interaction.objects.count() == 1
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.DONE and occurrence.interaction == Interaction.objects.get()
