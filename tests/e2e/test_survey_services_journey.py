"""A survey that asks about the PMO's services, in Chromium (issue 12): the lead ticks the
services on the survey's form, then stakeholders answer on a phone-sized screen, with the
page's script and without it. The services fold away, a service's ratings show once
"I use it" is chosen, and the form says how many services remain."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.domain import ServiceUsage
from stakeholders.models import Service, ServiceAnswer, Survey
from stakeholders.surveys import lifecycle as surveys
from tests.e2e.test_survey_journey import LIKERT, PHONE, SHOTS, alpha_pmo, choose, questions_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# The survey's form, where the lead ticks the services (survey_create), and the public form
# with its autosave (survey_answer and survey_save, FORMS_SUBMITTED of test_survey_journey too).
FORMS_SUBMITTED = {"survey_create", "survey_answer", "survey_save"}

USES, KNOWS, UNAWARE = ServiceUsage.USES, ServiceUsage.KNOWS, ServiceUsage.UNAWARE


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def alpha(db):
    world = alpha_pmo()
    pmo = world.lead.pmo
    finance, delivery = pmo.segments.get(name="Finance"), pmo.segments.get(name="Delivery")
    for name, segments in [("Help desk", [finance]), ("Portfolio reporting", []), ("Coaching", [delivery])]:
        Service.objects.create(pmo=pmo, name=name, description=f"What {name.lower()} does for you.").segments.set(
            segments
        )
    return world


def service_item(page, name: str):
    return page.locator("details[data-service]").filter(has=page.locator("summary", has_text=name))


def choose_in(item, legend: str, label: str) -> None:
    group = item.locator("fieldset").filter(has=item.page.locator("legend", has_text=legend))
    group.get_by_text(label, exact=True).click()
    expect(group.get_by_role("radio", name=label, exact=True)).to_be_checked()


def answer_the_ps(page, survey: Survey) -> None:
    questions = questions_of(survey)
    for statements, importance in questions["elements"].values():
        for question in statements:
            choose(page, question.text, LIKERT[4])
        choose(page, importance.text, "Very important")
    choose(page, questions["nps"].text, "8")


def stored(stakeholder) -> dict[str, tuple]:
    rows = ServiceAnswer.objects.filter(response__invitation__stakeholder=stakeholder)
    return {
        a.survey_service.name: (a.usage, a.satisfaction, a.importance) for a in rows.select_related("survey_service")
    }


def test_the_lead_ticks_services_and_a_stakeholder_answers_them_on_a_phone(alpha, signed_in_page, browser, live_server):
    page = signed_in_page(alpha.lead_email, PASSWORD)
    page.goto(f"{live_server.url}/pmo/alpha/surveys/new/")
    page.get_by_label("Title").fill("Services check")
    for name in ("Help desk", "Portfolio reporting", "Coaching"):
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name="Services check")).to_be_visible()
    survey = Survey.objects.get(title="Services check")
    assert sorted(s.name for s in survey.survey_services.all()) == ["Coaching", "Help desk", "Portfolio reporting"]

    ann = alpha.stakeholders["ann.archer@corp.example"]
    survey.closes_on = timezone.localdate() + timedelta(days=7)
    survey.save()
    survey.target_stakeholders.add(ann)
    (invitation,) = surveys.launch(survey)

    context = browser.new_context(viewport=PHONE)
    try:
        phone = context.new_page()
        phone.goto(f"{live_server.url}{invitation.path}")
        left = phone.locator("#services-left")
        # Finance: the help desk (Finance's) and portfolio reporting (everyone's), not coaching.
        expect(left).to_have_text("2 of 2 services left to answer.")
        expect(phone.locator("details[data-service] summary .service-name")).to_have_text(
            ["Help desk", "Portfolio reporting"]
        )
        answer_the_ps(phone, survey)
        SHOTS.mkdir(parents=True, exist_ok=True)
        phone.locator("#services").screenshot(path=str(SHOTS / "public-services-folded-390.png"))

        desk = service_item(phone, "Help desk")
        desk.locator("summary").click()
        expect(desk.get_by_text("What help desk does for you.")).to_be_visible()
        satisfaction = desk.locator("fieldset").filter(has_text="How satisfied are you with it?")
        expect(satisfaction).to_be_hidden()  # asked of a user only
        choose_in(desk, "Do you know this service", "I use it")
        expect(satisfaction).to_be_visible()
        expect(left).to_have_text("2 of 2 services left to answer.")  # not rated yet
        choose_in(desk, "How satisfied", "Satisfied")
        choose_in(desk, "How important", "Essential")
        expect(left).to_have_text("1 of 2 services left to answer.")
        expect(desk.locator(".service-state")).to_have_text("Answered")

        reporting = service_item(phone, "Portfolio reporting")
        reporting.locator("summary").click()
        choose_in(reporting, "Do you know this service", "I know it but don't use it")
        expect(reporting.locator("fieldset").filter(has_text="How satisfied are you with it?")).to_be_hidden()
        expect(left).to_have_text("All 2 services answered.")

        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(path=str(SHOTS / "public-services-390.png"), full_page=True)
        phone.get_by_role("button", name="Send my answers").click()
        expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()
    assert stored(ann) == {"Help desk": (USES, 4, 5), "Portfolio reporting": (KNOWS, None, None)}


def test_the_services_are_answered_without_the_pages_script_on_a_phone(alpha, browser, live_server):
    ben = alpha.stakeholders["ben.brook@corp.example"]
    survey = surveys.create_survey(
        pmo=alpha.lead.pmo,
        created_by=alpha.lead.user,
        title="Services check",
        closes_on=timezone.localdate() + timedelta(days=7),
        services=list(Service.objects.filter(pmo=alpha.lead.pmo)),
    )
    survey.target_stakeholders.add(ben)
    (invitation,) = surveys.launch(survey)

    # The page's script never arrives, as for a browser that runs none. (A context with
    # JavaScript off would also stop axe, which every browser test runs on each page.)
    context = browser.new_context(viewport=PHONE)
    context.route("**/survey-form.js", lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}{invitation.path}")
        answer_the_ps(page, survey)
        desk = service_item(page, "Help desk")
        desk.locator("summary").click()  # <details> opens without a script
        choose_in(desk, "Do you know this service", "I use it")
        expect(desk.locator("fieldset").filter(has_text="How satisfied are you with it?")).to_be_visible()
        choose_in(desk, "How satisfied", "Very dissatisfied")
        reporting = service_item(page, "Portfolio reporting")
        reporting.locator("summary").click()
        choose_in(reporting, "Do you know this service", "I didn't know it")
        page.get_by_role("button", name="Send my answers").click()

        # The importance is missing: the page says so, with the help desk open and the rest kept.
        expect(page.get_by_role("alert")).to_contain_text("Some answers need a look.")
        desk = service_item(page, "Help desk")
        expect(desk).to_have_attribute("open", "")
        expect(desk).to_contain_text("You use this service: choose a rating, or “Don't know”.")
        expect(page.locator("#services-left")).to_have_text("1 of 2 services left to answer.")
        expect(desk.get_by_role("radio", name="Very dissatisfied", exact=True)).to_be_checked()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "public-services-nojs-390.png"), full_page=True)
        assert not ServiceAnswer.objects.exists()

        choose_in(desk, "How important", "Don't know")
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    finally:
        context.close()
    assert stored(ben) == {"Help desk": (USES, 1, None), "Portfolio reporting": (UNAWARE, None, None)}
