""" "My week" and the digest answer in the same number of queries for a PMO of 5,000
stakeholders (1,000 of them the member's) and 50,000 interactions as for a small one, and
PostgreSQL reads the member's stakeholders through an index, not the whole register."""

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.digests import claim_due_digests
from agenda.models import Action, MaturityRecord
from agenda.my_week import CASES_SHOWN, OVERDUE_SHOWN, my_week
from pmo5p.models import Membership, OutgoingEmail, Role
from stakeholders.engagement import with_engagement
from stakeholders.models import (
    CaseStatus,
    FollowUpCase,
    Interaction,
    Stakeholder,
    Survey,
    Touchpoint,
    TouchpointOccurrence,
)
from tests.factories import MembershipFactory, PmoFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def build(pmo, mine: Membership, others: Membership, *, stakeholders: int, owned: int, interactions: int):
    """`stakeholders` in `pmo`, `owned` of them `mine`'s and the rest `others`', with their last
    touch set directly (as the register's writes keep it), `interactions` interactions spread
    over them, maturity records for one in five, and touchpoint dates and actions for both members."""
    people = Stakeholder.objects.bulk_create(
        Stakeholder(
            pmo=pmo,
            name=f"Stakeholder {n:05d}",
            email=f"s{n:05d}@big.example",
            owner=mine if n < owned else others,
            influence=1 + n % 5,
            interest=1 + (n * 7) % 5,
            # Spread from 0 to 400 days ago: some within their cadence, many overdue.
            last_touched_on=TODAY - timedelta(days=n % 400) if n % 10 else None,
        )
        for n in range(stakeholders)
    )
    made = Interaction.objects.bulk_create(
        Interaction(pmo=pmo, occurred_on=TODAY - timedelta(days=n % 400), summary=f"Talk {n}")
        for n in range(interactions)
    )
    through = Interaction.stakeholders.through
    through.objects.bulk_create(
        through(interaction_id=i.pk, stakeholder_id=people[n % len(people)].pk) for n, i in enumerate(made)
    )
    MaturityRecord.objects.bulk_create(
        MaturityRecord(pmo=pmo, stakeholder=s, stage=1 + n % 5, rationale="r", recorded_on=TODAY)
        for n, s in enumerate(people[::5])
    )
    for owner in (mine, others):
        for n in range(5):
            tp = Touchpoint.objects.create(
                pmo=pmo, purpose=f"Meeting {n}", element="people", owner=owner, starts_on=TODAY, at_time=time(9, n)
            )
            TouchpointOccurrence.objects.create(touchpoint=tp, pmo=pmo, on=TODAY - timedelta(days=n))
        Action.objects.bulk_create(
            Action(pmo=pmo, title=f"Action {n}", element="people", owner=owner, due_on=TODAY - timedelta(days=n))
            for n in range(10)
        )
    # Follow-up cases (issue 14): one per owned stakeholder of a detractor's group, open or not.
    survey = Survey.objects.create(pmo=pmo, title="Cases", closes_on=TODAY)
    FollowUpCase.objects.bulk_create(
        FollowUpCase(
            pmo=pmo,
            survey=survey,
            group_key=f"-:{n}",
            owner=mine if n % 2 else others,
            status=CaseStatus.OPEN if n % 3 else CaseStatus.RESOLVED,
            due_on=TODAY + timedelta(days=n % 20 - 10),
        )
        for n in range(stakeholders // 10)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def world(slug, *, stakeholders, owned, interactions):
    pmo = PmoFactory(slug=slug, name=f"{slug} PMO")
    mine = MembershipFactory(pmo=pmo, role=Role.MEMBER)
    others = MembershipFactory(pmo=pmo, role=Role.MEMBER)
    build(pmo, mine, others, stakeholders=stakeholders, owned=owned, interactions=interactions)
    return pmo, mine


def queries_of_page(client, pmo, membership) -> int:
    client.force_login(membership.user)
    url = reverse("my_week", kwargs={"slug": pmo.slug})
    client.get(url)  # the session and the visit, once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def queries_of_digest(membership) -> int:
    Membership.objects.filter(pk=membership.pk).update(
        digest_weekday=2, digest_time=time(11, 0), digest_next_at=NOW - timedelta(hours=1)
    )
    ContentType.objects.get_for_model(Membership)  # cached for the process after its first use
    with CaptureQueriesContext(connection) as captured:
        assert claim_due_digests() == 1
    return len(captured)


@time_machine.travel(NOW, tick=False)
def test_the_page_and_the_digest_ask_as_many_queries_at_5000_stakeholders_as_at_20(client):
    small, small_member = world("small", stakeholders=20, owned=10, interactions=40)
    large, large_member = world("large", stakeholders=5000, owned=1000, interactions=50_000)

    week = my_week(Membership.objects.select_related("pmo").get(pk=large_member.pk), TODAY)
    assert week.owned_count == 1000
    assert week.overdue_count > OVERDUE_SHOWN and len(week.overdue) == OVERDUE_SHOWN
    assert (week.dates_count, len(week.actions)) == (5, 10)
    assert week.cases_count > CASES_SHOWN and len(week.cases) == CASES_SHOWN

    small_page, large_page = queries_of_page(client, small, small_member), queries_of_page(client, large, large_member)
    assert large_page == small_page
    assert large_page <= 13  # session, user, membership, the visit, the five lists, the nav

    # Per digest: the claim, the five lists, the e-mail's row, the moment moved on; then the claim that finds none.
    assert queries_of_digest(large_member) == queries_of_digest(small_member) == 13
    assert OutgoingEmail.objects.count() == 2


def plan_of(queryset) -> str:
    with connection.cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return json.dumps(cursor.fetchone()[0])


@time_machine.travel(NOW, tick=False)
def test_the_members_stakeholders_are_read_through_an_index():
    if connection.vendor != "postgresql":
        pytest.skip("The plan is PostgreSQL's (DATABASE_URL).")
    large, member = world("large", stakeholders=5000, owned=1000, interactions=0)
    # A third PMO's register, so that the member's are a small share of the table.
    other, _ = world("other", stakeholders=5000, owned=100, interactions=0)
    owned = with_engagement(Stakeholder.objects.filter(pmo=large, owner=member, is_active=True), large, TODAY)
    plan = plan_of(owned.filter(touch_due_on__lt=TODAY).order_by("touch_due_on", "-influence", "name", "pk")[:50])
    # Django's index of the owner foreign key: no index of our own is needed (the plan names it).
    assert '"Index Name": "stakeholders_stakeholder_owner_id_' in plan, plan
