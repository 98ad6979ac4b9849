"""Issue 12's browser test, as one journey in Chromium: a lead adds a service through the
catalogue's form, drafts a survey that asks about it, chooses its audience and launches it;
stakeholders answer through the links e-mailed to them (the outbox, run in-process to the
locmem mailbox by the test settings) on a phone-sized screen, one of them without knowing
the service; the lead closes the survey and reads the service's figures, worked out here by
hand, on the catalogue, on the service's page and in the heat map. axe checks every page on
the way (tests/e2e/axe.py).

The answers (everyone answers "Agree" to every statement of the five P's, so each P's
perception is (4 − 1) / 4 × 100 = 75.0):

| respondent     | segment  | Help desk (everyone)                 |
| -------------- | -------- | ------------------------------------ |
| Ann Archer     | Finance  | uses, satisfaction 4, importance 5   |
| Ben Brook      | Finance  | uses, satisfaction 5, importance ?   |
| Cat Cole       | Finance  | knows it but does not use it         |
| Eve Evans      | Finance  | didn't know it                       |
| Dan Dale       | Delivery | uses, satisfaction 1, importance 4   |

(? is "Don't know".) The whole survey: 5 answered, 4 aware (80%), 3 users (60%); satisfaction
(4 + 5 + 1) / 3 = 3.333 → 58.3 on 3 ratings; importance (5 + 4) / 2 = 4.5 → 87.5 on 2;
quadrant "Keep up the good work" (both ≥ 50); priority 87.5 × (100 − 58.33) / 100 = 36.46 → 36.
Finance: 4 answered, 3 aware (75%), 2 users (50%), satisfaction 4.5 → 87.5 on 2, importance
5 → 100.0 on 1. Delivery: 1 answered, under the minimum group size of 3: hidden. In the heat
map, the help desk serves People and Process: 58.3 in each, 58.33 − 75 = −16.7 from the P.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from pmo5p.domain import ServiceUsage
from stakeholders.models import Service, Survey, SurveyStatus
from tests.e2e.test_catalogue_journey import shot
from tests.e2e.test_survey_journey import PHONE, alpha_pmo, links_in
from tests.e2e.test_survey_services_journey import answer_the_ps, choose_in, service_item, stored
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# The forms this journey submits (tests/test_form_coverage.py holds every form to a browser test);
# survey_save is the public form's autosave, posted by its script as the stakeholder answers.
FORMS_SUBMITTED = {
    "service_create",
    "survey_create",
    "survey_audience",
    "survey_launch",
    "survey_answer",
    "survey_save",
    "survey_close",
}

USES, KNOWS, UNAWARE = ServiceUsage.USES, ServiceUsage.KNOWS, ServiceUsage.UNAWARE
DK = "Don't know"

# Each respondent's answer about the help desk: the usage, then satisfaction and importance
# as the form words them (users only).
ANSWERS = {
    "ann.archer@corp.example": ("I use it", "Satisfied", "Essential"),
    "ben.brook@corp.example": ("I use it", "Very satisfied", DK),
    "cat.cole@corp.example": ("I know it but don't use it",),
    "eve.evans@corp.example": ("I didn't know it",),
    "dan.dale@corp.example": ("I use it", "Very dissatisfied", "Very important"),
}
STORED = {
    "ann.archer@corp.example": (USES, 4, 5),
    "ben.brook@corp.example": (USES, 5, None),
    "cat.cole@corp.example": (KNOWS, None, None),
    "eve.evans@corp.example": (UNAWARE, None, None),
    "dan.dale@corp.example": (USES, 1, 4),
}
# Worked out by hand above, as the pages show them.
WHOLE = {"awareness": "80%", "usage": "60%", "satisfaction": "58.3", "importance": "87.5"}
FINANCE = {"awareness": "75%", "usage": "50%", "satisfaction": "87.5", "importance": "100.0"}


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


def invitation_paths() -> dict[str, str]:
    """Each invited stakeholder's single-use link, from the e-mails sent (the path, to open on
    the live server whatever host the e-mail names)."""
    paths = {}
    for message in mail.outbox:
        if "would like your view" not in message.subject:
            continue
        (address,) = message.to
        (link,) = {url for url in links_in(message.body) if "?" not in url}
        paths[address] = urlsplit(link).path
    return paths


def expect_figures(scope, expected: dict[str, str]) -> None:
    for name, value in expected.items():
        expect(scope.locator(f'[data-figure="{name}"]'), f"{name}").to_have_text(value)


def test_a_service_added_asked_about_answered_on_phones_and_read_with_its_figures(signed_in_page, browser, live_server):
    assert settings.MIN_GROUP_SIZE == 3  # the Finance group (4) shows, Delivery (1) hides
    world = alpha_pmo()
    today = timezone.localdate()

    # The lead adds the help desk, for everyone, serving People and Process.
    page = signed_in_page(world.lead_email, PASSWORD)
    page.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("link", name="Add a service").first.click()
    page.get_by_label("Name").fill("Help desk")
    page.get_by_label("Description").fill("One address for every question about methods and tools.")
    page.get_by_label("People: building confidence through experience").check()
    page.get_by_label("Process: personalising the service").check()
    page.get_by_label("Status").select_option("Live")
    page.get_by_role("button", name="Save service").click()
    expect(page.get_by_text("Service “Help desk” is saved.")).to_be_visible()
    service = Service.objects.get(pmo=world.lead.pmo)
    assert (service.name, sorted(service.elements), list(service.segments.all())) == (
        "Help desk",
        ["people", "process"],
        [],
    )
    expect(page.get_by_text("Not asked about in a survey yet.", exact=False)).to_be_visible()

    # A survey that asks about it, to Finance and Delivery, launched from its page.
    page.get_by_role("link", name="Surveys", exact=True).click()
    page.get_by_role("link", name="Draft your first survey").click()
    page.get_by_label("Title").fill("Services check")
    page.get_by_label("Closes on").fill((today + timedelta(days=10)).isoformat())
    page.get_by_label("Help desk", exact=True).check()
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name="Services check")).to_be_visible()
    survey = Survey.objects.get(title="Services check")
    page.get_by_role("link", name="Choose").click()
    page.get_by_label("Finance", exact=True).check()
    page.get_by_label("Delivery", exact=True).check()
    page.get_by_role("button", name="Save audience").click()
    page.get_by_role("link", name="Review and launch").click()
    page.get_by_role("button", name="Launch and send the invitations").click()
    expect(page.get_by_text("Survey launched: 5 invitations on their way.")).to_be_visible()
    paths = invitation_paths()
    assert sorted(paths) == sorted(ANSWERS)

    # Each stakeholder answers on a phone, through their own link, in a browser of their own.
    for address, (usage, *ratings) in ANSWERS.items():
        context = browser.new_context(viewport=PHONE)
        try:
            phone = context.new_page()
            phone.goto(f"{live_server.url}{paths[address]}")
            expect(phone.get_by_role("heading", name="Services check")).to_be_visible()
            expect(phone.locator("#services-left")).to_have_text("1 of 1 service left to answer.")
            answer_the_ps(phone, survey)
            desk = service_item(phone, "Help desk")
            desk.locator("summary").click()
            choose_in(desk, "Do you know this service", usage)
            if ratings:
                choose_in(desk, "How satisfied", ratings[0])
                choose_in(desk, "How important", ratings[1])
            else:  # a non-user is not asked to rate it
                expect(desk.locator("fieldset").filter(has_text="How satisfied are you with it?")).to_be_hidden()
            expect(phone.locator("#services-left")).to_have_text("All 1 service answered.")
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            phone.get_by_role("button", name="Send my answers").click()
            expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
        finally:
            context.close()
        assert stored(world.stakeholders[address]) == {"Help desk": STORED[address]}

    # The lead closes the survey.
    page.goto(f"{live_server.url}/pmo/alpha/surveys/{survey.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close now").click()
    expect(page.get_by_text("Survey closed: the link in the invitations no longer opens it.")).to_be_visible()
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.CLOSED

    # The catalogue: the help desk's figures from the closed survey.
    page.get_by_role("link", name="Services", exact=True).click()
    row = page.locator(f'tr[data-service="{service.pk}"]')
    expect_figures(row, WHOLE)
    expect(row.locator('[data-figure="quadrant"]')).to_contain_text("Keep up the good work")
    # Importance 87.5 from its users, liked, at Basic: its figures call for raising its level.
    expect(row.locator('[data-figure="call"]')).to_have_text(["Ready to raise its level"])
    expect(row).to_contain_text("4 of 5")  # aware, of those who answered
    expect(row).to_contain_text("3 ratings")
    expect(row).to_contain_text("2 ratings")

    # Its page: the same figures, then per segment (Delivery's one answer hidden) and the trend.
    row.get_by_role("link", name="Help desk").click()
    expect(page.get_by_role("heading", name="Help desk", level=1)).to_be_visible()
    latest = page.locator('[data-figure="latest"]')
    expect_figures(latest, WHOLE)
    expect(latest).to_contain_text("4 of 5 know it")
    expect(latest).to_contain_text("3 of 5 use it")
    expect(page.locator('[data-figure="quadrant"]')).to_contain_text("Keep up the good work")
    expect(page.locator('[data-figure="quadrant"]')).to_contain_text("Priority 36.")
    segments = page.locator("#service-segments")
    expect_figures(segments.get_by_role("row", name=re.compile("^Finance")), FINANCE)
    expect(segments.get_by_role("row", name=re.compile("^Delivery"))).to_contain_text("Fewer than 3 answers: hidden.")
    trend = page.locator("#service-trend").get_by_role("row", name=re.compile("^Services check"))
    expect_figures(trend, WHOLE)

    # The heat map: the help desk in the columns of People and Process, against their perception.
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="Services").click()
    page.get_by_role("link", name="Services × P's").click()
    expect(page.get_by_role("heading", name="Services against the five P's")).to_be_visible()
    desk = page.locator(f'tr[data-service="{survey.survey_services.get().pk}"]')
    expect(desk.locator('[data-figure="awareness"]')).to_have_text("80%")
    expect(desk.locator('[data-figure="usage"]')).to_have_text("60%")
    for element in ("people", "process"):
        expect(desk.locator(f'[data-element="{element}"]')).to_have_text(re.compile(r"^58\.3\s+−16\.7 vs P$"))
        expect(page.locator(f'tr[data-row="perception"] [data-element="{element}"]')).to_have_text("75.0")
    for element in ("product", "physical_evidence", "price"):
        expect(desk.locator(f'[data-element="{element}"]')).to_contain_text("Not served")
    crumb = page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="Services")
    expect(crumb).to_have_attribute("href", "/pmo/alpha/services/")  # the way back to the catalogue
    shot(page, "service-journey-heat-map")
    desk.get_by_role("link", name="Help desk").click()
    expect(page).to_have_url(re.compile(rf"/pmo/alpha/services/{service.pk}/$"))
