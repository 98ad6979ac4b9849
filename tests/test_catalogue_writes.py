"""The catalogue's write path (stakeholders/catalogue.py): each bad input is refused with a
clear message and saves nothing; each change of status or level is written to the history."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from agenda.models import Action, ActionStatus
from pmo5p.domain import DEFAULT_OFFERING_LEVEL_DESCRIPTIONS, OfferingLevel
from stakeholders import catalogue
from stakeholders.models import Service, ServiceAnswer, ServiceEvent, ServiceStatus, SurveyService
from tests.factories import ResponseFactory, SurveyFactory


def messages(error: ValidationError, field: str) -> list[str]:
    return error.message_dict[field]


def add(world, name="Portfolio reporting", **values):
    return catalogue.create_service(world.pmo, world.lead, {"name": name, **values})


@pytest.mark.django_db
def test_create_keeps_everything_and_starts_the_history(world):
    owner = world.membership(world.member)
    service = catalogue.create_service(
        world.pmo,
        world.lead,
        {
            "name": "  Project assurance ",
            "description": "Health checks of projects.",
            "owner": owner,
            "segments": [world.segment],
            "elements": ["people", "product", "people"],
            "status": ServiceStatus.PILOT,
            "launched_on": date(2026, 3, 1),
            "level_now": OfferingLevel.STANDARD,
            "level_target": OfferingLevel.STRATEGIC,
        },
    )
    service.refresh_from_db()
    assert service.name == "Project assurance"
    assert service.owner == owner
    assert list(service.segments.all()) == [world.segment]
    assert service.elements == ["product", "people"]  # each once, in the model's order
    assert (service.status, service.level_now, service.level_target) == ("pilot", 2, 4)
    [event] = service.events.all()
    assert event.summary == "Added as Pilot: level Standard, target Strategic."
    assert event.author == world.lead
    assert (event.status, event.level_now, event.level_target) == ("pilot", 2, 4)


@pytest.mark.django_db
@pytest.mark.parametrize("other", ["Portfolio reporting", "PORTFOLIO REPORTING", " portfolio reporting "])
def test_a_duplicate_name_in_the_pmo_is_refused_ignoring_case(world, other):
    add(world)
    with pytest.raises(ValidationError) as refused:
        add(world, other)
    assert messages(refused.value, "name") == ["This PMO has a service with this name already: choose another name."]
    assert Service.objects.count() == 1
    assert ServiceEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_same_name_in_another_pmo_is_fine(world):
    add(world)
    catalogue.create_service(world.other_pmo, world.outsider, {"name": "Portfolio reporting"})
    assert Service.objects.count() == 2


@pytest.mark.django_db
def test_renaming_onto_another_service_is_refused_and_leaves_the_object_as_stored(world):
    add(world)
    other = add(world, "Help desk")
    with pytest.raises(ValidationError) as refused:
        catalogue.update_service(other, world.lead, {"name": "portfolio Reporting"})
    assert "name" in refused.value.message_dict
    assert other.name == "Help desk"
    other.refresh_from_db()
    assert other.name == "Help desk"


@pytest.mark.django_db
def test_a_segment_or_an_owner_from_another_pmo_is_refused(world):
    outsider = world.other_pmo.memberships.get()
    with pytest.raises(ValidationError) as refused:
        add(world, segments=[world.segment, world.other_segment], owner=outsider)
    assert messages(refused.value, "segments") == ["Choose segments of this PMO."]
    assert messages(refused.value, "owner") == ["Choose a member of this PMO as the service's owner."]
    assert not Service.objects.exists()

    service = add(world, segments=[world.segment])
    with pytest.raises(ValidationError):
        catalogue.update_service(service, world.lead, {"segments": [world.other_segment]})
    with pytest.raises(ValidationError):
        catalogue.update_service(service, world.lead, {"owner": outsider})
    service.refresh_from_db()
    assert list(service.segments.all()) == [world.segment]
    assert service.owner is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"name": "  "}, "name", "Give the service a name."),
        ({"name": "x" * 121}, "name", "Keep the service's name to 120 characters or fewer (it has 121)."),
        (
            {"description": "x" * 2001},
            "description",
            "Keep the description to 2,000 characters or fewer (it has 2001).",
        ),
        ({"elements": ["product", "purpose"]}, "elements", "Choose among the five P elements."),
        ({"status": "gone"}, "status", "Choose a status: proposed, pilot, live or being retired."),
        ({"level_now": 5}, "level_now", "Choose the level now: basic, standard, advanced or strategic."),
    ],
)
def test_bad_fields_are_refused_in_words(world, values, field, message):
    with pytest.raises(ValidationError) as refused:
        catalogue.create_service(world.pmo, world.lead, {"name": "Help desk", **values})
    assert messages(refused.value, field) == [message]
    assert not Service.objects.exists()


@pytest.mark.django_db
def test_a_target_below_the_level_now_needs_confirming(world):
    values = {"level_now": OfferingLevel.ADVANCED, "level_target": OfferingLevel.STANDARD}
    with pytest.raises(ValidationError) as refused:
        add(world, **values)
    assert messages(refused.value, "level_target") == [
        "The target (Standard) is below the level now (Advanced). Confirm that the service is to be "
        "scaled down, or choose a higher target."
    ]
    assert catalogue.refusals(refused.value) == {"level_target": catalogue.LowerTarget}
    assert not Service.objects.exists()

    service = catalogue.create_service(
        world.pmo, world.lead, {"name": "Portfolio reporting", **values}, confirm_lower_target=True
    )
    # Once confirmed, editing something else does not ask again.
    catalogue.update_service(service, world.lead, {"description": "Monthly."})
    # Raising the level now above the target asks again.
    with pytest.raises(ValidationError):
        catalogue.update_service(service, world.lead, {"level_now": OfferingLevel.STRATEGIC})
    service.refresh_from_db()
    assert service.level_now == OfferingLevel.ADVANCED


def open_action(world, service, title, status=ActionStatus.PLANNED):
    return Action.objects.create(
        pmo=world.pmo, title=title, element="product", due_on=date(2027, 1, 1), status=status, service=service
    )


@pytest.mark.django_db
def test_retiring_a_service_with_open_actions_lists_them_and_needs_confirming(world):
    service = add(world)
    open_action(world, service, "Publish the <b>dashboard</b>")
    open_action(world, service, "Train the sponsors", ActionStatus.IN_PROGRESS)
    open_action(world, service, "Old idea", ActionStatus.DONE)
    open_action(world, service, "Dropped idea", ActionStatus.DROPPED)

    with pytest.raises(ValidationError) as refused:
        catalogue.update_service(service, world.lead, {"status": ServiceStatus.RETIRING})
    assert messages(refused.value, "status") == [
        "2 open actions develop this service: “Publish the <b>dashboard</b>”, “Train the sponsors”. "
        "Close or move them first, or confirm that the service is to be retired anyway."
    ]
    assert catalogue.refusals(refused.value) == {"status": catalogue.OpenActions}
    service.refresh_from_db()
    assert service.status == ServiceStatus.LIVE
    assert service.events.count() == 1

    catalogue.update_service(service, world.lead, {"status": ServiceStatus.RETIRING}, confirm_retire=True)
    service.refresh_from_db()
    assert service.status == ServiceStatus.RETIRING
    assert service.events.first().summary == "Status Live → Being retired."


@pytest.mark.django_db
def test_retiring_a_service_without_open_actions_needs_no_confirmation(world):
    service = add(world)
    open_action(world, service, "Done", ActionStatus.DONE)
    catalogue.update_service(service, world.lead, {"status": ServiceStatus.RETIRING})
    assert Service.objects.get().status == ServiceStatus.RETIRING


@pytest.mark.django_db
def test_the_history_records_status_and_level_changes_only(world):
    service = add(world)
    catalogue.update_service(service, world.member, {"description": "Changed", "segments": [world.segment]})
    assert service.events.count() == 1
    catalogue.update_service(
        service,
        world.member,
        {"status": ServiceStatus.PILOT, "level_now": OfferingLevel.STANDARD, "level_target": OfferingLevel.ADVANCED},
    )
    latest = service.events.first()
    assert latest.summary == "Status Live → Pilot; level now Basic → Standard; target Standard → Advanced."
    assert latest.author == world.member
    assert service.events.count() == 2


@pytest.mark.django_db
def test_deleting_a_service_that_a_survey_asked_about_keeps_the_snapshot_and_answers(world):
    service = add(world)
    action = open_action(world, service, "Linked")
    survey = SurveyFactory(pmo=world.pmo, closed=True)
    asked = SurveyService.objects.create(survey=survey, service=service, name=service.name, position=1)
    response = ResponseFactory(survey=survey, stakeholder=world.stakeholder)
    ServiceAnswer.objects.create(response=response, survey_service=asked, usage="uses", satisfaction=4, importance=5)

    assert catalogue.deletion_effects(service) == {"surveys": 1, "actions": 1}
    catalogue.delete_service(service)

    assert not Service.objects.exists()
    assert not ServiceEvent.objects.exists()
    asked.refresh_from_db()
    assert (asked.service, asked.name) == (None, "Portfolio reporting")
    assert asked.answers.get().satisfaction == 4
    action.refresh_from_db()
    assert action.service is None


@pytest.mark.django_db
def test_the_pmos_words_for_the_levels(world):
    catalogue.set_offering_levels(world.pmo, {1: "  On request. ", "3": "Tailored."})
    world.pmo.refresh_from_db()
    assert world.pmo.offering_levels == {"1": "On request.", "3": "Tailored."}
    words = world.pmo.offering_level_descriptions()
    assert words[OfferingLevel.BASIC] == "On request."
    assert words[OfferingLevel.STANDARD] == DEFAULT_OFFERING_LEVEL_DESCRIPTIONS[OfferingLevel.STANDARD]

    # Empty words, or the default's, go back to the default.
    catalogue.set_offering_levels(world.pmo, {1: "", 3: DEFAULT_OFFERING_LEVEL_DESCRIPTIONS[OfferingLevel.ADVANCED]})
    world.pmo.refresh_from_db()
    assert world.pmo.offering_levels == {}


@pytest.mark.django_db
def test_too_many_words_for_a_level_are_refused_and_nothing_is_saved(world):
    with pytest.raises(ValidationError) as refused:
        catalogue.set_offering_levels(world.pmo, {1: "Fine.", 2: "x" * 301})
    assert messages(refused.value, "level_2") == ["Keep each level's words to 300 characters or fewer (it has 301)."]
    world.pmo.refresh_from_db()
    assert world.pmo.offering_levels == {}
