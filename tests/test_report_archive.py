"""The archive shows a report's stored HTML only in a sandboxed frame of its own
(agenda.reports.views.report_frame), never inline in the page."""

from datetime import date

import pytest
from django.urls import reverse

from agenda.models import Action, AgendaReport
from agenda.reports import services as reports

SCRIPT = "<script>alert(document.cookie)</script>"
ONERROR = "<img src=x onerror=alert(document.cookie)>"


def a_report(pmo) -> AgendaReport:
    return AgendaReport.objects.create(
        pmo=pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )


@pytest.fixture
def hostile_report(world, monkeypatch):
    """A report built from hostile names (the PDF stubbed: the page is the point here)."""
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")
    world.pmo.name = f"PMO {SCRIPT}"
    world.pmo.save()
    Action.objects.create(
        pmo=world.pmo, title=f"Action {ONERROR}", element="people", due_on=date(2026, 11, 10), created_by=world.lead
    )
    return reports.build(a_report(world.pmo).pk)


def frame_url(pmo, report):
    return reverse("report_frame", kwargs={"slug": pmo.slug, "report_id": report.pk})


def detail_url(pmo, report):
    return reverse("report_detail", kwargs={"slug": pmo.slug, "report_id": report.pk})


def test_the_archive_page_holds_no_stored_html(world, client_for, hostile_report):
    client = client_for(world.viewer)
    for url in (detail_url(world.pmo, hostile_report), reverse("report_list", kwargs={"slug": world.pmo.slug})):
        page = client.get(url).content.decode()
        assert SCRIPT not in page and ONERROR not in page
        assert "<script>alert" not in page and "onerror=alert" not in page.replace("&lt;img src=x onerror=alert", "")
    page = client.get(detail_url(world.pmo, hostile_report))
    assert (
        f'<iframe class="report-frame" sandbox="" src="{frame_url(world.pmo, hostile_report)}"' in page.content.decode()
    )
    # The page itself needs no inline style, and keeps the strict policy.
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"


def test_stored_html_that_holds_a_script_stays_out_of_the_page(world, client_for, hostile_report):
    """Whatever the stored HTML holds (an older build, a restored database), the page does not inline it."""
    AgendaReport.objects.filter(pk=hostile_report.pk).update(html=f"<p>Stored</p>{SCRIPT}{ONERROR}")
    page = client_for(world.viewer).get(detail_url(world.pmo, hostile_report)).content.decode()
    assert "Stored" not in page
    assert SCRIPT not in page and ONERROR not in page


def policy(response) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split(";") if part.strip()
    }


def test_the_frame_serves_the_stored_html_sandboxed(world, client_for, hostile_report):
    response = client_for(world.viewer).get(frame_url(world.pmo, hostile_report))
    assert response.status_code == 200
    body = response.content.decode()
    assert hostile_report.html in body
    assert "PMO &lt;script&gt;alert(document.cookie)&lt;/script&gt;" in body
    assert "Action &lt;img src=x onerror=alert(document.cookie)&gt;" in body
    assert policy(response) == {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'self'"],
        "sandbox": [],
    }
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "no-store" in response["Cache-Control"]


def test_the_frame_of_a_report_not_built_is_not_found(world, client_for):
    building = a_report(world.pmo)
    assert client_for(world.viewer).get(frame_url(world.pmo, building)).status_code == 404
