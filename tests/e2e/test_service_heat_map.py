"""The services' figures a viewer reads in Chromium, on a phone and a desktop: the dashboard's
three services to work on, the heat map of services against the P's, and from there a
service's page. The second known set of tests/test_service_figures.py; axe checks every page
on the way (tests/e2e/axe.py)."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.test_service_figures import ASSURANCE_WHY, METHODS, catalogue  # noqa: F401 (the fixture, by name)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_viewer_reads_the_services_to_work_on_and_the_heat_map(world, request, signed_in_page, page, width):
    known = request.getfixturevalue("catalogue")
    page.set_viewport_size({"width": width, "height": 900})
    signed_in_page(world.viewer.email, PASSWORD)
    page.get_by_role("link", name="Dashboard", exact=True).click()  # signing in lands on My week
    card = page.locator("#services-to-work-on")
    expect(card.locator("li")).to_have_count(3)
    expect(card.locator("li").first).to_contain_text("Assurance")
    expect(card.locator('[data-figure="service-why"]').first).to_have_text(ASSURANCE_WHY)
    expect(card.locator("li").nth(2)).to_contain_text(METHODS)  # shown as typed, not as markup

    card.get_by_role("link", name="Services against the five P's").click()
    expect(page).to_have_url(re.compile(r"/pmo/alpha/services/heat-map/$"))
    row = page.locator(f'tr[data-service="{known.asked[known.assurance].pk}"]')
    expect(row.locator('[data-element="people"]')).to_contain_text("25.0")
    expect(row.locator('[data-element="people"]')).to_contain_text("−25.0 vs P")
    expect(row.locator('[data-element="product"]')).to_contain_text("Not served")
    expect(page.locator('tr[data-row="perception"] [data-element="process"]')).to_have_text("50.0")

    row.get_by_role("link", name="Assurance").click()
    expect(page).to_have_url(re.compile(rf"/pmo/alpha/services/{known.assurance.pk}/$"))
    expect(page.get_by_role("heading", name="Assurance", level=1)).to_be_visible()
