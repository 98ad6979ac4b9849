"""Issue 14's journey in Chromium: a stakeholder answers a named survey on a phone and scores
the PMO 3; their relationship owner finds the case on My week, with Process suggested at its
root, records a contact, resolves the case and sends a recovery pulse; the stakeholder answers
it on the phone with 8; the case shows 3 → 8, and the dashboard counts the follow-up.
axe checks every page on the way (tests/e2e/axe.py)."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.domain import Element
from pmo5p.models import OutgoingEmail, Role
from stakeholders.models import CaseStatus, FollowUpCase
from stakeholders.surveys import lifecycle as surveys
from tests.e2e.test_survey_journey import PHONE, Answers, answer_in_browser, links_in
from tests.factories import PASSWORD, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)

PRD, EVI, PRI, PPL, PRC = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS

# Process is rated lowest (1 and 2): the P suggested at the case's root.
GRACE_ANSWERS = Answers(
    performance={PRD: (4, 3), EVI: (3, 3), PRI: (3, 4), PPL: (4, 4), PRC: (1, 2)},
    importance={PRD: 4, EVI: 3, PRI: 3, PPL: 4, PRC: 5},
    nps=3,
    comment="Every project gets the same heavy process.",
)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def alpha():
    """Max (a member) owns Grace's relationship; Lena leads the PMO. A named survey asks Grace."""
    lead = MembershipFactory(
        role=Role.LEAD,
        pmo__name="Alpha PMO",
        pmo__slug="alpha",
        user__email="lena@alpha.example",
        user__name="Lena Lead",
    )
    pmo = lead.pmo
    max_ = MembershipFactory(pmo=pmo, role=Role.MEMBER, user__email="max@alpha.example", user__name="Max Member")
    grace = StakeholderFactory(pmo=pmo, name="Grace Jensen", email="grace@corp.example", owner=max_)
    survey = surveys.create_survey(
        pmo=pmo,
        created_by=lead.user,
        title="Autumn perception check",
        closes_on=timezone.localdate() + timedelta(days=14),
    )
    survey.target_stakeholders.add(grace)
    (invitation,) = surveys.launch(survey)
    return max_, grace, survey, invitation


def test_a_detractor_answers_on_a_phone_and_the_owner_closes_the_loop(alpha, browser, live_server):
    max_, grace, survey, invitation = alpha

    # Grace answers on her phone, and scores the PMO 3.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    grace_page = phone.new_page()
    grace_page.goto(f"{live_server.url}{invitation.path}")
    answer_in_browser(grace_page, survey, GRACE_ANSWERS)
    expect(grace_page.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()

    # Her answer opened one case, for Max, due in five working days.
    case = FollowUpCase.objects.get(stakeholder=grace)
    assert (case.owner_id, case.status, case.nps_before, case.suggested_element) == (
        max_.pk,
        CaseStatus.OPEN,
        3,
        Element.PROCESS,
    )

    # Max is told by e-mail, with the case's address and its due date.
    alert = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.DETRACTOR_ALERT)
    assert alert.to == [max_.user.email]
    assert f"/pmo/alpha/follow-up/{case.pk}/" in alert.text
    assert f"first contact is due by {case.due_on:%A %-d %B %Y}" in alert.text

    # Max signs in to My week and finds the case.
    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desktop.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(max_.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/pmo/alpha/my-week/$"))
    cases = page.locator('[data-list="cases"]')
    expect(cases).to_contain_text("Grace Jensen")
    cases.get_by_role("link", name="Open the case").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Grace Jensen")
    expect(page.locator('[data-field="root"]')).to_contain_text("Process")
    expect(page.locator('[data-field="comment"]')).to_contain_text("Every project gets the same heavy process.")

    # A contact: a call about tailoring the process to her projects.
    page.get_by_role("link", name="Record a contact").click()
    page.get_by_label("Summary").fill("Call with Grace: agreed a lighter gate review for small projects.")
    page.get_by_role("button", name="Record the contact").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grace Jensen")
    expect(page.locator('[data-list="interactions"]')).to_contain_text("lighter gate review")

    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    page.get_by_role("button", name="Send a recovery pulse").click()
    expect(page.get_by_role("button", name="Send a recovery pulse")).to_have_count(0)

    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.first_contact_at is not None

    # The pulse reaches Grace; she answers it on her phone.
    email = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.RECOVERY_PULSE, to=[grace.email])
    link = next(url for url in links_in(email.text) if "/r/" in url and "score=" not in url)
    grace_page.goto(link.replace("http://testserver", live_server.url))
    grace_page.get_by_text("8", exact=True).click()
    grace_page.get_by_label("Anything you would like to add?").fill("Much better since the call.")
    grace_page.get_by_role("button", name="Send").click()
    expect(grace_page.get_by_role("heading", name="Thank you")).to_be_visible()

    # The case shows before and after; the dashboard counts the follow-up.
    page.reload()
    expect(page.get_by_role("region", name="Before and after")).to_contain_text("3 → 8 (+5)")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.locator('[data-figure="follow-up-resolved"]')).to_have_text("100%")
    expect(page.locator('[data-figure="follow-up-pulses"]')).to_contain_text("before 3.0")
    expect(page.locator('[data-figure="follow-up-pulses"]')).to_contain_text("after 8.0")
    phone.close()
    desktop.close()
