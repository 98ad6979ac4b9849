"""Browser tests: Playwright drives Debian's Chromium, launched by path.

Playwright's own browser download does not work on these machines, so the tests use
the system's Chromium (PMO5P_CHROMIUM, or /usr/bin/chromium). Without it they are
skipped with a reason, and CI's PMO5P_REQUIRE_ALL=1 turns that skip into a failure.
"""

import os
import shutil

import pytest

from tests.e2e.axe import Auditor

# pytest-django's live_server runs in this process; Playwright's sync API runs an
# event loop in it, which Django would otherwise refuse to mix with ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PMO5P_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"No Chromium at {CHROMIUM}: install Debian's `chromium` package or set PMO5P_CHROMIUM.")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def axe_audit(monkeypatch):
    """axe-core on every page the test lands on (tests/e2e/axe.py): serious or critical
    violations fail the test at teardown, naming the page, the rule and the elements."""
    auditor = Auditor()
    auditor.install(monkeypatch)
    yield auditor
    auditor.check_open_contexts()
    if auditor.findings:
        pytest.fail(auditor.report(), pytrace=False)


@pytest.fixture
def signed_in_page(page, live_server):
    """Returns a function that signs a user in through the real login form."""

    def sign_in(email: str, password: str):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    return sign_in
