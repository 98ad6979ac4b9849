"""Every form of the agenda app filled in and submitted in Chromium, with valid data: the
self-assessment (whose date a browser could not read: it came as 26/11/2026), maturity,
suggestions adopted, actions and their status, incidents, the report schedule, the
subscription, "Send now" and resending a delivery. Each journey checks what was saved and
what the page then shows; axe checks every page on the way (tests/e2e/axe.py)."""

import re
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda.models import Action, AgendaReport, Incident, MaturityRecord, ReportDelivery, ReportSchedule, SelfAssessment
from pmo5p.models import Membership, OutgoingEmail, Role
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {
    "self_assessment_new",
    "maturity_new",
    "suggestion_adopt",
    "action_create",
    "action_edit",
    "action_set_status",
    "action_delete",
    "incident_create",
    "incident_edit",
    "incident_delete",
    "report_schedule",
    "report_subscription",
    "report_send_now",
    "delivery_resend",
}

SHOTS = Path(tempfile.gettempdir()) / "shots"  # for people to look at; not asserted


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def rate(page, element: str, label: str) -> None:
    """Click a rating of the self-assessment, as a person does: on its button-like label."""
    section = page.get_by_role("region", name=element, exact=True)
    section.locator("label", has_text=label).click()
    expect(section.get_by_role("radio", name=label)).to_be_checked()


@pytest.fixture
def alpha():
    """A PMO with its lead and a member, a segment and two stakeholders, one influential."""
    lead = MembershipFactory(
        role=Role.LEAD,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        user__email="lead@alpha.example",
        user__name="Lea Lead",
    )
    pmo = lead.pmo
    member = MembershipFactory(pmo=pmo, role=Role.MEMBER, user__email="member@alpha.example", user__name="Max Member")
    finance = SegmentFactory(pmo=pmo, name="Finance")
    grace = StakeholderFactory(pmo=pmo, segment=finance, name="Grace Jensen", influence=5, interest=4)
    StakeholderFactory(pmo=pmo, segment=finance, name="Otto Other", influence=2, interest=2)
    return pmo, lead, member, grace


def test_a_self_assessment_is_recorded_with_the_date_the_form_shows(alpha, signed_in_page):
    pmo, _, member, _ = alpha
    today = timezone.localdate()
    page = signed_in_page(member.user.email, PASSWORD)
    page.get_by_role("link", name="Assessments", exact=True).click()
    page.get_by_role("link", name="New self-assessment").click()
    date_field = page.get_by_label("Date of the assessment")
    # The browser shows today's date: it could read the value the form gave it.
    expect(date_field).to_have_value(today.isoformat())

    ratings = {
        "Product": "4 · Good",
        "Physical Evidence": "3 · Adequate",
        "People": "5 · Excellent",
        "Process": "2 · Weak",
    }
    for element, label in ratings.items():
        rate(page, element, label)
    page.get_by_label("Evidence for Product").fill("Steering committees cite our dashboards")
    # Price is left unrated: the form comes back with the message, and what was chosen stays.
    page.get_by_role("button", name="Record self-assessment").click()
    expect(page.get_by_text("Rate Price from 1 (poor) to 5 (excellent).")).to_be_visible()
    expect(date_field).to_have_value(today.isoformat())
    expect(
        page.get_by_role("region", name="People", exact=True).get_by_role("radio", name="5 · Excellent")
    ).to_be_checked()
    expect(page.get_by_label("Evidence for Product")).to_have_value("Steering committees cite our dashboards")
    assert not SelfAssessment.objects.exists()

    rate(page, "Price", "1 · Poor")
    shot(page, "self-assessment-filled")
    page.get_by_role("button", name="Record self-assessment").click()
    expect(page.get_by_text("Self-assessment recorded.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/pmo/alpha/assessments/$"))
    saved = {row.element: (row.rating, row.assessed_on) for row in SelfAssessment.objects.filter(pmo=pmo)}
    assert saved == {
        "product": (4, today),
        "physical_evidence": (3, today),
        "price": (1, today),
        "people": (5, today),
        "process": (2, today),
    }
    history = page.locator("table").filter(has_text="Evidence")
    expect(history.get_by_role("row")).to_have_count(6)  # the header and one row per P
    expect(history.get_by_text("Steering committees cite our dashboards")).to_be_visible()


def test_maturity_then_its_suggestion_adopted_edited_set_done_and_deleted(alpha, signed_in_page):
    pmo, _, member, grace = alpha
    today = timezone.localdate()
    page = signed_in_page(member.user.email, PASSWORD)

    # Maturity: Aware, for an influential stakeholder, puts her at risk.
    page.get_by_role("link", name="Stakeholders", exact=True).click()
    page.get_by_role("link", name="Grace Jensen").click()
    page.get_by_role("link", name="Record maturity").click()
    expect(page.get_by_label("Date")).to_have_value(today.isoformat())
    page.get_by_label("Aware", exact=True).check()
    page.get_by_label("Rationale").fill("Reads the newsletter, never came to a showcase")
    page.get_by_role("button", name="Record stage").click()
    expect(page.get_by_text("Grace Jensen: Aware recorded.")).to_be_visible()
    record = MaturityRecord.objects.get(stakeholder=grace)
    assert (record.stage, record.recorded_on, record.author_id) == (2, today, member.user_id)

    # The suggestion that follows from it, adopted: it opens as an action to adjust.
    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_role("link", name="Suggestions", exact=True).click()
    suggestion = page.get_by_role("listitem").filter(has_text="Grace Jensen")
    expect(suggestion).to_have_count(1)
    suggestion.get_by_role("button", name="Add to agenda").click()
    expect(page.get_by_text("Added to the agenda. Adjust the owner, due date and details, then save.")).to_be_visible()
    adopted = Action.objects.get(pmo=pmo)
    assert adopted.suggestion_key and list(adopted.target_stakeholders.all()) == [grace]
    expect(page.get_by_label("Due date")).to_have_value((today + timedelta(days=30)).isoformat())

    # Edited: a nearer due date and a title of our own.
    due = today + timedelta(days=14)
    page.get_by_label("Title").fill("Invite Grace to the next showcase")
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_label("Status").select_option("In progress")
    page.get_by_role("button", name="Save action").click()
    expect(page.get_by_text("“Invite Grace to the next showcase” saved.")).to_be_visible()
    adopted.refresh_from_db()
    assert (adopted.title, adopted.due_on, adopted.status) == ("Invite Grace to the next showcase", due, "in_progress")
    expect(page.get_by_text(f"due {due.day} {due:%b %Y}")).to_be_visible()
    page.get_by_role("link", name="Suggestions", exact=True).click()
    expect(page.get_by_role("listitem").filter(has_text="Grace Jensen")).to_have_count(0)  # adopted: not proposed again

    # A new action of our own, with a target segment.
    page.get_by_role("link", name="Actions", exact=True).click()
    page.get_by_role("link", name="New action").click()
    expect(page.get_by_label("Due date")).to_have_value((today + timedelta(days=30)).isoformat())
    page.get_by_label("Title").fill("Quarterly benefits review with Finance")
    page.get_by_label("P element").select_option("Physical Evidence")
    page.get_by_label("Problem it addresses").select_option("The wrong information")
    page.get_by_label("Owner").select_option("Lea Lead")
    page.get_by_label("Due date").fill((today + timedelta(days=60)).isoformat())
    page.get_by_label("Finance").check()
    page.get_by_label("Expected effect").fill("Finance sees the benefits the PMO tracks")
    page.get_by_role("button", name="Save action").click()
    expect(page.get_by_text("“Quarterly benefits review with Finance” saved.")).to_be_visible()
    review = Action.objects.get(pmo=pmo, title="Quarterly benefits review with Finance")
    assert (review.element, review.problem, review.owner.user.email, review.due_on) == (
        "physical_evidence",
        "information",
        "lead@alpha.example",
        today + timedelta(days=60),
    )
    assert [s.name for s in review.target_segments.all()] == ["Finance"]
    assert review.created_by_id == member.user_id

    # Its status in one click, from the list.
    item = page.get_by_role("listitem").filter(has_text="Quarterly benefits review with Finance")
    item.get_by_label("Status of Quarterly benefits review with Finance").select_option("Done")
    item.get_by_role("button", name="Set").click()
    expect(page.get_by_text("“Quarterly benefits review with Finance” is now done.")).to_be_visible()
    review.refresh_from_db()
    assert review.status == "done" and review.completed_at is not None
    expect(page.locator("p", has_text="open ·")).to_contain_text("1 open · 0 overdue · 1 done")

    # Deleted, from its edit page, after a confirmation.
    item = page.get_by_role("listitem").filter(has_text="Quarterly benefits review with Finance")
    item.get_by_role("link", name="Edit").click()
    shot(page, "action-edit-with-delete")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this action?")).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("“Quarterly benefits review with Finance” deleted.")).to_be_visible()
    assert list(Action.objects.filter(pmo=pmo).values_list("title", flat=True)) == ["Invite Grace to the next showcase"]


def test_incidents_are_logged_edited_and_deleted(alpha, signed_in_page):
    pmo, _, member, grace = alpha
    occurred = timezone.localdate() - timedelta(days=10)
    page = signed_in_page(member.user.email, PASSWORD)
    page.get_by_role("link", name="Agenda", exact=True).click()
    page.get_by_role("link", name="Cost of poor perception").click()
    page.get_by_role("link", name="Log an incident").click()
    expect(page.get_by_label("Date")).to_have_value(timezone.localdate().isoformat())
    page.get_by_label("Title").fill("Project Atlas reworked its plan after ignoring PMO guidance")
    page.get_by_label("Problem").select_option("Added costs and delays")
    page.get_by_label("Date").fill(occurred.isoformat())
    page.get_by_label("Stakeholders").select_option("Grace Jensen")
    page.get_by_label("Process").check()
    page.get_by_label("Estimated cost").fill("12500")
    page.get_by_label("Days lost").fill("3.5")
    page.get_by_label("Description").fill("Two weeks of planning redone")
    page.get_by_role("button", name="Save incident").click()
    expect(page.get_by_text("Incident logged.")).to_be_visible()
    incident = Incident.objects.get(pmo=pmo)
    assert (incident.problem, incident.occurred_on, incident.elements) == ("cost_and_delay", occurred, ["process"])
    assert (incident.estimated_cost, incident.days_lost) == (Decimal("12500"), Decimal("3.5"))
    assert list(incident.stakeholders.all()) == [grace]
    expect(page.locator('[data-figure="incident-count"]')).to_have_text("1")
    expect(page.locator('[data-figure="incident-cost"]')).to_have_text("£12,500")
    expect(page.locator('[data-figure="incident-days"]')).to_have_text("3.5")

    entry = page.get_by_role("listitem").filter(has_text="Project Atlas")
    entry.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Date")).to_have_value(occurred.isoformat())
    page.get_by_label("Estimated cost").fill("18000")
    page.get_by_role("button", name="Save incident").click()
    expect(page.locator('[data-figure="incident-cost"]')).to_have_text("£18,000")
    incident.refresh_from_db()
    assert (incident.estimated_cost, incident.occurred_on) == (Decimal("18000"), occurred)

    shot(page, "incident-list-with-delete")
    page.get_by_role("listitem").filter(has_text="Project Atlas").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Incident deleted.")).to_be_visible()
    expect(page.get_by_role("heading", name="No incident logged")).to_be_visible()
    assert not Incident.objects.exists()


def test_the_lead_schedules_the_report_sends_it_now_and_resends_a_delivery(alpha, signed_in_page, mailoutbox):
    pmo, lead, member, _ = alpha
    page = signed_in_page(lead.user.email, PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).click()
    page.get_by_role("link", name="Schedule and recipients").click()

    page.get_by_label("Frequency").select_option("Weekly")
    page.get_by_label("Weekday").select_option("Friday")
    page.get_by_label("Time of day").fill("07:30")
    page.get_by_label("Lea Lead (lead@alpha.example)").check()
    page.get_by_label("Max Member (member@alpha.example)").check()
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_text("Report schedule saved.")).to_be_visible()
    schedule = ReportSchedule.objects.get(pmo=pmo)
    assert (schedule.frequency, schedule.weekday, schedule.send_at.isoformat(), schedule.is_active) == (
        "weekly",
        4,
        "07:30:00",
        True,
    )
    expect(page.locator('[data-figure="next-run"]')).to_contain_text("Friday")
    expect(page.locator('[data-figure="next-run"]')).to_contain_text("07:30")
    # The form shows the saved time as the browser reads it.
    expect(page.get_by_label("Time of day")).to_have_value("07:30")

    # The lead's own subscription: off, then on again.
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_text("You don't receive this report.")).to_be_visible()
    assert not Membership.objects.get(pk=lead.pk).receives_reports
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("You receive this report.", exact=True)).to_be_visible()
    assert Membership.objects.get(pk=lead.pk).receives_reports

    # Send now: built and delivered to both recipients (tasks run in the server's thread here).
    page.get_by_role("navigation", name="Alpha PMO").get_by_role("link", name="Reports").click()
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("The report of the period to date is being built and sent")).to_be_visible()
    report = AgendaReport.objects.get(pmo=pmo)
    assert report.status == "ready"
    assert sorted(m.to[0] for m in mailoutbox) == ["lead@alpha.example", "member@alpha.example"]
    deliveries = page.locator("#deliveries")
    expect(deliveries.get_by_text("Sent", exact=True)).to_have_count(2)

    # A delivery that failed for good is sent again from the report's page. Its e-mail's row in
    # the outbox is the record; the delivery mirrors it.
    delivery = ReportDelivery.objects.get(report=report, email="member@alpha.example")
    OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.REPORT, source_id=delivery.pk).update(
        status=OutgoingEmail.Status.FAILED, sent_at=None, last_error="550 Mailbox unavailable"
    )
    ReportDelivery.objects.filter(pk=delivery.pk).update(status="failed", last_error="550 Mailbox unavailable")
    page.reload()
    failed = deliveries.get_by_role("listitem").filter(has_text="member@alpha.example")
    expect(failed.get_by_text("550 Mailbox unavailable")).to_be_visible()
    failed.get_by_role("button", name="Resend").click()
    expect(page.get_by_text("Sending the report to member@alpha.example again.")).to_be_visible()
    assert ReportDelivery.objects.get(report=report, email="member@alpha.example").status == "sent"
    assert [m.to[0] for m in mailoutbox].count("member@alpha.example") == 2
    expect(deliveries.get_by_text("Sent", exact=True)).to_have_count(2)
