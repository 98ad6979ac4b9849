"""The communication plan's pages (stakeholders/touchpoint_views.py): the list's sections and
filters, the form (its searchable choice of stakeholders, its refusals keeping what was typed),
marking a date done from its prefilled interaction, cancelling one."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from stakeholders import touchpoints
from stakeholders.models import Interaction, OccurrenceStatus, Recurrence, Touchpoint
from tests.factories import StakeholderFactory

# Tuesday 10 March 2026, midday in London.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def plan(world, **changes):
    base = {
        "purpose": "Steering committee",
        "channel": "meeting",
        "element": "people",
        "owner": world.membership(world.member),
        "stakeholders": [world.stakeholder],
        "segment": None,
        "starts_on": date(2026, 2, 24),
        "at_time": time(9, 0),
        "duration_minutes": 60,
        "recurrence": Recurrence.WEEKLY,
        "until": date(2026, 5, 26),
        "notes": "",
    }
    return touchpoints.create_touchpoint(world.pmo, world.member, base | changes)


def test_the_list_shows_missed_dates_then_the_next_two_weeks_then_later(client_for, world):
    plan(world)
    page = client_for(world.viewer).get(reverse("touchpoint_list", args=[world.pmo.slug]))
    sections = page.context["sections"]
    dates = {s["key"]: [o.on for o in s["page"]] for s in sections}
    assert dates["missed"] == [date(2026, 2, 24), date(2026, 3, 3)]
    assert dates["soon"] == [date(2026, 3, 10), date(2026, 3, 17)]
    assert dates["later"][0] == date(2026, 3, 24)
    # A viewer reads; the buttons are a member's.
    assert "Done<span" not in page.content.decode()
    member_page = client_for(world.member).get(reverse("touchpoint_list", args=[world.pmo.slug])).content.decode()
    assert "Done<span" in member_page and "Missed" in member_page


def test_the_list_filters_by_p_owner_and_segment(client_for, world):
    plan(world)
    url = reverse("touchpoint_list", args=[world.pmo.slug])
    client = client_for(world.member)
    count = lambda page: sum(s["page"].paginator.count for s in page.context["sections"])  # noqa: E731
    assert count(client.get(url, {"element": "people"})) == 14
    assert count(client.get(url, {"element": "product"})) == 0
    assert count(client.get(url, {"owner": world.membership(world.lead).pk})) == 0
    assert count(client.get(url, {"segment": world.segment.pk})) == 14


def test_the_empty_list_says_what_a_touchpoint_is(client_for, world):
    html = client_for(world.member).get(reverse("touchpoint_list", args=[world.pmo.slug])).content.decode()
    assert "No touchpoint planned yet" in html and "building confidence through experience" in html


def form_data(world, **changes):
    return {
        "purpose": "Quarterly showcase",
        "starts_on": "2026-03-31",
        "at_time": "14:00",
        "duration_minutes": "90",
        "channel": "showcase",
        "element": "physical_evidence",
        "owner": str(world.membership(world.member).pk),
        "stakeholders": [str(world.stakeholder.pk)],
        "segment": "",
        "recurrence": "quarterly",
        "until": "2027-03-31",
        "notes": "",
        **changes,
    }


def test_planning_a_touchpoint_through_the_form(client_for, world):
    client = client_for(world.member)
    response = client.post(reverse("touchpoint_create", args=[world.pmo.slug]), form_data(world))
    touchpoint = Touchpoint.objects.get()
    assert response.status_code == 302
    assert [o.on for o in touchpoint.occurrences.all()] == [
        date(2026, 3, 31),
        date(2026, 6, 30),
        date(2026, 9, 30),
        date(2026, 12, 31),
        date(2027, 3, 31),
    ]
    detail = client.get(response["Location"]).content.decode()
    assert "Every quarter" in detail and f"14:00 {world.pmo.time_zone} time" in detail


def test_bad_input_keeps_what_was_typed(client_for, world):
    response = client_for(world.member).post(
        reverse("touchpoint_create", args=[world.pmo.slug]), form_data(world, until="2031-04-01")
    )
    assert response.status_code == 200 and not Touchpoint.objects.exists()
    html = response.content.decode()
    assert "A recurrence runs at most five years" in html
    assert 'value="Quarterly showcase"' in html and 'value="2031-04-01"' in html
    assert f'value="{world.stakeholder.pk}"' in html and "checked" in html


def test_a_stakeholder_of_another_pmo_is_refused_on_the_form(client_for, world):
    response = client_for(world.member).post(
        reverse("touchpoint_create", args=[world.pmo.slug]),
        form_data(world, stakeholders=[str(world.other_stakeholder.pk)]),
    )
    assert touchpoints.OTHER_PMO_STAKEHOLDERS in response.content.decode()
    assert not Touchpoint.objects.exists()


def test_the_form_finds_stakeholders_without_listing_the_register(client_for, world):
    StakeholderFactory(pmo=world.pmo, name="Zed Sponsor", email="zed@corp.example")
    StakeholderFactory(pmo=world.pmo, name="Yann Other")
    client = client_for(world.member)
    url = reverse("touchpoint_create", args=[world.pmo.slug])
    assert "Zed Sponsor" not in client.get(url).content.decode()
    found = client.post(url, form_data(world, find="sponsor", find_stakeholders="1")).content.decode()
    assert "Zed Sponsor" in found and "Yann Other" not in found and "Fiona Finance" in found
    assert "invalid-feedback" not in found and not Touchpoint.objects.exists()


def test_marking_a_date_done_from_its_page(client_for, world):
    touchpoint = plan(world)
    occurrence = touchpoint.occurrences.get(on=date(2026, 3, 3))
    client = client_for(world.member)
    url = reverse("occurrence_done", args=[world.pmo.slug, occurrence.pk])
    form = client.get(url).context["form"]
    assert form.initial["occurred_on"] == date(2026, 3, 3)
    assert form.initial["elements"] == ["people"] and form.initial["summary"] == "Steering committee"
    assert client.get(url, {"today": "1"}).context["form"].initial["occurred_on"] == date(2026, 3, 10)
    data = {
        "occurred_on": "2026-03-03",
        "kind": "meeting",
        "stakeholders": [str(world.stakeholder.pk)],
        "elements": ["people"],
        "sentiment": "1",
        "summary": "Agreed the next release",
    }
    assert client.post(url, data).status_code == 302
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.DONE
    assert occurrence.interaction.summary == "Agreed the next release"
    # Twice: one interaction, and the page says so.
    response = client.post(url, data, follow=True)
    assert touchpoints.ALREADY_DONE in response.content.decode()
    assert Interaction.objects.count() == 1


def test_cancelling_a_date_needs_a_reason(client_for, world):
    occurrence = plan(world).occurrences.get(on=date(2026, 3, 3))
    client = client_for(world.member)
    url = reverse("occurrence_cancel", args=[world.pmo.slug, occurrence.pk])
    assert touchpoints.NO_REASON in client.post(url, {"reason": ""}).content.decode()
    assert client.post(url, {"reason": "Sponsor on leave"}).status_code == 302
    occurrence.refresh_from_db()
    assert occurrence.status == OccurrenceStatus.CANCELLED


def test_deleting_keeps_the_recorded_interactions(client_for, world):
    touchpoint = plan(world)
    occurrence = touchpoint.occurrences.get(on=date(2026, 3, 3))
    values = touchpoints.interaction_values(occurrence, date(2026, 3, 10))
    touchpoints.mark_done(world.pmo, world.member, occurrence, values)
    client = client_for(world.member)
    url = reverse("touchpoint_delete", args=[world.pmo.slug, touchpoint.pk])
    assert "the interactions they recorded stay" in client.get(url).content.decode()
    client.post(url)
    assert not Touchpoint.objects.exists() and Interaction.objects.count() == 1


def test_the_stakeholders_timeline_says_which_touchpoint_recorded_an_interaction(client_for, world):
    touchpoint = plan(world)
    occurrence = touchpoint.occurrences.get(on=date(2026, 3, 3))
    touchpoints.mark_done(
        world.pmo, world.member, occurrence, touchpoints.interaction_values(occurrence, date(2026, 3, 10))
    )
    html = client_for(world.viewer).get(reverse("stakeholder_detail", args=[world.pmo.slug, world.stakeholder.pk]))
    assert "recorded from the touchpoint “Steering committee”" in html.content.decode()
    assert reverse("touchpoint_detail", args=[world.pmo.slug, touchpoint.pk]) in html.content.decode()


def _queries(client, address) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_the_pages_make_as_many_queries_for_many_touchpoints_as_for_one(client_for, world):
    client = client_for(world.member)
    first = plan(world)
    pages = [
        reverse("touchpoint_list", args=[world.pmo.slug]),
        reverse("touchpoint_detail", args=[world.pmo.slug, first.pk]),
        reverse("occurrence_done", args=[world.pmo.slug, first.occurrences.first().pk]),
    ]
    small = [_queries(client, address) for address in pages]
    people = [StakeholderFactory(pmo=world.pmo, segment=world.segment) for _ in range(5)]
    for n in range(12):
        plan(world, purpose=f"Touchpoint {n}", stakeholders=people[: 1 + n % 5])
    first.stakeholders.add(*people)
    assert [_queries(client, address) for address in pages] == small
