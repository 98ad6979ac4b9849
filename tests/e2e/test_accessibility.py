"""The main pages of the signed-in app, with the demo PMO's data, pass axe-core with no
serious or critical violation, on a desktop and on a phone. (Every browser test has axe
check the pages it visits, tests/e2e/axe.py; this one visits these with the demo's data.)"""

import pytest

from agenda.demo import DEMO_PASSWORD, load_demo
from stakeholders.models import Survey

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/pmo/demo/my-week/",
    "/pmo/demo/",
    "/pmo/demo/stakeholders/",
    "/pmo/demo/stakeholders/grid/",
    "/pmo/demo/surveys/",
    "{spring_results}",
    "/pmo/demo/assessments/",
    "/pmo/demo/agenda/",
    "/pmo/demo/agenda/suggestions/",
    "/pmo/demo/reports/schedule/",
    "/pmo/demo/model/",
    "/pmo/demo/settings/engagement/",
]


@pytest.fixture
def demo_page(browser, live_server):
    load_demo()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill("lead@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/pmo/demo/my-week/")
    yield page
    context.close()


def test_main_pages_have_no_serious_accessibility_problem(demo_page, live_server, axe_audit):
    spring = Survey.objects.get(pmo__slug="demo", title="Spring perception survey")
    pages = [path.format(spring_results=f"/pmo/demo/surveys/{spring.pk}/results/") for path in PAGES]
    problems = {}
    for width in (1366, 390):
        demo_page.set_viewport_size({"width": width, "height": 900})
        for path in pages:
            response = demo_page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            found = axe_audit.check(demo_page)
            if found:
                problems[f"{path} at {width}px"] = found
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
