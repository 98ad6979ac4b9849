"""A report's page shows the stored report in its sandboxed frame: Chromium draws it under
the frame's own policy, with its inline styles, and runs nothing the stored HTML holds."""

from datetime import date

import pytest
from playwright.sync_api import expect

from agenda.models import AgendaReport
from pmo5p.models import Role
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

# As an older build or a restored database might have stored it: the frame must run none of it.
STORED = (
    '<h1 style="color:#1f3a5f">Alpha PMO</h1>'
    '<p id="marker">nothing ran</p>'
    "<script>document.getElementById('marker').textContent = 'a script ran'; top.document.title = 'pwned';</script>"
    "<img src=\"x\" onerror=\"document.getElementById('marker').textContent = 'a handler ran'\">"
)


def test_the_report_page_draws_the_stored_report_in_a_frame_that_runs_nothing(signed_in_page, live_server):
    membership = MembershipFactory(
        role=Role.VIEWER, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="viewer@alpha.example"
    )
    report = AgendaReport.objects.create(
        pmo=membership.pmo,
        frequency="monthly",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 12, 1),
        status="ready",
        html=STORED,
        pdf=b"%PDF",
    )
    page = signed_in_page("viewer@alpha.example", PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/reports/{report.pk}/")

    frame = page.frame_locator("iframe.report-frame")
    heading = frame.get_by_role("heading", name="Alpha PMO")
    expect(heading).to_be_visible()
    expect(heading).to_have_css("color", "rgb(31, 58, 95)")  # the inline style applies in the frame
    expect(frame.locator("#marker")).to_have_text("nothing ran")
    page.wait_for_timeout(300)  # time for anything that would run
    expect(frame.locator("#marker")).to_have_text("nothing ran")
    assert page.title() != "pwned"
