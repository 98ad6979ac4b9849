"""The API documentation page renders in a real browser: Swagger UI loads the live
schema and lists the operations, under the app's Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_page_shows_the_operations(page, live_server):
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.goto(f"{live_server.url}/api/docs/")

    expect(page.get_by_text("pmo5p API", exact=False).first).to_be_visible()
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/pmos/{slug}/stakeholders/").first
    expect(operation).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/pmos/{slug}/stakeholders/upsert/")).to_be_visible()
    assert page.locator(".opblock").count() >= 40
    assert console_errors == []
