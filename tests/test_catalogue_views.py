"""The service catalogue's pages (agenda/catalogue/): what they show, the forms' refusals (a
clear message, nothing saved, nothing typed lost), the confirmations the write path asks for,
and a bounded number of queries whatever the size of the catalogue."""

import html
import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from agenda.models import Action, ActionStatus
from pmo5p.domain import DEFAULT_OFFERING_LEVEL_DESCRIPTIONS, OfferingLevel
from pmo5p.models import ApiToken
from stakeholders import catalogue
from stakeholders.models import Segment, Service, ServiceStatus, SurveyService
from tests.factories import SurveyFactory
from tests.helpers import assert_field_error, field_block, text, visible
from tests.test_service_figures import known  # noqa: F401 (the fixture, used by name below)


def url(world, name, **kwargs):
    return reverse(name, kwargs={"slug": world.pmo.slug, **kwargs})


def add(world, name="Portfolio reporting", **values):
    return catalogue.create_service(world.pmo, world.lead, {"name": name, **values})


def form(**overrides):
    data = {
        "name": "Project assurance",
        "description": "",
        "owner": "",
        "status": "live",
        "launched_on": "",
        "level_now": "1",
        "level_target": "2",
    }
    return {**data, **overrides}


# The catalogue ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_empty_catalogue_explains_services_and_offers_to_add_one(world, client_for):
    page = client_for(world.member).get(url(world, "service_list"))
    assert page.status_code == 200
    shown = visible(page)
    assert "No service in the catalogue yet" in shown
    assert "Stakeholders judge the PMO through the services they use" in shown
    assert f'href="{url(world, "service_create")}"' in text(page)

    page = client_for(world.viewer).get(url(world, "service_list"))
    assert url(world, "service_create") not in text(page)
    assert "A member of the PMO can add them." in visible(page)


@pytest.mark.django_db
def test_the_catalogue_shows_each_service_its_path_and_whom_it_serves(world, client_for):
    add(
        world,
        "<script>alert(1)</script> reporting",
        segments=[world.segment],
        elements=["physical_evidence"],
        owner=world.membership(world.member),
        level_now=OfferingLevel.STANDARD,
        level_target=OfferingLevel.STRATEGIC,
    )
    help_desk = add(
        world, "Help desk", status=ServiceStatus.PILOT, level_now=OfferingLevel.BASIC, level_target=OfferingLevel.BASIC
    )
    for title, status in [("<b>Staff</b> the desk", ActionStatus.IN_PROGRESS), ("Old", ActionStatus.DONE)]:
        Action.objects.create(
            pmo=world.pmo, title=title, element="people", due_on=date(2099, 1, 1), status=status, service=help_desk
        )
    catalogue.create_service(world.other_pmo, world.outsider, {"name": "Beta's secret service"})

    page = client_for(world.viewer).get(url(world, "service_list"))
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; reporting" in html
    assert "Beta's secret service" not in text(page)
    shown = visible(page)
    assert "2 services · 1 pilot · 1 live · 1 heading to a higher level" in shown
    assert "Standard to Strategic No action planned yet" in shown
    assert "Basic (at its target) <b>Staff</b> the desk" in shown
    assert "Old" not in shown
    assert "Finance P's: Physical Evidence" in shown
    assert "Every stakeholder" in shown
    assert "Not asked about in a survey yet." in shown
    # The PMO's words for each level.
    assert DEFAULT_OFFERING_LEVEL_DESCRIPTIONS[OfferingLevel.STRATEGIC] in shown


@pytest.mark.django_db
def test_a_large_catalogue_is_shown_a_page_at_a_time_and_counted_whole(world, client_for):
    Service.objects.bulk_create(
        Service(pmo=world.pmo, name=f"Service {n:02d}", level_now=1, level_target=2 if n % 2 else 1) for n in range(51)
    )
    client = client_for(world.viewer)
    first = client.get(url(world, "service_list"))
    second = client.get(url(world, "service_list") + "?page=2")
    assert [s.name for s, *_ in first.context["rows"]] == [f"Service {n:02d}" for n in range(50)]
    assert [s.name for s, *_ in second.context["rows"]] == ["Service 50"]
    for page in (first, second):
        # The summary counts the whole catalogue, not the page.
        assert re.search(r"51\s*services\s*·\s*51 live\s*·\s*25\s*heading to a higher level", visible(page))
        assert 'aria-label="Pages of services"' in text(page)


@pytest.mark.django_db
def test_a_service_page_shows_its_path_actions_and_history(world, client_for):
    service = add(world, elements=["product"], level_now=OfferingLevel.BASIC, level_target=OfferingLevel.ADVANCED)
    catalogue.set_offering_levels(world.pmo, {OfferingLevel.ADVANCED: "Tailored to each <b>segment</b>."})
    Action.objects.create(
        pmo=world.pmo, title="Monthly dashboards", element="product", due_on=date(2099, 1, 1), service=service
    )
    Action.objects.create(
        pmo=world.pmo,
        title="Old pilot",
        element="product",
        due_on=date(2099, 1, 1),
        service=service,
        status=ActionStatus.DONE,
    )
    catalogue.update_service(service, world.member, {"level_now": OfferingLevel.STANDARD})

    page = client_for(world.lead).get(url(world, "service_detail", service_id=service.pk))
    assert page.status_code == 200
    shown = visible(page)
    assert "Its path: Standard to Advanced" in shown
    assert "Tailored to each <b>segment</b>." in shown  # the PMO's words, escaped
    assert "<b>segment</b>" not in page.content.decode()
    assert "Monthly dashboards · planned" in shown
    assert "Done or dropped: Old pilot (done)." in shown
    assert "Level now Basic → Standard." in shown
    assert "Added as Live: level Basic, target Advanced." in shown
    assert "Product · meeting basic needs" in shown
    assert f"{url(world, 'action_create')}?service={service.pk}" in text(page)


@pytest.mark.django_db
def test_another_pmos_service_is_not_found(world, client_for):
    theirs = catalogue.create_service(world.other_pmo, world.outsider, {"name": "Theirs"})
    for name in ("service_detail", "service_edit", "service_delete"):
        assert client_for(world.lead).get(url(world, name, service_id=theirs.pk)).status_code == 404


# Adding and changing a service --------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_service_through_the_form(world, client_for):
    response = client_for(world.member).post(
        url(world, "service_create"),
        form(
            segments=[world.segment.pk],
            elements=["people", "product"],
            owner=world.membership(world.lead).pk,
            launched_on="2026-01-15",
        ),
    )
    service = Service.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(world, "service_detail", service_id=service.pk)
    assert service.elements == ["product", "people"]
    assert list(service.segments.all()) == [world.segment]
    assert service.launched_on == date(2026, 1, 15)
    assert service.events.get().author == world.member


@pytest.mark.django_db
def test_a_duplicate_name_is_refused_and_what_was_typed_stays(world, client_for):
    add(world, "Project Assurance")
    response = client_for(world.member).post(
        url(world, "service_create"), form(name="project assurance", description="Typed with care")
    )
    assert_field_error(response, "name", "This PMO has a service with this name already: choose another name.")
    assert "Typed with care" in text(response)
    assert Service.objects.count() == 1


@pytest.mark.django_db
def test_another_pmos_segment_or_owner_is_refused(world, client_for):
    outsider = world.other_pmo.memberships.get()
    response = client_for(world.member).post(
        url(world, "service_create"), form(segments=[world.other_segment.pk], owner=outsider.pk)
    )
    assert_field_error(response, "segments", "Choose segments of this PMO.")
    assert_field_error(response, "owner", "Choose a member of this PMO as the service's owner.")
    assert not Service.objects.exists()


@pytest.mark.django_db
def test_a_lower_target_asks_for_a_confirmation_then_saves(world, client_for):
    client = client_for(world.member)
    data = form(level_now="3", level_target="2", description="Keep me")
    response = client.post(url(world, "service_create"), data)
    assert_field_error(response, "level_target", "The target (Standard) is below the level now (Advanced).")
    assert not Service.objects.exists()
    confirm = field_block(response, "confirm_lower_target")
    assert 'type="checkbox"' in confirm and "Yes, scale the service down to this target" in confirm
    assert "Keep me" in text(response)
    # Not offered before it is needed.
    assert 'id="div_id_confirm_lower_target"' not in text(client.get(url(world, "service_create")))

    response = client.post(url(world, "service_create"), {**data, "confirm_lower_target": "on"})
    assert response.status_code == 302
    assert Service.objects.get().level_target == OfferingLevel.STANDARD


@pytest.mark.django_db
def test_retiring_with_open_actions_lists_them_and_asks_for_a_confirmation(world, client_for):
    service = add(world)
    Action.objects.create(
        pmo=world.pmo, title="<i>Relaunch</i> the reports", element="product", due_on=date(2099, 1, 1), service=service
    )
    client = client_for(world.member)
    data = form(name=service.name, status="retiring")
    response = client.post(url(world, "service_edit", service_id=service.pk), data)
    assert_field_error(response, "status", "1 open action develops this service: “<i>Relaunch</i> the reports”.")
    assert "<i>Relaunch</i>" not in response.content.decode()
    assert "Yes, retire it while these actions are open" in field_block(response, "confirm_retire")
    service.refresh_from_db()
    assert service.status == ServiceStatus.LIVE

    response = client.post(url(world, "service_edit", service_id=service.pk), {**data, "confirm_retire": "on"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.status == ServiceStatus.RETIRING
    assert service.events.first().summary == "Status Live → Being retired."


@pytest.mark.django_db
def test_the_form_words_the_levels_as_the_pmo_does(world, client_for):
    catalogue.set_offering_levels(world.pmo, {OfferingLevel.BASIC: "On request only."})
    page = client_for(world.member).get(url(world, "service_create"))
    assert "Basic: On request only." in field_block(page, "level_now")
    assert f"Strategic: {DEFAULT_OFFERING_LEVEL_DESCRIPTIONS[OfferingLevel.STRATEGIC]}" in field_block(
        page, "level_target"
    )
    assert "Product: meeting basic needs" in field_block(page, "elements")


# Deleting ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_says_the_surveys_keep_their_snapshot(world, client_for):
    service = add(world)
    survey = SurveyFactory(pmo=world.pmo, closed=True)
    SurveyService.objects.create(survey=survey, service=service, name=service.name)
    Action.objects.create(pmo=world.pmo, title="Linked", element="product", due_on=date(2099, 1, 1), service=service)
    client = client_for(world.member)
    page = client.get(url(world, "service_delete", service_id=service.pk))
    shown = visible(page)
    assert "1 survey asked about it: it keeps what it asked" in shown
    assert "1 agenda action stays on the agenda, no longer linked to a service." in shown

    response = client.post(url(world, "service_delete", service_id=service.pk))
    assert response["Location"] == url(world, "service_list")
    assert not Service.objects.exists()
    assert SurveyService.objects.get().name == "Portfolio reporting"
    assert Action.objects.get().service is None


# The offering levels' words ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pmo_words_its_levels(world, client_for):
    client = client_for(world.member)
    response = client.post(url(world, "offering_levels"), {"level_1": "On request.", "level_2": "", "level_3": ""})
    assert response["Location"] == url(world, "service_list")
    world.pmo.refresh_from_db()
    assert world.pmo.offering_levels == {"1": "On request."}
    assert "On request." in visible(client.get(url(world, "service_list")))


@pytest.mark.django_db
def test_too_many_words_for_a_level_are_refused_and_kept_on_the_page(world, client_for):
    long = "x" * 301
    response = client_for(world.member).post(url(world, "offering_levels"), {"level_1": "Fine.", "level_4": long})
    assert_field_error(response, "level_4", "Keep each level's words to 300 characters or fewer (it has 301).")
    assert long in text(response)
    world.pmo.refresh_from_db()
    assert world.pmo.offering_levels == {}


# The agenda's actions and their service ---------------------------------------------------------


@pytest.mark.django_db
def test_an_action_develops_a_service_of_its_own_pmo_only(world, client_for):
    service = add(world, elements=["people"])
    theirs = catalogue.create_service(world.other_pmo, world.outsider, {"name": "Theirs"})
    client = client_for(world.member)
    page = client.get(url(world, "action_create") + f"?service={service.pk}")
    block = field_block(page, "service")
    assert f'value="{service.pk}" selected' in block
    assert "Theirs" not in block
    assert 'value="people" selected' in field_block(page, "element")
    # Another PMO's service in the link is ignored.
    page = client.get(url(world, "action_create") + f"?service={theirs.pk}")
    assert 'value="" selected>None' in field_block(page, "service")

    data = {
        "title": "Coach",
        "element": "people",
        "problem": "performance",
        "due_on": "2099-01-01",
        "status": "planned",
    }
    response = client.post(url(world, "action_create"), {**data, "service": theirs.pk})
    assert_field_error(response, "service", "Choose one of this PMO's services.")
    assert not Action.objects.exists()

    client.post(url(world, "action_create"), {**data, "service": service.pk})
    assert Action.objects.get().service == service
    html = text(client.get(url(world, "action_list")))
    assert (
        f'href="{url(world, "service_detail", service_id=service.pk)}" data-figure="service">Portfolio reporting'
        in html
    )


@pytest.mark.django_db
def test_the_api_links_an_action_to_a_service_of_its_own_pmo_only(world):
    service = add(world)
    theirs = catalogue.create_service(world.other_pmo, world.outsider, {"name": "Theirs"})
    _token, key = ApiToken.issue(user=world.member, name="tests")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    actions = reverse("api-action-list", kwargs={"slug": world.pmo.slug})
    body = {"title": "Coach", "element": "people", "due_on": "2099-01-01"}

    refused = api.post(actions, {**body, "service": theirs.pk}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"service": ["Choose one of this PMO's services."]}
    assert not Action.objects.exists()

    created = api.post(actions, {**body, "service": service.pk}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["service"] == service.pk
    assert Action.objects.get().service == service
    detail = reverse("api-action-detail", kwargs={"slug": world.pmo.slug, "pk": created.json()["id"]})
    unlinked = api.patch(detail, {"service": None}, content_type="application/json")
    assert unlinked.json()["service"] is None


# Queries ----------------------------------------------------------------------------------------


def populate(world, count):
    segments = Segment.objects.bulk_create(Segment(pmo=world.pmo, name=f"Segment {i}") for i in range(3))
    owner = world.membership(world.member)
    for i in range(count):
        service = add(world, f"Service {i:03d}", owner=owner, segments=segments[: i % 4], elements=["product"])
        Action.objects.create(pmo=world.pmo, title=f"A{i}", element="product", due_on=date(2099, 1, 1), service=service)
    return Service.objects.filter(pmo=world.pmo).first()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 40])
def test_the_catalogue_pages_answer_in_a_fixed_number_of_queries(
    world, client_for, django_assert_max_num_queries, count
):
    service = populate(world, count)
    client = client_for(world.lead)
    with django_assert_max_num_queries(12):
        assert client.get(url(world, "service_list")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(url(world, "service_detail", service_id=service.pk)).status_code == 200


# The figures, on the known set of tests/test_service_figures.py ---------------------------------
#
# Reporting: 5 answered, 4 aware (80%), 3 users (60%), satisfaction 62.5 on 2 ratings,
# importance 87.5 on 2, "Keep up the good work", priority 32.8125 (shown 33); in Finance
# 3 of 3 aware (100%), 2 users (67%), satisfaction 62.5 on 2, importance 75.0 on 1; Ops (2
# respondents) hidden. Help desk: 2 answered, under the minimum of 3: hidden.


@pytest.mark.django_db
def test_the_catalogue_shows_each_services_figures(world, client_for, request):
    figures = request.getfixturevalue("known")
    page = client_for(world.viewer).get(url(world, "service_list"))
    page_html = page.content.decode()
    reporting = page_html[page_html.index(f'data-service="{figures.reporting.pk}"') :]
    reporting = visible_of(reporting[: reporting.index("</tr>")])
    assert "80% 4 of 5 60% 3 of 5 62.5 2 ratings 87.5 2 ratings Keep up the good work" in reporting
    # What its figures call for: known and liked, importance 87.5 at Basic, so raise its level.
    assert reporting.endswith("Keep up the good work Ready to raise its level Basic to Standard No action planned yet")
    help_desk = page_html[page_html.index(f'data-service="{figures.help_desk.pk}"') :]
    help_desk = visible_of(help_desk[: help_desk.index("</tr>")])
    assert "Fewer than 3 answers: hidden" in help_desk
    assert "%" not in help_desk


@pytest.mark.django_db
def test_a_service_page_shows_its_figures_per_segment_and_across_surveys(world, client_for, request):
    figures = request.getfixturevalue("known")
    page = client_for(world.viewer).get(url(world, "service_detail", service_id=figures.reporting.pk))
    shown = visible(page)
    assert "From Spring, the latest survey that asked about it." in shown
    assert (
        "Awareness 80% 4 of 5 know it Usage 60% 3 of 5 use it Satisfaction 62.5 2 ratings Importance 87.5 2 ratings"
        in shown
    )
    assert "Keep up the good work: Important and seen as strong: protect it. Priority 33." in shown
    assert "Finance 100% 3/3 67% 2/3 62.5 n=2 75.0 n=1" in shown
    assert "Ops Fewer than 3 answers: hidden." in shown
    assert "Spring 80% 4/5 60% 3/5 62.5 n=2 87.5 n=2" in shown

    page = client_for(world.viewer).get(url(world, "service_detail", service_id=figures.help_desk.pk))
    assert "Fewer than 3 respondents answered about it: its figures are hidden" in visible(page)


@pytest.mark.django_db
def test_a_service_page_with_figures_answers_in_a_fixed_number_of_queries(
    world, client_for, request, django_assert_max_num_queries
):
    figures = request.getfixturevalue("known")
    client = client_for(world.lead)
    with django_assert_max_num_queries(20):
        assert client.get(url(world, "service_detail", service_id=figures.reporting.pk)).status_code == 200


def visible_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
