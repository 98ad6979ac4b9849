"""The register's pages answer in a fixed number of queries, whatever the size of the register.

Each page gets one ceiling, the same for 10 and for 500 stakeholders: a page that loads
a related row per stakeholder (an N+1 query) breaks it at once.
"""

import pytest
from django.urls import reverse

from pmo5p.models import Role
from stakeholders.models import Segment, Stakeholder
from tests.factories import MembershipFactory, StakeholderFactory

SIZES = [10, 500]


@pytest.fixture
def populated(world, request):
    """`request.param` stakeholders in alpha, spread over 4 segments, 5 owners and every level."""
    count = request.param
    segments = [world.segment] + Segment.objects.bulk_create(
        Segment(pmo=world.pmo, name=f"Segment {i}") for i in range(3)
    )
    extra = [MembershipFactory(pmo=world.pmo, role=Role.MEMBER) for _ in range(2)]
    owners = [world.membership(world.lead), world.membership(world.member), *extra, None]
    Stakeholder.objects.bulk_create(
        Stakeholder(
            pmo=world.pmo,
            name=f"Stakeholder {i:03d}",
            email="" if i % 7 == 0 else f"s{i}@corp.example",
            job_title=f"Job {i % 11}",
            business_unit=f"Unit {i % 5}",
            segment=segments[i % 4] if i % 9 else None,
            owner=owners[i % 5],
            influence=1 + i % 5,
            interest=1 + (i // 5) % 5,
            is_active=i % 6 != 0,
        )
        for i in range(count - 1)  # Fiona is the last one.
    )
    # The other PMO's rows must neither show nor cost a query here.
    StakeholderFactory.create_batch(5, pmo=world.other_pmo, segment=world.other_segment)
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == count
    return {"segments": segments, "owners": owners}


def page_url(world, populated, page_name):
    slug = {"slug": world.pmo.slug}
    sid = {**slug, "stakeholder_id": Stakeholder.objects.filter(pmo=world.pmo, owner__isnull=False).first().pk}
    return {
        "list": reverse("stakeholder_list", kwargs=slug),
        "list_filtered_sorted": reverse("stakeholder_list", kwargs=slug)
        + f"?q=corp&segment={populated['segments'][1].pk}&active=true&sort=-influence",
        "list_by_owner_page_2": reverse("stakeholder_list", kwargs=slug)
        + f"?owner={populated['owners'][1].pk}&sort=segment&page=2",
        "grid": reverse("grid", kwargs=slug),
        "segment_list": reverse("segment_list", kwargs=slug),
        "detail": reverse("stakeholder_detail", kwargs=sid),
        "edit_form": reverse("stakeholder_edit", kwargs=sid),
        "overview": reverse("pmo_home", kwargs=slug),
    }[page_name]


# One ceiling per page: the count measured, plus a margin of at most two.
# Measured: session, user, membership and the PMO menu on every page, then the page's own.
MAX_QUERIES = {
    "list": 8 + 1,  # count, rows with segment and owner, segment and owner filter choices
    "list_filtered_sorted": 9 + 1,
    "list_by_owner_page_2": 9 + 1,
    "grid": 5 + 1,  # one query for the whole grid
    "segment_list": 6 + 1,  # segments with their counts, stakeholders without a segment
    "detail": 9,  # + the timeline: interactions, responses, maturity records; and their follow-up cases
    "edit_form": 8 + 1,  # segment and owner choices
    # The dashboard with no survey yet, with its engagement and follow-up cards (three queries
    # each; 23 measured); tests/test_dashboard*.py cover it with data.
    "overview": 23,
}


@pytest.mark.parametrize("populated", SIZES, indirect=True, ids=[f"{n}-stakeholders" for n in SIZES])
@pytest.mark.parametrize("page_name", list(MAX_QUERIES))
def test_page_query_count_does_not_grow(world, client, populated, page_name, django_assert_max_num_queries):
    url = page_url(world, populated, page_name)
    client.force_login(world.member)
    with django_assert_max_num_queries(MAX_QUERIES[page_name]):
        response = client.get(url)
    assert response.status_code == 200
    # The page shows real rows, so the ceiling is measured on a page that did the work.
    if page_name.startswith("list"):
        assert len(response.context["page"].object_list) > 0
    if page_name == "grid":
        assert response.context["total"] > 0
