"""Walks every route of the JSON API and proves its isolation and role rules, like
tests/test_tenancy.py does for the pages (docs/architecture.md, "The request path").

Routes come from the URL resolver (API_ROUTES), so a new endpoint is covered as soon as
it is routed; if it takes an argument or names a resource this file has no value for, or
has no line in ROUTE_ROLES (the one table of who may do what, in tests/test_tenancy.py),
the walk fails and says so. Every visitor then tries every method of every route. Then
the tokens: a token acts with its owner's role, a revoked one or a deactivated owner's is
refused at once, and its use is recorded.
"""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from agenda.models import Action, AgendaReport
from pmo5p.api import PmoScopedMixin
from pmo5p.models import ApiToken
from pmo5p.services import change_role, remove_member
from stakeholders.models import Interaction, Stakeholder, Touchpoint, TouchpointOccurrence
from tests.agenda_data import REPORT_FIGURES_V1
from tests.factories import (
    FollowUpCaseFactory,
    MaturityRecordFactory,
    SegmentFactory,
    SelfAssessmentFactory,
    ServiceFactory,
    StakeholderFactory,
)
from tests.survey_helpers import open_survey
from tests.test_tenancy import API_ROUTES, ROUTE_ROLES, VIEWER, VISITORS, _snapshot, expected, visitor_of

PMO_ROUTES = [(name, kwargs) for name, kwargs in API_ROUTES if "slug" in kwargs]
OBJECT_ROUTES = [(name, kwargs) for name, kwargs in API_ROUTES if "pk" in kwargs]
WRITES = ["post", "put", "patch", "delete"]
METHODS = ["get", *WRITES]


def _ids(routes):
    return [name for name, _ in routes]


def _rows(pmo, user):
    """One of each resource in the PMO; their ids by the resource part of the route names."""
    segment = SegmentFactory(pmo=pmo)
    stakeholder = StakeholderFactory(pmo=pmo, segment=segment)
    interaction = Interaction.objects.create(pmo=pmo, kind="meeting", summary="Walk", author=user)
    interaction.stakeholders.add(stakeholder)
    survey, _ = open_survey(pmo, [stakeholder], user=user)
    report = AgendaReport.objects.create(
        pmo=pmo,
        frequency="monthly",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 2, 1),
        status="ready",
        pdf=b"%PDF-1.4 walk",
        figures=REPORT_FIGURES_V1,
    )
    return {
        "api-segment": segment.pk,
        "api-stakeholder": stakeholder.pk,
        "api-interaction": interaction.pk,
        "api-survey": survey.pk,
        "api-self-assessment": SelfAssessmentFactory(pmo=pmo, element="price", rating=2, author=user).pk,
        "api-maturity": MaturityRecordFactory(
            pmo=pmo, stakeholder=stakeholder, stage=2, rationale="Walk", author=user
        ).pk,
        "api-action": Action.objects.create(
            pmo=pmo, title="Walk", element="product", due_on=date(2099, 1, 1), created_by=user
        ).pk,
        "api-report": report.pk,
        "api-service": ServiceFactory(pmo=pmo).pk,
        "api-touchpoint": _touchpoint(pmo, stakeholder, user),
        "api-follow-up-case": FollowUpCaseFactory(for_stakeholder=stakeholder).pk,
    }


def _touchpoint(pmo, stakeholder, user) -> int:
    touchpoint = Touchpoint.objects.create(
        pmo=pmo, purpose="Walk", element="people", starts_on=date(2026, 1, 5), created_by=user
    )
    touchpoint.stakeholders.add(stakeholder)
    TouchpointOccurrence.objects.create(touchpoint=touchpoint, pmo=pmo, on=date(2026, 1, 5))
    return touchpoint.pk


@pytest.fixture
def own(world):
    return _rows(world.pmo, world.lead)


@pytest.fixture
def other(world):
    return _rows(world.other_pmo, world.outsider)


def api_url(name, kwargs, slug, ids):
    unknown = kwargs - {"slug", "pk"}
    assert not unknown, f"The API walk has no value for {sorted(unknown)} of URL '{name}': add one to this file."
    values = {"slug": slug}
    if "pk" in kwargs:
        resource = name.rsplit("-", 1)[0]
        assert resource in ids, f"The API walk has no object for the routes of '{resource}': add one to _rows()."
        values["pk"] = ids[resource]
    return reverse(name, kwargs={key: values[key] for key in kwargs})


def methods_of(url) -> set[str]:
    """The methods a route takes: a viewset's actions, or an API view's handlers."""
    view = resolve(url).func
    actions = getattr(view, "actions", None)
    if actions:
        return set(actions)
    return {method for method in METHODS if hasattr(view.cls, method)}


def write_body(ids, method="post"):
    """Valid for a write to any resource: if a check were missing, the write would happen.
    Each method writes other values, so that each accepted write shows as a change."""
    text = f"Changed by {method}"
    level = {"post": 5, "put": 4, "patch": 3}.get(method, 5)
    return {
        "name": text,
        "email": f"changed-{method}@corp.example",
        "title": text,
        "summary": text,
        "purpose": text,
        "starts_on": "2099-06-01",
        "description": text,
        "element": "product",
        "rating": level,
        "stage": level,
        "rationale": text,
        "due_on": "2099-06-01",
        "stakeholder": ids["api-stakeholder"],
        "stakeholders": [ids["api-stakeholder"]],
    }


def call(client, method, url, body=None, **headers):
    if method in ("get", "delete"):
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json", **headers)


def bearer(user, name="walk") -> dict:
    _token, key = ApiToken.issue(user=user, name=name)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    assert error["status"] == status and error["message"]
    if code:
        assert error["code"] == code


def test_the_walk_sees_every_resource_of_the_api():
    names = _ids(API_ROUTES)
    for expected_name in (
        "api-pmo-list",
        "api-pmo-detail",
        "api-segment-detail",
        "api-stakeholder-list",
        "api-stakeholder-upsert",
        "api-interaction-detail",
        "api-survey-results",
        "api-self-assessment-detail",
        "api-maturity-detail",
        "api-action-detail",
        "api-report-pdf",
        "api-service-list",
        "api-service-detail",
        "api-service-figures",
        "api-follow-up-case-list",
        "api-follow-up-case-detail",
        "api-schema",
        "api-docs",
    ):
        assert expected_name in names
    # The resolver knows each route's arguments (path converters, not regular expressions).
    assert dict(API_ROUTES)["api-stakeholder-detail"] == {"slug", "pk"}


def test_a_route_without_a_value_fails_the_walk_with_a_message(own):
    with pytest.raises(AssertionError, match="no object for the routes of 'api-widget'"):
        api_url("api-widget-detail", {"slug", "pk"}, "alpha", own)
    with pytest.raises(AssertionError, match=r"no value for \['widget_id'\]"):
        api_url("api-widget-detail", {"slug", "widget_id"}, "alpha", own)


@pytest.mark.parametrize(
    "header",
    ["Bearer pmo5p_not-a-token", "Token pmo5p_not-a-token", "Bearer", "Bearer two parts", "bearer "],
)
def test_an_unknown_or_malformed_token_gets_401(client, world, header):
    response = client.get(reverse("api-pmo-list"), HTTP_AUTHORIZATION=header)
    assert_error(response, 401)


# Another PMO --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kwargs"), PMO_ROUTES, ids=_ids(PMO_ROUTES))
def test_an_unknown_pmo_answers_like_another_pmo(client, world, own, name, kwargs):
    """Whether a PMO exists or not, a non-member gets the same 404."""
    client.force_login(world.outsider)
    theirs = client.get(api_url(name, kwargs, world.pmo.slug, own))
    nowhere = client.get(api_url(name, kwargs, "no-such-pmo", own))
    assert_error(theirs, 404)
    assert (theirs.status_code, theirs.json()) == (nowhere.status_code, nowhere.json())


@pytest.mark.parametrize(("name", "kwargs"), OBJECT_ROUTES, ids=_ids(OBJECT_ROUTES))
def test_another_pmos_object_ids_under_own_slug_get_404(client, world, own, other, name, kwargs):
    client.force_login(world.lead)
    url = api_url(name, kwargs, world.pmo.slug, other)
    assert client.get(api_url(name, kwargs, world.pmo.slug, own)).status_code == 200  # the route works
    taken = methods_of(url)
    before = _snapshot()
    for method in METHODS:
        response = call(client, method, url, write_body(own))
        if method in taken:
            assert_error(response, 404, "not_found")
        else:
            assert response.status_code in (404, 405), (method, response.status_code)
    assert _snapshot() == before


# Roles: the table ---------------------------------------------------------------------------

ALLOWED = {"get": (200,), "post": (200, 201), "put": (200,), "patch": (200,), "delete": (204,)}
REFUSED = {403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize(("name", "kwargs"), API_ROUTES, ids=_ids(API_ROUTES))
def test_each_visitor_gets_what_the_table_says(client, world, own, name, kwargs, visitor):
    """One request per route, visitor and method, checked against ROUTE_ROLES (tests/test_tenancy.py).

    The visitors sign in with a token (a session meets the same checks: see
    test_a_session_meets_the_same_role_checks_as_a_token). A write that is let through changes something; a refused one nothing.
    """
    need = ROUTE_ROLES[name]
    url = api_url(name, kwargs, world.pmo.slug, own)
    assert methods_of(url) & set(METHODS) == need.methods, "ROUTE_ROLES and the route disagree on the methods it takes."
    # PmoRole checks the role before the method: reads are open to every role of the PMO.
    opens = VIEWER if issubclass(resolve(url).func.cls, PmoScopedMixin) else None
    user = visitor_of(world, visitor)
    headers = bearer(user) if user else {}
    for method in METHODS:
        want = expected(need, method, visitor, pmo_route="slug" in kwargs, opens=opens)
        before = None if (want, method) == ("allowed", "get") else _snapshot()
        response = call(client, method, url, write_body(own, method), **headers)
        if want == "allowed":
            assert response.status_code in ALLOWED[method], (method, response.content[:300])
            if method != "get":
                assert _snapshot() != before, f"An accepted {method.upper()} changed nothing."
            continue
        if want == "sign in":
            assert_error(response, 401, "not_authenticated")
            assert response["WWW-Authenticate"] == 'Bearer realm="pmo5p"', method
        elif need.public:
            assert response.status_code == want, method  # the schema and its page answer in their own formats
        else:
            assert_error(response, want, REFUSED[want])
        assert _snapshot() == before, f"A refused {method.upper()} changed something."


# Tokens -------------------------------------------------------------------------------------


def stakeholders_url(world):
    return reverse("api-stakeholder-list", kwargs={"slug": world.pmo.slug})


def create_stakeholder(client, world, headers, name="Tok Token"):
    return client.post(stakeholders_url(world), {"name": name}, content_type="application/json", **headers)


def test_a_session_meets_the_same_role_checks_as_a_token(client, world):
    """The table's walk signs in with tokens; a browser session is held to the same roles."""
    client.force_login(world.viewer)
    assert_error(create_stakeholder(client, world, {}, "Vic Viewer"), 403, "permission_denied")
    assert not Stakeholder.objects.filter(name="Vic Viewer").exists()
    client.force_login(world.outsider)
    assert_error(create_stakeholder(client, world, {}, "Oscar Outsider"), 404, "not_found")
    client.force_login(world.member)
    assert create_stakeholder(client, world, {}).status_code == 201


def test_a_token_acts_with_its_owners_role(client, world):
    member, viewer = bearer(world.member), bearer(world.viewer)
    assert create_stakeholder(client, world, member).status_code == 201
    assert_error(create_stakeholder(client, world, viewer, "Vic Viewer"), 403, "permission_denied")
    assert not Stakeholder.objects.filter(name="Vic Viewer").exists()
    # The role is read at each request: a member made viewer cannot write with the same token.
    change_role(membership=world.membership(world.member), role="viewer")
    assert_error(create_stakeholder(client, world, member, "Late Write"), 403)
    assert client.get(stakeholders_url(world), **member).status_code == 200


def test_a_token_acts_only_in_its_owners_pmos(client, world):
    outsider = bearer(world.outsider)
    response = client.get(reverse("api-pmo-list"), **outsider)
    assert [pmo["slug"] for pmo in response.json()["results"]] == ["beta"]
    assert_error(client.get(stakeholders_url(world), **outsider), 404)


def test_a_token_of_someone_removed_from_the_pmo_gets_404(client, world):
    headers = bearer(world.member)
    assert client.get(stakeholders_url(world), **headers).status_code == 200
    remove_member(membership=world.membership(world.member))
    assert_error(client.get(stakeholders_url(world), **headers), 404, "not_found")
    assert_error(create_stakeholder(client, world, headers), 404)
    assert client.get(reverse("api-pmo-list"), **headers).json()["results"] == []


def test_a_token_revoked_on_the_profile_page_is_refused_at_once(client, world):
    token, key = ApiToken.issue(user=world.member, name="sync")
    api = Client()  # the token alone, no session
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert api.get(stakeholders_url(world), **headers).status_code == 200

    client.force_login(world.member)
    response = client.post(reverse("api_token_revoke", kwargs={"token_id": token.pk}))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None

    response = api.get(stakeholders_url(world), **headers)
    assert_error(response, 401, "authentication_failed")
    assert "revoked" in response.json()["error"]["message"]
    assert_error(create_stakeholder(api, world, headers), 401)


def test_nobody_revokes_another_persons_token(client, world):
    token, key = ApiToken.issue(user=world.member, name="sync")
    client.force_login(world.lead)
    assert client.post(reverse("api_token_revoke", kwargs={"token_id": token.pk})).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client().get(stakeholders_url(world), HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_a_token_of_a_deactivated_user_gets_401(client, world):
    headers = bearer(world.member)
    assert client.get(stakeholders_url(world), **headers).status_code == 200
    world.member.is_active = False
    world.member.save(update_fields=["is_active"])
    assert_error(client.get(stakeholders_url(world), **headers), 401, "authentication_failed")


def test_a_session_of_a_deactivated_user_gets_401(client, world):
    client.force_login(world.member)
    assert client.get(stakeholders_url(world)).status_code == 200
    world.member.is_active = False
    world.member.save(update_fields=["is_active"])
    assert_error(client.get(stakeholders_url(world)), 401)


def test_last_used_at_is_set_on_use_and_not_rewritten_within_a_minute(client, world):
    token, key = ApiToken.issue(user=world.member, name="bi")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert token.last_used_at is None
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    with time_machine.travel(t0, tick=False):
        assert client.get(stakeholders_url(world), **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == t0
    with time_machine.travel(t0 + timedelta(seconds=50), tick=False):
        assert client.get(stakeholders_url(world), **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == t0
    with time_machine.travel(t0 + timedelta(minutes=2), tick=False):
        assert client.get(stakeholders_url(world), **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == t0 + timedelta(minutes=2)


def test_a_refused_request_does_not_count_as_use(client, world):
    """A token that authenticates is "used" even when the PMO answers 404; a revoked one is not."""
    token, key = ApiToken.issue(user=world.member, name="bi")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    client.get(stakeholders_url(world), HTTP_AUTHORIZATION=f"Bearer {key}")
    token.refresh_from_db()
    assert token.last_used_at is None
