"""One write path: each rule is stated once (pmo5p/rules.py and the apps' service modules),
so the web form and the API refuse the same bad input with the same message, and change
nothing. Each case drives both with the same input."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from agenda.models import Action, Frequency, MaturityRecord, ReportSchedule, SelfAssessment
from agenda.reports import services as reports
from pmo5p.domain import Element
from pmo5p.models import ApiToken, Membership
from pmo5p.rules import RuleViolation
from stakeholders import register
from stakeholders.models import Interaction, Question, QuestionKind, Segment, Stakeholder, Survey, SurveyStatus
from stakeholders.surveys import lifecycle as surveys
from tests.factories import SurveyFactory
from tests.helpers import assert_field_error
from tests.survey_helpers import questions

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FUTURE = "2026-12-31"


@dataclass
class Case:
    web: Callable  # world -> (url name, url kwargs, form data)
    api: Callable  # world -> (method, url name, url kwargs, JSON body)
    field: str
    message: str
    state: Callable  # world -> what must not change


def old_action(world):
    return Action.objects.create(
        pmo=world.pmo,
        title="Old",
        element="product",
        due_on=date(2026, 12, 1),
        created_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
    )


def action_form(world, action, **overrides):
    data = {"title": action.title, "element": "product", "problem": "information", "owner": "", "status": "planned"}
    return {**data, **overrides}


CASES = {
    "self-assessment in the future": Case(
        web=lambda w: (
            "self_assessment_new",
            {},
            {
                "assessed_on": FUTURE,
                **{f"rating_{e}": "3" for e in ("purpose", "process", "product", "price", "people")},
            },
        ),
        api=lambda w: (
            "post",
            "api-self-assessment-list",
            {},
            {"element": "people", "rating": 3, "assessed_on": FUTURE},
        ),
        field="assessed_on",
        message="The assessment date is in the future: record what has happened, up to today.",
        state=lambda w: SelfAssessment.objects.count(),
    ),
    "maturity record in the future": Case(
        web=lambda w: (
            "maturity_new",
            {"stakeholder_id": w.stakeholder.pk},
            {"stage": "3", "rationale": "Asked for advice", "recorded_on": FUTURE},
        ),
        api=lambda w: (
            "post",
            "api-maturity-list",
            {},
            {"stakeholder": w.stakeholder.pk, "stage": 3, "rationale": "Asked for advice", "recorded_on": FUTURE},
        ),
        field="recorded_on",
        message="The date is in the future: record what has happened, up to today.",
        state=lambda w: MaturityRecord.objects.count(),
    ),
    "interaction in the future": Case(
        web=lambda w: (
            "interaction_create",
            {},
            {
                "occurred_on": FUTURE,
                "kind": "workshop",
                "stakeholders": [w.stakeholder.pk],
                "sentiment": "1",
                "summary": "Met",
            },
        ),
        api=lambda w: (
            "post",
            "api-interaction-list",
            {},
            {
                "occurred_on": FUTURE,
                "kind": "workshop",
                "stakeholders": [w.stakeholder.pk],
                "sentiment": 1,
                "summary": "Met",
            },
        ),
        field="occurred_on",
        message="That date is in the future: log interactions once they have happened.",
        state=lambda w: Interaction.objects.count(),
    ),
    "new action due before today": Case(
        web=lambda w: (
            "action_create",
            {},
            {"title": "Call", "element": "people", "status": "planned", "due_on": "2026-11-24"},
        ),
        api=lambda w: ("post", "api-action-list", {}, {"title": "Call", "element": "people", "due_on": "2026-11-24"}),
        field="due_on",
        message="The due date is before the action was created (25 November 2026): choose that day or later.",
        state=lambda w: Action.objects.count(),
    ),
    "action due before it was created": Case(
        web=lambda w: (
            "action_edit",
            {"action_id": (a := old_action(w)).pk},
            action_form(w, a, due_on="2026-09-30"),
        ),
        api=lambda w: ("patch", "api-action-detail", {"pk": old_action(w).pk}, {"due_on": "2026-09-30"}),
        field="due_on",
        message="The due date is before the action was created (1 October 2026): choose that day or later.",
        state=lambda w: list(Action.objects.values_list("due_on", flat=True)),
    ),
    "stakeholder e-mail taken": Case(
        web=lambda w: (
            "stakeholder_create",
            {},
            {"name": "Fay", "email": " FIONA@corp.example", "influence": "3", "interest": "3", "is_active": "on"},
        ),
        api=lambda w: ("post", "api-stakeholder-list", {}, {"name": "Fay", "email": "FIONA@corp.example"}),
        field="email",
        message="Fiona Finance already has this e-mail address in this PMO.",
        state=lambda w: sorted(w.pmo.stakeholders.values_list("name", "email")),
    ),
    "stakeholder e-mail taken, on edit": Case(
        web=lambda w: (
            "stakeholder_edit",
            {"stakeholder_id": (s := Stakeholder.objects.create(pmo=w.pmo, name="Sam", email="sam@corp.example")).pk},
            {"name": s.name, "email": "Fiona@Corp.example", "influence": "3", "interest": "3", "is_active": "on"},
        ),
        api=lambda w: (
            "patch",
            "api-stakeholder-detail",
            {"pk": Stakeholder.objects.create(pmo=w.pmo, name="Sam", email="sam@corp.example").pk},
            {"email": "Fiona@Corp.example"},
        ),
        field="email",
        message="Fiona Finance already has this e-mail address in this PMO.",
        state=lambda w: sorted(w.pmo.stakeholders.values_list("name", "email")),
    ),
    "influence out of range": Case(
        web=lambda w: (
            "stakeholder_create",
            {},
            {"name": "Fay", "email": "fay@corp.example", "influence": "9", "interest": "3", "is_active": "on"},
        ),
        api=lambda w: (
            "post",
            "api-stakeholder-list",
            {},
            {"name": "Fay", "email": "fay@corp.example", "influence": 9},
        ),
        field="influence",
        message="Choose an influence from 1 (very low) to 5 (very high).",
        state=lambda w: sorted(w.pmo.stakeholders.values_list("name", "email")),
    ),
    "segment name taken": Case(
        web=lambda w: ("segment_create", {}, {"name": "FINANCE", "description": ""}),
        api=lambda w: ("post", "api-segment-list", {}, {"name": "FINANCE"}),
        field="name",
        message="This PMO has a segment with this name already.",
        state=lambda w: sorted(Segment.objects.values_list("pmo_id", "name")),
    ),
}


def url(world, name, kwargs):
    return reverse(name, kwargs={"slug": world.pmo.slug, **kwargs})


@pytest.fixture
def api_member(world):
    _token, key = ApiToken.issue(user=world.member, name="tests")
    return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_web_form_refuses_it_next_to_the_field(world, client_for, case):
    name, kwargs, data = case.web(world)
    before = case.state(world)
    response = client_for(world.member).post(url(world, name, kwargs), data)
    assert_field_error(response, case.field, case.message)
    assert case.state(world) == before


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_api_refuses_it_with_the_same_message(world, api_member, case):
    method, name, kwargs, body = case.api(world)
    before = case.state(world)
    response = getattr(api_member, method)(url(world, name, kwargs), body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("invalid", {case.field: [case.message]})
    assert case.state(world) == before


# Stamping completion: the same on the agenda page, the action form and the API.


def set_status_on_the_page(world, client, api, action, status):
    client.post(url(world, "action_set_status", {"action_id": action.pk}), {"status": status})


def set_status_in_the_form(world, client, api, action, status):
    data = action_form(world, action, due_on=action.due_on.isoformat(), status=status)
    assert client.post(url(world, "action_edit", {"action_id": action.pk}), data).status_code == 302


def set_status_in_the_api(world, client, api, action, status):
    response = api.patch(
        url(world, "api-action-detail", {"pk": action.pk}), {"status": status}, content_type="application/json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("set_status", [set_status_on_the_page, set_status_in_the_form, set_status_in_the_api])
def test_done_stamps_completion_once_and_reopening_clears_it(world, client_for, api_member, set_status):
    client = client_for(world.member)
    action = old_action(world)
    set_status(world, client, api_member, action, "done")
    action.refresh_from_db()
    assert action.completed_at == NOW
    with time_machine.travel(datetime(2026, 11, 26, 9, tzinfo=UTC), tick=False):
        set_status(world, client, api_member, action, "done")  # still done: the first stamp stays
        action.refresh_from_db()
        assert action.completed_at == NOW
        set_status(world, client, api_member, action, "in_progress")
    action.refresh_from_db()
    assert (action.status, action.completed_at) == ("in_progress", None)


# Workflows with no API yet are service functions too: the page calls them, and so can
# the API when it gets them. Called directly, they keep their rules.


def test_editing_questions_keeps_a_statement_per_element_and_only_on_a_draft(world):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.member)
    product = questions(survey, QuestionKind.PERFORMANCE, Element.PRODUCT)
    before = list(survey.questions.values_list("pk", "text"))
    with pytest.raises(RuleViolation) as refusal:
        surveys.edit_questions(survey, texts={}, removed={q.pk for q in product}, added={})
    assert refusal.value.messages == ["Product needs at least one performance statement."]
    assert list(survey.questions.values_list("pk", "text")) == before

    surveys.edit_questions(
        survey, texts={product[0].pk: "  Reworded  "}, removed={product[1].pk}, added={Element.PRICE: "Fair"}
    )
    assert Question.objects.get(pk=product[0].pk).text == "Reworded"
    assert not Question.objects.filter(pk=product[1].pk).exists()
    assert [q.text for q in questions(survey, QuestionKind.PERFORMANCE, Element.PRICE)][-1] == "Fair"

    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.OPEN)
    survey.refresh_from_db()
    with pytest.raises(surveys.SurveyError):
        surveys.edit_questions(survey, texts={product[0].pk: "Late"}, removed=set(), added={})
    assert Question.objects.get(pk=product[0].pk).text == "Reworded"


def test_saving_the_schedule_sets_its_next_run_and_exactly_its_recipients(world):
    lead, member = world.membership(world.lead), world.membership(world.member)
    Membership.objects.filter(pk=lead.pk).update(receives_reports=True)
    schedule = ReportSchedule(frequency=Frequency.WEEKLY, weekday=0, send_at=time(8), is_active=True)
    reports.save_schedule(world.pmo, schedule, [member])
    schedule.refresh_from_db()
    assert (schedule.pmo, schedule.next_run_at is not None) == (world.pmo, True)
    assert set(world.pmo.memberships.filter(receives_reports=True)) == {member}


@pytest.mark.django_db(transaction=True)
def test_an_upsert_that_loses_a_race_to_create_updates_the_winner(world):
    """Two sync jobs upsert a new address at once: the loser's insert breaks the unique
    constraint, and it updates the stakeholder the winner created instead."""
    calls = []

    def other_job():
        Stakeholder.objects.create(pmo=world.pmo, name="Winner", email="new@corp.example")
        connection.close()

    def save(existing):
        calls.append(existing)
        if existing is None:
            # The other job commits its row, on its own connection, between our lookup and our insert.
            winner = threading.Thread(target=other_job)
            winner.start()
            winner.join()
            return register.create_stakeholder(world.pmo, {"name": "Loser", "email": "new@corp.example"})
        return register.update_stakeholder(existing, {"job_title": "Updated"})

    stakeholder, created = register.upsert_by_email(world.pmo, " NEW@corp.example ", save)
    assert (created, calls[0], stakeholder.name, stakeholder.job_title) == (False, None, "Winner", "Updated")
    assert list(world.pmo.stakeholders.filter(email="new@corp.example").values_list("name", flat=True)) == ["Winner"]
