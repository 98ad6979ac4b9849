"""The API's service catalogue (/api/v1/pmos/<slug>/services/): each service with its figures,
and writes through the catalogue's one write path (stakeholders/catalogue.py), with its
refusals as 400s that save nothing. Tenancy and roles are walked in tests/test_api_tenancy.py;
the figures are those of tests/test_service_figures.py's known set, computed there by hand."""

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.models import Action
from pmo5p.models import ApiToken
from stakeholders.models import Service, ServiceEvent, SurveyService
from tests.factories import MembershipFactory, SegmentFactory, ServiceFactory
from tests.test_service_figures import known  # noqa: F401 (fixture)


@pytest.fixture
def lead_api(world):
    """A client that sends only a personal token of the PMO's lead (no session)."""
    _token, key = ApiToken.issue(user=world.lead, name="tests")
    return Client(headers={"Authorization": f"Bearer {key}"})


def services_url(pmo, pk=None, action=None):
    if pk is None:
        return reverse("api-service-list", kwargs={"slug": pmo.slug})
    name = f"api-service-{action or 'detail'}"
    return reverse(name, kwargs={"slug": pmo.slug, "pk": pk})


def post(client, url, body, method="post"):
    return getattr(client, method)(url, body, content_type="application/json")


def fields_of(response):
    assert response.status_code == 400, response.content[:400]
    return response.json()["error"]["fields"]


# Reading ----------------------------------------------------------------------------------------

# Reporting in the known set, whole survey (tests/test_service_figures.py): 5 answered, 4 aware,
# 3 users; satisfaction 62.5 on 2 ratings, importance 87.5 on 2; keep up; priority 32.8125.
REPORTING = {
    "name": "Reporting",
    "hidden": False,
    "answered": 5,
    "awareness": 80.0,
    "usage": 60.0,
    "satisfaction": 62.5,
    "satisfaction_answers": 2,
    "importance": 87.5,
    "importance_answers": 2,
    "quadrant": "keep_up",
    "priority": 32.8125,
}
HIDDEN = {
    "hidden": True,
    "answered": None,
    "awareness": None,
    "usage": None,
    "satisfaction": None,
    "satisfaction_answers": None,
    "importance": None,
    "importance_answers": None,
    "quadrant": None,
    "priority": None,
}


def test_the_list_gives_each_service_with_its_latest_figures(world, known, lead_api):  # noqa: F811
    ServiceFactory(pmo=world.pmo, name="Never asked")
    ServiceFactory(pmo=world.other_pmo, name="Theirs")
    response = lead_api.get(services_url(world.pmo))
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {"Help desk", "Never asked", "Reporting"}
    reporting = rows["Reporting"]
    assert reporting["figures"] == {"survey": known.survey.pk, **REPORTING}
    assert reporting["elements"] == ["product"] and reporting["segments"] == []
    assert (reporting["status"], reporting["level_now"], reporting["level_target"]) == ("live", 1, 2)
    assert "confirm_lower_target" not in reporting and "confirm_retire" not in reporting
    # Two respondents answered about the help desk: under the minimum group size, nothing shows.
    assert rows["Help desk"]["figures"] == {"survey": known.survey.pk, "name": "Help desk", **HIDDEN}
    assert rows["Help desk"]["segments"] == [known.ops.pk]
    assert rows["Never asked"]["figures"] is None


def test_the_figures_of_a_service_latest_trend_and_segments(world, known, lead_api):  # noqa: F811
    response = lead_api.get(services_url(world.pmo, known.reporting.pk, "figures"))
    assert response.status_code == 200
    body = response.json()
    assert body["latest"] == {"survey": known.survey.pk, **REPORTING}
    assert body["trend"] == [body["latest"]]
    assert body["min_group_size"] == 3
    by_segment = {row["segment"]: row["figures"] for row in body["segments"]}
    assert list(by_segment) == ["Finance", "Ops"]
    # Finance: 3 answered, 3 aware, 2 users; satisfaction 62.5 on 2, importance 75 on 1; priority 75 × 37.5 / 100.
    assert by_segment["Finance"] == {
        "survey": known.survey.pk,
        "name": "Reporting",
        "hidden": False,
        "answered": 3,
        "awareness": 100.0,
        "usage": pytest.approx(200 / 3),
        "satisfaction": 62.5,
        "satisfaction_answers": 2,
        "importance": 75.0,
        "importance_answers": 1,
        "quadrant": "keep_up",
        "priority": 28.125,
    }
    assert by_segment["Ops"] == {"survey": known.survey.pk, "name": "Reporting", **HIDDEN}


def test_a_service_never_asked_about_has_no_figures(world, lead_api):
    service = ServiceFactory(pmo=world.pmo)
    body = lead_api.get(services_url(world.pmo, service.pk, "figures")).json()
    assert body == {"latest": None, "trend": [], "segments": [], "min_group_size": 3}


def test_filters(world, lead_api):
    ServiceFactory(pmo=world.pmo, name="Pilot", status="pilot", elements=["people"])
    ServiceFactory(pmo=world.pmo, name="Live", elements=["product", "people"])
    names = lambda query: [r["name"] for r in lead_api.get(services_url(world.pmo) + query).json()["results"]]  # noqa: E731
    assert names("?status=pilot") == ["Pilot"]
    assert names("?element=people") == ["Live", "Pilot"]
    assert names("?element=price") == []
    assert lead_api.get(services_url(world.pmo) + "?status=gone").status_code == 400


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_list_answers_in_a_fixed_number_of_queries(world, known, lead_api):  # noqa: F811
    url = services_url(world.pmo)
    lead_api.get(reverse("api-pmo-list"))  # the token's first use is recorded once, apart
    before = _queries(lead_api, url)
    for n in range(8):
        ServiceFactory(pmo=world.pmo, name=f"More {n}", segments=[world.segment, known.ops])
    # The token, the membership, the count, the page, its segments, and the figures (two).
    assert _queries(lead_api, url) == before == 7


# Writing: through the catalogue's rules ---------------------------------------------------------


def test_create_read_update_delete(world, lead_api):
    url = services_url(world.pmo)
    body = {
        "name": "  Project assurance ",
        "description": "Health checks",
        "owner": "MEMBER@alpha.example",
        "segments": [world.segment.pk],
        "elements": ["people", "product", "people"],
        "status": "pilot",
        "launched_on": "2026-03-01",
        "level_now": 2,
        "level_target": 4,
    }
    response = post(lead_api, url, body)
    assert response.status_code == 201, response.content
    created = response.json()
    service = Service.objects.get(pk=created["id"])
    assert created["name"] == service.name == "Project assurance"
    assert created["owner"] == "member@alpha.example" and service.owner.user == world.member
    assert created["segments"] == [world.segment.pk]
    assert created["elements"] == service.elements == ["product", "people"]  # once each, in the model's order
    assert (service.status, service.launched_on, service.level_now, service.level_target) == (
        "pilot",
        date(2026, 3, 1),
        2,
        4,
    )
    assert created["figures"] is None
    (event,) = service.events.all()
    assert event.author == world.lead and event.summary == "Added as Pilot: level Standard, target Strategic."

    detail = services_url(world.pmo, service.pk)
    response = post(lead_api, detail, {"status": "live", "level_now": 3}, method="patch")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "live"
    assert service.events.count() == 2
    assert service.events.first().summary == "Status Pilot → Live; level now Standard → Advanced."

    response = post(lead_api, detail, {"description": "Only the words"}, method="patch")
    assert response.status_code == 200 and service.events.count() == 2  # no status or level change: no history

    assert lead_api.delete(detail).status_code == 204
    assert not Service.objects.filter(pk=service.pk).exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": ""}, "name", "Give the service a name."),
        ({"name": "x" * 121}, "name", "service's name"),
        ({"name": "A", "status": "gone"}, "status", "Choose a status"),
        ({"name": "A", "level_now": 7}, "level_now", "Choose the level now"),
        ({"name": "A", "level_target": "high"}, "level_target", "Choose the target level"),
        ({"name": "A", "elements": ["colour"]}, "elements", "Choose among the five P elements."),
        (
            {"name": "A", "owner": "nobody@alpha.example"},
            "owner",
            "Choose a member of this PMO as the service's owner.",
        ),
        ({"name": "A", "launched_on": "yesterday"}, "launched_on", "Enter a date"),
    ],
)
def test_bad_input_is_refused_in_the_catalogues_words(world, lead_api, body, field, message):
    fields = fields_of(post(lead_api, services_url(world.pmo), body))
    assert message in " ".join(fields[field])
    assert not Service.objects.exists()


def test_a_duplicate_name_ignoring_case_is_refused(world, lead_api):
    ServiceFactory(pmo=world.pmo, name="Help desk")
    ServiceFactory(pmo=world.other_pmo, name="Reporting")  # another PMO's name is free
    fields = fields_of(post(lead_api, services_url(world.pmo), {"name": "HELP DESK"}))
    assert fields == {"name": ["This PMO has a service with this name already: choose another name."]}
    assert post(lead_api, services_url(world.pmo), {"name": "reporting"}).status_code == 201
    assert Service.objects.filter(pmo=world.pmo).count() == 2


def test_another_pmos_segment_or_owner_is_refused(world, lead_api):
    outsider = MembershipFactory(pmo=world.other_pmo).user
    theirs = SegmentFactory(pmo=world.other_pmo)
    fields = fields_of(post(lead_api, services_url(world.pmo), {"name": "A", "segments": [theirs.pk]}))
    assert fields == {"segments": ["Choose segments of this PMO."]}
    fields = fields_of(post(lead_api, services_url(world.pmo), {"name": "A", "owner": outsider.email}))
    assert fields == {"owner": ["Choose a member of this PMO as the service's owner."]}
    service = ServiceFactory(pmo=world.pmo, segments=[world.segment])
    response = post(lead_api, services_url(world.pmo, service.pk), {"segments": [theirs.pk]}, method="patch")
    assert fields_of(response) == {"segments": ["Choose segments of this PMO."]}
    assert list(service.segments.all()) == [world.segment]
    assert not Service.objects.filter(name="A").exists()


def test_a_target_below_the_level_now_needs_confirming(world, lead_api):
    url = services_url(world.pmo)
    body = {"name": "Training", "level_now": 3, "level_target": 1}
    fields = fields_of(post(lead_api, url, body))
    assert fields == {
        "level_target": [
            "The target (Basic) is below the level now (Advanced). Confirm that the service is to be scaled "
            "down, or choose a higher target."
        ]
    }
    assert not Service.objects.exists()
    response = post(lead_api, url, {**body, "confirm_lower_target": True})
    assert response.status_code == 201
    service = Service.objects.get()
    assert (service.level_now, service.level_target) == (3, 1)

    detail = services_url(world.pmo, service.pk)
    fields = fields_of(post(lead_api, detail, {"level_now": 4}, method="patch"))
    assert "below the level now (Strategic)" in fields["level_target"][0]
    service.refresh_from_db()
    assert service.level_now == 3 and service.events.count() == 1


def test_retiring_a_service_with_open_actions_lists_them_and_needs_confirming(world, lead_api):
    service = ServiceFactory(pmo=world.pmo)
    for title, status in (("Relaunch the desk", "planned"), ("Old idea", "done")):
        Action.objects.create(
            pmo=world.pmo, title=title, element="people", due_on=date(2099, 1, 1), status=status, service=service
        )
    detail = services_url(world.pmo, service.pk)
    fields = fields_of(post(lead_api, detail, {"status": "retiring"}, method="patch"))
    assert fields == {
        "status": [
            "1 open action develops this service: “Relaunch the desk”. Close or move them first, or confirm "
            "that the service is to be retired anyway."
        ]
    }
    service.refresh_from_db()
    assert service.status == "live" and not service.events.exists()
    response = post(lead_api, detail, {"status": "retiring", "confirm_retire": True}, method="patch")
    assert response.status_code == 200
    service.refresh_from_db()
    assert service.status == "retiring"
    assert service.events.get().summary == "Status Live → Being retired."


def test_deleting_a_service_leaves_the_surveys_snapshot_and_figures(world, known, lead_api):  # noqa: F811
    assert lead_api.delete(services_url(world.pmo, known.reporting.pk)).status_code == 204
    asked = SurveyService.objects.get(pk=known.asked_reporting.pk)
    assert asked.service is None and asked.name == "Reporting" and asked.answers.count() == 5
    assert not ServiceEvent.objects.filter(service_id=known.reporting.pk).exists()
    assert lead_api.get(services_url(world.pmo, known.reporting.pk)).status_code == 404
