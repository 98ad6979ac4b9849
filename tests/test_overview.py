"""The PMO's home page: where the register stands."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pmo5p.models import Membership
from stakeholders.models import Stakeholder
from stakeholders.selectors import Quadrant
from tests.factories import SegmentFactory, StakeholderFactory


def home_url(world):
    return reverse("pmo_home", kwargs={"slug": world.pmo.slug})


def stat(html, label):
    """The figure shown under a card's label."""
    match = re.search(rf"{re.escape(label)}</div>\s*<div class=\"stat-value\">(\d+)</div>", html)
    assert match, label
    return int(match.group(1))


@pytest.fixture
def known_register(world):
    """Fiona (3,3, e-mail, no owner) plus a hand-made set; the expected figures are worked out below."""
    member = world.membership(world.member)
    lead = world.membership(world.lead)
    SegmentFactory(pmo=world.pmo, name="Sales")
    SegmentFactory(pmo=world.pmo, name="IT")
    # name, influence, interest, e-mail, owner
    for name, inf, intr, email, owner in [
        ("A", 5, 5, "", member),  # manage closely, no e-mail
        ("B", 4, 1, "b@corp.example", None),  # keep satisfied, no owner
        ("C", 2, 5, "c@corp.example", lead),  # keep informed
        ("D", 1, 1, "", None),  # monitor, no e-mail, no owner
        ("E", 4, 4, "e@corp.example", member),  # manage closely
    ]:
        StakeholderFactory(pmo=world.pmo, name=name, influence=inf, interest=intr, email=email, owner=owner)
    # Inactive: counted nowhere.
    StakeholderFactory(pmo=world.pmo, name="F", influence=5, interest=5, email="", owner=None, is_active=False)
    # The other PMO's: counted nowhere here.
    SegmentFactory(pmo=world.other_pmo, name="Beta extra")
    StakeholderFactory(pmo=world.other_pmo, name="G", influence=5, interest=5, email="", owner=None)


EXPECTED = {
    "Active stakeholders": 6,  # Fiona, A, B, C, D, E
    "Segments": 3,  # Finance, Sales, IT
    "Without an e-mail": 2,  # A, D
    "Without a relationship owner": 3,  # Fiona, B, D
}
EXPECTED_QUADRANTS = {
    Quadrant.MANAGE_CLOSELY: 2,  # A, E
    Quadrant.KEEP_SATISFIED: 1,  # B
    Quadrant.KEEP_INFORMED: 1,  # C
    Quadrant.MONITOR: 2,  # Fiona, D
}


def test_overview_shows_register_figures(world, client_for, known_register):
    response = client_for(world.viewer).get(home_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    for label, value in EXPECTED.items():
        assert stat(html, label) == value, label


def test_overview_context_figures(world, client_for, known_register):
    context = client_for(world.viewer).get(home_url(world)).context
    assert context["totals"] == {"active": 6, "inactive": 1, "without_email": 2, "without_owner": 3}
    assert context["segment_count"] == 3
    assert context["member_count"] == 3
    assert context["quadrants"] == list(EXPECTED_QUADRANTS.items())


def test_overview_shows_quadrant_counts(world, client_for, known_register):
    html = client_for(world.viewer).get(home_url(world)).content.decode()
    for quadrant, count in EXPECTED_QUADRANTS.items():
        match = re.search(
            rf"quadrant-{quadrant.value}\">\s*<div class=\"fw-semibold\">{quadrant.label}</div>\s*"
            r"<div class=\"stat-value\">(\d+)</div>",
            html,
        )
        assert match, quadrant
        assert int(match.group(1)) == count, quadrant
    assert f'href="{reverse("grid", kwargs={"slug": "alpha"})}"' in html


def test_overview_of_the_other_pmo_counts_only_its_own(world, client_for, known_register):
    response = client_for(world.outsider).get(reverse("pmo_home", kwargs={"slug": world.other_pmo.slug}))
    html = response.content.decode()
    # Bob Beta (3,3, e-mail, no owner) and G (5,5, no e-mail, no owner).
    assert stat(html, "Active stakeholders") == 2
    assert stat(html, "Segments") == 2
    assert stat(html, "Without an e-mail") == 1
    assert stat(html, "Without a relationship owner") == 2
    assert dict(response.context["quadrants"]) == {
        Quadrant.MANAGE_CLOSELY: 1,
        Quadrant.KEEP_SATISFIED: 0,
        Quadrant.KEEP_INFORMED: 0,
        Quadrant.MONITOR: 1,
    }


def test_overview_without_active_stakeholders(world, client_for):
    Stakeholder.objects.filter(pmo=world.pmo).update(is_active=False)
    response = client_for(world.viewer).get(home_url(world))
    html = response.content.decode()
    assert stat(html, "Active stakeholders") == 0
    assert stat(html, "Without an e-mail") == 0
    assert stat(html, "Without a relationship owner") == 0
    assert stat(html, "Segments") == 1
    assert "No active stakeholder yet." in html
    assert all(count == 0 for _, count in response.context["quadrants"])


def test_overview_offers_add_stakeholder_only_to_editors(world, client_for):
    create = f'href="{reverse("stakeholder_create", kwargs={"slug": "alpha"})}"'
    assert create not in client_for(world.viewer).get(home_url(world)).content.decode()
    assert create in client_for(world.member).get(home_url(world)).content.decode()


@pytest.mark.parametrize("role", ["lead", "member", "viewer"])
def test_visiting_the_overview_records_last_visit(world, client_for, role):
    user = getattr(world, role)
    assert Membership.objects.filter(last_visited_at__isnull=False).count() == 0
    before = timezone.now()
    response = client_for(user).get(home_url(world))
    after = timezone.now()

    assert response.status_code == 200
    visited = world.membership(user).last_visited_at
    assert visited is not None
    assert before <= visited <= after
    # Only this membership's visit is recorded.
    assert list(Membership.objects.filter(last_visited_at__isnull=False)) == [world.membership(user)]


def test_a_later_visit_moves_last_visit_forward(world, client_for):
    client = client_for(world.member)
    membership = world.membership(world.member)
    earlier = timezone.now() - timedelta(days=3)
    Membership.objects.filter(pk=membership.pk).update(last_visited_at=earlier)
    client.get(home_url(world))
    membership.refresh_from_db()
    assert membership.last_visited_at > earlier


def test_other_pages_do_not_record_a_visit(world, client_for):
    client_for(world.member).get(reverse("stakeholder_list", kwargs={"slug": "alpha"}))
    assert world.membership(world.member).last_visited_at is None


def test_outsider_gets_404_and_no_visit_is_recorded(world, client_for):
    response = client_for(world.outsider).get(home_url(world))
    assert response.status_code == 404
    assert Membership.objects.filter(last_visited_at__isnull=False).count() == 0
