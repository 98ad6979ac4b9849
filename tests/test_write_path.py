"""One write path: each rule is stated once (pmo5p/rules.py and the apps' service modules),
so the web form and the API (and, for the register, the spreadsheet import) refuse the same
bad input with the same message, and change nothing. Each case drives both with the same input."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from agenda.models import Action, Frequency, MaturityRecord, ReportSchedule, SelfAssessment
from agenda.reports import services as reports
from pmo5p.domain import Element
from pmo5p.models import ApiToken, Membership
from pmo5p.rules import RuleViolation
from stakeholders import register, touchpoints
from stakeholders.api import SegmentSerializer, StakeholderSerializer
from stakeholders.forms import SegmentForm, StakeholderForm
from stakeholders.models import (
    Interaction,
    Question,
    QuestionKind,
    Segment,
    Service,
    ServiceEvent,
    Stakeholder,
    Survey,
    SurveyStatus,
    Touchpoint,
)
from stakeholders.surveys import lifecycle as surveys
from tests.factories import SurveyFactory
from tests.helpers import assert_field_error
from tests.survey_helpers import questions
from tests.test_import import confirm, csv_bytes, upload_ok

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
}


# The register: every field the page can refuse (all but "active", a checkbox), on creating and
# on editing, each bad value as the page sends it and as an API client would (stakeholders/register.py
# words them once). A value may depend on the world.
LONG_EMAIL = "a" * 245 + "@corp.example"
OWN = "Choose a member of this PMO as the relationship owner."
STAGE = "Choose a stage from Unaware to Trust."
CADENCE = "Choose a cadence from 1 to 730 days, or leave it empty for their quadrant's default."
NO_REASON = "Say why this relationship's target differs from their quadrant's default."
STAKEHOLDER_BAD = [
    ("name", "blank", "   ", "   ", "Give the stakeholder's name."),
    ("name", "too long", "N" * 151, "N" * 151, "Keep the name to 150 characters or fewer (it has 151)."),
    ("email", "invalid", "not-an-address", "not-an-address", "Enter a valid e-mail address."),
    ("email", "too long", LONG_EMAIL, LONG_EMAIL, "Keep the e-mail address to 254 characters or fewer (it has 258)."),
    (
        "email",
        "taken",
        " FIONA@corp.example",
        "Fiona@Corp.example",
        "Fiona Finance already has this e-mail address in this PMO.",
    ),
    ("job_title", "too long", "J" * 151, "J" * 151, "Keep the job title to 150 characters or fewer (it has 151)."),
    (
        "business_unit",
        "too long",
        "B" * 151,
        "B" * 151,
        "Keep the business unit to 150 characters or fewer (it has 151).",
    ),
    (
        "segment",
        "of another PMO",
        lambda w: w.other_segment.pk,
        lambda w: w.other_segment.pk,
        "Choose one of this PMO's segments.",
    ),
    ("segment", "not a number", "abc", "abc", "Choose one of this PMO's segments."),
    ("influence", "out of range", "9", 9, "Choose an influence from 1 (very low) to 5 (very high)."),
    ("influence", "blank", "", None, "Choose an influence from 1 (very low) to 5 (very high)."),
    ("interest", "not a level", "high", "high", "Choose an interest from 1 (very low) to 5 (very high)."),
    ("owner", "of another PMO", lambda w: other_membership(w).pk, "lead@beta.example", OWN),
    ("owner", "not a member", "999999", "nobody@alpha.example", OWN),
    ("notes", "too long", "x" * 5001, "x" * 5001, "Keep the notes to 5,000 characters or fewer (it has 5001)."),
    # The engagement plan (issue 13): a target below Unaware or above Trust, a cadence of 0 days or over 730.
    ("target_stage", "below Unaware", "0", 0, STAGE),
    ("target_stage", "above Trust", "6", 6, STAGE),
    ("target_stage", "a word", "trust", "trust", STAGE),
    ("cadence_days", "0 days", "0", 0, CADENCE),
    ("cadence_days", "over two years", "731", 731, CADENCE),
    ("cadence_days", "negative", "-5", -5, CADENCE),
    ("target_reason", "too long", "r" * 301, "r" * 301, "Keep the reason to 300 characters or fewer (it has 301)."),
]
SEGMENT_BAD = [
    ("name", "blank", "   ", "   ", "Give the segment a name."),
    ("name", "too long", "S" * 81, "S" * 81, "Keep the segment's name to 80 characters or fewer (it has 81)."),
    ("name", "taken", "FINANCE", "FINANCE", "This PMO has a segment with this name already."),
    (
        "description",
        "too long",
        "d" * 1001,
        "d" * 1001,
        "Keep the description to 1,000 characters or fewer (it has 1001).",
    ),
]
KINDS = "Choose a kind: meeting, workshop, newsletter, report, showcase, escalation or other."
INTERACTION_BAD = [
    ("occurred_on", "blank", "", "", "Give the date it happened."),
    ("occurred_on", "not a date", "2026-02-31", "2026-02-31", "Enter a date, e.g. 2026-11-25."),
    ("kind", "unknown", "party", "party", KINDS),
    ("stakeholders", "none", [], [], "Choose at least one stakeholder."),
    (
        "stakeholders",
        "of another PMO",
        lambda w: [w.other_stakeholder.pk],
        lambda w: [w.other_stakeholder.pk],
        "Choose stakeholders of this PMO.",
    ),
    ("elements", "unknown", ["product", "pizza"], ["product", "pizza"], "Choose among the five P elements."),
    ("sentiment", "out of range", "3", 3, "Choose a sentiment from −2 to +2."),
    ("summary", "blank", "   ", "   ", "Summarise what happened, in a sentence or two."),
    ("summary", "too long", "x" * 2001, "x" * 2001, "Keep the summary to 2,000 characters or fewer (it has 2001)."),
]


def given(value, world):
    return value(world) if callable(value) else value


def other_membership(world):
    return Membership.objects.get(pmo=world.other_pmo, user=world.outsider)


def sam(world):
    return Stakeholder.objects.create(pmo=world.pmo, name="Sam", email="sam@corp.example")


def stakeholder_page(name, field, bad):
    def web(w):
        kwargs = {"stakeholder_id": sam(w).pk} if name == "stakeholder_edit" else {}
        data = {"name": "Sam", "email": "sam@corp.example", "influence": "3", "interest": "3", "is_active": "on"}
        return name, kwargs, {**data, field: given(bad, w)}

    return web


def stakeholder_api(editing, field, bad):
    def api(w):
        if editing:
            return "patch", "api-stakeholder-detail", {"pk": sam(w).pk}, {field: given(bad, w)}
        return "post", "api-stakeholder-list", {}, {"name": "Sam", "email": "sam@corp.example", field: given(bad, w)}

    return api


def segment_page(name, field, bad):
    def web(w):
        kwargs = {"segment_id": Segment.objects.create(pmo=w.pmo, name="Sales").pk} if name == "segment_edit" else {}
        return name, kwargs, {"name": "Sales", "description": "", field: bad}

    return web


def segment_api(editing, field, bad):
    def api(w):
        if editing:
            segment = Segment.objects.create(pmo=w.pmo, name="Sales")
            return "patch", "api-segment-detail", {"pk": segment.pk}, {field: bad}
        return "post", "api-segment-list", {}, {"name": "Sales", field: bad}

    return api


def logged(world):
    return register.create_interaction(
        world.pmo,
        world.member,
        {"summary": "Met", "stakeholders": [world.stakeholder], "occurred_on": date(2026, 11, 2)},
    )


def interaction_page(name, field, bad):
    def web(w):
        kwargs = {"interaction_id": logged(w).pk} if name == "interaction_edit" else {}
        data = {"occurred_on": "2026-11-20", "kind": "workshop", "stakeholders": [w.stakeholder.pk], "sentiment": "1"}
        return name, kwargs, {**data, "summary": "Met", field: given(bad, w)}

    return web


def interaction_api(editing, field, bad):
    def api(w):
        if editing:
            return "patch", "api-interaction-detail", {"pk": logged(w).pk}, {field: given(bad, w)}
        body = {"occurred_on": "2026-11-20", "kind": "workshop", "stakeholders": [w.stakeholder.pk], "summary": "Met"}
        return "post", "api-interaction-list", {}, {**body, field: given(bad, w)}

    return api


def register_state(world):
    return [
        list(model.objects.order_by("pk").values())
        for model in (Stakeholder, Segment, Interaction, Interaction.stakeholders.through)
    ]


for thing, bad_values, page, api, pages in [
    ("stakeholder", STAKEHOLDER_BAD, stakeholder_page, stakeholder_api, ("stakeholder_create", "stakeholder_edit")),
    ("segment", SEGMENT_BAD, segment_page, segment_api, ("segment_create", "segment_edit")),
    ("interaction", INTERACTION_BAD, interaction_page, interaction_api, ("interaction_create", "interaction_edit")),
]:
    for page_name in pages:
        editing = page_name.endswith("_edit")
        for field, what, web_value, api_value, message in bad_values:
            CASES[f"{thing} {'edited' if editing else 'created'}: {field} {what}"] = Case(
                web=page(page_name, field, web_value),
                api=api(editing, field, api_value),
                field=field,
                message=message,
                state=register_state,
            )


# A target of their own needs its reason, on creating and on editing, whoever writes it.
for page_name in ("stakeholder_create", "stakeholder_edit"):
    editing = page_name.endswith("_edit")
    CASES[f"stakeholder {'edited' if editing else 'created'}: own target without a reason"] = Case(
        web=lambda w, page_name=page_name: (
            (web := stakeholder_page(page_name, "target_stage", "5")(w))[0],
            web[1],
            {**web[2], "target_reason": "  "},
        ),
        api=lambda w, editing=editing: (
            (api := stakeholder_api(editing, "target_stage", 5)(w))[0],
            api[1],
            api[2],
            {**api[3], "target_reason": "  "},
        ),
        field="target_reason",
        message=NO_REASON,
        state=register_state,
    )


# The service catalogue (stakeholders/catalogue.py): its page (agenda/catalogue/) and the API refuse in
# its words; the import reads the same cells (tests/test_catalogue_import.py).


def service_state(world):
    return [list(model.objects.order_by("pk").values()) for model in (Service, Service.segments.through, ServiceEvent)]


def service_case(field, message, web, api):
    """A new service refused: `web` and `api` are the bad values on top of a valid service."""

    def page(w):
        Service.objects.get_or_create(pmo=w.pmo, name="Help desk")
        return "service_create", {}, {"name": "Coaching", "status": "live", "level_now": "1", "level_target": "2",
                                      **web(w)}  # fmt: skip

    def call(w):
        Service.objects.get_or_create(pmo=w.pmo, name="Help desk")
        return "post", "api-service-list", {}, {"name": "Coaching", **api(w)}

    return Case(web=page, api=call, field=field, message=message, state=service_state)


CASES.update(
    {
        "service created: name taken in another case": service_case(
            "name",
            "This PMO has a service with this name already: choose another name.",
            lambda w: {"name": "HELP DESK"},
            lambda w: {"name": "help desk"},
        ),
        "service created: another PMO's segment": service_case(
            "segments",
            "Choose segments of this PMO.",
            lambda w: {"segments": [w.other_segment.pk]},
            lambda w: {"segments": [w.other_segment.pk]},
        ),
        "service created: another PMO's member as its owner": service_case(
            "owner",
            "Choose a member of this PMO as the service's owner.",
            lambda w: {"owner": Membership.objects.get(user=w.outsider).pk},
            lambda w: {"owner": w.outsider.email},
        ),
        "service created: a target below the level now, not confirmed": service_case(
            "level_target",
            "The target (Standard) is below the level now (Strategic). Confirm that the service is to be scaled "
            "down, or choose a higher target.",
            lambda w: {"level_now": "4", "level_target": "2"},
            lambda w: {"level_now": 4, "level_target": 2},
        ),
    }
)


def touchpoint_case(field, message, web_changes, api_changes) -> Case:
    """A touchpoint planned on the page and through the API (stakeholders/touchpoints.py)."""

    def page(w):
        data = {
            "purpose": "Steering committee",
            "starts_on": "2026-12-01",
            "at_time": "09:00",
            "duration_minutes": "60",
            "channel": "meeting",
            "element": "people",
            "owner": str(Membership.objects.get(pmo=w.pmo, user=w.member).pk),
            "stakeholders": [str(w.stakeholder.pk)],
            "segment": "",
            "recurrence": "monthly",
            "until": "2027-12-01",
            "notes": "",
        }
        return "touchpoint_create", {}, {**data, **web_changes(w)}

    def call(w):
        body = {
            "purpose": "Steering committee",
            "starts_on": "2026-12-01",
            "element": "people",
            "stakeholders": [w.stakeholder.pk],
            "recurrence": "monthly",
            "until": "2027-12-01",
        }
        return "post", "api-touchpoint-list", {}, {**body, **api_changes(w)}

    return Case(web=page, api=call, field=field, message=message, state=lambda w: Touchpoint.objects.count())


CASES.update(
    {
        "touchpoint for a stakeholder of another PMO": touchpoint_case(
            "stakeholders",
            touchpoints.OTHER_PMO_STAKEHOLDERS,
            lambda w: {"stakeholders": [str(w.other_stakeholder.pk)]},
            lambda w: {"stakeholders": [w.other_stakeholder.pk]},
        ),
        "touchpoint for a segment of another PMO": touchpoint_case(
            "segment",
            touchpoints.OTHER_PMO_SEGMENT,
            lambda w: {"stakeholders": [], "segment": str(w.other_segment.pk)},
            lambda w: {"stakeholders": [], "segment": w.other_segment.pk},
        ),
        "touchpoint owned by another PMO's member": touchpoint_case(
            "owner",
            touchpoints.NO_OWNER,
            lambda w: {"owner": str(Membership.objects.get(user=w.outsider).pk)},
            lambda w: {"owner": w.outsider.email},
        ),
        "touchpoint recurring beyond five years": touchpoint_case(
            "until",
            "A recurrence runs at most five years: from 1 December 2026, until 1 December 2031 at the latest.",
            lambda w: {"until": "2031-12-02"},
            lambda w: {"until": "2031-12-02"},
        ),
        "touchpoint recurring without end": touchpoint_case(
            "until",
            touchpoints.NEVER_ENDS.format(latest=date(2031, 12, 1)),
            lambda w: {"until": ""},
            lambda w: {"until": None},
        ),
    }
)


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


# The import reads the same values in the same words, and so do the register's functions called
# directly: a rule is stated once, in stakeholders/register.py.

WORDS = {(field, what): message for field, what, _, _, message in STAKEHOLDER_BAD}
IMPORT_BAD = [
    ("Name", "   ", WORDS["name", "blank"]),
    ("Name", "N" * 151, WORDS["name", "too long"]),
    ("E-mail", "not-an-address", WORDS["email", "invalid"]),
    ("E-mail", LONG_EMAIL, WORDS["email", "too long"]),
    ("Job title", "J" * 151, WORDS["job_title", "too long"]),
    ("Business unit", "B" * 151, WORDS["business_unit", "too long"]),
    ("Influence", "9", WORDS["influence", "out of range"]),
    ("Interest", "very much", WORDS["interest", "not a level"]),
    ("Owner", "lead@beta.example", OWN),
    ("Notes", "x" * 5001, WORDS["notes", "too long"]),
    ("Target maturity", "0", STAGE),
    ("Target maturity", "6", STAGE),
    ("Target maturity", "Best friends", STAGE),
    ("Contact every (days)", "0", CADENCE),
    ("Contact every (days)", "731", CADENCE),
    ("Contact every (days)", "monthly", CADENCE),
]


@pytest.mark.parametrize(("column", "cell", "message"), IMPORT_BAD, ids=[f"{c} {m}" for c, _, m in IMPORT_BAD])
def test_the_import_refuses_a_cell_in_the_words_of_the_page_and_the_api(world, client_for, column, cell, message):
    row = {"Name": "Ann", "E-mail": "ann@corp.example", column: cell}
    job = upload_ok(client_for(world.member), world.pmo, csv_bytes([list(row), list(row.values())]))
    ((number, action, *_shown, errors),) = job.preview["rows"]
    assert (action, errors) == ("invalid", [[column, message]])


def test_the_import_asks_a_reason_for_an_own_target_and_takes_stages_by_name(world, client_for):
    header = ["Name", "E-mail", "Target maturity", "Why this target", "Contact every (days)"]
    rows = [["Ann", "ann@corp.example", "Trust", "", "14"], ["Bo", "bo@corp.example", " respect ", "Sponsor", "30.0"]]
    client = client_for(world.member)
    job = upload_ok(client, world.pmo, csv_bytes([header, *rows]))
    ann, bo = job.preview["rows"]
    assert (ann[1], ann[4]) == ("invalid", [["Why this target", NO_REASON]])
    assert bo[1] == "create"
    # The reason given, the row goes through, as the page and the API take it.
    rows[0][3] = "Chairs the board"
    confirm(client, upload_ok(client, world.pmo, csv_bytes([header, *rows])))
    saved = {
        s.name: (s.target_stage, s.target_reason, s.cadence_days) for s in Stakeholder.objects.filter(pmo=world.pmo)
    }
    assert saved["Ann"] == (5, "Chairs the board", 14)
    assert saved["Bo"] == (4, "Sponsor", 30)


def test_the_import_creates_a_segment_by_the_rules_of_the_segment_form(world, client_for):
    content = csv_bytes([["Name", "E-mail", "Segment"], ["Ann", "ann@corp.example", "S" * 81]])
    job = upload_ok(client_for(world.member), world.pmo, content, create_segments=True)
    assert job.preview["rows"][0][4] == [
        ["Segment", {f: m for f, w, _, _, m in SEGMENT_BAD if w == "too long"}["name"]]
    ]


def test_the_import_matches_segment_names_as_the_register_compares_them(world, client_for):
    """The register's names are unique in lower case (the segment's unique constraint): "Straße"
    and "STRASSE" are two names, which case-folding would have made one."""
    Segment.objects.create(pmo=world.pmo, name="Straße")
    content = csv_bytes([["Name", "E-mail", "Segment"], ["Ann", "ann@corp.example", "STRASSE"]])
    job = upload_ok(client_for(world.member), world.pmo, content)
    assert [message for _, message in job.preview["rows"][0][4]] == [
        "This PMO has no segment “STRASSE”. Correct the name, or tick “Create missing segments” when you upload the file."
    ]
    job = upload_ok(
        client_for(world.member),
        world.pmo,
        csv_bytes([["Name", "E-mail", "Segment"], ["Ann", "ann@corp.example", "straße"]]),
    )
    assert job.preview["rows"][0][1] == "create"


def test_the_register_keeps_a_stakeholder_to_its_pmo_whoever_calls_it(world):
    before = register_state(world)
    with pytest.raises(ValidationError) as refusal:
        register.create_stakeholder(
            world.pmo, {"name": "Ann", "segment": world.other_segment, "owner": other_membership(world), "influence": 0}
        )
    assert refusal.value.message_dict == {
        "segment": ["Choose one of this PMO's segments."],
        "owner": [OWN],
        "influence": [WORDS["influence", "out of range"]],
    }
    with pytest.raises(ValidationError) as refusal:
        register.update_stakeholder(world.stakeholder, {"name": " ", "segment": world.other_segment})
    assert refusal.value.message_dict == {
        "name": [WORDS["name", "blank"]],
        "segment": ["Choose one of this PMO's segments."],
    }
    with pytest.raises(ValidationError) as refusal:
        register.create_interaction(
            world.pmo, world.member, {"summary": "Met", "stakeholders": [world.other_stakeholder]}
        )
    assert refusal.value.message_dict == {"stakeholders": ["Choose stakeholders of this PMO."]}
    assert register_state(world) == before


# A name or address taken between the check and the write (another user, at the same moment):
# the database's unique constraint refuses it, in the rule's words, not with a server error.


def taken_meanwhile(owner, check, clash):
    """`check` of `owner`, after which someone else takes the value: `clash(world, value)`."""
    original = getattr(owner, check)

    def check_then_taken(self, *args):
        value = original(self, *args)
        clash(value)
        return value

    return check_then_taken


def quentin_takes(world):
    return lambda email: Stakeholder.objects.create(pmo=world.pmo, name="Quick Quentin", email=email)


def sales_taken(world):
    return lambda name: Segment.objects.create(pmo=world.pmo, name=name.upper())


def test_an_address_taken_meanwhile_is_refused_next_to_the_field(world, client_for, monkeypatch):
    monkeypatch.setattr(
        StakeholderForm, "clean_email", taken_meanwhile(StakeholderForm, "clean_email", quentin_takes(world))
    )
    response = client_for(world.member).post(
        url(world, "stakeholder_create", {}),
        stakeholder_page("stakeholder_create", "email", "ann@corp.example")(world)[2],
    )
    assert_field_error(response, "email", "Quick Quentin already has this e-mail address in this PMO.")
    assert not Stakeholder.objects.filter(name="Sam").exists()


def test_an_address_taken_meanwhile_is_refused_by_the_api(world, api_member, monkeypatch):
    validate = taken_meanwhile(StakeholderSerializer, "validate_email", quentin_takes(world))
    monkeypatch.setattr(StakeholderSerializer, "validate_email", validate)
    body = {"name": "Sam", "email": "sam@corp.example"}
    response = api_member.post(url(world, "api-stakeholder-list", {}), body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {
        "email": ["Quick Quentin already has this e-mail address in this PMO."]
    }
    assert not Stakeholder.objects.filter(name="Sam").exists()


def test_a_segment_name_taken_meanwhile_is_refused_on_the_page_and_by_the_api(
    world, client_for, api_member, monkeypatch
):
    monkeypatch.setattr(SegmentForm, "clean_name", taken_meanwhile(SegmentForm, "clean_name", sales_taken(world)))
    response = client_for(world.member).post(url(world, "segment_create", {}), {"name": "Sales", "description": ""})
    assert_field_error(response, "name", "This PMO has a segment with this name already.")
    monkeypatch.setattr(
        SegmentSerializer, "validate_name", taken_meanwhile(SegmentSerializer, "validate_name", sales_taken(world))
    )
    response = api_member.post(url(world, "api-segment-list", {}), {"name": "Sales"}, content_type="application/json")
    assert response.json()["error"]["fields"] == {"name": ["This PMO has a segment with this name already."]}
    assert sorted(world.pmo.segments.values_list("name", flat=True)) == ["Finance", "SALES"]


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
