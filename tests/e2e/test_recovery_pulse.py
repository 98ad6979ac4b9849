"""The recovery pulse in Chromium: a member presses "Send a recovery pulse" on a resolved
case, and the stakeholder answers the pulse on a phone (390×844) from the e-mail's 0–10
link: the score comes preselected, a comment is added, a missing score is refused with
the comment kept, and the answer is stored once. axe checks every page on the way."""

import re
import tempfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from playwright.sync_api import expect

from pmo5p.models import OutgoingEmail
from stakeholders.cases.pulses import send_pulse
from stakeholders.models import RecoveryPulse
from tests.factories import PASSWORD
from tests.pulse_helpers import named_case

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {"case_pulse_send", "pulse_answer"}

PHONE = {"width": 390, "height": 844}
SHOTS = Path(tempfile.gettempdir()) / "shots"  # for the lead engineer to look at; not asserted


def test_a_member_sends_a_recovery_pulse_from_the_case_fragment(world, signed_in_page):
    case = named_case(world.pmo, world.stakeholder, nps=3)
    page = signed_in_page("member@alpha.example", PASSWORD)
    expect(page).to_have_url(re.compile(r"/pmo/alpha/my-week/$"))
    # The case page is branch i14-caseui's (it includes this fragment): until then the
    # fragment is shown inside a real page of the PMO, with that page's CSRF token, and
    # its form is pressed as it will be there.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    fragment = render_to_string(
        "stakeholders/cases/_pulse.html",
        {"case": case, "current_membership": world.membership(world.member), "csrf_token": token},
    )
    page.evaluate("html => document.querySelector('main').insertAdjacentHTML('afterbegin', html)", fragment)
    expect(page.get_by_text("No recovery pulse sent yet.")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Send a recovery pulse").click()
    expect(page).to_have_url(re.compile(rf"/pmo/alpha/follow-up/{case.pk}/$"))

    pulse = RecoveryPulse.objects.get(case=case)
    assert pulse.sent_by == world.member
    assert pulse.email == "fiona@corp.example"
    (email,) = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.RECOVERY_PULSE)
    assert pulse.token in email.text


def test_the_stakeholder_answers_the_pulse_on_a_phone(world, browser, live_server):
    cache.clear()
    pulse = send_pulse(named_case(world.pmo, world.stakeholder, nps=4), by=world.member)
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        # The "8" of the e-mail's 0–10 links: preselected, not stored.
        page.goto(f"{live_server.url}/r/{pulse.token}/?score=8")
        expect(page.get_by_role("heading", name="One question from Alpha PMO")).to_be_visible()
        expect(page.get_by_label("8", exact=True)).to_be_checked()
        assert RecoveryPulse.objects.get(pk=pulse.pk).answered_at is None
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "pulse-390.png"), full_page=True)

        # A page opened without a score: sending with none is refused, the comment kept.
        page.goto(f"{live_server.url}/r/{pulse.token}/")
        comment = "Much better since the new intake <b>form</b>."
        page.get_by_label("Anything you would like to add?").fill(comment)
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("Choose a number from 0 (not at all likely) to 10 (extremely likely).")).to_be_visible()
        expect(page.get_by_label("Anything you would like to add?")).to_have_value(comment)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert RecoveryPulse.objects.get(pk=pulse.pk).answered_at is None

        page.get_by_text("9", exact=True).click()
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        stored = RecoveryPulse.objects.get(pk=pulse.pk)
        assert (stored.score, stored.comment) == (9, comment)

        # The link again: answered, nothing changes.
        page.goto(f"{live_server.url}/r/{pulse.token}/?score=2")
        expect(page.get_by_role("heading", name="You have already answered, thank you")).to_be_visible()
        assert RecoveryPulse.objects.get(pk=pulse.pk).score == 9
    finally:
        context.close()
