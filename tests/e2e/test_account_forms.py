"""Every form of the pmo5p app (accounts, PMO workspaces, members) filled in and submitted
in Chromium, with valid data: signing in and out, the profile and API tokens, changing and
resetting a password, creating a PMO and its settings, inviting a colleague who joins through
the e-mailed link, changing roles, revoking an invitation and removing a member. Each journey
checks what was saved and what the page then shows; axe checks every page on the way
(tests/e2e/axe.py). Signing up is tested with the rest of sign-up."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from pmo5p.models import ApiToken, MemberInvitation, Membership, OutgoingEmail, Pmo, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The forms these tests submit (tests/test_form_coverage.py holds every form to a browser test).
FORMS_SUBMITTED = {
    "login",
    "logout",
    "profile",
    "api_token_create",
    "api_token_revoke",
    "password_change",
    "password_reset",
    "password_reset_confirm",
    "pmo_create",
    "pmo_settings",
    "member_invite",
    "accept_invitation",
    "member_role",
    "invitation_revoke",
    "member_invitation_resend",
    "member_remove",
}


def link_path(text: str) -> str:
    """The path of the one link to this site in an e-mail, to open on the live server whatever
    host the e-mail names."""
    (url,) = set(re.findall(r"https?://[^\s\"'<>]+", text))
    return urlsplit(url).path


def field(text: str):
    """A field's label as crispy-forms writes it: the text, then an asterisk when it is required."""
    return re.compile(rf"^\s*{re.escape(text)}\*?\s*$")


def account_menu(page, name: str):
    page.get_by_role("button", name=name).click()
    return page.locator(".dropdown-menu.show")


def sign_in(page, live_server, email: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_user_keeps_their_account_profile_tokens_and_passwords(page, live_server, mailoutbox):
    user = UserFactory(email="ada@alpha.example", name="Ada Lovelace")
    sign_in(page, live_server, "ada@alpha.example", PASSWORD)
    expect(page.get_by_role("heading", name="Your PMOs")).to_be_visible()

    # Profile: the name.
    account_menu(page, "Ada").get_by_role("link", name="Your profile").click()
    page.get_by_label("Full name").fill("Ada King")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    assert User.objects.get(pk=user.pk).name == "Ada King"

    # An API token: shown once, stored as a hash, working until it is revoked.
    page.get_by_label("Token name").fill("Power BI")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("#new-token").inner_text().strip()
    assert key.startswith(ApiToken.PREFIX)
    token = ApiToken.objects.get(user=user)
    assert token.name == "Power BI" and key not in (token.key_hash, token.hint)
    api = f"{live_server.url}/api/v1/pmos/"
    assert page.request.get(api, headers={"Authorization": f"Bearer {key}"}).status == 200
    page.get_by_role("listitem").filter(has_text="Power BI").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The token “Power BI” is revoked: it no longer works.")).to_be_visible()
    expect(page.get_by_text("You have no API token.")).to_be_visible()
    assert page.request.get(api, headers={"Authorization": f"Bearer {key}"}).status == 401

    # A new password, then signing out and in with it.
    account_menu(page, "Ada").get_by_role("link", name="Change password").click()
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label(field("New password")).fill("a-longer-passphrase-01")
    page.get_by_label("New password confirmation").fill("a-longer-passphrase-01")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    assert User.objects.get(pk=user.pk).check_password("a-longer-passphrase-01")
    page.get_by_role("link", name="Back to pmo5p").click()
    account_menu(page, "Ada").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to pmo5p")).to_be_visible()
    page.goto(f"{live_server.url}/accounts/profile/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))  # signed out for real

    # Forgotten: a reset link by e-mail, a new password through it, and signing in with it.
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("Email").fill("ada@alpha.example")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    (mail,) = mailoutbox
    assert mail.to == ["ada@alpha.example"]
    page.goto(f"{live_server.url}{link_path(mail.body)}")
    page.get_by_label(field("New password")).fill("another-passphrase-02")
    page.get_by_label("New password confirmation").fill("another-passphrase-02")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    assert User.objects.get(pk=user.pk).check_password("another-passphrase-02")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill("ada@alpha.example")
    page.get_by_label("Password").fill("another-passphrase-02")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your PMOs")).to_be_visible()


def test_a_lead_creates_a_pmo_and_manages_its_members(page, live_server, browser, mailoutbox):
    UserFactory(email="lea@alpha.example", name="Lea Lead")
    sign_in(page, live_server, "lea@alpha.example", PASSWORD)

    # A new PMO, with its settings.
    page.get_by_role("link", name="New PMO").click()
    page.get_by_label("Name").fill("Finance Transformation PMO")
    page.get_by_label("Slug").fill("finance")
    page.get_by_label("Description").fill("Runs the finance change portfolio")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Create PMO").click()
    expect(page.get_by_text("Finance Transformation PMO is ready.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/pmo/finance/$"))
    pmo = Pmo.objects.get(slug="finance")
    assert (pmo.name, pmo.time_zone) == ("Finance Transformation PMO", "Europe/Paris")
    assert list(pmo.memberships.values_list("user__email", "role")) == [("lea@alpha.example", "lead")]

    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Name").fill("Finance PMO")
    page.get_by_label("Time zone").select_option("America/New York")
    page.get_by_label("Days between surveys").fill("120")
    page.get_by_label("Currency").select_option("EUR")
    # 31 working days to first contact is refused, clearly, and what was typed stays.
    page.get_by_label("Working days to first contact").fill("31")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Give a whole number of working days from 1 to 30 (Monday to Friday).")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Finance PMO")
    expect(page.get_by_label("Days between surveys")).to_have_value("120")
    expect(page.get_by_label("Working days to first contact")).to_have_value("31")
    assert Pmo.objects.get(pk=pmo.pk).follow_up_working_days == 5
    page.get_by_label("Working days to first contact").fill("3")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("PMO settings saved.")).to_be_visible()
    pmo.refresh_from_db()
    assert (
        pmo.name,
        pmo.slug,
        pmo.time_zone,
        pmo.survey_fatigue_days,
        pmo.currency,
        pmo.follow_up_working_days,
    ) == ("Finance PMO", "finance", "America/New_York", 120, "EUR", 3)

    # An invitation, accepted through the e-mailed link in another browser.
    page.get_by_role("link", name="Members").click()
    page.get_by_role("link", name="Invite a colleague").first.click()
    page.get_by_label("E-mail address").fill("Sam@Alpha.example")
    page.get_by_label("Role").select_option("Member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to sam@alpha.example.")).to_be_visible()
    (mail,) = mailoutbox
    assert mail.to == ["sam@alpha.example"]
    invitee = browser.new_context()
    try:
        joining = invitee.new_page()
        joining.goto(f"{live_server.url}{link_path(mail.body)}")
        expect(joining.get_by_role("heading", name="Join Finance PMO")).to_be_visible()
        joining.get_by_label("Full name").fill("Sam Stone")
        joining.get_by_label(field("Password")).fill("sams-own-passphrase-9")
        joining.get_by_label("Password again").fill("sams-own-passphrase-9")
        joining.get_by_role("button", name="Create account and join").click()
        expect(joining.get_by_text("Welcome to Finance PMO.")).to_be_visible()
    finally:
        invitee.close()
    sam = Membership.objects.get(pmo=pmo, user__email="sam@alpha.example")
    assert (sam.role, sam.user.name) == ("member", "Sam Stone")

    # Sam's role, from the members page.
    page.reload()
    row = page.get_by_role("row").filter(has_text="sam@alpha.example")
    row.get_by_label("Role of Sam Stone").select_option("Viewer")
    row.get_by_role("button", name="Change").click()
    expect(page.get_by_text("Sam Stone is now viewer.")).to_be_visible()
    assert Membership.objects.get(pk=sam.pk).role == "viewer"

    # An invitation sent by mistake, revoked.
    page.get_by_role("link", name="Invite a colleague").first.click()
    page.get_by_label("E-mail address").fill("wrong@alpha.example")
    page.get_by_role("button", name="Send invitation").click()
    pending = page.get_by_role("listitem").filter(has_text="wrong@alpha.example")
    # Its mail server refused it for good: the page says so, and the lead sends it again.
    wrong = MemberInvitation.objects.get(email="wrong@alpha.example")
    OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.MEMBER_INVITATION, source_id=wrong.pk).update(
        status=OutgoingEmail.Status.FAILED, sent_at=None, last_error="550 5.1.1 No such user"
    )
    mailoutbox.clear()
    page.reload()
    expect(pending.get_by_text("550 5.1.1 No such user")).to_be_visible()
    pending.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("Sending the invitation to wrong@alpha.example again.")).to_be_visible()
    expect(pending.get_by_role("button", name="Send again")).to_have_count(0)
    assert [m.to for m in mailoutbox] == [["wrong@alpha.example"]]
    pending.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The invitation to wrong@alpha.example is revoked.")).to_be_visible()
    expect(page.get_by_text("No invitation is waiting for an answer.")).to_be_visible()
    assert MemberInvitation.objects.get(email="wrong@alpha.example").revoked_at is not None

    # Sam removed from the PMO, after a confirmation; the account stays.
    page.get_by_role("row").filter(has_text="sam@alpha.example").get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove from the PMO").click()
    expect(page.get_by_text("Sam Stone no longer belongs to Finance PMO.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="sam@alpha.example")).to_have_count(0)
    assert not Membership.objects.filter(pk=sam.pk).exists()
    assert User.objects.filter(email="sam@alpha.example").exists()
