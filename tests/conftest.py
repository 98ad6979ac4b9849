"""The shared test world: one PMO with a lead, a member and a viewer, and an outsider
who leads another PMO with data of its own."""

import os
from dataclasses import dataclass

import pytest
from django.core.cache import cache

from pmo5p.models import Membership, Pmo, Role, User
from stakeholders.models import Segment, Stakeholder
from tests.factories import MembershipFactory, PmoFactory, SegmentFactory, StakeholderFactory

pytest_plugins = ["tests.service_fixtures"]

# CI sets this so that a test skipped for a missing service or browser fails the run.
STRICT = os.environ.get("PMO5P_REQUIRE_ALL", "") == "1"


@dataclass
class World:
    pmo: Pmo
    lead: User
    member: User
    viewer: User
    segment: Segment
    stakeholder: Stakeholder
    other_pmo: Pmo
    outsider: User
    other_segment: Segment
    other_stakeholder: Stakeholder

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(pmo=self.pmo, user=user)


@pytest.fixture
def world(db) -> World:
    pmo = PmoFactory(name="Alpha PMO", slug="alpha")
    lead = MembershipFactory(pmo=pmo, role=Role.LEAD, user__email="lead@alpha.example").user
    member = MembershipFactory(pmo=pmo, role=Role.MEMBER, user__email="member@alpha.example").user
    viewer = MembershipFactory(pmo=pmo, role=Role.VIEWER, user__email="viewer@alpha.example").user
    segment = SegmentFactory(pmo=pmo, name="Finance")
    stakeholder = StakeholderFactory(pmo=pmo, segment=segment, name="Fiona Finance", email="fiona@corp.example")

    other_pmo = PmoFactory(name="Beta PMO", slug="beta")
    outsider = MembershipFactory(pmo=other_pmo, role=Role.LEAD, user__email="lead@beta.example").user
    other_segment = SegmentFactory(pmo=other_pmo, name="Beta segment")
    other_stakeholder = StakeholderFactory(pmo=other_pmo, segment=other_segment, name="Bob Beta")
    return World(pmo, lead, member, viewer, segment, stakeholder, other_pmo, outsider, other_segment, other_stakeholder)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the throttles (pmo5p.throttles, the survey rate
    limit) count in it, and one test's count must not leak into the next."""
    cache.clear()


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""

    def sign_in(user: User):
        client.force_login(user)
        return client

    return sign_in


_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return  # xdist workers report to the controller, which decides
    if STRICT and _skipped and exitstatus == 0:
        print(f"\nPMO5P_REQUIRE_ALL=1 and {len(_skipped)} test(s) were skipped: failing the run.")
        for nodeid in _skipped:
            print(f"  skipped: {nodeid}")
        session.exitstatus = 1
