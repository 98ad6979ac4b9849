"""The follow-up cases in the JSON API (docs/api.md, docs/follow-up.md): read only, every field
of a named and of an anonymous group's case, with nothing secret or naming anyone on a group's
case; the filters; and as many queries for 500 cases as for 10.

Tenancy and roles: tests/test_api_tenancy.py walks these routes with the others."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.models import Action
from pmo5p.models import Role
from stakeholders.models import CaseStatus, FollowUpCase, Interaction, RecoveryPulse
from tests.factories import FollowUpCaseFactory, MembershipFactory, PmoFactory, SegmentFactory, SurveyFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "survey",
    "stakeholder",
    "segment",
    "anonymous_group",
    "owner",
    "root_element",
    "suggested_element",
    "nps_before",
    "status",
    "opened_at",
    "due_on",
    "first_contact_at",
    "resolved_at",
    "closed_at",
    "closed_reason",
    "escalated_at",
    "overdue",
    "interactions",
    "actions",
    "pulse",
}
# 12:00 UTC on 25 November is already 26 November in Auckland (UTC+13): a case due on the
# 25th is overdue there, though not yet in London.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def list_url(pmo, query=""):
    return reverse("api-follow-up-case-list", kwargs={"slug": pmo.slug}) + query


def detail_url(case):
    return reverse("api-follow-up-case-detail", kwargs={"slug": case.pmo.slug, "pk": case.pk})


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def named(world):
    """A resolved named case with a contact, an action and an answered pulse with a comment."""
    owner = world.membership(world.member)
    case = FollowUpCaseFactory(
        for_stakeholder=world.stakeholder,
        score=2,
        owner=owner,
        segment=world.segment,
        root_element="price",
        suggested_element="product",
        nps_before=2,
        due_on=date(2026, 11, 20),
        status=CaseStatus.RESOLVED,
        first_contact_at=NOW - timedelta(days=4),
        resolved_at=NOW - timedelta(days=2),
    )
    interaction = Interaction.objects.create(pmo=world.pmo, kind="call", summary="Called", author=world.member)
    interaction.stakeholders.add(world.stakeholder)
    case.interactions.add(interaction)
    action = Action.objects.create(
        pmo=world.pmo,
        title="Fix invoices",
        element="price",
        due_on=date(2026, 12, 1),
        created_by=world.member,
        follow_up_case=case,
    )
    pulse = RecoveryPulse.new(
        case,
        world.stakeholder.email,
        score=8,
        comment="Much better, thanks Fiona",
        answered_at=NOW - timedelta(hours=1),
        created_at=NOW - timedelta(days=1),
    )
    pulse.save()
    return case, interaction, action, pulse


def test_a_named_case_field_by_field_and_no_pulse_secret(client, world, named):
    case, interaction, action, pulse = named
    client.force_login(world.viewer)  # every role reads
    body = client.get(detail_url(case)).json()
    assert body == {
        "id": case.pk,
        "survey": case.survey_id,
        "stakeholder": world.stakeholder.pk,
        "segment": world.segment.pk,
        "anonymous_group": False,
        "owner": world.membership(world.member).pk,
        "root_element": "price",
        "suggested_element": "product",
        "nps_before": 2,
        "status": "resolved",
        "opened_at": iso(case.opened_at),
        "due_on": "2026-11-20",
        "first_contact_at": iso(case.first_contact_at),
        "resolved_at": iso(case.resolved_at),
        "closed_at": None,
        "closed_reason": "",
        "escalated_at": None,
        "overdue": False,
        "interactions": [interaction.pk],
        "actions": [action.pk],
        "pulse": {"sent_at": iso(pulse.created_at), "answered_at": iso(pulse.answered_at), "score": 8},
    }
    text = client.get(detail_url(case)).content.decode()
    for secret in (pulse.token_seed, pulse.token_hash, pulse.token, "Much better"):
        assert secret not in text


def test_an_anonymous_group_case_names_nobody(client, world):
    survey = SurveyFactory(pmo=world.pmo, open=True, anonymous=True)
    case = FollowUpCaseFactory(
        survey=survey,
        group_key=f"{world.segment.pk}:people",
        segment=world.segment,
        root_element="people",
        suggested_element="people",
        due_on=date(2026, 11, 20),
        status=CaseStatus.CLOSED,
        closed_at=NOW,
        closed_reason="The group's issue was fixed in the release",
    )
    client.force_login(world.lead)
    body = client.get(detail_url(case)).json()
    assert set(body) == FIELDS
    assert body["anonymous_group"] is True
    assert body["stakeholder"] is None and body["nps_before"] is None
    assert body["segment"] == world.segment.pk and body["owner"] is None
    assert body["status"] == "closed" and body["closed_reason"] == "The group's issue was fixed in the release"
    assert body["interactions"] == [] and body["actions"] == [] and body["pulse"] is None
    text = client.get(detail_url(case)).content.decode()
    for name in (world.stakeholder.name, world.stakeholder.email):
        assert name not in text


def test_overdue_is_open_never_contacted_and_past_due_in_the_pmos_time_zone(client, world):
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save(update_fields=["time_zone"])
    due = date(2026, 11, 25)  # today in London and UTC; yesterday in Auckland
    late = FollowUpCaseFactory(for_stakeholder=world.stakeholder, due_on=due)
    contacted = FollowUpCaseFactory(
        for_stakeholder=world.stakeholder, due_on=due, status=CaseStatus.CONTACTED, first_contact_at=NOW
    )
    not_yet = FollowUpCaseFactory(for_stakeholder=world.stakeholder, due_on=due + timedelta(days=1))
    client.force_login(world.lead)
    with time_machine.travel(NOW, tick=False):
        results = client.get(list_url(world.pmo)).json()["results"]
    overdue = {row["id"]: row["overdue"] for row in results}
    assert overdue == {late.pk: True, contacted.pk: False, not_yet.pk: False}
    world.pmo.time_zone = "Europe/London"
    world.pmo.save(update_fields=["time_zone"])
    with time_machine.travel(NOW, tick=False):
        assert client.get(detail_url(late)).json()["overdue"] is False


def test_writes_are_not_offered(client, world, named):
    case = named[0]
    client.force_login(world.lead)
    for url in (list_url(world.pmo), detail_url(case)):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {"status": "closed"}, content_type="application/json")
            assert response.status_code == 405, (method, url)
            assert response.json()["error"]["code"] == "method_not_allowed"
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_the_filters(client, world):
    other_segment = SegmentFactory(pmo=world.pmo, name="Sales")
    owner = world.membership(world.member)
    a = FollowUpCaseFactory(
        for_stakeholder=world.stakeholder, owner=owner, root_element="people", segment=world.segment
    )
    b = FollowUpCaseFactory(
        for_stakeholder=world.stakeholder,
        root_element="price",
        segment=other_segment,
        status=CaseStatus.CONTACTED,
        first_contact_at=NOW,
    )
    c = FollowUpCaseFactory(
        for_stakeholder=world.stakeholder, root_element="people", status=CaseStatus.RESOLVED, resolved_at=NOW
    )
    client.force_login(world.viewer)

    def ids(query):
        response = client.get(list_url(world.pmo, query))
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {a.pk, b.pk, c.pk}  # every status, unlike the page's default
    assert ids("?status=contacted") == {b.pk}
    assert ids(f"?owner={owner.pk}") == {a.pk}
    assert ids("?element=people") == {a.pk, c.pk}
    assert ids(f"?segment={other_segment.pk}") == {b.pk}
    assert ids(f"?element=people&status=open&owner={owner.pk}&segment={world.segment.pk}") == {a.pk}
    for bad in ("?status=any", "?owner=mine", "?element=pizza", "?segment=1.5"):
        response = client.get(list_url(world.pmo, bad))
        assert response.status_code == 400, bad
        assert response.json()["error"]["fields"], bad


def test_another_pmos_cases_are_not_listed(client, world):
    FollowUpCaseFactory(for_stakeholder=world.other_stakeholder)
    mine = FollowUpCaseFactory(for_stakeholder=world.stakeholder)
    client.force_login(world.lead)
    assert [row["id"] for row in client.get(list_url(world.pmo)).json()["results"]] == [mine.pk]


def _cases(world, count):
    """`count` cases on one anonymous survey; every third with a contact, an action and a pulse."""
    survey = SurveyFactory(pmo=world.pmo, open=True, anonymous=True)
    member = MembershipFactory(pmo=world.pmo, role=Role.MEMBER)
    interaction = Interaction.objects.create(pmo=world.pmo, kind="call", summary="Called", author=world.lead)
    cases = FollowUpCase.objects.bulk_create(
        FollowUpCase(
            pmo=world.pmo,
            survey=survey,
            group_key=f"{n}:people",
            segment=world.segment,
            owner=member if n % 2 else None,
            root_element="people",
            status=CaseStatus.RESOLVED if n % 3 == 0 else CaseStatus.OPEN,
            due_on=date(2026, 11, 1) + timedelta(days=n % 40),
        )
        for n in range(count)
    )
    linked = cases[::3]
    FollowUpCase.interactions.through.objects.bulk_create(
        FollowUpCase.interactions.through(followupcase=case, interaction=interaction) for case in linked
    )
    Action.objects.bulk_create(
        Action(pmo=world.pmo, title="Fix", element="people", due_on=date(2027, 1, 1), follow_up_case=case)
        for case in linked
    )
    RecoveryPulse.objects.bulk_create(
        RecoveryPulse.new(case, "group@corp.example", score=7, answered_at=NOW) for case in linked
    )


@pytest.mark.parametrize("count", [10, 500])
def test_as_many_queries_for_500_cases_as_for_10(client, world, count):
    _cases(world, count)
    client.force_login(world.viewer)
    url = list_url(world.pmo, "?page_size=500")
    client.get(url)  # the session and the throttle's first use
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == count
    assert sum(1 for row in results if row["pulse"]) == len(range(0, count, 3))
    # Session, user, membership; the count; the cases with their pulses; their interactions;
    # their actions. Measured: 7 at both sizes.
    assert len(queries) <= 7, "\n".join(query["sql"] for query in queries.captured_queries)


# Out of a transaction, so that VACUUM runs (as in tests/test_case_queries.py).
@pytest.mark.django_db(transaction=True)
def test_a_status_filter_reads_the_pmo_status_due_index(client):
    if connection.vendor != "postgresql":
        pytest.skip("The plan is PostgreSQL's (DATABASE_URL).")
    pmos = [PmoFactory(slug=slug) for slug in ("large", "other")]
    viewer = MembershipFactory(pmo=pmos[0], role=Role.VIEWER).user
    surveys = [SurveyFactory(pmo=pmo, open=True, anonymous=True) for pmo in pmos]
    statuses = [CaseStatus.OPEN, CaseStatus.CONTACTED] + [CaseStatus.RESOLVED] * 38
    FollowUpCase.objects.bulk_create(
        FollowUpCase(
            pmo=pmos[n % 3 != 0],
            survey=surveys[n % 3 != 0],
            group_key=f"{n}:people",
            root_element="people",
            status=statuses[n % len(statuses)],
            due_on=date(2024, 1, 1) + timedelta(days=n % 700),
        )
        for n in range(6000)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE stakeholders_followupcase")
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(list_url(pmos[0], "?status=open")).status_code == 200
    (page,) = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "stakeholders_followupcase"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "case_pmo_status_due" in plan, plan
