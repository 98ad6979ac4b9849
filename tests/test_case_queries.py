"""The follow-up case list at scale: as many queries for a PMO of 2,000 cases as for one of 10,
with each filter and on a later page, and PostgreSQL reads the PMO's cases through the index
case_pmo_status_due (PMO, status, due date), not a scan of every PMO's cases."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pmo5p.models import Role
from stakeholders.models import CaseStatus, FollowUpCase
from tests.factories import FollowUpCaseFactory, MembershipFactory, PmoFactory, SegmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
QUERIES = ["", "?owner=mine", "?owner=leads&status=any", "?element=people&page=2", "?status=resolved", "?segment=SEG"]
# Session, user, membership, the nav's PMOs; the count and the page; the filters' members and
# segments; the "any case at all" check when nothing matches. Measured: 8 at both sizes; the
# margin is one.
MAX_QUERIES = 8 + 1
# As a PMO's cases pile up over the years: most resolved or closed, one in twenty still open.
STATUSES = [CaseStatus.OPEN, CaseStatus.CONTACTED] + [CaseStatus.RESOLVED] * 32 + [CaseStatus.CLOSED] * 6


def base(slug):
    """A PMO, a member, three segments, three named cases and the survey of its group cases."""
    pmo = PmoFactory(slug=slug, name=f"{slug} PMO")
    member = MembershipFactory(pmo=pmo, role=Role.MEMBER)
    segments = [SegmentFactory(pmo=pmo, name=f"Segment {n}") for n in range(3)]
    # A few named cases (each its own survey and response), the rest groups of one survey.
    for n in range(3):
        FollowUpCaseFactory(of_pmo=pmo, owner=member if n % 2 else None, root_element="people")
    survey = FollowUpCaseFactory(of_pmo=pmo, group_key="-:people").survey
    return pmo, member, segments, survey


def group_case(world, n: int) -> FollowUpCase:
    pmo, member, segments, survey = world
    return FollowUpCase(
        pmo=pmo,
        survey=survey,
        group_key=f"{n}:people",
        segment=segments[n % 3],
        owner=member if n % 4 == 0 else None,
        root_element=["people", "price", "product"][n % 3],
        status=STATUSES[n % len(STATUSES)],
        closed_reason="Gone" if STATUSES[n % len(STATUSES)] == CaseStatus.CLOSED else "",
        due_on=TODAY + timedelta(days=n % 30 - 10),
    )


def analyse():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def world(slug, cases: int):
    made = base(slug)
    FollowUpCase.objects.bulk_create(group_case(made, n) for n in range(cases - 4))
    analyse()
    pmo, member, segments, _ = made
    return pmo, member, segments[0]


def queries(client, pmo, member, segment, query) -> tuple[int, list[str]]:
    client.force_login(member.user)
    url = reverse("case_list", kwargs={"slug": pmo.slug}) + query.replace("SEG", str(segment.pk))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), [q["sql"] for q in captured.captured_queries]


@time_machine.travel(NOW, tick=False)
def test_the_case_list_asks_as_many_queries_at_2000_cases_as_at_10(client):
    small = world("small", 10)
    large = world("large", 2000)
    assert FollowUpCase.objects.filter(pmo=large[0]).count() == 2000
    for query in QUERIES:
        at_10, _ = queries(client, *small, query)
        at_2000, _ = queries(client, *large, query)
        assert at_10 == at_2000 <= MAX_QUERIES, query


# Out of a transaction, so that VACUUM runs: the rows other tests wrote and rolled back leave
# dead entries in the indexes, which would weigh on the planner's choice as no real table's do.
@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOW, tick=False)
def test_the_case_list_reads_the_pmo_status_due_index(client):
    if connection.vendor != "postgresql":
        pytest.skip("The plan is PostgreSQL's (DATABASE_URL).")
    large, other = base("large"), base("other")
    # Another PMO's cases too, opened over the same years: the large one's are a third of the
    # table, and lie among the other's as cases opened over time do.
    FollowUpCase.objects.bulk_create(group_case(large if n % 3 == 0 else other, n) for n in range(6000))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE stakeholders_followupcase")
    large = (large[0], large[1], large[2][0])
    _, sql = queries(client, *large, "")
    (page,) = [q for q in sql if 'FROM "stakeholders_followupcase"' in q and "LIMIT" in q]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "case_pmo_status_due" in plan, plan
