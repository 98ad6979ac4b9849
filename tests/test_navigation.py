"""Every PMO page belongs to a tab of the navigation, so the user always sees where they are."""

from pmo5p.context_processors import NAV_SECTIONS, SECTION_OF
from tests.test_tenancy import PMO_ROUTES

# Buttons (POST only), downloads and the report's frame (shown inside the report's page):
# no page of their own to highlight a tab for.
NOT_PAGES = {
    "member_role",
    "invitation_revoke",
    "member_invitation_resend",
    "stakeholder_set_active",
    "survey_close",
    "survey_export",
    "invitation_resend",
    "detractor_alert_resend",
    "case_pulse_send",
    "survey_update_send",
    "action_set_status",
    "suggestion_adopt",
    "report_subscription",
    "report_send_now",
    "report_pdf",
    "report_frame",
    "delivery_resend",
}


def test_every_pmo_page_has_a_navigation_tab():
    pages = {name for name, _ in PMO_ROUTES} - NOT_PAGES
    assert pages - SECTION_OF.keys() == set()


def test_navigation_names_only_existing_pages():
    routed = {name for name, _ in PMO_ROUTES}
    named = set().union(*NAV_SECTIONS.values())
    assert named - routed == set()


def test_the_page_marks_its_tab_and_no_other(world, client_for):
    html = client_for(world.lead).get("/pmo/alpha/stakeholders/interactions/").content.decode()
    assert html.count('nav-link active" aria-current="page"') == 1
    assert 'nav-link active" aria-current="page" href="/pmo/alpha/stakeholders/"' in html
