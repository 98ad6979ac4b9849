"""Every form of the product is filled in and submitted in a real browser by some test.

The test client posts what a test tells it to, so it cannot see a form a browser cannot
submit: the self-assessment form's date arrived as 26/11/2026, which Chromium shows as an
empty field, and the form could not be saved. Hence a browser test per form. Each module
tests/e2e/test_*.py declares, at module level,

    FORMS_SUBMITTED = {"url_name", ...}

the URL names (namespaced as `ns:name` where the URLconf has namespaces) whose form its
tests fill in with valid data and submit in Chromium, checking what was saved and what the
page then shows. This test finds every form of the product — each `<form method="post">`
with a button to send it, on every page of the URL walk (tests/page_walk.py), resolved to
the URL it posts to, and every route that only takes POST — and fails on any form no
module names, and on any name that is not a form. (GET forms, the search and filters, are
left out: a browser sends them as a query string, which the tests of those pages cover.)

The modules are read with `ast`, not imported, so that this test needs no Playwright.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest
from django.urls import resolve

from tests.page_walk import action_path, walk
from tests.test_tenancy import ALL_ROUTES
from tests.test_tenancy import invitation as tenancy_rows  # noqa: F401 - a fixture, once imported here

E2E = Path(__file__).parent / "e2e"


@pytest.fixture
def product_forms(client, world, request) -> dict[str, set[str]]:
    """URL name of each form → where the walk found it."""
    found = defaultdict(set)
    for page in walk(client, world, request.getfixturevalue("tenancy_rows")):
        if page.status == 405:
            found[page.name].add("a route that only takes POST")
        for form in page.post_forms():
            found[resolve(action_path(page, form)).view_name].add(f"a form on the page {page.name}")
    return found


def declared_forms() -> dict[str, set[str]]:
    """URL name → the browser test modules that say they submit its form."""
    declared = defaultdict(set)
    for path in sorted(E2E.glob("test_*.py")):
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == "FORMS_SUBMITTED" for t in targets):
                names = ast.literal_eval(node.value)  # a literal, readable without running the module
                assert isinstance(names, set) and all(isinstance(n, str) for n in names), (
                    f"{path.name}: FORMS_SUBMITTED must be a set of URL names, e.g. {{'login', 'logout'}}."
                )
                for name in names:
                    declared[name].add(path.name)
    return declared


def test_the_walk_finds_the_forms_of_every_kind_of_page(product_forms):
    assert {
        "login",
        "logout",  # in the navigation bar of every signed-in page
        "signup",
        "password_reset",
        "password_reset_confirm",  # through a valid link
        "accept_invitation",
        "survey_answer",
        "survey_save",  # the answer page's autosave: a route that only takes POST
        "self_assessment_new",
        "member_role",  # one form per member on the members page
        "action_set_status",
        "report_subscription",
        "api_token_revoke",
    } <= product_forms.keys()


def test_every_form_of_the_product_is_submitted_in_a_browser_test(product_forms):
    declared = declared_forms()
    missing = {name: where for name, where in product_forms.items() if name not in declared}
    assert not missing, (
        f"{len(missing)} form(s) have no browser test. Fill each in and submit it in Chromium with valid data "
        "in a test under tests/e2e/, check what is saved and shown, and add its URL name to that module's "
        "FORMS_SUBMITTED:\n"
        + "\n".join(f"  {name}  ({'; '.join(sorted(where))})" for name, where in sorted(missing.items()))
    )


def test_forms_submitted_names_only_forms_of_the_product(product_forms):
    declared = declared_forms()
    url_names = {name for name, _ in ALL_ROUTES}
    unknown = {name: modules for name, modules in declared.items() if name not in url_names}
    assert not unknown, f"FORMS_SUBMITTED names URLs that do not exist (renamed or removed?): {unknown}"
    not_forms = {name: modules for name, modules in declared.items() if name not in product_forms}
    assert not not_forms, f"FORMS_SUBMITTED names URLs that take no form: {not_forms}"
