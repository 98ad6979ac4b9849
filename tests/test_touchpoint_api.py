"""The communication plan through the API (stakeholders/api.py): the same write path as the
pages, the same words, and each touchpoint's dates."""

import json

from django.urls import reverse

from stakeholders.models import Interaction, Touchpoint
from stakeholders.touchpoints import NO_OWNER, OTHER_PMO_STAKEHOLDERS


def url(world, pk=None, occurrences=False):
    if occurrences:
        return reverse("api-touchpoint-occurrences", kwargs={"slug": world.pmo.slug, "pk": pk})
    if pk is None:
        return reverse("api-touchpoint-list", kwargs={"slug": world.pmo.slug})
    return reverse("api-touchpoint-detail", kwargs={"slug": world.pmo.slug, "pk": pk})


def send(client, method, address, body):
    return getattr(client, method)(address, json.dumps(body), content_type="application/json")


def body(world, **changes):
    return {
        "purpose": "Monthly steering committee",
        "element": "people",
        "stakeholders": [world.stakeholder.pk],
        "starts_on": "2026-01-31",
        "at_time": "09:00",
        "recurrence": "monthly",
        "until": "2026-04-30",
        **changes,
    }


def test_a_touchpoint_made_through_the_api_has_its_dates(client_for, world):
    client = client_for(world.member)
    response = send(client, "post", url(world), body(world))
    assert response.status_code == 201, response.content
    touchpoint = Touchpoint.objects.get()
    assert response.json()["owner"] == world.member.email == touchpoint.owner.user.email
    dates = client.get(url(world, touchpoint.pk, occurrences=True)).json()
    assert [(d["on"], d["status"], d["starts_at"]) for d in dates] == [
        ("2026-01-31", "planned", "2026-01-31T09:00:00Z"),
        ("2026-02-28", "planned", "2026-02-28T09:00:00Z"),
        ("2026-03-31", "planned", "2026-03-31T08:00:00Z"),  # BST
        ("2026-04-30", "planned", "2026-04-30T08:00:00Z"),
    ]
    # Ended earlier: the dates to come go; it is deleted with them, not the interactions.
    assert send(client, "patch", url(world, touchpoint.pk), {"until": "2026-02-28"}).status_code == 200
    assert client.delete(url(world, touchpoint.pk)).status_code == 204
    assert not Touchpoint.objects.exists()


def test_the_api_refuses_in_the_forms_words(client_for, world):
    client = client_for(world.member)
    cases = [
        ({"stakeholders": [world.other_stakeholder.pk]}, "stakeholders", OTHER_PMO_STAKEHOLDERS),
        ({"owner": world.outsider.email}, "owner", NO_OWNER),
        (
            {"until": "2031-02-01"},
            "until",
            "A recurrence runs at most five years: from 31 January 2026, until 31 January 2031 at the latest.",
        ),
        ({"until": None}, "until", None),
    ]
    for changes, field, message in cases:
        response = send(client, "post", url(world), body(world, **changes))
        assert response.status_code == 400, changes
        fields = response.json()["error"]["fields"]
        assert field in fields, fields
        if message:
            assert fields[field] == [message]
    assert not Touchpoint.objects.exists() and not Interaction.objects.exists()


def test_a_viewer_reads_and_cannot_write(client_for, world):
    client = client_for(world.viewer)
    assert client.get(url(world)).status_code == 200
    assert send(client, "post", url(world), body(world)).status_code == 403
