"""The agenda pages: actions, the cost-of-poor-perception log and the suggestions."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from agenda.models import Action, ActionStatus, Incident
from agenda.plan import suggestions as suggestion_module
from pmo5p.domain import Element, Problem
from pmo5p.models import Membership
from tests.agenda_data import KNOWN_PRIORITY, KNOWN_RANKING, at_risk_person, known_survey
from tests.factories import MaturityRecordFactory, SegmentFactory, StakeholderFactory
from tests.helpers import assert_field_error, messages_of, text, visible

# A Wednesday noon in London (GMT): already Thursday 01:00 in Auckland (NZDT, +13).
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def url(name, world, **kwargs):
    return reverse(name, kwargs={"slug": world.pmo.slug, **kwargs})


def make_action(world, **fields) -> Action:
    values = {
        "pmo": world.pmo,
        "title": "An action",
        "element": Element.PRODUCT,
        "due_on": timezone.localdate() + timedelta(days=10),
        "created_by": world.lead,
    }
    values.update(fields)
    return Action.objects.create(**values)


def action_data(world, **overrides) -> dict:
    data = {
        "title": "Review the service catalogue with Finance",
        "element": "product",
        "problem": "information",
        "owner": world.membership(world.member).pk,
        "due_on": "2026-12-15",
        "status": "planned",
        "target_segments": [world.segment.pk],
        "target_stakeholders": [world.stakeholder.pk],
        "expected_effect": "Services that Finance recognises.",
        "notes": "Start with the controllers.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# Actions: create, edit, delete ---------------------------------------------------------------


def test_lead_creates_an_action_with_every_field(world, client_for, frozen):
    response = client_for(world.lead).post(url("action_create", world), action_data(world))
    assert response.status_code == 302
    assert response["Location"] == url("action_list", world)
    action = Action.objects.get()
    assert action.pmo == world.pmo
    assert action.title == "Review the service catalogue with Finance"
    assert action.element == Element.PRODUCT
    assert action.problem == Problem.INFORMATION
    assert action.owner == world.membership(world.member)
    assert action.due_on == date(2026, 12, 15)
    assert action.status == ActionStatus.PLANNED
    assert list(action.target_segments.all()) == [world.segment]
    assert list(action.target_stakeholders.all()) == [world.stakeholder]
    assert action.expected_effect == "Services that Finance recognises."
    assert action.notes == "Start with the controllers."
    assert action.created_by == world.lead
    assert action.created_at == NOW
    assert action.completed_at is None
    assert action.suggestion_key == ""
    assert "“Review the service catalogue with Finance” saved." in messages_of(response)


def test_the_new_action_form_proposes_the_member_as_owner_and_a_due_date_in_30_days(world, client_for, frozen):
    form = client_for(world.member).get(url("action_create", world)).context["form"]
    assert form["owner"].value() == world.membership(world.member).pk
    assert form["due_on"].value() == date(2026, 12, 25)


def test_an_action_created_done_is_stamped_completed(world, client_for, frozen):
    client_for(world.member).post(url("action_create", world), action_data(world, status="done"))
    action = Action.objects.get()
    assert action.status == ActionStatus.DONE
    assert action.completed_at == NOW


def test_member_edits_an_action(world, client_for, frozen):
    action = make_action(world, title="Old title", created_at=NOW - timedelta(days=40))
    data = action_data(world, title="New title", element="people", status="in_progress", target_segments=[])
    response = client_for(world.member).post(url("action_edit", world, action_id=action.pk), data)
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.title == "New title"
    assert action.element == Element.PEOPLE
    assert action.status == ActionStatus.IN_PROGRESS
    assert list(action.target_segments.all()) == []
    assert action.created_by == world.lead  # the creator stays


def test_editing_to_done_and_back_sets_and_clears_completed_at(world, client_for, frozen):
    action = make_action(world, created_at=NOW - timedelta(days=3))
    client = client_for(world.lead)
    client.post(url("action_edit", world, action_id=action.pk), action_data(world, status="done"))
    action.refresh_from_db()
    assert action.completed_at == NOW
    client.post(url("action_edit", world, action_id=action.pk), action_data(world, status="planned"))
    action.refresh_from_db()
    assert action.completed_at is None


def test_member_deletes_an_action_after_confirming(world, client_for):
    action = make_action(world, title="To go")
    client = client_for(world.member)
    page = client.get(url("action_delete", world, action_id=action.pk))
    assert page.status_code == 200
    assert "“To go” will be removed for good." in text(page)
    assert Action.objects.filter(pk=action.pk).exists()
    response = client.post(url("action_delete", world, action_id=action.pk))
    assert response.status_code == 302
    assert not Action.objects.filter(pk=action.pk).exists()
    assert "“To go” deleted." in messages_of(response)


def test_viewer_cannot_create_edit_delete_or_change_status(world, client_for):
    action = make_action(world, title="Untouched")
    client = client_for(world.viewer)
    assert client.get(url("action_create", world)).status_code == 403
    assert client.post(url("action_create", world), action_data(world)).status_code == 403
    assert client.get(url("action_edit", world, action_id=action.pk)).status_code == 403
    assert client.post(url("action_edit", world, action_id=action.pk), action_data(world)).status_code == 403
    assert client.post(url("action_delete", world, action_id=action.pk)).status_code == 403
    assert client.post(url("action_set_status", world, action_id=action.pk), {"status": "done"}).status_code == 403
    action.refresh_from_db()
    assert (action.title, action.status) == ("Untouched", ActionStatus.PLANNED)
    assert Action.objects.count() == 1


def test_viewer_sees_the_list_without_buttons(world, client_for):
    make_action(world, title="Visible to all")
    page = client_for(world.viewer).get(url("action_list", world))
    assert page.status_code == 200
    assert "Visible to all" in text(page)
    assert url("action_create", world) not in text(page)
    assert "action_set_status" not in text(page)
    assert 'name="status"' not in text(page)
    assert "/edit/" not in text(page)


def test_another_pmos_action_is_not_found(world, client_for):
    theirs = Action.objects.create(pmo=world.other_pmo, title="Theirs", element="product", due_on=date(2099, 1, 1))
    client = client_for(world.lead)
    assert client.get(url("action_edit", world, action_id=theirs.pk)).status_code == 404
    assert client.post(url("action_set_status", world, action_id=theirs.pk), {"status": "done"}).status_code == 404
    assert client.post(url("action_delete", world, action_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ActionStatus.PLANNED


# Actions: bad input ----------------------------------------------------------------------------


def assert_action_refused(response, field, message, before=0):
    assert_field_error(response, field, message)
    assert Action.objects.count() == before


def test_new_action_due_before_today_is_refused_with_the_date(world, client_for, frozen):
    response = client_for(world.lead).post(url("action_create", world), action_data(world, due_on="2026-11-24"))
    assert_action_refused(
        response,
        "due_on",
        "The due date is before the action was created (25 November 2026): choose that day or later.",
    )


def test_new_action_due_today_is_accepted(world, client_for, frozen):
    response = client_for(world.lead).post(url("action_create", world), action_data(world, due_on="2026-11-25"))
    assert response.status_code == 302
    assert Action.objects.get().due_on == date(2026, 11, 25)


def test_today_is_the_pmos_today(world, client_for, frozen):
    # In Auckland it is already 26 November: the 25th is before the action is created.
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    response = client_for(world.lead).post(url("action_create", world), action_data(world, due_on="2026-11-25"))
    assert_action_refused(
        response,
        "due_on",
        "The due date is before the action was created (26 November 2026): choose that day or later.",
    )


def test_edited_action_may_keep_a_past_due_date_but_not_one_before_its_creation(world, client_for, frozen):
    action = make_action(
        world, title="Old", created_at=datetime(2026, 10, 1, 9, 0, tzinfo=UTC), due_on=date(2026, 10, 20)
    )
    client = client_for(world.lead)
    edit = url("action_edit", world, action_id=action.pk)
    response = client.post(edit, action_data(world, title="Changed", due_on="2026-09-30"))
    assert_field_error(
        response, "due_on", "The due date is before the action was created (1 October 2026): choose that day or later."
    )
    action.refresh_from_db()
    assert (action.title, action.due_on) == ("Old", date(2026, 10, 20))
    # The creation day itself is fine, although it is in the past.
    assert client.post(edit, action_data(world, title="Changed", due_on="2026-10-01")).status_code == 302
    action.refresh_from_db()
    assert (action.title, action.due_on) == ("Changed", date(2026, 10, 1))


def test_creation_date_of_an_edited_action_is_read_in_the_pmos_time_zone(world, client_for, frozen):
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    # 30 September 12:00 UTC is 1 October 01:00 in Auckland (NZDT).
    action = make_action(world, created_at=datetime(2026, 9, 30, 12, 0, tzinfo=UTC), due_on=date(2026, 10, 20))
    response = client_for(world.lead).post(
        url("action_edit", world, action_id=action.pk), action_data(world, due_on="2026-09-30")
    )
    assert_field_error(
        response, "due_on", "The due date is before the action was created (1 October 2026): choose that day or later."
    )
    action.refresh_from_db()
    assert action.due_on == date(2026, 10, 20)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "Give the action a title."),
        ("title", "", "Give the action a title."),
        ("title", "x" * 201, "Keep the title to 200 characters."),
        ("due_on", "", "Give a due date."),
        ("due_on", "2026-13-45", "Enter a date, e.g. 2026-12-31."),
        ("element", "purpose", "Choose one of the five P elements."),
        ("status", "cancelled", "Choose planned, in progress, done or dropped."),
    ],
)
def test_action_bad_input_is_refused_next_to_the_field(world, client_for, frozen, field, value, message):
    response = client_for(world.lead).post(url("action_create", world), action_data(world, **{field: value}))
    assert_action_refused(response, field, message)


def test_action_owner_of_another_pmo_is_refused(world, client_for, frozen):
    outsider = Membership.objects.get(pmo=world.other_pmo, user=world.outsider)
    response = client_for(world.lead).post(url("action_create", world), action_data(world, owner=outsider.pk))
    assert_action_refused(response, "owner", "Choose a member of this PMO.")


def test_action_segment_of_another_pmo_is_refused(world, client_for, frozen):
    response = client_for(world.lead).post(
        url("action_create", world), action_data(world, target_segments=[world.segment.pk, world.other_segment.pk])
    )
    assert_action_refused(response, "target_segments", "Choose segments of this PMO.")


def test_action_stakeholder_of_another_pmo_is_refused(world, client_for, frozen):
    response = client_for(world.lead).post(
        url("action_create", world), action_data(world, target_stakeholders=[world.other_stakeholder.pk])
    )
    assert_action_refused(response, "target_stakeholders", "Choose stakeholders of this PMO.")


def test_editing_an_action_with_bad_input_changes_nothing(world, client_for, frozen):
    action = make_action(world, title="Keep me", created_at=NOW - timedelta(days=1))
    action.target_segments.add(world.segment)
    response = client_for(world.lead).post(
        url("action_edit", world, action_id=action.pk),
        action_data(world, title="Changed", target_segments=[world.other_segment.pk]),
    )
    assert_field_error(response, "target_segments", "Choose segments of this PMO.")
    action.refresh_from_db()
    assert action.title == "Keep me"
    assert list(action.target_segments.all()) == [world.segment]


# Actions: the list --------------------------------------------------------------------------------


def group_titles(response) -> dict[str, list[str]]:
    """Each group's heading and the titles of the actions in it, in page order."""
    return {label: [a.title for a in actions] for label, actions in response.context["groups"]}


@pytest.fixture
def agenda(world, frozen):
    today = date(2026, 11, 25)
    return {
        "late": make_action(world, title="Late", element="people", due_on=today - timedelta(days=1)),
        "today": make_action(world, title="Due today", element="people", due_on=today, status="in_progress"),
        "done": make_action(
            world, title="Done late", element="product", due_on=today - timedelta(days=30), status="done"
        ),
        "dropped": make_action(
            world, title="Dropped", element="price", due_on=today - timedelta(days=5), status="dropped"
        ),
        "next_year": make_action(world, title="Next year", element="process", due_on=date(2027, 2, 1)),
        "december": make_action(world, title="December", element="product", due_on=date(2026, 12, 31)),
    }


def test_list_groups_by_element_in_model_order(world, client_for, agenda):
    response = client_for(world.member).get(url("action_list", world))
    groups = group_titles(response)
    assert list(groups) == [element.label for element in Element]
    assert groups == {
        "Product": ["Done late", "December"],
        "Physical Evidence": [],
        "Price": ["Dropped"],
        "People": ["Late", "Due today"],
        "Process": ["Next year"],
    }
    assert response.context["view"] == "element"


def test_list_groups_by_status(world, client_for, agenda):
    response = client_for(world.member).get(url("action_list", world) + "?view=status")
    assert group_titles(response) == {
        "Planned": ["Late", "December", "Next year"],
        "In progress": ["Due today"],
        "Done": ["Done late"],
        "Dropped": ["Dropped"],
    }


def test_list_groups_by_quarter_in_date_order(world, client_for, agenda):
    response = client_for(world.member).get(url("action_list", world) + "?view=quarter")
    assert group_titles(response) == {
        "2026 Q4": ["Done late", "Dropped", "Late", "Due today", "December"],
        "2027 Q1": ["Next year"],
    }
    assert list(group_titles(response)) == ["2026 Q4", "2027 Q1"]
    assert "2026 Q4" in visible(response)


def test_an_unknown_view_falls_back_to_elements(world, client_for, agenda):
    response = client_for(world.member).get(url("action_list", world) + "?view=<script>")
    assert response.status_code == 200
    assert response.context["view"] == "element"
    assert "<script>" not in response.content.decode()


def test_overdue_actions_are_flagged_and_counted(world, client_for, agenda):
    response = client_for(world.member).get(url("action_list", world))
    page = response.content.decode()
    assert response.context["counts"] == {"open": 4, "overdue": 1, "done": 1}
    assert re.search(r'data-figure="overdue">1<', page)
    flagged = re.findall(r'<div class="fw-semibold">([^<]+) <span class="badge text-bg-danger">Overdue</span>', page)
    # Only the open action due before today: not the one due today, nor the done or dropped ones.
    assert flagged == ["Late"]
    assert agenda["late"].is_overdue
    assert not agenda["today"].is_overdue
    assert not agenda["done"].is_overdue
    assert not agenda["dropped"].is_overdue


def test_overdue_follows_the_pmos_date(world, client_for, agenda):
    # In Auckland it is 26 November: the action due on the 25th is overdue too.
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    response = client_for(world.member).get(url("action_list", world))
    assert response.context["counts"]["overdue"] == 2
    assert re.search(r'data-figure="overdue">2<', response.content.decode())


def test_empty_agenda_points_to_the_suggestions(world, client_for):
    page = client_for(world.member).get(url("action_list", world) + "?view=quarter")
    assert "No action yet" in text(page)
    assert url("suggestion_list", world) in text(page)


def test_quick_status_change_sets_and_clears_completed_at(world, client_for, frozen):
    action = make_action(world, title="Quick")
    client = client_for(world.member)
    status_url = url("action_set_status", world, action_id=action.pk)
    response = client.post(status_url, {"status": "done"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.completed_at) == (ActionStatus.DONE, NOW)
    assert "“Quick” is now done." in messages_of(response)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        client.post(status_url, {"status": "done"})  # done again: the first completion stays
    action.refresh_from_db()
    assert action.completed_at == NOW
    client.post(status_url, {"status": "in_progress"})
    action.refresh_from_db()
    assert (action.status, action.completed_at) == (ActionStatus.IN_PROGRESS, None)


def test_quick_status_change_to_an_unknown_status_changes_nothing(world, client_for, frozen):
    action = make_action(world)
    response = client_for(world.member).post(url("action_set_status", world, action_id=action.pk), {"status": "won"})
    assert response.status_code == 302
    assert "Choose planned, in progress, done or dropped." in messages_of(response)
    action.refresh_from_db()
    assert action.status == ActionStatus.PLANNED
    assert action.completed_at is None


def test_status_change_is_post_only(world, client_for):
    action = make_action(world)
    assert client_for(world.member).get(url("action_set_status", world, action_id=action.pk)).status_code == 405


# Incidents ----------------------------------------------------------------------------------------------


def incident_data(world, **overrides) -> dict:
    data = {
        "title": "Project reworked its plan after ignoring PMO guidance",
        "problem": "cost_and_delay",
        "occurred_on": "2026-11-20",
        "stakeholders": [world.stakeholder.pk],
        "elements": ["process", "people"],
        "estimated_cost": "12500",
        "days_lost": "3.5",
        "description": "The plan was redone.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_member_logs_an_incident(world, client_for, frozen):
    response = client_for(world.member).post(url("incident_create", world), incident_data(world))
    assert response.status_code == 302
    assert response["Location"] == url("incident_list", world)
    incident = Incident.objects.get()
    assert incident.pmo == world.pmo
    assert incident.problem == Problem.COST_AND_DELAY
    assert incident.occurred_on == date(2026, 11, 20)
    assert list(incident.stakeholders.all()) == [world.stakeholder]
    assert incident.elements == ["people", "process"] or incident.elements == ["process", "people"]
    assert set(incident.elements) == {"process", "people"}
    assert incident.estimated_cost == Decimal("12500")
    assert incident.days_lost == Decimal("3.5")
    assert incident.created_by == world.member
    assert "Incident logged." in messages_of(response)


def test_an_incident_without_cost_days_or_elements_is_fine(world, client_for, frozen):
    data = incident_data(world, estimated_cost="", days_lost="", elements=None, stakeholders=None)
    assert client_for(world.member).post(url("incident_create", world), data).status_code == 302
    incident = Incident.objects.get()
    assert (incident.estimated_cost, incident.days_lost, incident.elements) == (None, None, [])


def test_member_edits_and_deletes_an_incident(world, client_for, frozen):
    incident = Incident.objects.create(pmo=world.pmo, title="Old", problem="recruiting", occurred_on=date(2026, 1, 5))
    client = client_for(world.member)
    response = client.post(url("incident_edit", world, incident_id=incident.pk), incident_data(world, title="New"))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.problem) == ("New", Problem.COST_AND_DELAY)
    form = client.get(url("incident_edit", world, incident_id=incident.pk)).context["form"]
    assert set(form["elements"].value()) == {"process", "people"}
    assert client.post(url("incident_delete", world, incident_id=incident.pk)).status_code == 302
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("estimated_cost", "-1", "A cost cannot be negative."),
        ("days_lost", "-0.5", "Days lost cannot be negative."),
        ("estimated_cost", "lots", "Enter an amount, e.g. 12500."),
        ("occurred_on", "2026-11-26", "The date is in the future: record what has happened, up to today."),
        ("elements", ["process", "purpose"], "Choose among the five P elements."),
        ("title", "", "Say what happened, in a few words."),
        ("problem", "", "Choose which problem it is an instance of."),
    ],
)
def test_incident_bad_input_is_refused_next_to_the_field(world, client_for, frozen, field, value, message):
    response = client_for(world.member).post(url("incident_create", world), incident_data(world, **{field: value}))
    assert_field_error(response, field, message)
    assert not Incident.objects.exists()


def test_incident_stakeholder_of_another_pmo_is_refused(world, client_for, frozen):
    response = client_for(world.member).post(
        url("incident_create", world), incident_data(world, stakeholders=[world.other_stakeholder.pk])
    )
    assert_field_error(response, "stakeholders", "Choose stakeholders of this PMO.")
    assert not Incident.objects.exists()


def test_an_incident_today_is_not_in_the_future_even_in_auckland(world, client_for, frozen):
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    response = client_for(world.member).post(
        url("incident_create", world), incident_data(world, occurred_on="2026-11-26")
    )
    assert response.status_code == 302
    assert Incident.objects.get().occurred_on == date(2026, 11, 26)


def test_editing_an_incident_with_a_negative_cost_changes_nothing(world, client_for, frozen):
    incident = Incident.objects.create(
        pmo=world.pmo, title="Keep", problem="recruiting", occurred_on=date(2026, 1, 5), estimated_cost=10
    )
    response = client_for(world.member).post(
        url("incident_edit", world, incident_id=incident.pk), incident_data(world, title="Changed", estimated_cost="-5")
    )
    assert_field_error(response, "estimated_cost", "A cost cannot be negative.")
    incident.refresh_from_db()
    assert (incident.title, incident.estimated_cost) == ("Keep", Decimal("10.00"))


def problem_row(response, problem: Problem) -> list[str]:
    page = response.content.decode()
    row = re.search(rf'<tr data-problem="{problem.value}">(.*?)</tr>', page, re.S)
    assert row, f"No row for {problem}"
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1])]


def test_incident_list_totals_by_problem(world, client_for, frozen):
    def log(title, problem, when, cost=None, days=None):
        Incident.objects.create(
            pmo=world.pmo, title=title, problem=problem, occurred_on=when, estimated_cost=cost, days_lost=days
        )

    log("A", "cost_and_delay", date(2026, 11, 1), 42000, 15)
    log("B", "cost_and_delay", date(2026, 6, 1), 8000, Decimal("2.5"))
    log("C", "recruiting", date(2026, 3, 1), 18000)
    log("Old", "missed_opportunities", date(2024, 1, 1), 100000, 30)  # more than a year ago
    log("Unknown cost", "performance", date(2026, 11, 2))
    Incident.objects.create(pmo=world.other_pmo, title="Theirs", problem="recruiting", estimated_cost=999999)

    response = client_for(world.viewer).get(url("incident_list", world))
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'data-figure="incident-count">5<', page)
    assert re.search(r'data-figure="incident-cost">£68,000<', page)  # the last 12 months, in the PMO's GBP
    assert re.search(r'data-figure="incident-days">17.5<', page)
    assert "£168,000 in all" in visible(response)
    assert "47.5 in all" in visible(response)
    assert problem_row(response, Problem.COST_AND_DELAY) == ["2", "£50,000", "17.5"]
    assert problem_row(response, Problem.RECRUITING) == ["1", "£18,000", "—"]
    assert problem_row(response, Problem.MISSED_OPPORTUNITIES) == ["1", "£100,000", "30"]
    assert problem_row(response, Problem.PERFORMANCE) == ["1", "—", "—"]
    assert problem_row(response, Problem.INFORMATION) == ["0", "—", "—"]
    assert "Theirs" not in page

    # The PMO's currency, wherever a cost is shown: the totals, the table, each incident, the form.
    world.pmo.currency = "CHF"
    world.pmo.save()
    response = client_for(world.viewer).get(url("incident_list", world))
    assert re.search(r'data-figure="incident-cost">CHF 68,000<', response.content.decode())
    assert problem_row(response, Problem.RECRUITING) == ["1", "CHF 18,000", "—"]
    assert "Cost (CHF)" in visible(response)
    assert "CHF 42,000 · 15 days" in visible(response)
    form = client_for(world.member).get(url("incident_create", world))
    assert "Estimated cost (CHF)" in visible(form)
    assert "In CHF (Swiss franc), the PMO's currency" in visible(form)


def test_viewer_sees_incidents_without_buttons_and_cannot_post(world, client_for, frozen):
    incident = Incident.objects.create(pmo=world.pmo, title="Seen", problem="recruiting", occurred_on=date(2026, 1, 5))
    client = client_for(world.viewer)
    page = client.get(url("incident_list", world))
    assert "Seen" in text(page)
    assert url("incident_create", world) not in text(page)
    assert url("incident_edit", world, incident_id=incident.pk) not in text(page)
    assert client.post(url("incident_create", world), incident_data(world)).status_code == 403
    assert client.post(url("incident_edit", world, incident_id=incident.pk), incident_data(world)).status_code == 403
    assert client.post(url("incident_delete", world, incident_id=incident.pk)).status_code == 403
    assert Incident.objects.get().title == "Seen"


# Suggestions ------------------------------------------------------------------------------------------------


@pytest.fixture
def suggested(world):
    known = known_survey(world)
    hank = at_risk_person(world)
    return known, hank


def test_a_segment_that_puts_product_in_concentrate_here_gets_the_catalogue_review(world, client_for, suggested):
    response = client_for(world.member).get(url("suggestion_list", world))
    proposed = response.context["suggestions"]
    review = next(s for s in proposed if s.title == "Review the PMO's service catalogue with Finance")
    assert review.element == Element.PRODUCT
    assert review.segment_id == world.segment.pk
    assert review.problem == Problem.INFORMATION
    assert (
        review.why == "For Finance, Product is in “Concentrate here” (perception 25.0, importance 100.0, 3 responses)."
    )
    assert review.priority == 75.0
    # The highest priority of all, so first.
    assert proposed[0] is review
    page = visible(response)
    assert "Review the PMO's service catalogue with Finance" in page
    assert "For Finance, Product is in “Concentrate here” (perception 25.0, importance 100.0, 3 responses)." in page


def test_element_suggestions_follow_the_priority_ranking(world, client_for, suggested):
    proposed = client_for(world.member).get(url("suggestion_list", world)).context["suggestions"]
    element_level = [s for s in proposed if ":all:" in s.key]
    order = []
    for s in element_level:
        if s.element not in order:
            order.append(s.element)
    assert order == KNOWN_RANKING
    assert [s.priority for s in element_level] == sorted((s.priority for s in element_level), reverse=True)
    first = element_level[0]
    assert first.title == "Show stakeholders the benefits the portfolio has realised"
    assert first.why == "Physical Evidence is priority 1: concentrate here (perception 25.0, importance 75.0)."
    assert first.priority == KNOWN_PRIORITY[Element.PHYSICAL_EVIDENCE]
    titles = [s.title for s in element_level]
    assert "Publish a one-page guide to the PMO's services for stakeholders" in titles  # Product: keep up
    assert "Reinvest effort saved with stakeholders where perception is weak" in titles  # Price: overkill
    # Segments without enough responses get nothing of their own.
    assert not any("Beta" in s.title for s in proposed)


def test_a_segment_below_the_group_size_gets_no_suggestion(world, client_for, settings, suggested):
    settings.MIN_GROUP_SIZE = 4
    proposed = client_for(world.member).get(url("suggestion_list", world)).context["suggestions"]
    assert not [s for s in proposed if s.segment_id]
    assert "Review the PMO's service catalogue with Finance" not in [s.title for s in proposed]


def test_at_risk_stakeholders_get_a_meeting_suggestion_last(world, client_for, suggested):
    _known, hank = suggested
    proposed = client_for(world.member).get(url("suggestion_list", world)).context["suggestions"]
    meet = proposed[-1]
    assert meet.title == "Meet Hank Heavy to understand their view of the PMO"
    assert meet.stakeholder_id == hank.pk
    assert meet.element == Element.PEOPLE
    assert meet.why == "Hank Heavy is at risk: maturity only aware."
    assert meet.priority is None


def test_without_survey_only_at_risk_suggestions(world, client_for):
    at_risk_person(world)
    proposed = client_for(world.member).get(url("suggestion_list", world)).context["suggestions"]
    assert [s.title for s in proposed] == ["Meet Hank Heavy to understand their view of the PMO"]


def test_nothing_to_suggest_shows_the_empty_state(world, client_for):
    page = client_for(world.member).get(url("suggestion_list", world))
    assert page.context["suggestions"] == []
    assert "No suggestion right now" in text(page)


def adopt(client, world, key):
    return client.post(url("suggestion_adopt", world), {"key": key})


def test_adopting_a_segment_suggestion_creates_the_action_and_opens_it(world, client_for, suggested, frozen):
    client = client_for(world.member)
    key = f"product:concentrate:segment-{world.segment.pk}:0"
    response = adopt(client, world, key)
    action = Action.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("action_edit", world, action_id=action.pk)
    assert action.title == "Review the PMO's service catalogue with Finance"
    assert action.element == Element.PRODUCT
    assert action.problem == Problem.INFORMATION
    assert list(action.target_segments.all()) == [world.segment]
    assert list(action.target_stakeholders.all()) == []
    assert action.suggestion_key == key
    assert action.owner == world.membership(world.member)
    assert action.created_by == world.member
    assert action.due_on == date(2026, 12, 25)
    assert action.expected_effect == "Services that meet the basic needs of Finance, in words they recognise."
    assert action.notes.startswith("Suggested by pmo5p: For Finance, Product is in “Concentrate here”")
    assert "Added to the agenda." in messages_of(response)[0]
    # The edit page shows why it was suggested, and the suggestion is gone from the list.
    edit = client.get(response["Location"])
    assert "Suggested by pmo5p: For Finance" in text(edit)
    proposed = client.get(url("suggestion_list", world)).context["suggestions"]
    assert key not in [s.key for s in proposed]
    assert "Review the PMO's service catalogue with Finance" not in [s.title for s in proposed]


def test_adopting_an_at_risk_suggestion_targets_the_stakeholder(world, client_for, suggested):
    _known, hank = suggested
    response = adopt(client_for(world.lead), world, f"people:at-risk:stakeholder-{hank.pk}:0")
    assert response.status_code == 302
    action = Action.objects.get()
    assert list(action.target_stakeholders.all()) == [hank]
    assert action.element == Element.PEOPLE
    assert action.problem == Problem.PERFORMANCE


def test_adopting_an_element_suggestion_has_no_targets(world, client_for, suggested):
    adopt(client_for(world.lead), world, "physical_evidence:concentrate:all:1")
    action = Action.objects.get()
    assert action.title == "Add a benefits summary to the reports stakeholders receive"
    assert action.element == Element.PHYSICAL_EVIDENCE
    assert action.problem == Problem.MISSED_OPPORTUNITIES
    assert not action.target_segments.exists()
    assert not action.target_stakeholders.exists()


def test_adopting_twice_creates_one_action(world, client_for, suggested):
    client = client_for(world.member)
    key = f"product:concentrate:segment-{world.segment.pk}:0"
    adopt(client, world, key)
    response = adopt(client, world, key)
    assert response.status_code == 302
    assert response["Location"] == url("suggestion_list", world)
    assert "no longer proposed" in messages_of(response)[-1]
    assert Action.objects.count() == 1


@pytest.mark.parametrize(
    "key",
    ["", "nonsense", "product:concentrate:segment-999999:0", "product:keep_up:all:9", "people:at-risk:stakeholder-0:0"],
)
def test_adopting_an_unknown_key_creates_nothing(world, client_for, suggested, key):
    response = adopt(client_for(world.member), world, key)
    assert response.status_code == 302
    assert "That suggestion is no longer proposed" in messages_of(response)[0]
    assert not Action.objects.exists()


def test_another_pmos_suggestion_cannot_be_adopted_here(world, client_for, suggested):
    theirs = StakeholderFactory(pmo=world.other_pmo, name="Their VIP", influence=5)

    MaturityRecordFactory(pmo=world.other_pmo, stakeholder=theirs, stage=1, rationale="x")
    response = adopt(client_for(world.lead), world, f"people:at-risk:stakeholder-{theirs.pk}:0")
    assert "no longer proposed" in messages_of(response)[0]
    assert not Action.objects.exists()


def test_viewer_sees_suggestions_without_buttons_and_cannot_adopt(world, client_for, suggested):
    client = client_for(world.viewer)
    page = client.get(url("suggestion_list", world))
    assert "Review the PMO's service catalogue with Finance" in text(page)
    assert "Add to agenda" not in text(page)
    assert url("suggestion_adopt", world) not in text(page)
    response = adopt(client, world, f"product:concentrate:segment-{world.segment.pk}:0")
    assert response.status_code == 403
    assert not Action.objects.exists()


def test_suggestion_adopt_is_post_only(world, client_for):
    assert client_for(world.member).get(url("suggestion_adopt", world)).status_code == 405


def test_every_element_and_quadrant_has_templates():
    from agenda.figures.elements import IpaQuadrant

    for element in Element:
        for quadrant in IpaQuadrant:
            templates = suggestion_module.LIBRARY[element][quadrant]
            assert templates, (element, quadrant)
            for title, _effect, problem in templates:
                assert "{who}" in title
                assert Problem(problem)
                assert suggestion_module._fill(title, "Finance")[0].isupper()


def test_a_second_segment_with_its_own_concentrate_gets_its_own_suggestion(world, client_for, suggested):
    known, _hank = suggested
    SegmentFactory(pmo=world.pmo, name="Empty")  # no responses: nothing
    proposed = client_for(world.member).get(url("suggestion_list", world)).context["suggestions"]
    segment_titles = sorted(s.title for s in proposed if s.segment_id)
    assert segment_titles == [
        "Review the PMO's service catalogue with Finance",
        "Show Finance the benefits the portfolio has realised",
        "Show IT the benefits the portfolio has realised",
    ]
    it_one = next(s for s in proposed if s.segment_id == known.it.pk)
    assert (
        it_one.why
        == "For IT, Physical Evidence is in “Concentrate here” (perception 25.0, importance 75.0, 3 responses)."
    )


def test_two_adoptions_at_the_same_moment_make_one_action(world, client_for, suggested, monkeypatch):
    # Both requests computed the suggestions before either saved: the database keeps one.
    key = f"product:concentrate:segment-{world.segment.pk}:0"
    seen = suggestion_module.find(world.pmo, key)
    monkeypatch.setattr(suggestion_module, "find", lambda pmo, k: seen)
    client = client_for(world.member)
    assert adopt(client, world, key)["Location"].endswith("/edit/")
    response = adopt(client, world, key)
    assert response["Location"] == url("action_list", world)
    assert messages_of(response)[-1] == "That suggestion was adopted already: it is on the agenda."
    assert Action.objects.count() == 1
    assert Action.objects.get().target_segments.count() == 1
