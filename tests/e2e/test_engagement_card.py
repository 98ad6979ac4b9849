"""The dashboard's engagement card in Chromium: the index, its trend drawn by the page's
Chart.js with the same figures as its table, and the links to the relationships below target
(axe-core audits the page, as every e2e test's)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda.models import MaturityRecord
from pmo5p.domain import MaturityStage
from pmo5p.models import Role
from tests.factories import PASSWORD, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_engagement_card_draws_its_trend_and_links_the_drifted(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.VIEWER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="viewer@alpha.example"
    )
    pmo = membership.pmo
    today = timezone.localdate()
    # Manage closely (target Trust): one there for two months, one at Respect; a Monitor at Aware.
    there = StakeholderFactory(pmo=pmo, name="Tess Trusted", influence=5, interest=5)
    below = StakeholderFactory(pmo=pmo, name="Rob Respect", influence=5, interest=5)
    monitor = StakeholderFactory(pmo=pmo, name="Mo Monitor", influence=1, interest=1)
    StakeholderFactory(pmo=pmo, name="Nat New", influence=2, interest=2)
    for stakeholder, stage, days_ago in (
        (there, MaturityStage.RESPECT, 120),
        (there, MaturityStage.TRUST, 60),
        (below, MaturityStage.RESPECT, 10),
        (monitor, MaturityStage.AWARE, 200),
    ):
        MaturityRecord.objects.create(
            pmo=pmo, stakeholder=stakeholder, stage=stage, rationale="Seen", recorded_on=today - timedelta(days_ago)
        )

    page = signed_in_page("viewer@alpha.example", PASSWORD)
    page.get_by_role("link", name="Dashboard", exact=True).click()  # signing in lands on My week
    card = page.locator("#engagement")
    expect(card.locator('[data-figure="engagement-index"]')).to_have_text("50%")
    expect(card.locator('[data-figure="engagement-reached"]')).to_have_text(
        "2 of 4 relationships at or above their target"
    )
    expect(card.locator('[data-figure="engagement-counts"]')).to_have_text("1 below target · 1 not assessed")
    # Drawn: thirteen points, the last one today's index, as the table says. The text above
    # comes before the page's scripts at its end: wait until they have drawn the chart.
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('engagement-chart'))")
    drawn = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('engagement-chart'));"
        " return c && {labels: c.data.labels, data: c.data.datasets[0].data}; }"
    )
    assert drawn is not None and len(drawn["labels"]) == 13
    assert drawn["labels"][-1] == "Today" and drawn["data"][-1] == 50
    card.get_by_text("The index at each month end").click()
    expect(card.get_by_role("row", name="Today 50% 2 of 4 1")).to_be_visible()
    card.get_by_role("link", name="Rob Respect").click()
    expect(page.get_by_role("heading", name="Rob Respect")).to_be_visible()
