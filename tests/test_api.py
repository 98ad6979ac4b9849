"""The JSON API resource by resource: pagination, the one error body, the filters and
the upsert of stakeholders, validation that mirrors the web forms, survey results that
equal the results page, reports and their PDF, the PMOs list, and the personal tokens
of the profile page. Tenancy and roles are walked in tests/test_api_tenancy.py."""

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agenda.models import Action, AgendaReport, MaturityRecord, SelfAssessment
from pmo5p.models import ApiToken, Pmo, Role
from stakeholders.models import Interaction, Stakeholder
from tests.agenda_data import REPORT_FIGURES_V1
from tests.factories import (
    MaturityRecordFactory,
    MembershipFactory,
    ResponseFactory,
    SegmentFactory,
    SelfAssessmentFactory,
    StakeholderFactory,
    SurveyFactory,
)
from tests.survey_helpers import open_survey
from tests.test_survey_results import EXPECTED
from tests.test_survey_results import build as build_survey

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def api_as(db):
    """A client that sends only a personal token of the given user (no session)."""

    def make(user):
        _token, key = ApiToken.issue(user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {key}"})

    return make


@pytest.fixture
def lead_api(world, api_as):
    return api_as(world.lead)


def url(name, pmo=None, pk=None, **query):
    kwargs = {}
    if pmo is not None:
        kwargs["slug"] = pmo.slug
    if pk is not None:
        kwargs["pk"] = pk
    address = reverse(name, kwargs=kwargs)
    if query:
        address += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return address


def post(client, address, body):
    return client.post(address, body, content_type="application/json")


def put(client, address, body):
    return client.put(address, body, content_type="application/json")


def patch(client, address, body):
    return client.patch(address, body, content_type="application/json")


def error_of(response, status):
    """The error body, after checking its shape: {"error": {"status", "code", "message", "fields"}}."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error


def field_errors(response) -> dict:
    error = error_of(response, 400)
    assert error["code"] == "invalid"
    return error["fields"]


def names(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row["name"] for row in response.json()["results"]]


# Pagination and errors ----------------------------------------------------------------------


def test_lists_are_paginated(world, lead_api):
    for n in range(7):
        StakeholderFactory(pmo=world.pmo, name=f"Person {n}")
    first = lead_api.get(url("api-stakeholder-list", world.pmo, page_size=3)).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 8 and len(first["results"]) == 3
    assert first["previous"] is None and "page=2" in first["next"] and "page_size=3" in first["next"]
    last = lead_api.get(first["next"].replace("page=2", "page=3")).json()
    assert [row["name"] for row in last["results"]] == ["Person 5", "Person 6"]
    assert last["next"] is None and "page=2" in last["previous"]
    everyone = [row["name"] for row in first["results"]] + [
        row["name"] for row in lead_api.get(first["next"]).json()["results"]
    ]
    assert everyone == ["Fiona Finance", "Person 0", "Person 1", "Person 2", "Person 3", "Person 4"]


def test_a_page_holds_50_by_default_and_500_at_most(world, lead_api):
    Stakeholder.objects.bulk_create(Stakeholder(pmo=world.pmo, name=f"S{n:03}") for n in range(510))
    default = lead_api.get(url("api-stakeholder-list", world.pmo)).json()
    assert (default["count"], len(default["results"])) == (511, 50)
    capped = lead_api.get(url("api-stakeholder-list", world.pmo, page_size=100000)).json()
    assert len(capped["results"]) == 500
    assert len(lead_api.get(url("api-stakeholder-list", world.pmo, page_size=-1)).json()["results"]) == 50


@pytest.mark.parametrize("page", ["99", "abc", "0"])
def test_a_page_that_does_not_exist_is_404(world, lead_api, page):
    error = error_of(lead_api.get(url("api-stakeholder-list", world.pmo, page=page)), 404)
    assert error["code"] == "not_found" and error["message"] == "Invalid page."


def test_the_error_bodies(world, api_as, lead_api):
    anonymous = error_of(Client().get(url("api-pmo-list")), 401)
    assert anonymous["code"] == "not_authenticated"
    refused = error_of(post(api_as(world.viewer), url("api-segment-list", world.pmo), {"name": "X"}), 403)
    assert (refused["code"], refused["message"]) == ("permission_denied", "Your role in this PMO does not allow this.")
    missing = error_of(lead_api.get(url("api-stakeholder-detail", world.pmo, pk=world.other_stakeholder.pk)), 404)
    assert (missing["code"], missing["message"], missing["fields"]) == ("not_found", "Not found.", {})
    invalid = error_of(post(lead_api, url("api-stakeholder-list", world.pmo), {"name": "", "influence": 9}), 400)
    assert invalid["code"] == "invalid"
    assert set(invalid["fields"]) == {"name", "influence"}
    wrong_method = error_of(lead_api.delete(url("api-stakeholder-list", world.pmo)), 405)
    assert wrong_method["code"] == "method_not_allowed"


def test_bad_tokens_from_one_address_get_429_past_the_limit(world, api_as, settings):
    assert settings.API_TOKEN_FAILURE_RATE_LIMIT == "20/m"
    revoked, revoked_key = ApiToken.issue(user=world.member, name="old")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    headers = ["Bearer pmo5p_unknown", f"Bearer {revoked_key}", "Bearer", "Token a b"]
    with time_machine.travel(T0, tick=False) as traveller:
        statuses = [
            Client(headers={"Authorization": headers[n % 4]}).get(url("api-pmo-list")).status_code for n in range(20)
        ]
        assert statuses == [401] * 20

        response = Client(headers={"Authorization": "Bearer pmo5p_unknown"}).get(url("api-pmo-list"))
        error = error_of(response, 429)
        assert error["code"] == "throttled"
        assert "token that is not valid" in error["message"]
        assert 0 < int(response["Retry-After"]) <= 60
        # While it lasts the address gets no answer about any token, a good one included;
        # another address is not affected.
        good = api_as(world.lead)
        assert good.get(url("api-pmo-list")).status_code == 429
        assert good.get(url("api-pmo-list"), REMOTE_ADDR="198.51.100.2").status_code == 200

        traveller.shift(timedelta(minutes=2))
        assert good.get(url("api-pmo-list")).status_code == 200
        bad = Client(headers={"Authorization": "Bearer pmo5p_unknown"}).get(url("api-pmo-list"))
        assert bad.status_code == 401


def test_good_tokens_and_sessions_do_not_count_as_failures(world, lead_api, client_for, settings):
    settings.API_TOKEN_FAILURE_RATE_LIMIT = "2/m"
    for _ in range(5):
        assert lead_api.get(url("api-pmo-list")).status_code == 200
        assert client_for(world.member).get(url("api-pmo-list")).status_code == 200
    assert Client(headers={"Authorization": "Bearer pmo5p_unknown"}).get(url("api-pmo-list")).status_code == 401


def test_malformed_json_is_a_400(world, lead_api):
    response = lead_api.post(url("api-segment-list", world.pmo), "{not json", content_type="application/json")
    assert error_of(response, 400)["code"] == "parse_error"


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/pmos/alpha/stakeholders/abc/", "/api/v1/pmos/alpha/stakeholders/-1/"]
)
def test_an_address_no_route_takes_answers_with_the_error_body(world, lead_api, path):
    for method in ("get", "post", "delete"):
        error = error_of(getattr(lead_api, method)(path), 404)
        assert error["code"] == "not_found"


def test_ids_out_of_range_are_404_not_500(world, lead_api):
    for pk in (0, 2**31, 2**63, 10**30):
        error_of(lead_api.get(url("api-stakeholder-detail", world.pmo, pk=pk)), 404)
        error_of(lead_api.get(url("api-report-pdf", world.pmo, pk=pk)), 404)


def test_the_api_root_lists_the_pmos(world, lead_api):
    response = lead_api.get(reverse("api-root"))
    assert response.json() == {"pmos": "http://testserver/api/v1/pmos/"}


# PMOs ---------------------------------------------------------------------------------------


def test_the_pmos_list_shows_only_the_callers_pmos_with_their_role(world, api_as):
    MembershipFactory(pmo=world.other_pmo, user=world.viewer, role=Role.MEMBER)
    rows = api_as(world.viewer).get(url("api-pmo-list")).json()["results"]
    assert [(row["slug"], row["role"]) for row in rows] == [("alpha", "viewer"), ("beta", "member")]
    assert set(rows[0]) == {"id", "name", "slug", "description", "time_zone", "currency", "survey_fatigue_days", "role"}
    assert rows[0]["currency"] == "GBP"
    assert [row["slug"] for row in api_as(world.outsider).get(url("api-pmo-list")).json()["results"]] == ["beta"]


def test_a_pmo_by_slug(world, lead_api):
    response = lead_api.get(url("api-pmo-detail", world.pmo))
    assert response.json()["name"] == "Alpha PMO" and response.json()["role"] == "lead"
    error_of(lead_api.get(url("api-pmo-detail", world.other_pmo)), 404)


# Segments -----------------------------------------------------------------------------------


def test_segments_read_and_write(world, lead_api):
    created = post(lead_api, url("api-segment-list", world.pmo), {"name": "  Sponsors ", "description": "Pay"})
    assert created.status_code == 201
    segment = created.json()
    assert segment == {"id": segment["id"], "name": "Sponsors", "description": "Pay"}
    assert names(lead_api.get(url("api-segment-list", world.pmo))) == ["Finance", "Sponsors"]
    assert lead_api.get(url("api-segment-detail", world.pmo, segment["id"])).json() == segment

    assert field_errors(post(lead_api, url("api-segment-list", world.pmo), {"name": "finance"})) == {
        "name": ["This PMO has a segment with this name already."]
    }
    # Another PMO's segment of the same name does not clash.
    assert post(lead_api, url("api-segment-list", world.pmo), {"name": "Beta segment"}).status_code == 201

    renamed = patch(lead_api, url("api-segment-detail", world.pmo, segment["id"]), {"name": "Payers"})
    assert renamed.json()["name"] == "Payers"
    assert lead_api.delete(url("api-segment-detail", world.pmo, world.segment.pk)).status_code == 204
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.segment is None  # the stakeholders stay


# Stakeholders -------------------------------------------------------------------------------


def test_stakeholders_read_and_write(world, lead_api):
    created = post(
        lead_api,
        url("api-stakeholder-list", world.pmo),
        {
            "name": " Sam Sponsor ",
            "email": "Sam@Corp.Example",
            "segment": world.segment.pk,
            "influence": 5,
            "interest": 2,
            "owner": "MEMBER@alpha.example",
        },
    )
    assert created.status_code == 201, created.content
    sam = created.json()
    assert {key: sam[key] for key in ("name", "email", "segment", "influence", "interest", "owner", "is_active")} == {
        "name": "Sam Sponsor",
        "email": "sam@corp.example",
        "segment": world.segment.pk,
        "influence": 5,
        "interest": 2,
        "owner": "member@alpha.example",
        "is_active": True,
    }
    stored = Stakeholder.objects.get(pk=sam["id"])
    assert (stored.pmo, stored.owner.user) == (world.pmo, world.member)
    assert lead_api.get(url("api-stakeholder-detail", world.pmo, sam["id"])).json() == sam

    replaced = put(lead_api, url("api-stakeholder-detail", world.pmo, sam["id"]), {"name": "Sam S", "owner": None})
    assert replaced.status_code == 200
    assert (replaced.json()["name"], replaced.json()["owner"], replaced.json()["influence"]) == ("Sam S", None, 5)
    patched = patch(lead_api, url("api-stakeholder-detail", world.pmo, sam["id"]), {"is_active": False})
    assert (patched.json()["name"], patched.json()["is_active"]) == ("Sam S", False)

    assert lead_api.delete(url("api-stakeholder-detail", world.pmo, sam["id"])).status_code == 204
    assert not Stakeholder.objects.filter(pk=sam["id"]).exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"email": "FIONA@corp.example"}, "email", "Fiona Finance already has this e-mail address in this PMO."),
        ({"email": "not-an-address"}, "email", "Enter a valid e-mail address."),
        ({"influence": 0}, "influence", "Choose an influence from 1 (very low) to 5 (very high)."),
        ({"influence": 6}, "influence", "Choose an influence from 1 (very low) to 5 (very high)."),
        ({"interest": 0}, "interest", "Choose an interest from 1 (very low) to 5 (very high)."),
        ({"interest": "high"}, "interest", "Choose an interest from 1 (very low) to 5 (very high)."),
        ({"name": "   "}, "name", "Give the stakeholder's name."),
        ({"owner": "nobody@alpha.example"}, "owner", "Choose a member of this PMO as the relationship owner."),
        ({"owner": "lead@beta.example"}, "owner", "Choose a member of this PMO as the relationship owner."),
        ({"segment": 1.5}, "segment", "Choose one of this PMO's segments."),
        ({"segment": True}, "segment", "Choose one of this PMO's segments."),
        ({"segment": 10**20}, "segment", "Choose one of this PMO's segments."),
        ({"name": "Nul\x00"}, "name", "Null characters are not allowed."),
    ],
)
def test_stakeholder_validation_mirrors_the_form(world, lead_api, body, field, message):
    before = list(Stakeholder.objects.values_list("id", "name", "email"))
    response = post(lead_api, url("api-stakeholder-list", world.pmo), {"name": "New One", **body})
    assert field_errors(response)[field] == [message]
    assert list(Stakeholder.objects.values_list("id", "name", "email")) == before


def test_another_pmos_segment_is_refused(world, lead_api):
    response = post(lead_api, url("api-stakeholder-list", world.pmo), {"name": "X", "segment": world.other_segment.pk})
    assert field_errors(response) == {"segment": ["Choose one of this PMO's segments."]}
    response = patch(
        lead_api, url("api-stakeholder-detail", world.pmo, world.stakeholder.pk), {"segment": world.other_segment.pk}
    )
    assert "segment" in field_errors(response)
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.segment == world.segment


def test_an_email_may_be_changed_in_case_on_the_same_stakeholder(world, lead_api):
    response = patch(
        lead_api, url("api-stakeholder-detail", world.pmo, world.stakeholder.pk), {"email": "FIONA@corp.example"}
    )
    assert response.status_code == 200 and response.json()["email"] == "fiona@corp.example"


@pytest.fixture
def register(world):
    it = SegmentFactory(pmo=world.pmo, name="IT")
    StakeholderFactory(
        pmo=world.pmo, name="Ivan IT", segment=it, influence=5, interest=1, job_title="CIO", email="ivan@corp.example"
    )
    StakeholderFactory(
        pmo=world.pmo,
        name="Olga Old",
        segment=it,
        influence=2,
        interest=5,
        is_active=False,
        business_unit="Legacy",
        email="olga@corp.example",
    )
    StakeholderFactory(pmo=world.pmo, name="Nina None", segment=None, influence=5, interest=5, email="nina@x.example")
    return it


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Fiona Finance", "Ivan IT", "Nina None", "Olga Old"]),
        ({"segment": "IT"}, ["Ivan IT", "Olga Old"]),
        ({"influence": 5}, ["Ivan IT", "Nina None"]),
        ({"interest": 5}, ["Nina None", "Olga Old"]),
        ({"influence": 5, "interest": 5}, ["Nina None"]),
        ({"active": "true"}, ["Fiona Finance", "Ivan IT", "Nina None"]),
        ({"active": "false"}, ["Olga Old"]),
        ({"search": "corp.example"}, ["Fiona Finance", "Ivan IT", "Olga Old"]),
        ({"search": "cio"}, ["Ivan IT"]),  # the job title, as on the register page
        ({"search": "legacy"}, ["Olga Old"]),  # the business unit
        ({"search": "NINA"}, ["Nina None"]),
    ],
)
def test_stakeholder_filters(world, lead_api, register, query, expected):
    if query.get("segment") == "IT":
        query["segment"] = register.pk
    assert names(lead_api.get(url("api-stakeholder-list", world.pmo, **query))) == expected


def test_the_segment_filter_never_reaches_another_pmo(world, lead_api):
    assert names(lead_api.get(url("api-stakeholder-list", world.pmo, segment=world.other_segment.pk))) == []


def test_updated_since(world, lead_api):
    with time_machine.travel(T0, tick=False):
        StakeholderFactory(pmo=world.pmo, name="Old News")
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        StakeholderFactory(pmo=world.pmo, name="Fresh")
    Stakeholder.objects.filter(pk=world.stakeholder.pk).update(updated_at=T0 - timedelta(days=10))
    since = (T0 + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert names(lead_api.get(url("api-stakeholder-list", world.pmo, updated_since=since))) == ["Fresh"]
    exactly = T0.isoformat().replace("+00:00", "Z")
    assert names(lead_api.get(url("api-stakeholder-list", world.pmo, updated_since=exactly))) == ["Fresh", "Old News"]
    # With an offset: 14:00+02:00 is 12:00 UTC.
    assert names(lead_api.get(url("api-stakeholder-list", world.pmo, updated_since="2026-05-04T14:00:00%2B02:00"))) == [
        "Fresh",
        "Old News",
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("segment=abc", "segment"),
        ("segment=1.5", "segment"),
        ("segment=-1", "segment"),
        (f"segment={10**20}", "segment"),
        ("influence=9", "influence"),
        ("influence=abc", "influence"),
        ("interest=0", "interest"),
        ("active=maybe", "active"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-13-01", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B14:00", "updated_since"),
        ("updated_since=9999-12-31T23:59:59-14:00", "updated_since"),
        ("search=%00", "search"),
    ],
)
def test_a_filter_value_that_cannot_be_used_is_a_400(world, lead_api, query, field):
    response = lead_api.get(url("api-stakeholder-list", world.pmo) + "?" + query)
    assert list(field_errors(response)) == [field]


# The upsert by e-mail -------------------------------------------------------------------------


def upsert(client, world, body):
    return post(client, url("api-stakeholder-upsert", world.pmo), body)


def test_upsert_creates_then_updates_by_email_ignoring_case(world, lead_api):
    created = upsert(lead_api, world, {"email": "Hugo@HR.example", "name": "Hugo", "job_title": "HRBP", "influence": 4})
    assert created.status_code == 201
    hugo = created.json()
    assert (hugo["email"], hugo["job_title"], hugo["influence"]) == ("hugo@hr.example", "HRBP", 4)

    updated = upsert(lead_api, world, {"email": "HUGO@hr.EXAMPLE", "interest": 5})
    assert updated.status_code == 200
    again = updated.json()
    assert again["id"] == hugo["id"]
    # A partial update: what is not sent is kept.
    assert (again["name"], again["job_title"], again["influence"], again["interest"]) == ("Hugo", "HRBP", 4, 5)
    assert Stakeholder.objects.filter(pmo=world.pmo, email__iexact="hugo@hr.example").count() == 1


def test_upsert_updates_an_existing_stakeholder(world, lead_api):
    response = upsert(lead_api, world, {"email": "fiona@CORP.example", "segment": None, "notes": "Synced"})
    assert response.status_code == 200
    world.stakeholder.refresh_from_db()
    assert (world.stakeholder.name, world.stakeholder.segment, world.stakeholder.notes) == (
        "Fiona Finance",
        None,
        "Synced",
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not an address", "name": "X"}, {"email"}),
        ({"name": "No Address"}, {"email"}),
        ({"email": "new@corp.example"}, {"name"}),  # creating needs a name
        ({"email": "new@corp.example", "name": "X", "influence": 6}, {"influence"}),
        ({"email": "nul\x00@corp.example", "name": "X"}, {"email"}),
        ({"email": "fiona@corp.example", "name": ""}, {"name"}),
        ({"email": ["fiona@corp.example"], "name": "X"}, {"email"}),
    ],
)
def test_upsert_refuses_bad_input_with_the_fields(world, lead_api, body, fields):
    before = list(Stakeholder.objects.values())
    assert set(field_errors(upsert(lead_api, world, body))) == fields
    assert list(Stakeholder.objects.values()) == before


def test_upsert_refuses_another_pmos_segment(world, lead_api):
    for email in ("fiona@corp.example", "new@corp.example"):
        response = upsert(lead_api, world, {"email": email, "name": "X", "segment": world.other_segment.pk})
        assert list(field_errors(response)) == ["segment"]
    assert not Stakeholder.objects.filter(email="new@corp.example").exists()


def test_upsert_of_a_list_is_a_400(world, lead_api):
    assert "non_field_errors" in field_errors(upsert(lead_api, world, [{"email": "a@b.example", "name": "A"}]))


def test_upsert_never_touches_another_pmo(world, lead_api):
    bob = world.other_stakeholder
    response = upsert(lead_api, world, {"email": bob.email.upper(), "name": "Bob Here"})
    assert response.status_code == 201
    bob.refresh_from_db()
    assert bob.name == "Bob Beta" and bob.pmo == world.other_pmo


# Interactions -------------------------------------------------------------------------------


def interaction_body(world, **overrides):
    return {
        "occurred_on": "2026-05-01",
        "kind": "workshop",
        "stakeholders": [world.stakeholder.pk],
        "elements": ["process", "product", "process"],
        "sentiment": 1,
        "summary": "  Walked through the roadmap. ",
        **overrides,
    }


def test_interactions_read_and_write(world, api_as):
    member = api_as(world.member)
    created = post(member, url("api-interaction-list", world.pmo), interaction_body(world))
    assert created.status_code == 201, created.content
    body = created.json()
    # Each element once, in the model's order, as the web form stores them.
    assert (body["elements"], body["summary"], body["stakeholders"]) == (
        ["product", "process"],
        "Walked through the roadmap.",
        [world.stakeholder.pk],
    )
    stored = Interaction.objects.get(pk=body["id"])
    assert (stored.pmo, stored.author) == (world.pmo, world.member)
    assert member.get(url("api-interaction-detail", world.pmo, body["id"])).json() == body

    other = StakeholderFactory(pmo=world.pmo)
    changed = patch(member, url("api-interaction-detail", world.pmo, body["id"]), {"stakeholders": [other.pk]})
    assert changed.json()["stakeholders"] == [other.pk]
    assert member.delete(url("api-interaction-detail", world.pmo, body["id"])).status_code == 204
    assert not Interaction.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_on": "2099-01-01"}, "occurred_on"),
        ({"stakeholders": []}, "stakeholders"),
        ({"summary": "   "}, "summary"),
        ({"elements": ["product", "pizza"]}, "elements"),
        ({"sentiment": 3}, "sentiment"),
        ({"kind": "party"}, "kind"),
        ({"stakeholders": [10**20]}, "stakeholders"),
    ],
)
def test_interaction_validation_mirrors_the_form(world, lead_api, overrides, field):
    response = post(lead_api, url("api-interaction-list", world.pmo), interaction_body(world, **overrides))
    assert list(field_errors(response)) == [field]
    assert not Interaction.objects.exists()


def test_an_interaction_with_another_pmos_stakeholder_is_refused(world, lead_api):
    body = interaction_body(world, stakeholders=[world.stakeholder.pk, world.other_stakeholder.pk])
    assert list(field_errors(post(lead_api, url("api-interaction-list", world.pmo), body))) == ["stakeholders"]
    assert not Interaction.objects.exists()


def test_today_and_the_future_are_the_pmos_days(world, lead_api):
    """At 12:00 UTC it is already tomorrow in Kiritimati (UTC+14): the PMO's day counts, as on the web."""
    Pmo.objects.filter(pk=world.pmo.pk).update(time_zone="Pacific/Kiritimati")
    with time_machine.travel(T0, tick=False):
        today_there = "2026-05-05"
        created = post(
            lead_api, url("api-interaction-list", world.pmo), interaction_body(world, occurred_on=today_there)
        )
        assert created.status_code == 201, created.content
        late = post(lead_api, url("api-interaction-list", world.pmo), interaction_body(world, occurred_on="2026-05-06"))
        assert list(field_errors(late)) == ["occurred_on"]
        due_today = {"title": "Call", "element": "people", "due_on": today_there}
        assert post(lead_api, url("api-action-list", world.pmo), due_today).status_code == 201
        due_yesterday = {"title": "Call", "element": "people", "due_on": "2026-05-04"}
        assert list(field_errors(post(lead_api, url("api-action-list", world.pmo), due_yesterday))) == ["due_on"]
    # The time zone is the request's only: it does not stay on the thread.
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


# Self-assessments and maturity --------------------------------------------------------------


def test_self_assessments_read_and_write(world, api_as):
    member = api_as(world.member)
    body = {"element": "people", "rating": 4, "evidence": "Trained the team", "assessed_on": "2026-04-01"}
    created = post(member, url("api-self-assessment-list", world.pmo), body)
    assert created.status_code == 201, created.content
    row = created.json()
    assert {key: row[key] for key in body} == body and row["author"] == "member@alpha.example"
    assert SelfAssessment.objects.get(pk=row["id"]).pmo == world.pmo
    SelfAssessmentFactory(pmo=world.pmo, element="price", rating=2, assessed_on=date(2026, 4, 10))
    listed = member.get(url("api-self-assessment-list", world.pmo)).json()["results"]
    assert [(r["element"], r["assessed_on"]) for r in listed] == [("price", "2026-04-10"), ("people", "2026-04-01")]
    assert listed[0]["author"] is None

    assert patch(member, url("api-self-assessment-detail", world.pmo, row["id"]), {"rating": 5}).json()["rating"] == 5
    assert member.delete(url("api-self-assessment-detail", world.pmo, row["id"])).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"element": "people", "rating": 0}, "rating"),
        ({"element": "people", "rating": 6}, "rating"),
        ({"element": "pizza", "rating": 3}, "element"),
        ({"element": "people", "rating": 3, "assessed_on": "2099-01-01"}, "assessed_on"),
    ],
)
def test_self_assessment_validation(world, lead_api, body, field):
    assert list(field_errors(post(lead_api, url("api-self-assessment-list", world.pmo), body))) == [field]
    assert not SelfAssessment.objects.exists()


def test_maturity_records_read_and_write(world, lead_api):
    body = {
        "stakeholder": world.stakeholder.pk,
        "stage": 3,
        "rationale": " Asks for the roadmap ",
        "recorded_on": "2026-04-02",
    }
    created = post(lead_api, url("api-maturity-list", world.pmo), body)
    assert created.status_code == 201, created.content
    assert (created.json()["rationale"], created.json()["author"]) == ("Asks for the roadmap", "lead@alpha.example")
    other = StakeholderFactory(pmo=world.pmo)
    MaturityRecordFactory(pmo=world.pmo, stakeholder=other, stage=1, rationale="New")
    everyone = lead_api.get(url("api-maturity-list", world.pmo)).json()
    assert everyone["count"] == 2
    theirs = lead_api.get(url("api-maturity-list", world.pmo, stakeholder=world.stakeholder.pk)).json()["results"]
    assert [r["id"] for r in theirs] == [created.json()["id"]]
    changed = put(lead_api, url("api-maturity-detail", world.pmo, created.json()["id"]), {**body, "stage": 4})
    assert changed.json()["stage"] == 4
    assert lead_api.delete(url("api-maturity-detail", world.pmo, created.json()["id"])).status_code == 204


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"stage": 0}, "stage"),
        ({"stage": 6}, "stage"),
        ({"rationale": "  "}, "rationale"),
        ({"recorded_on": "2099-01-01"}, "recorded_on"),
        ({"stakeholder": None}, "stakeholder"),
        ({"stakeholder": "other"}, "stakeholder"),
    ],
)
def test_maturity_validation_mirrors_the_form(world, lead_api, overrides, field):
    body = {"stakeholder": world.stakeholder.pk, "stage": 3, "rationale": "Seen", **overrides}
    if body["stakeholder"] == "other":
        body["stakeholder"] = world.other_stakeholder.pk
    assert list(field_errors(post(lead_api, url("api-maturity-list", world.pmo), body))) == [field]
    assert not MaturityRecord.objects.exists()


@pytest.mark.parametrize("value", ["abc", "1.5", str(10**20), "0"])
def test_the_maturity_filter_refuses_what_is_not_an_id(world, lead_api, value):
    assert list(field_errors(lead_api.get(url("api-maturity-list", world.pmo, stakeholder=value)))) == ["stakeholder"]


# Actions ------------------------------------------------------------------------------------


def test_actions_read_and_write(world, api_as):
    member = api_as(world.member)
    body = {
        "title": " Monthly showcase ",
        "element": "physical_evidence",
        "problem": "information",
        "target_segments": [world.segment.pk],
        "target_stakeholders": [world.stakeholder.pk],
        "owner": "Lead@Alpha.example",
        "due_on": "2099-03-01",
    }
    created = post(member, url("api-action-list", world.pmo), body)
    assert created.status_code == 201, created.content
    action = created.json()
    assert (action["title"], action["owner"], action["status"], action["completed_at"]) == (
        "Monthly showcase",
        "lead@alpha.example",
        "planned",
        None,
    )
    stored = Action.objects.get(pk=action["id"])
    assert (stored.pmo, stored.created_by, stored.owner.user) == (world.pmo, world.member, world.lead)
    assert list(stored.target_segments.all()) == [world.segment]

    done = patch(member, url("api-action-detail", world.pmo, action["id"]), {"status": "done"}).json()
    assert done["completed_at"] is not None
    # Editing a done action keeps the moment it was done; reopening it clears it.
    kept = patch(member, url("api-action-detail", world.pmo, action["id"]), {"notes": "Went well"}).json()
    assert kept["completed_at"] == done["completed_at"]
    reopened = patch(member, url("api-action-detail", world.pmo, action["id"]), {"status": "in_progress"}).json()
    assert reopened["completed_at"] is None
    assert member.delete(url("api-action-detail", world.pmo, action["id"])).status_code == 204


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"element": "pizza"}, "element"),
        ({"problem": "boredom"}, "problem"),
        ({"status": "someday"}, "status"),
        ({"due_on": "2020-01-01"}, "due_on"),
        ({"owner": "nobody@alpha.example"}, "owner"),
        ({"owner": "lead@beta.example"}, "owner"),
        ({"target_segments": ["other"]}, "target_segments"),
        ({"target_stakeholders": ["other"]}, "target_stakeholders"),
    ],
)
def test_action_validation_mirrors_the_form(world, lead_api, overrides, field):
    others = {"target_segments": world.other_segment.pk, "target_stakeholders": world.other_stakeholder.pk}
    for key, value in overrides.items():
        if value == ["other"]:
            overrides[key] = [others[key]]
    body = {"title": "Showcase", "element": "product", "due_on": "2099-01-01", **overrides}
    assert list(field_errors(post(lead_api, url("api-action-list", world.pmo), body))) == [field]
    assert not Action.objects.exists()


def test_a_due_date_before_the_action_was_created_is_refused(world, lead_api):
    action = Action.objects.create(
        pmo=world.pmo,
        title="Old",
        element="product",
        due_on=date(2026, 3, 1),
        created_at=datetime(2026, 2, 10, 9, tzinfo=UTC),
    )
    detail = url("api-action-detail", world.pmo, action.pk)
    error = field_errors(patch(lead_api, detail, {"due_on": "2026-02-09"}))
    assert error == {
        "due_on": ["The due date is before the action was created (10 February 2026): choose that day or later."]
    }
    # The creation day itself is fine, though it is past.
    assert patch(lead_api, detail, {"due_on": "2026-02-10"}).status_code == 200


def test_action_filters(world, lead_api):
    for title, element, status in [("A", "product", "planned"), ("B", "people", "done"), ("C", "people", "planned")]:
        Action.objects.create(pmo=world.pmo, title=title, element=element, status=status, due_on=date(2099, 1, 1))

    def titles(**query):
        return [row["title"] for row in lead_api.get(url("api-action-list", world.pmo, **query)).json()["results"]]

    assert titles() == ["A", "B", "C"]
    assert titles(status="planned") == ["A", "C"]
    assert titles(element="people") == ["B", "C"]
    assert titles(element="people", status="planned") == ["C"]
    for query in ({"status": "someday"}, {"element": "%00"}):
        assert list(field_errors(lead_api.get(url("api-action-list", world.pmo, **query)))) == list(query)


# Surveys ------------------------------------------------------------------------------------


def test_drafts_are_not_listed(world, lead_api):
    draft = SurveyFactory(pmo=world.pmo, title="Draft")
    launched, _ = open_survey(world.pmo, [world.stakeholder], title="Launched")
    rows = lead_api.get(url("api-survey-list", world.pmo)).json()["results"]
    assert [(r["id"], r["title"], r["status"]) for r in rows] == [(launched.pk, "Launched", "open")]
    error_of(lead_api.get(url("api-survey-detail", world.pmo, draft.pk)), 404)
    error_of(lead_api.get(url("api-survey-results", world.pmo, draft.pk)), 404)


def test_survey_results_equal_the_results_page(world, lead_api, client_for):
    survey = build_survey(world, anonymous=True)
    results = lead_api.get(url("api-survey-results", world.pmo, survey.pk)).json()
    page = client_for(world.lead).get(reverse("survey_results", kwargs={"slug": "alpha", "survey_id": survey.pk}))
    assert page.status_code == 200

    participation = page.context["participation"]
    assert (results["invited"], results["sent"], results["responses"]) == (9, 8, 6)
    assert (results["invited"], results["sent"], results["responses"]) == (
        participation.invited,
        participation.sent,
        participation.responses,
    )
    assert results["response_rate"] == pytest.approx(75.0) == participation.response_rate

    nps = page.context["nps"]
    assert results["nps"] == {
        "score": pytest.approx(nps.score),
        "answers": 6,
        "promoters": 3,
        "passives": 1,
        "detractors": 2,
    }
    assert results["nps"]["score"] == pytest.approx(100 / 6)

    by_element = {row["element"]: row for row in results["elements"]}
    assert list(by_element) == ["product", "physical_evidence", "price", "people", "process"]
    for row in page.context["element_scores"]:
        api = by_element[row.element.value]
        perception, answers, dont_know, importance, importance_answers = EXPECTED[row.element]
        assert api["perception"] == (pytest.approx(perception, abs=1e-3) if perception is not None else None)
        assert api["importance"] == (pytest.approx(importance, abs=1e-3) if importance is not None else None)
        assert (api["perception_answers"], api["dont_know"], api["importance_answers"]) == (
            answers,
            dont_know,
            importance_answers,
        )
        assert (api["perception"], api["importance"]) == (row.perception, row.importance)

    assert results["min_group_size"] == settings.MIN_GROUP_SIZE == 3
    segments = {row["name"]: row for row in results["segments"]}
    assert segments["Finance"]["responses"] == 4 and segments["Finance"]["hidden"] is False
    assert segments["Finance"]["perception"] == {
        "product": pytest.approx(70.0),
        "physical_evidence": pytest.approx(75.0),
        "price": None,
        "people": pytest.approx(62.5),
        "process": None,
    }
    # Two responses in IT: under the minimum group size, so not even their number is given.
    assert segments["IT"] == {
        "segment": segments["IT"]["segment"],
        "name": "IT",
        "responses": None,
        "hidden": True,
        "perception": {},
    }
    assert [row.name for row in page.context["segments"] if row.hidden] == ["IT"]


def test_results_before_any_response(world, lead_api):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    results = lead_api.get(url("api-survey-results", world.pmo, survey.pk)).json()
    assert (results["responses"], results["response_rate"], results["nps"]["score"]) == (0, 0.0, None)
    assert all(row["perception"] is None for row in results["elements"])
    # The segments of those invited, hidden while they have too few responses, none included.
    assert results["segments"] == [
        {"segment": world.segment.pk, "name": "Finance", "responses": None, "hidden": True, "perception": {}}
    ]


def test_results_of_a_survey_never_sent(world, lead_api):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    invitation.__class__.objects.filter(pk=invitation.pk).update(sent_at=None)
    results = lead_api.get(url("api-survey-results", world.pmo, survey.pk)).json()
    assert (results["sent"], results["response_rate"]) == (0, None)


def test_an_anonymous_surveys_results_name_nobody(world, lead_api):
    survey, invitations = open_survey(world.pmo, [world.stakeholder], anonymous=True)
    ResponseFactory(invitation=invitations[0], ratings={"product": [5, 5]}, nps=10)
    text = lead_api.get(url("api-survey-results", world.pmo, survey.pk)).content.decode()
    assert "Fiona" not in text and "fiona@corp.example" not in text
    assert '"hidden":true' in text


# Reports ------------------------------------------------------------------------------------


def report(pmo, start, status="ready", pdf=b"%PDF-1.4 report", **fields):
    return AgendaReport.objects.create(
        pmo=pmo,
        frequency="monthly",
        period_start=start,
        period_end=(start + timedelta(days=32)).replace(day=1),
        status=status,
        pdf=pdf,
        figures=REPORT_FIGURES_V1,
        **fields,
    )


def test_reports_list_and_detail(world, lead_api):
    march = report(world.pmo, date(2026, 3, 1))
    report(world.pmo, date(2026, 4, 1), status="building", pdf=b"")
    report(world.other_pmo, date(2026, 3, 1))
    rows = lead_api.get(url("api-report-list", world.pmo)).json()["results"]
    assert [(r["period_start"], r["status"]) for r in rows] == [("2026-04-01", "building"), ("2026-03-01", "ready")]
    detail = lead_api.get(url("api-report-detail", world.pmo, march.pk)).json()
    assert detail == {
        "id": march.pk,
        "kind": "scheduled",
        "frequency": "monthly",
        "period_start": "2026-03-01",
        "period_end": "2026-04-01",
        "status": "ready",
        "built_at": None,
        "figures": detail["figures"],
    }
    assert "pdf" not in rows[0] and "html" not in rows[0]
    assert rows[0]["figures"] is None  # not built yet
    # Figures stored in version 1 come back in the current schema, through the one loader.
    figures = detail["figures"]
    assert figures["schema_version"] == 5
    assert figures["currency"] == "GBP"  # the PMO's: version 1 stored none
    assert figures["change_basis"] == "report"
    assert figures["survey"]["nps"] == 100.0
    assert figures["maturity"]["movers"][0] == {
        "id": REPORT_FIGURES_V1["maturity"]["movers"][0]["id"],
        "name": "Ann",
        "stage_from": "Aware",
        "stage_to": "Respect",
    }
    assert [row["change"] for row in figures["elements"]] == [12.5, 50.0, 25.0, 50.0, 0.0]


def test_the_pdf_of_a_report(world, api_as):
    march = report(world.pmo, date(2026, 3, 1), pdf=b"%PDF-1.4 the March report")
    response = api_as(world.viewer).get(url("api-report-pdf", world.pmo, march.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="agenda-report-alpha-2026-03-31.pdf"'
    assert response.content == b"%PDF-1.4 the March report"


@pytest.mark.parametrize(("status", "pdf"), [("building", b""), ("failed", b""), ("ready", b""), ("building", b"%PDF")])
def test_no_pdf_for_a_report_not_ready(world, lead_api, status, pdf):
    pending = report(world.pmo, date(2026, 3, 1), status=status, pdf=pdf)
    assert error_of(lead_api.get(url("api-report-pdf", world.pmo, pending.pk)), 404)["code"] == "not_found"


# Personal tokens on the profile page ----------------------------------------------------------


def test_the_profile_page_creates_a_token_shown_once_and_stored_hashed(world, client_for):
    client = client_for(world.member)
    response = client.post(reverse("api_token_create"), {"name": "  HR sync "})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # the key must not stay in a cache
    key = response.context["new_key"]
    assert key.startswith("pmo5p_") and len(key) > 40
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=world.member)
    assert token.name == "HR sync"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(list(ApiToken.objects.values_list()))  # only the hash and a short hint are kept
    assert key.startswith(token.hint) and len(token.hint) == 10

    again = client.get(reverse("profile")).content.decode()
    assert key not in again and token.hint in again and "HR sync" in again and "never used" in again
    # It works, once shown.
    assert Client().get(url("api-pmo-list"), HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert "last used" in client.get(reverse("profile")).content.decode()


def test_the_profile_page_lists_only_the_users_active_tokens(world, client_for):
    ApiToken.issue(user=world.member, name="Power BI")
    revoked, _ = ApiToken.issue(user=world.member, name="Old script")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    ApiToken.issue(user=world.lead, name="Lead's own")
    response = client_for(world.member).get(reverse("profile"))
    assert [token.name for token in response.context["tokens"]] == ["Power BI"]
    page = response.content.decode()
    assert "Power BI" in page and "Old script" not in page and "Lead's own" not in page


def test_the_profile_page_revokes_a_token(world, client_for):
    token, _ = ApiToken.issue(user=world.member, name="Power BI")
    client = client_for(world.member)
    response = client.post(reverse("api_token_revoke", kwargs={"token_id": token.pk}), follow=True)
    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "The token “Power BI” is revoked" in response.content.decode()
    assert list(response.context["tokens"]) == []
    token.refresh_from_db()
    assert token.revoked_at is not None
    # Revoking twice finds nothing to revoke.
    assert client.post(reverse("api_token_revoke", kwargs={"token_id": token.pk})).status_code == 404


@pytest.mark.parametrize("name", ["", "    ", "x" * 101])
def test_a_token_needs_a_name(world, client_for, name):
    response = client_for(world.member).post(reverse("api_token_create"), {"name": name})
    assert response.status_code == 400
    assert response.context["new_key"] is None
    assert response.context["token_form"].errors["name"]
    if name.strip():
        assert "at most 100 characters" in response.content.decode()
    else:
        assert "Name the token, so that you can tell it apart later." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_pages_need_a_signed_in_user_and_a_post(world, client):
    assert client.post(reverse("api_token_create"), {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()
    client.force_login(world.member)
    assert client.get(reverse("api_token_create")).status_code == 405
    token, _ = ApiToken.issue(user=world.member, name="x")
    assert client.get(reverse("api_token_revoke", kwargs={"token_id": token.pk})).status_code == 405


# Query counts -------------------------------------------------------------------------------


def stakeholder_list_queries(client, world) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("api-stakeholder-list", world.pmo, page_size=500))
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_the_stakeholder_list_answers_in_a_fixed_number_of_queries(world, lead_api):
    owner = world.membership(world.member)
    lead_api.get(url("api-pmo-list"))  # the token's first use is recorded once, apart
    Stakeholder.objects.bulk_create(
        Stakeholder(pmo=world.pmo, name=f"A{n:03}", segment=world.segment, owner=owner) for n in range(9)
    )
    small = stakeholder_list_queries(lead_api, world)
    Stakeholder.objects.bulk_create(
        Stakeholder(pmo=world.pmo, name=f"B{n:03}", segment=world.segment, owner=owner) for n in range(490)
    )
    large = stakeholder_list_queries(lead_api, world)
    assert (small[1], large[1]) == (10, 500)
    # The token with its user, the membership with its PMO, the count, the page.
    assert small[0] == large[0] == 4
