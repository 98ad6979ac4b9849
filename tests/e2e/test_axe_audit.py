"""The axe audit of tests/e2e/axe.py does check the pages a test passes through: a page
with planted violations is caught when the test leaves it by a link, without any call."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

# An unnamed link (serious) and grey text on white at 2.3:1 (serious).
PLANTED = """<!doctype html><html lang="en"><head><title>Planted</title>
<style>.faint { color: #aaaaaa; }</style></head><body><main><h1>Planted problems</h1>
<p class="faint">Hard to read</p><a href="#top"><span></span></a>
<a href="/accounts/login/">To the sign-in page</a></main></body></html>"""


def test_a_page_is_checked_before_the_test_leaves_it_and_the_last_one_at_the_end(page, live_server, axe_audit):
    planted = f"{live_server.url}/planted/"
    page.route(planted, lambda route: route.fulfill(status=200, content_type="text/html", body=PLANTED))
    page.goto(planted)
    page.get_by_role("link", name="To the sign-in page").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    (found,) = axe_audit.findings.values()
    assert list(axe_audit.findings) == [f"{planted} at 1280px"]
    assert any(line.startswith("link-name (serious)") for line in found)
    assert any(line.startswith("color-contrast (serious)") and "['p']" in line for line in found)
    assert not page.evaluate("window.__pmo5pAxeChecked === true")
    axe_audit.check_open_contexts()  # as at the end of the test: the sign-in page, which passes
    assert page.evaluate("window.__pmo5pAxeChecked === true")
    assert list(axe_audit.findings) == [f"{planted} at 1280px"]
    axe_audit.findings.clear()  # planted: not a problem of the product
