"""The lead's survey forms in Chromium: drafting (create, edit, questions, audience, delete),
then running (launch with a recently surveyed stakeholder, resend a failed invitation,
close). Each refused value is named on the page, kept in the form, and saves nothing.

E-mails go out in-process (the test settings run tasks eagerly, to the locmem outbox);
the journey through a real worker and SMTP server is in test_survey_journey.py.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.domain import Element
from pmo5p.models import OutgoingEmail, Role
from stakeholders.models import QuestionKind, Survey, SurveyInvitation, SurveyStatus
from stakeholders.surveys import emails as survey_emails
from tests.e2e.test_import_journey import shot
from tests.e2e.test_survey_journey import DESKTOP, PHONE
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    ResponseFactory,
    SegmentFactory,
    StakeholderFactory,
    SurveyFactory,
)
from tests.survey_helpers import days_ago, open_survey, questions

pytestmark = pytest.mark.django_db(transaction=True)

# The URL names whose forms these tests fill in and submit (checked against the URL patterns).
FORMS_SUBMITTED = {
    "detractor_alert_resend",
    "survey_create",
    "survey_edit",
    "survey_questions",
    "survey_audience",
    "survey_delete",
    "survey_launch",
    "invitation_resend",
    "survey_close",
}


@pytest.fixture
def lead():
    lead = MembershipFactory(
        role=Role.LEAD,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        user__email="lead@alpha.example",
        user__name="Lena Lead",
    )
    pmo = lead.pmo
    finance = SegmentFactory(pmo=pmo, name="Finance")
    sales = SegmentFactory(pmo=pmo, name="Sales")
    for name, segment in [("Ann Archer", finance), ("Ben Brook", finance), ("Sam Stone", sales), ("Tom Tate", sales)]:
        StakeholderFactory(pmo=pmo, segment=segment, name=name, email=f"{name.split()[0].lower()}@corp.example")
    return lead


def test_a_lead_drafts_edits_words_targets_and_deletes_a_survey(lead, signed_in_page, live_server):
    pmo = lead.pmo
    today = timezone.localdate()
    page = signed_in_page("lead@alpha.example", PASSWORD)
    page.get_by_role("link", name="Surveys", exact=True).click()
    page.get_by_role("link", name="Draft your first survey").click()

    # Create: a close date in the past is refused; the title typed stays.
    expect(page.get_by_label("Title")).to_have_value("How do you see Alpha PMO?")
    page.get_by_label("Title").fill("Autumn perception check")
    page.get_by_label("Closes on").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_text("The close date is in the past: choose today or a later day.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Autumn perception check")
    assert not Survey.objects.exists()

    closes_on = today + timedelta(days=14)
    page.get_by_label("Closes on").fill(closes_on.isoformat())
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name="Autumn perception check")).to_be_visible()
    expect(page.get_by_text("The survey starts from the standard 5P questionnaire.")).to_be_visible()
    survey = Survey.objects.get(pmo=pmo)
    assert (survey.title, survey.closes_on, survey.status, survey.anonymous) == (
        "Autumn perception check",
        closes_on,
        SurveyStatus.DRAFT,
        False,
    )
    assert survey.created_by_id == lead.user_id

    # Edit: a reminder after 0 days is refused; the new title stays in the form, unsaved.
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_label("Closes on")).to_have_value(closes_on.isoformat())
    page.get_by_label("Title").fill("Autumn check")
    page.get_by_label("Reminder after (days)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Remind after at least 1 day.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Autumn check")
    survey.refresh_from_db()
    assert (survey.title, survey.reminder_delay_days) == ("Autumn perception check", 7)

    page.get_by_label("Reminder after (days)").fill("5")
    page.get_by_label("Anonymous").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Survey saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Autumn check")).to_be_visible()
    expect(page.get_by_text("reminder after 5 days · anonymous")).to_be_visible()
    survey.refresh_from_db()
    assert (survey.title, survey.reminder_delay_days, survey.anonymous) == ("Autumn check", 5, True)

    # Questions: removing every Product statement is refused, and the ticks stay.
    first, second = questions(survey, QuestionKind.PERFORMANCE, Element.PRODUCT)
    page.get_by_role("link", name="Edit questions").click()
    page.locator(f"#id_remove_{first.pk}").check()
    page.locator(f"#id_remove_{second.pk}").check()
    page.locator(f"#id_text_{second.pk}").fill("The PMO's services fit my projects.")
    page.get_by_role("button", name="Save questions").click()
    expect(page.get_by_text("Product needs at least one performance statement.")).to_be_visible()
    expect(page.locator(f"#id_remove_{first.pk}")).to_be_checked()
    expect(page.locator(f"#id_text_{second.pk}")).to_have_value("The PMO's services fit my projects.")
    assert survey.questions.filter(pk__in=[first.pk, second.pk]).count() == 2
    assert not survey.questions.filter(text="The PMO's services fit my projects.").exists()

    page.locator(f"#id_remove_{second.pk}").uncheck()
    page.get_by_label("Add a Price statement").fill("The PMO's fees are clear to me.")
    page.get_by_role("button", name="Save questions").click()
    expect(page.get_by_text("Questions saved.")).to_be_visible()
    product = questions(survey, QuestionKind.PERFORMANCE, Element.PRODUCT)
    assert [q.text for q in product] == ["The PMO's services fit my projects."]
    price = questions(survey, QuestionKind.PERFORMANCE, Element.PRICE)
    assert price[-1].text == "The PMO's fees are clear to me." and len(price) == 3
    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_text("The PMO's fees are clear to me.")).to_be_visible()
    expect(page.get_by_text(first.text)).to_have_count(0)
    page.get_by_role("link", name="Back to the survey").click()

    # Audience: nobody chosen is refused; then a segment and a hand-picked stakeholder.
    page.get_by_role("link", name="Choose").click()
    page.get_by_role("button", name="Save audience").click()
    expect(page.get_by_text("Choose at least one segment or one stakeholder to ask.")).to_be_visible()
    assert not survey.target_segments.exists() and not survey.target_stakeholders.exists()
    page.get_by_label("Finance", exact=True).check()
    page.get_by_label("Hand-picked stakeholders").select_option(["Sam Stone (Sales)"])
    page.get_by_role("button", name="Save audience").click()
    expect(page.get_by_text("Audience saved. Check who will be asked, then launch.")).to_be_visible()
    expect(page.get_by_text("3 will be asked.")).to_be_visible()
    assert [s.name for s in survey.target_segments.all()] == ["Finance"]
    assert [s.name for s in survey.target_stakeholders.all()] == ["Sam Stone"]
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Each step's button on one line, not broken over two or three.
    steps = ["Edit", "Edit questions", "Choose", "Review and launch"]
    heights = {name: page.get_by_role("link", name=name, exact=True).bounding_box()["height"] for name in steps}
    assert len(set(heights.values())) == 1, heights
    shot(page, "survey-draft-390")
    page.set_viewport_size(DESKTOP)

    # Delete the draft.
    page.get_by_role("link", name="Delete this draft").click()
    page.get_by_role("button", name="Delete draft").click()
    expect(page.get_by_text("Draft “Autumn check” deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Draft your first survey")).to_be_visible()
    assert not Survey.objects.exists()


def test_a_lead_launches_resends_a_failed_invitation_and_closes_a_survey(lead, signed_in_page, live_server):
    pmo = lead.pmo
    stakeholders = {s.name: s for s in pmo.stakeholders.all()}
    # Tom was sent another survey three days ago: left out unless the lead includes him.
    open_survey(pmo, [stakeholders["Tom Tate"]], sent_at=days_ago(3), title="Earlier check")
    survey = SurveyFactory(pmo=pmo, created_by=lead.user, title="Autumn check")
    survey.target_segments.set(pmo.segments.filter(name="Finance"))
    survey.target_stakeholders.set([stakeholders["Sam Stone"], stakeholders["Tom Tate"]])

    page = signed_in_page("lead@alpha.example", PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/surveys/{survey.pk}/")
    page.get_by_role("link", name="Review and launch").click()
    expect(page.get_by_role("heading", name="Launch “Autumn check”")).to_be_visible()
    page.get_by_label("Tom Tate").check()
    page.get_by_role("button", name="Launch and send the invitations").click()
    expect(page.get_by_text("Survey launched: 4 invitations on their way.")).to_be_visible()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN
    invited = {"ann@corp.example", "ben@corp.example", "sam@corp.example", "tom@corp.example"}
    assert set(survey.invitations.values_list("email", flat=True)) == invited
    assert sorted(r for m in mail.outbox for r in m.to) == sorted(invited)
    assert set(survey.invitations.values_list("send_status", flat=True)) == {SurveyInvitation.SendStatus.SENT}

    # Ben's mail server refused the invitation for good: the lead sends it again.
    ben = survey.invitations.get(email="ben@corp.example")
    OutgoingEmail.objects.filter(kind="survey_invitation", source_id=ben.pk).update(
        status=OutgoingEmail.Status.FAILED, sent_at=None, last_error="550 5.1.1 Mailbox full"
    )
    SurveyInvitation.objects.filter(pk=ben.pk).update(
        send_status=SurveyInvitation.SendStatus.FAILED, sent_at=None, last_error="550 5.1.1 Mailbox full"
    )
    mail.outbox.clear()
    page.reload()
    row = page.get_by_role("row").filter(has_text="Ben Brook")
    expect(row.get_by_text("Failed")).to_be_visible()
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "survey-detail-390")
    page.set_viewport_size(DESKTOP)
    row.get_by_role("button", name="Resend").click()
    expect(page.get_by_text("The invitation to Ben Brook is being sent again.")).to_be_visible()
    expect(page.get_by_role("button", name="Resend")).to_have_count(0)
    ben.refresh_from_db()
    assert (ben.send_status, ben.send_attempts, ben.last_error) == (SurveyInvitation.SendStatus.SENT, 2, "")
    assert [m.to for m in mail.outbox] == [["ben@corp.example"]]

    # Ann scores the PMO 3: her detractor alert to the lead fails for good; the lead sends it again.
    ann = survey.invitations.get(email="ann@corp.example")
    (alert,) = survey_emails.queue_detractor_alert(ResponseFactory(invitation=ann, nps=3))
    OutgoingEmail.objects.filter(pk=alert.pk).update(
        status=OutgoingEmail.Status.FAILED, sent_at=None, attempts=1, last_error="550 5.7.1 Relaying denied"
    )
    mail.outbox.clear()
    page.reload()
    alerts = page.locator(".card").filter(has=page.get_by_role("heading", name="Detractor alerts"))
    expect(alerts.get_by_text("0 sent · 0 on the way · 1 failed")).to_be_visible()
    expect(alerts.get_by_text("550 5.7.1 Relaying denied")).to_be_visible()
    alerts.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("Sending the detractor alert again.")).to_be_visible()
    expect(page.get_by_text("1 sent · 0 on the way · 0 failed")).to_be_visible()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == (OutgoingEmail.Status.SENT, 2)
    assert [m.to for m in mail.outbox] == [["lead@alpha.example"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == alert.message_id

    # Close: the page asks first; saying no leaves it open.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Close now").click()
    expect(page.get_by_role("button", name="Close now")).to_be_visible()
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.OPEN
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Close now").click()
    expect(page.get_by_text("Survey closed: the link in the invitations no longer opens it.")).to_be_visible()
    expect(page.get_by_role("button", name="Close now")).to_have_count(0)
    assert asked == ["Close the survey now? Nobody will be able to answer any more."]
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED and survey.closed_at is not None
