"""The survey path with real parts: a lead launches a survey in Chromium, a real Celery
worker sends the invitations through a real SMTP server, stakeholders answer through
the links they received, and the lead reads figures worked out here by hand.

Then the public form's accessibility: axe-core finds nothing serious, every control
has a label, and the keyboard alone completes the survey.
"""

import re
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.domain import Element
from pmo5p.models import Membership, Role
from stakeholders.models import (
    Answer,
    Question,
    QuestionKind,
    Response,
    Stakeholder,
    Survey,
    SurveyInvitation,
    hash_token,
)
from stakeholders.surveys import lifecycle as surveys
from stakeholders.tasks import send_anonymous_detractor_alerts
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory, StakeholderFactory
from tests.service_fixtures import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# The URL names whose forms these tests fill in and submit (checked against the URL patterns);
# survey_save is the public form's autosave, posted by its script as the stakeholder answers.
FORMS_SUBMITTED = {"survey_create", "survey_audience", "survey_launch", "survey_answer", "survey_save"}

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SHOTS = Path(tempfile.gettempdir()) / "shots"  # for the lead engineer to look at; not asserted
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

DK = None  # "Don't know"
LIKERT = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
    DK: "Don't know",
}
IMPORTANCE = {1: "Not important", 2: "Slightly important", 3: "Important", 4: "Very important", 5: "Essential"}
PRD, EVI, PRI, PPL, PRC = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS


@dataclass(frozen=True)
class Answers:
    """One stakeholder's answers: two statements and one importance rating per element, the NPS."""

    performance: dict[Element, tuple[int | None, int | None]]
    importance: dict[Element, int]
    nps: int
    comment: str = ""


# Finance (Ann, Ben, Cat answer; Eve does not) and Delivery (Dan alone, under MIN_GROUP_SIZE = 3).
ANSWERS = {
    "ann.archer@corp.example": Answers(
        performance={PRD: (5, 4), EVI: (4, DK), PRI: (2, 3), PPL: (5, 5), PRC: (3, 4)},
        importance={PRD: 5, EVI: 4, PRI: 3, PPL: 4, PRC: 2},
        nps=10,
        comment="Clear reports.",
    ),
    "ben.brook@corp.example": Answers(
        performance={PRD: (4, 4), EVI: (3, 3), PRI: (DK, DK), PPL: (4, 5), PRC: (2, 3)},
        importance={PRD: 4, EVI: 4, PRI: 2, PPL: 4, PRC: 2},
        nps=9,
    ),
    "cat.cole@corp.example": Answers(
        performance={PRD: (3, 2), EVI: (2, 3), PRI: (1, 2), PPL: (3, 4), PRC: (DK, 2)},
        importance={PRD: 5, EVI: 3, PRI: 4, PPL: 3, PRC: 5},
        nps=6,
        comment="Too slow.",
    ),
    "dan.dale@corp.example": Answers(
        performance={PRD: (4, 5), EVI: (5, 4), PRI: (3, 3), PPL: (4, 5), PRC: (5, DK)},
        importance={PRD: 4, EVI: 5, PRI: 3, PPL: 3, PRC: 1},
        nps=7,
    ),
}

# Worked out by hand from ANSWERS; a score is (mean rating − 1) / 4 × 100, "Don't know" left out.
EXPECTED_PERCEPTION = {
    PRD: "71.9",  # 5+4+4+4+3+2+4+5 = 31 over 8 → 3.875 → 71.875
    EVI: "60.7",  # 4+3+3+2+3+5+4 = 24 over 7 → 3.4286 → 60.71
    PRI: "33.3",  # 2+3+1+2+3+3 = 14 over 6 → 2.3333 → 33.33
    PPL: "84.4",  # 5+5+4+5+3+4+4+5 = 35 over 8 → 4.375 → 84.375
    PRC: "54.2",  # 3+4+2+3+2+5 = 19 over 6 → 3.1667 → 54.17
}
EXPECTED_IMPORTANCE = {
    PRD: "87.5",  # 5+4+5+4 = 18 over 4 → 4.5
    EVI: "75.0",  # 4+4+3+5 = 16 over 4 → 4.0
    PRI: "50.0",  # 3+2+4+3 = 12 over 4 → 3.0
    PPL: "62.5",  # 4+4+3+3 = 14 over 4 → 3.5
    PRC: "37.5",  # 2+2+5+1 = 10 over 4 → 2.5
}
# Finance only (Ann, Ben, Cat): responses, response rate, then perception per element in the
# order of Element.
EXPECTED_FINANCE_ROW = [
    "3",
    "75%",  # 3 responses to 4 invitations sent (Eve does not answer)
    "66.7",  # 5+4+4+4+3+2 = 22 over 6 → 3.6667
    "50.0",  # 4+3+3+2+3 = 15 over 5 → 3.0
    "25.0",  # 2+3+1+2 = 8 over 4 → 2.0
    "83.3",  # 5+5+4+5+3+4 = 26 over 6 → 4.3333
    "45.0",  # 3+4+2+3+2 = 14 over 5 → 2.8
]
# NPS answers 10, 9, 6, 7: 2 promoters, 1 passive, 1 detractor → (2 − 1) / 4 × 100 = 25.
EXPECTED_NPS = {"nps": "25", "promoters": "2", "passives": "1", "detractors": "1"}
# 4 responses to 5 invitations sent.
EXPECTED_RESPONSE_RATE = "80%"


def long_date(day) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def questions_of(survey: Survey) -> dict:
    """The survey's questions: per element its statements (in order) and importance question; NPS; comment."""
    questions = list(survey.questions.order_by("position", "id"))
    by_element = {
        element: (
            [q for q in questions if q.element == element and q.kind == QuestionKind.PERFORMANCE],
            next(q for q in questions if q.element == element and q.kind == QuestionKind.IMPORTANCE),
        )
        for element in Element
    }
    nps = next(q for q in questions if q.kind == QuestionKind.NPS)
    comment = next(q for q in questions if q.kind == QuestionKind.COMMENT)
    return {"elements": by_element, "nps": nps, "comment": comment}


def expected_values(survey: Survey, answers: Answers) -> dict[int, int | None]:
    """Question id → the value the database should hold for these answers."""
    values = {}
    for element, (statements, importance) in questions_of(survey)["elements"].items():
        values.update(zip([q.pk for q in statements], answers.performance[element], strict=True))
        values[importance.pk] = answers.importance[element]
    return values


def question_group(page, legend: str):
    return page.locator("fieldset").filter(has=page.locator("legend", has_text=legend))


def choose(page, legend: str, label: str) -> None:
    group = question_group(page, legend)
    group.get_by_text(label, exact=True).click()
    expect(group.get_by_role("radio", name=label, exact=True)).to_be_checked()


def answer_in_browser(page, survey: Survey, answers: Answers) -> None:
    questions = questions_of(survey)
    for element, (statements, importance) in questions["elements"].items():
        for question, value in zip(statements, answers.performance[element], strict=True):
            choose(page, question.text, LIKERT[value])
        choose(page, importance.text, IMPORTANCE[answers.importance[element]])
    choose(page, questions["nps"].text, str(answers.nps))
    if answers.comment:
        page.get_by_label(questions["comment"].text).fill(answers.comment)
    page.get_by_role("button", name="Send my answers").click()


def links_in(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>]+", text))


@dataclass
class Alpha:
    lead: Membership
    stakeholders: dict[str, Stakeholder] = field(default_factory=dict)

    @property
    def lead_email(self) -> str:
        return self.lead.user.email


def alpha_pmo() -> Alpha:
    lead = MembershipFactory(role=Role.LEAD, pmo__name="Alpha PMO", pmo__slug="alpha", user__email="lead@alpha.example")
    pmo = lead.pmo
    finance = SegmentFactory(pmo=pmo, name="Finance")
    delivery = SegmentFactory(pmo=pmo, name="Delivery")
    sales = SegmentFactory(pmo=pmo, name="Sales")
    world = Alpha(lead=lead)
    for name, segment in [
        ("Ann Archer", finance),
        ("Ben Brook", finance),
        ("Cat Cole", finance),
        ("Eve Evans", finance),
        ("Dan Dale", delivery),
        ("Sam Stone", sales),  # in a segment nobody chooses: never asked
    ]:
        address = f"{name.lower().replace(' ', '.')}@corp.example"
        world.stakeholders[address] = StakeholderFactory(pmo=pmo, segment=segment, name=name, email=address)
    return world


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The public pages' rate limit counts per client address in the (per-process) cache:
    start from zero, whatever other tests of this process asked from 127.0.0.1."""
    cache.clear()


@pytest.mark.services
def test_survey_from_launch_in_the_browser_to_results_through_a_real_worker_and_smtp(
    celery_worker, celery_beat, smtp_sink, live_server, signed_in_page, browser
):
    world = alpha_pmo()
    closes_on = timezone.localdate() + timedelta(days=10)
    # The first delivery the worker attempts is refused for now (451): it must retry it, when
    # the outbox's sweep (every second here) finds its retry due.
    smtp_sink.refuse_next(1)
    celery_beat.start(extra_env={"PMO5P_OUTBOX_SWEEP_SECONDS": "1"})

    # The lead drafts an anonymous survey, chooses two segments and launches it.
    page = signed_in_page(world.lead_email, PASSWORD)
    page.get_by_role("link", name="Surveys", exact=True).click()
    page.get_by_role("link", name="Draft your first survey").click()
    page.get_by_label("Title").fill("Spring perception check")
    page.get_by_label("Closes on").fill(closes_on.isoformat())
    page.get_by_label("Anonymous").check()
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name="Spring perception check")).to_be_visible()
    survey = Survey.objects.get(pmo__slug="alpha", title="Spring perception check")
    assert (survey.closes_on, survey.anonymous, survey.status) == (closes_on, True, "draft")

    page.get_by_role("link", name="Choose").click()
    page.get_by_label("Finance", exact=True).check()
    page.get_by_label("Delivery", exact=True).check()
    page.get_by_role("button", name="Save audience").click()
    page.get_by_role("link", name="Review and launch").click()
    page.get_by_role("button", name="Launch and send the invitations").click()
    expect(page.get_by_text("Survey launched: 5 invitations on their way.")).to_be_visible()

    # The worker sends one invitation per stakeholder through SMTP, the refused one on a retry.
    invited = [address for address, s in world.stakeholders.items() if s.segment.name != "Sales"]
    mails = smtp_sink.wait_for(5, timeout=30, match=lambda m: "would like your view" in m.subject)
    assert sorted(r for m in mails for r in m.recipients) == sorted(invited)
    ((_, (refused_address,)),) = smtp_sink.refused  # one refusal, of one recipient
    wait_until(
        lambda: SurveyInvitation.objects.filter(survey=survey, send_status="sent").count() == 5,
        message=lambda: (
            f"Not every invitation is marked sent: {list(survey.invitations.values('email', 'send_status', 'send_attempts', 'last_error'))}"
        ),
    )
    attempts = dict(survey.invitations.values_list("email", "send_attempts"))
    assert attempts == {address: 2 if address == refused_address else 1 for address in invited}
    assert set(survey.invitations.values_list("last_error", flat=True)) == {""}
    assert all(survey.invitations.values_list("sent_at", flat=True))
    assert "retry: Retry in" not in celery_worker.log_text()  # the wait was the row's, not the broker's

    # Each e-mail: a text and an HTML part, the PMO, the close date and the stakeholder's own link.
    links = {}
    for mail in mails:
        (address,) = mail.recipients
        assert mail.message["To"].addresses[0].addr_spec == address
        assert mail.subject == "Alpha PMO would like your view: Spring perception check"
        assert mail.message.get_content_type() == "multipart/alternative"
        text, html = mail.text, mail.html
        assert text and html, f"{address}: the invitation needs a text and an HTML part"
        name = world.stakeholders[address].name
        for part in (text, html):
            assert "Alpha PMO" in part
            assert long_date(closes_on) in part
            assert f"Dear {name}," in part
            assert "anonymous" in part
        (link,) = {url for url in links_in(text) if "?" not in url}
        assert link.startswith(f"{live_server.url}/s/") and link.endswith("/")
        assert f'href="{link}"' in html
        token = link.rsplit("/", 2)[-2]
        assert SurveyInvitation.objects.get(survey=survey, email=address).token_hash == hash_token(token)
        links[address] = link

    # Four stakeholders answer in browsers of their own (no account); Eve never does.
    for address, answers in ANSWERS.items():
        context = browser.new_context()
        try:
            stakeholder_page = context.new_page()
            stakeholder_page.goto(links[address])
            expect(stakeholder_page.get_by_role("heading", name="Spring perception check")).to_be_visible()
            expect(stakeholder_page.get_by_text(f"Open until {long_date(closes_on)}.")).to_be_visible()
            answer_in_browser(stakeholder_page, survey, answers)
            expect(stakeholder_page.get_by_role("heading", name="Thank you")).to_be_visible()
            if address == "ann.archer@corp.example":
                stakeholder_page.goto(links[address])
                expect(
                    stakeholder_page.get_by_role("heading", name="You have already answered this survey")
                ).to_be_visible()
        finally:
            context.close()
        response = Response.objects.get(invitation__survey=survey, invitation__email=address)
        stored = dict(Answer.objects.filter(response=response).values_list("question_id", "value"))
        assert stored == expected_values(survey, answers)
        assert (response.nps, response.comment) == (answers.nps, answers.comment)
    assert Response.objects.filter(survey=survey).count() == 4

    # Cat's 6 is a detractor. The survey is anonymous: no alert when she answers, but a count
    # from the periodic task (4 responses: enough), through the worker, to the lead, without
    # saying who. Run twice, it queues one. The worker takes one task at a time, in order:
    # an alert queued by an answer would have come before.
    send_anonymous_detractor_alerts.delay()
    send_anonymous_detractor_alerts.delay()
    counted = r"send_anonymous_detractor_alerts\[[\w-]+\] succeeded in [\d.e-]+s: (\d+)"
    wait_until(
        lambda: re.findall(counted, celery_worker.log_text()) == ["1", "0"],
        timeout=30,
        message=lambda: "The two alert tasks did not finish, one queuing the alert.",
    )
    (alert,) = smtp_sink.wait_for(1, timeout=30, match=lambda m: "detractor" in m.subject)
    assert alert.recipients == [world.lead_email]
    assert alert.subject == '1 new detractor answer to "Spring perception check" (1 of 4 so far)'
    for stakeholder in world.stakeholders.values():
        assert stakeholder.name not in alert.text and stakeholder.name not in alert.html

    # The lead's results: figures as worked out above, the one-person segment hidden.
    page.goto(f"{live_server.url}/pmo/alpha/surveys/{survey.pk}/")
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.locator('[data-figure="response-rate"]')).to_have_text(EXPECTED_RESPONSE_RATE)
    for figure, value in EXPECTED_NPS.items():
        expect(page.locator(f'[data-figure="{figure}"]')).to_have_text(value)
    for element in Element:
        row = page.locator(f'tr[data-element="{element.value}"]')
        expect(row.locator('[data-figure="perception"]')).to_have_text(EXPECTED_PERCEPTION[element])
        expect(row.locator('[data-figure="importance"]')).to_have_text(EXPECTED_IMPORTANCE[element])
    expect(page.locator('tr[data-segment="Finance"] td')).to_have_text(EXPECTED_FINANCE_ROW)
    delivery = page.locator('tr[data-segment="Delivery"] td')
    expect(delivery).to_have_text(["fewer than 3", "hidden to protect anonymity"])
    for name in ("Ann Archer", "Ben Brook", "Cat Cole", "Dan Dale"):
        expect(page.get_by_text(name)).to_have_count(0)


@pytest.mark.services
def test_the_worker_gives_up_at_once_on_a_refusal_for_good(celery_worker, smtp_sink):
    """A 5xx reply will not change on a retry: the invitation shows failed after one attempt
    (the lead can resend it), while the others are sent."""
    world = alpha_pmo()
    survey = surveys.create_survey(
        pmo=world.lead.pmo,
        created_by=world.lead.user,
        title="Check",
        closes_on=timezone.localdate() + timedelta(days=7),
    )
    survey.target_stakeholders.add(
        world.stakeholders["ann.archer@corp.example"], world.stakeholders["ben.brook@corp.example"]
    )
    smtp_sink.refuse_next(1, reply="550 5.1.1 No such mailbox here")
    surveys.launch(survey)

    wait_until(
        lambda: not survey.invitations.filter(send_status="pending").exists(),
        timeout=20,
        message=lambda: f"Invitations still queued: {list(survey.invitations.values('email', 'send_attempts'))}",
    )
    ((_, (refused,)),) = smtp_sink.refused
    outcome = {i.email: (i.send_status, i.send_attempts, i.sent_at is not None) for i in survey.invitations.all()}
    (delivered,) = set(outcome) - {refused}
    assert outcome == {refused: ("failed", 1, False), delivered: ("sent", 1, True)}
    assert "550" in survey.invitations.get(email=refused).last_error
    assert [m.recipients for m in smtp_sink.messages] == [[delivered]]
    assert "Retry in" not in celery_worker.log_text()


# Accessibility of the public form ----------------------------------------------------------


@pytest.fixture
def survey_link(live_server):
    """A launched survey with one invitation; returns (survey, the invitation's URL on the live server)."""
    world = alpha_pmo()
    survey = surveys.create_survey(
        pmo=world.lead.pmo,
        created_by=world.lead.user,
        title="Spring perception check",
        closes_on=timezone.localdate() + timedelta(days=7),
    )
    survey.target_stakeholders.add(world.stakeholders["ann.archer@corp.example"])
    (invitation,) = surveys.launch(survey)
    return survey, f"{live_server.url}{invitation.path}"


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input[type=radio], textarea')]
    .filter(el => !el.labels || el.labels.length === 0 || !el.labels[0].textContent.trim())
    .map(el => el.name + '=' + el.value)"""
RADIOS_OUTSIDE_A_NAMED_GROUP = """() => [...document.querySelectorAll('input[type=radio]')]
    .filter(el => { const set = el.closest('fieldset'); const legend = set && set.querySelector('legend');
                    return !legend || !legend.textContent.trim(); })
    .map(el => el.name)"""


def test_public_form_has_no_serious_accessibility_problem_on_desktop_or_phone(browser, survey_link):
    survey, url = survey_link
    SHOTS.mkdir(parents=True, exist_ok=True)
    # axe is injected as a script of the page's own, which its CSP (script-src 'self') would block.
    context = browser.new_context(bypass_csp=True, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_role("heading", name="Spring perception check")).to_be_visible()
        assert serious_violations(page) == []
        assert page.evaluate(UNLABELLED_CONTROLS) == []
        assert page.evaluate(RADIOS_OUTSIDE_A_NAMED_GROUP) == []
        # 10 statements, 5 importance questions and the NPS: 16 groups, each under a legend.
        assert page.evaluate("new Set([...document.querySelectorAll('input[type=radio]')].map(r => r.name)).size") == 16

        page.set_viewport_size(PHONE)
        page.reload()
        assert serious_violations(page) == []
        # Nothing wider than the phone's screen: no sideways scrolling to reach an answer.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(SHOTS / "public-form-390.png"), full_page=True)

        answer_in_browser(page, survey, ANSWERS["dan.dale@corp.example"])
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        assert serious_violations(page) == []
        page.screenshot(path=str(SHOTS / "public-thanks-390.png"), full_page=True)
    finally:
        context.close()


def test_public_form_can_be_completed_with_the_keyboard_alone(browser, survey_link):
    survey, url = survey_link
    questions = questions_of(survey)
    # (field name, index of the choice to pick) in the order the form shows them.
    plan = []
    performance = iter([4, 5, DK, 3, 2, 4, 1, 5, DK, 4])
    importance = iter([5, 4, 3, 2, 1])
    expected = {}
    for statements, importance_question in questions["elements"].values():
        for question in statements:
            value = next(performance)
            expected[question.pk] = value
            plan.append((f"q_{question.pk}", 5 if value is DK else value - 1))
        value = next(importance)
        expected[importance_question.pk] = value
        plan.append((f"q_{importance_question.pk}", value - 1))
    plan.append(("nps", 8))

    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_role("heading", name="Spring perception check")).to_be_visible()
        focused = "() => document.activeElement && (document.activeElement.name || document.activeElement.tagName)"
        first = plan[0][0]
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate(focused) == first:
                break
        for name, index in plan:
            assert page.evaluate(focused) == name, f"Tab should reach {name}, not {page.evaluate(focused)}"
            page.keyboard.press("Space")
            for _ in range(index):
                page.keyboard.press("ArrowRight")
            checked = page.locator(f'input[name="{name}"]:checked')
            expect(checked).to_have_count(1)
            choices = page.locator(f'input[name="{name}"]')
            assert checked.get_attribute("value") == choices.nth(index).get_attribute("value")
            page.keyboard.press("Tab")
        assert page.evaluate(focused) == "comment"
        page.keyboard.type("Typed without a mouse.")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent.trim()") == "Send my answers"
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()

    response = Response.objects.get(survey=survey)
    stored = dict(Answer.objects.filter(response=response).values_list("question_id", "value"))
    assert stored == expected
    assert (response.nps, response.comment) == (8, "Typed without a mouse.")
    assert Question.objects.filter(survey=survey, kind__in=["performance", "importance"]).count() == len(expected)


def test_answers_given_so_far_are_kept_by_the_page_and_come_back_with_the_link(browser, survey_link):
    """The page's script saves a draft as the stakeholder goes (a same-origin POST that must
    pass CSRF checks); the same link later resumes it, and nothing is submitted meanwhile."""
    survey, url = survey_link
    (first, second), _ = questions_of(survey)["elements"][PRD]
    invitation = SurveyInvitation.objects.get(survey=survey)
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(url)
        choose(page, first.text, "Agree")
        choose(page, second.text, "Don't know")
        expect(page.get_by_text("Answers saved on this link.")).to_be_visible()
        wanted = {f"q_{first.pk}": "4", f"q_{second.pk}": "dk"}
        wait_until(
            lambda: SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == wanted,
            message=lambda: f"Draft kept: {SurveyInvitation.objects.get(pk=invitation.pk).draft_answers}",
        )
        assert not Response.objects.filter(survey=survey).exists()
        context.clear_cookies()  # as on another day, or from another device
        page.goto(url)
        expect(page.get_by_text("Welcome back: your earlier answers are filled in.")).to_be_visible()
        first_group = page.locator("fieldset").filter(has=page.locator("legend", has_text=first.text))
        second_group = page.locator("fieldset").filter(has=page.locator("legend", has_text=second.text))
        expect(first_group.get_by_role("radio", name="Agree", exact=True)).to_be_checked()
        expect(second_group.get_by_role("radio", name="Don't know", exact=True)).to_be_checked()
    finally:
        context.close()


def test_a_partial_answer_is_refused_and_kept_then_saved_for_later_and_sent_on_a_phone(browser, survey_link):
    """Sending with questions left out: each is named, nothing is sent, what was
    chosen stays chosen (and is kept on the link); "Save and finish later" keeps more; then
    the whole form is sent."""
    survey, url = survey_link
    questions = questions_of(survey)
    (first, second), _ = questions["elements"][PRD]
    invitation = SurveyInvitation.objects.get(survey=survey)
    answers = Answers(
        performance={PRD: (4, DK), EVI: (3, 3), PRI: (2, DK), PPL: (5, 4), PRC: (4, 4)},
        importance={PRD: 5, EVI: 3, PRI: 2, PPL: 4, PRC: 4},
        nps=9,
        comment="Half done, then finished.",
    )
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(url)
        choose(page, first.text, "Agree")
        choose(page, questions["nps"].text, "9")
        page.get_by_label(questions["comment"].text).fill("Half done, then finished.")
        page.get_by_role("button", name="Send my answers").click()

        expect(page.get_by_role("alert")).to_contain_text(
            "Some answers need a look. Nothing has been sent yet; your other answers are kept."
        )
        expect(question_group(page, second.text).get_by_text("Choose an answer, or “Don't know”.")).to_be_visible()
        expect(question_group(page, first.text).get_by_role("radio", name="Agree", exact=True)).to_be_checked()
        expect(question_group(page, questions["nps"].text).get_by_role("radio", name="9", exact=True)).to_be_checked()
        expect(page.get_by_label(questions["comment"].text)).to_have_value("Half done, then finished.")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "public-form-errors-390.png"), full_page=True)
        assert not Response.objects.filter(survey=survey).exists()
        kept = {f"q_{first.pk}": "4", "nps": "9", "comment": "Half done, then finished."}
        assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == kept

        choose(page, second.text, "Don't know")
        page.get_by_role("button", name="Save and finish later").click()
        expect(page.get_by_text("Your answers are saved. Come back with the same link to finish")).to_be_visible()
        expect(question_group(page, second.text).get_by_role("radio", name="Don't know", exact=True)).to_be_checked()
        assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == {**kept, f"q_{second.pk}": "dk"}
        assert not Response.objects.filter(survey=survey).exists()

        answer_in_browser(page, survey, answers)
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()
    response = Response.objects.get(survey=survey)
    stored = dict(Answer.objects.filter(response=response).values_list("question_id", "value"))
    assert stored == expected_values(survey, answers)
    assert (response.nps, response.comment) == (9, "Half done, then finished.")
