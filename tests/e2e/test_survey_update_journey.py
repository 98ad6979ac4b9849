""" "You said, we did" in Chromium: the lead opens the update from a closed survey's page,
finds it prefilled, is refused an empty subject with the message kept, saves the draft,
sees who will receive it, sends it after the confirmation, and finds the archive; then a
stakeholder opens the unsubscribe link from the e-mail, is only asked, and stops the updates.

E-mails go to the outbox rows (the test settings send in-process, to locmem).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.domain import Element
from pmo5p.models import OutgoingEmail, Role
from stakeholders.models import Stakeholder, SurveyUpdate
from stakeholders.surveys import lifecycle, updates
from tests.factories import PASSWORD, MembershipFactory, ResponseFactory, StakeholderFactory
from tests.survey_helpers import open_survey

pytestmark = pytest.mark.django_db(transaction=True)

FORMS_SUBMITTED = {"survey_update", "survey_update_send", "survey_updates_unsubscribe"}


@pytest.fixture
def closed_survey():
    lead = MembershipFactory(
        role=Role.LEAD, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="lead@alpha.example", user__name="Lena"
    )
    pmo = lead.pmo
    people = [
        StakeholderFactory(pmo=pmo, name=name, email=f"{name.split()[0].lower()}@corp.example")
        for name in ("Ann Archer", "Ben Brook", "Cora Cole")
    ]
    Stakeholder.objects.filter(pk=people[2].pk).update(updates_unsubscribed_at=timezone.now())
    survey, invitations = open_survey(pmo, people, sent_at=timezone.now() - timedelta(days=10), title="Autumn check")
    for invitation in invitations:
        ResponseFactory(invitation=invitation, ratings={Element.PRODUCT: (4, 4)}, nps=9)
    lifecycle.close(survey)
    return survey, people


def test_a_lead_writes_saves_and_sends_the_update(closed_survey, signed_in_page, live_server):
    survey, (ann, ben, cora) = closed_survey
    page = signed_in_page("lead@alpha.example", PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/surveys/{survey.pk}/")
    page.get_by_role("link", name="Write a “you said, we did” update").click()

    expect(page.get_by_label("Subject")).to_have_value("You said, we did: Autumn check")
    expect(page.get_by_label("Message")).to_contain_text("Product: you scored us 75.0 out of 100.")
    expect(page.get_by_text("2 stakeholders: everyone invited")).to_be_visible()
    expect(page.get_by_text("1 left out: they unsubscribed")).to_be_visible()
    page.get_by_text("The list").click()
    expect(page.get_by_text("ann@corp.example")).to_be_visible()
    expect(page.get_by_text("cora@corp.example")).to_have_count(0)

    # Refused: an empty subject; the message typed stays.
    page.get_by_label("Subject").fill("")
    page.get_by_label("Message").fill("We heard you <b>loud</b>.\nNew onboarding is live.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Write a subject.")).to_be_visible()
    expect(page.get_by_label("Message")).to_have_value("We heard you <b>loud</b>.\nNew onboarding is live.")
    assert not SurveyUpdate.objects.exists()

    page.get_by_label("Subject").fill("What we did after your answers")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    update = SurveyUpdate.objects.get()
    assert (update.subject, update.body) == (
        "What we did after your answers",
        "We heard you <b>loud</b>.\nNew onboarding is live.",
    )

    # Send: asked first; dismissing sends nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Send to 2 stakeholders").click()
    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.SURVEY_UPDATE).exists()
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Send to 2 stakeholders").click()
    expect(page.get_by_text("The update is on its way to 2 stakeholders.")).to_be_visible()
    assert asked == ["Send this update to 2 stakeholders? It goes out once and cannot be changed after."]
    rows = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.SURVEY_UPDATE)
    assert sorted(row.to[0] for row in rows) == ["ann@corp.example", "ben@corp.example"]

    # The archive: read-only, the text as typed, escaped.
    expect(page.get_by_text("this is its archive")).to_be_visible()
    expect(page.get_by_text("We heard you <b>loud</b>.")).to_be_visible()
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    page.get_by_role("link", name="Autumn check").click()
    expect(page.get_by_text("Sent on")).to_be_visible()
    expect(page.get_by_text("New onboarding is live.")).to_be_visible()


def test_a_stakeholder_stops_the_updates_from_the_link(closed_survey, page, live_server):
    survey, (ann, ben, cora) = closed_survey
    link = updates.unsubscribe_url(ann).replace("http://testserver", live_server.url)

    page.goto(link)
    expect(page.get_by_role("heading", name="Stop these updates from Alpha PMO?")).to_be_visible()
    assert Stakeholder.objects.get(pk=ann.pk).updates_unsubscribed_at is None

    page.get_by_role("button", name="Stop the updates").click()
    expect(page.get_by_role("heading", name="You will get no more updates from Alpha PMO")).to_be_visible()
    assert Stakeholder.objects.get(pk=ann.pk).updates_unsubscribed_at is not None

    page.goto(link[:-2] + ("y/" if link[-2] == "x" else "x/"))
    expect(page.get_by_role("heading", name="We don't recognise this unsubscribe link")).to_be_visible()
    assert Stakeholder.objects.get(pk=ben.pk).updates_unsubscribed_at is None
