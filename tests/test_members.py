"""Members of a PMO: invitations by e-mail, accepting them, roles, removal, and who may do what."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from pmo5p.models import MemberInvitation, Membership, Role, User
from pmo5p.services import invite_member
from stakeholders.models import Stakeholder
from tests.factories import PASSWORD, MembershipFactory, PmoFactory, UserFactory
from tests.helpers import assert_field_error, messages_of, signed_in_user_id, text, visible

NEW_PASSWORD = "joining-the-pmo-2024"
LAST_LEAD = "A PMO needs at least one lead: make another member lead first."


def members_url(slug="alpha"):
    return reverse("members", kwargs={"slug": slug})


def invite_url(slug="alpha"):
    return reverse("member_invite", kwargs={"slug": slug})


def role_url(membership):
    return reverse("member_role", kwargs={"slug": membership.pmo.slug, "membership_id": membership.pk})


def remove_url(membership):
    return reverse("member_remove", kwargs={"slug": membership.pmo.slug, "membership_id": membership.pk})


def revoke_url(invitation):
    return reverse("invitation_revoke", kwargs={"slug": invitation.pmo.slug, "invitation_id": invitation.pk})


def snapshot():
    """Everything these pages could change."""
    return (
        list(User.objects.values_list("id", "email", "name", "password").order_by("id")),
        list(Membership.objects.values_list("id", "pmo_id", "user_id", "role").order_by("id")),
        list(
            MemberInvitation.objects.values_list(
                "id", "email", "role", "accepted_at", "revoked_at", "expires_at"
            ).order_by("id")
        ),
        list(Stakeholder.objects.values_list("id", "owner_id").order_by("id")),
    )


def token_from(message) -> str:
    match = re.search(r"http://testserver/invitations/([A-Za-z0-9_-]+)/", message.body)
    assert match, f"No invitation link in the e-mail:\n{message.body}"
    return match.group(1)


@pytest.fixture
def invite(world, client_for, django_capture_on_commit_callbacks):
    """Invite someone to Alpha as its lead, through the page; return the invitation and its link."""

    def send(email="new.person@example.com", role=Role.MEMBER):
        client = client_for(world.lead)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(invite_url(), {"email": email, "role": role})
        assert response.status_code == 302, response.content.decode()
        assert len(mail.outbox) == 1
        token = token_from(mail.outbox[0])
        client.logout()
        return MemberInvitation.objects.get(
            email=email.lower(), accepted_at=None, revoked_at=None
        ), f"/invitations/{token}/"

    return send


# Inviting ------------------------------------------------------------------------------


def test_invite_page_shows_the_form_to_the_lead(client_for, world):
    response = client_for(world.lead).get(invite_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="email"' in page
    assert re.search(r'<option value="member" selected>', page)
    assert set(re.findall(r'<option value="(\w+)"', page)) == {"lead", "member", "viewer"}


def test_lead_invites_by_email_with_a_role(client_for, world, django_capture_on_commit_callbacks):
    client = client_for(world.lead)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(invite_url(), {"email": "New.Person@Example.com", "role": "viewer"})
        # Nothing leaves before the invitation is committed.
        assert mail.outbox == []
    assert len(callbacks) == 1

    assert response.status_code == 302
    assert response["Location"] == members_url()
    assert "Invitation sent to new.person@example.com." in messages_of(response)

    invitation = MemberInvitation.objects.get()
    assert invitation.pmo == world.pmo
    assert invitation.email == "new.person@example.com"
    assert invitation.role == Role.VIEWER
    assert invitation.invited_by == world.lead
    assert invitation.status == "pending"
    assert invitation.accepted_at is None and invitation.revoked_at is None
    days = (invitation.expires_at - timezone.now()).total_seconds() / 86400
    assert 6.99 < days <= 7

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert "Alpha PMO" in message.subject
    assert world.lead.name in message.subject
    token = token_from(message)
    link = f"http://testserver/invitations/{token}/"
    assert link in message.body
    assert "as viewer" in message.body
    assert len(message.alternatives) == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert "Alpha PMO" in html

    # The pending invitation is listed on the members page.
    page = text(client.get(members_url()))
    assert "new.person@example.com" in page
    assert "as viewer" in page


def test_only_a_hash_of_the_token_is_stored(client_for, world, invite):
    invitation, link = invite()
    token = link.split("/")[2]
    assert len(token) >= 32  # at least 128 random bits, url-safe base64
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()

    for field in MemberInvitation._meta.concrete_fields:
        assert token not in str(getattr(invitation, field.attname)), field.name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {MemberInvitation._meta.db_table}")  # noqa: S608
        rows = cursor.fetchall()
    assert rows
    assert not any(token in str(value) for row in rows for value in row)


def test_each_invitation_gets_its_own_token(world, invite):
    first, first_link = invite("one@example.com")
    second, second_link = invite("two@example.com")
    assert first_link != second_link
    assert first.token_hash != second.token_hash


def test_no_email_leaves_when_the_invitation_is_rolled_back(world, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        invite_member(pmo=world.pmo, email="ghost@example.com", role=Role.MEMBER, invited_by=world.lead)
        raise RuntimeError("the request failed after the invitation was written")
    assert callbacks == []
    assert mail.outbox == []
    assert not MemberInvitation.objects.exists()


def test_invitation_email_is_plain_text_where_it_should_be(client_for, db, django_capture_on_commit_callbacks):
    """Names with & and ' read as typed in the subject and the text part, and escaped in the HTML."""
    lead = UserFactory(name="Seán O'Brien")
    pmo = PmoFactory(name="R&D <Ops> PMO", slug="rnd")
    MembershipFactory(pmo=pmo, user=lead, role=Role.LEAD)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(lead).post(invite_url("rnd"), {"email": "x@example.com", "role": "member"})
    message = mail.outbox[0]
    assert message.subject == "Seán O'Brien invites you to R&D <Ops> PMO on pmo5p"
    assert "Seán O'Brien" in message.body
    assert "join R&D <Ops> PMO on pmo5p" in message.body
    assert "&amp;" not in message.body and "&#x27;" not in message.body
    html = message.alternatives[0][0]
    assert "R&amp;D &lt;Ops&gt; PMO" in html
    assert "<Ops>" not in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "member@alpha.example"}, "email", "This person is already a member of this PMO."),
        ({"email": "MEMBER@Alpha.Example"}, "email", "This person is already a member of this PMO."),
        ({"email": "lead@alpha.example"}, "email", "This person is already a member of this PMO."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": "two@@example.com"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "someone@example.com", "role": "owner"}, "role", "Select a valid choice."),
        ({"email": "someone@example.com", "role": ""}, "role", "This field is required."),
    ],
    ids=[
        "already-member",
        "already-member-other-case",
        "the-lead-themselves",
        "invalid-email",
        "double-at",
        "empty-email",
        "unknown-role",
        "empty-role",
    ],
)
def test_invite_bad_input_is_refused_next_to_the_field(
    client_for, world, django_capture_on_commit_callbacks, data, field, message
):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(world.lead).post(invite_url(), {"role": "member", **data})
    assert_field_error(response, field, message)
    assert snapshot() == before
    assert callbacks == []
    assert mail.outbox == []


def test_a_second_invitation_while_one_is_pending_is_refused(
    client_for, world, invite, django_capture_on_commit_callbacks
):
    invite("pending@example.com")
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.lead).post(invite_url(), {"email": "Pending@Example.com", "role": "lead"})
    assert_field_error(response, "email", "An invitation to this address is already pending.")
    assert snapshot() == before
    assert len(mail.outbox) == 1  # only the first one


def test_the_same_address_may_be_invited_to_another_pmo(world, invite, client_for, django_capture_on_commit_callbacks):
    invite("pending@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.outsider).post(
            invite_url("beta"), {"email": "pending@example.com", "role": "member"}
        )
    assert response.status_code == 302
    assert MemberInvitation.objects.filter(email="pending@example.com").count() == 2


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_an_expired_or_revoked_invitation_does_not_block_a_new_one(
    client_for, world, invite, django_capture_on_commit_callbacks, how
):
    invitation, _ = invite("again@example.com")
    if how == "expired":
        invitation.expires_at = timezone.now() - timedelta(minutes=1)
        invitation.save()
    else:
        invitation.revoked_at = timezone.now()
        invitation.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.lead).post(invite_url(), {"email": "again@example.com", "role": "member"})
    assert response.status_code == 302
    assert MemberInvitation.objects.filter(email="again@example.com").count() == 2
    assert MemberInvitation.objects.pending().filter(email="again@example.com").count() == 1


# Accepting as a new person --------------------------------------------------------------


def test_accept_as_a_new_person(client, world, invite):
    invitation, link = invite("new.person@example.com", role=Role.VIEWER)

    response = client.get(link)
    assert response.status_code == 200
    page = visible(response)
    assert "Join Alpha PMO" in page
    assert "Set up your account for new.person@example.com" in page
    assert "You are invited as viewer" in page
    for field in ("name", "password1", "password2"):
        assert f'name="{field}"' in text(response)
    assert not User.objects.filter(email="new.person@example.com").exists()

    response = client.post(link, {"name": "  Nina New  ", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/pmo/alpha/"

    user = User.objects.get(email="new.person@example.com")
    assert user.name == "Nina New"
    assert user.check_password(NEW_PASSWORD)
    assert signed_in_user_id(client) == str(user.pk)
    membership = Membership.objects.get(pmo=world.pmo, user=user)
    assert membership.role == Role.VIEWER
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.accepted_by == user
    assert invitation.accepted_at is not None
    assert "Welcome to Alpha PMO." in messages_of(response)

    home = client.get(response["Location"])
    assert home.status_code == 200
    # The new account signs in with the password it chose.
    client.logout()
    assert client.post(reverse("login"), {"username": user.email, "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"password2": NEW_PASSWORD + "?"}, "password2", "The two passwords differ."),
        ({"password1": "abc12", "password2": "abc12"}, "password1", "This password is too short."),
        ({"password1": "password1", "password2": "password1"}, "password1", "This password is too common."),
        ({"password1": "90817263545", "password2": "90817263545"}, "password1", "This password is entirely numeric."),
        (
            {"password1": "new.person@example", "password2": "new.person@example"},
            "password1",
            "The password is too similar to the e-mail address.",
        ),
        (
            {"password1": "ninanew-2", "password2": "ninanew-2"},
            "password1",
            "The password is too similar to the full name.",
        ),
        ({"password1": ""}, "password1", "This field is required."),
        ({"password2": ""}, "password2", "This field is required."),
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "n" * 151}, "name", "at most 150 characters"),
    ],
    ids=[
        "mismatched",
        "too-short",
        "common",
        "numeric",
        "like-the-email",
        "like-the-name",
        "empty-password",
        "empty-confirmation",
        "empty-name",
        "blank-name",
        "name-too-long",
    ],
)
def test_accept_form_bad_input_creates_nothing(client, world, invite, data, field, message):
    invitation, link = invite("new.person@example.com")
    before = snapshot()

    response = client.post(link, {"name": "Nina New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **data})

    assert_field_error(response, field, message)
    assert snapshot() == before
    assert SESSION_KEY not in client.session
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    # The link still works afterwards.
    response = client.post(link, {"name": "Nina New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert Membership.objects.filter(pmo=world.pmo, user__email="new.person@example.com").exists()


# Accepting as an existing user ---------------------------------------------------------


@pytest.fixture
def colleague(db):
    return UserFactory(email="colleague@example.com", name="Carla Colleague")


def test_existing_user_is_asked_to_sign_in_first(client, world, colleague, invite):
    invitation, link = invite("colleague@example.com", role=Role.MEMBER)
    before = snapshot()

    response = client.get(link)
    assert response.status_code == 200
    assert "You already have a pmo5p account as colleague@example.com" in visible(response)
    page = text(response)
    assert f'href="{reverse("login")}?next={link}"' in page
    assert 'name="password1"' not in page

    # Posting without signing in joins nobody and creates nothing.
    response = client.post(link, {"name": "Impostor", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 200
    assert snapshot() == before
    assert SESSION_KEY not in client.session


def test_existing_user_signs_in_and_joins(client, world, colleague, invite):
    invitation, link = invite("colleague@example.com", role=Role.MEMBER)

    response = client.post(reverse("login"), {"username": "colleague@example.com", "password": PASSWORD, "next": link})
    assert response.status_code == 302
    assert response["Location"] == link

    response = client.get(link)
    assert response.status_code == 200
    assert "Join Alpha PMO" in text(response)
    assert not Membership.objects.filter(user=colleague, pmo=world.pmo).exists()  # a GET joins nobody

    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == "/pmo/alpha/"
    assert Membership.objects.get(user=colleague, pmo=world.pmo).role == Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.accepted_by == colleague
    # No second account, and the password is unchanged.
    assert User.objects.filter(email="colleague@example.com").count() == 1
    colleague.refresh_from_db()
    assert colleague.check_password(PASSWORD)


def test_existing_user_keeps_their_other_pmos(client_for, world, invite):
    invitation, link = invite("lead@beta.example", role=Role.VIEWER)
    client = client_for(world.outsider)
    assert client.post(link).status_code == 302
    roles = dict(Membership.objects.filter(user=world.outsider).values_list("pmo__slug", "role"))
    assert roles == {"alpha": Role.VIEWER, "beta": Role.LEAD}


def test_signed_in_with_the_wrong_account_is_403(client_for, world, colleague, invite):
    invitation, link = invite("colleague@example.com")
    before = snapshot()
    client = client_for(world.outsider)

    response = client.get(link)
    assert response.status_code == 403
    page = visible(response)
    assert "This invitation is for colleague@example.com, but you are signed in as lead@beta.example." in page
    assert "Sign out, then open the link again" in page

    response = client.post(link, {"name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 403
    assert snapshot() == before
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_new_person_link_opened_by_someone_signed_in_is_403(client_for, world, invite):
    """An invitation to a brand-new address cannot be taken by whoever happens to be signed in."""
    invitation, link = invite("new.person@example.com")
    before = snapshot()
    client = client_for(world.outsider)
    assert client.get(link).status_code == 403
    assert client.post(link, {"name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 403
    assert snapshot() == before


# Links that no longer work ---------------------------------------------------------------


def test_link_used_twice_is_410(client, world, invite):
    invitation, link = invite("new.person@example.com")
    assert client.post(link, {"name": "Nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    before = snapshot()

    response = client.get(link)
    assert response.status_code == 410
    assert "This invitation was used already" in text(response)
    assert "Each invitation link works once." in text(response)

    client.logout()
    again = {"name": "Again", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    for response in (client.get(link), client.post(link, again)):
        assert response.status_code == 410
        assert "used already" in text(response)
    assert snapshot() == before
    assert Membership.objects.filter(pmo=world.pmo, user__email="new.person@example.com").count() == 1


def test_expired_link_is_410(client, world, invite):
    invitation, link = invite("new.person@example.com")
    MemberInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = snapshot()

    response = client.get(link)
    assert response.status_code == 410
    assert "This invitation expired on" in text(response)
    assert "Ask the PMO lead who invited you to send a new one." in text(response)

    response = client.post(link, {"name": "Late", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert snapshot() == before
    assert SESSION_KEY not in client.session


def test_revoked_link_is_410(client, client_for, world, invite):
    invitation, link = invite("new.person@example.com")
    lead = client_for(world.lead)
    response = lead.post(revoke_url(invitation))
    assert response.status_code == 302
    assert response["Location"] == members_url()
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert revoke_url(invitation) not in text(lead.get(members_url()))
    assert "new.person@example.com" not in text(lead.get(members_url()))  # the message is gone too
    lead.logout()
    before = snapshot()

    response = client.get(link)
    assert response.status_code == 410
    assert "This invitation was withdrawn by the PMO." in text(response)
    response = client.post(link, {"name": "Nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert snapshot() == before


@pytest.mark.parametrize("token", ["not-a-real-token", "A" * 43, "x"])
def test_unknown_token_is_404(client, world, invite, token):
    invite("new.person@example.com")
    before = snapshot()
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 404
    assert "We don't recognise this invitation link." in text(response)
    response = client.post(
        f"/invitations/{token}/", {"name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_the_token_hash_itself_does_not_open_the_invitation(client, world, invite):
    """A copy of the database is not enough to use an invitation."""
    invitation, _ = invite("new.person@example.com")
    response = client.get(f"/invitations/{invitation.token_hash}/")
    assert response.status_code == 404


# Revoking ------------------------------------------------------------------------------


def test_revoke_needs_post(client_for, world, invite):
    invitation, _ = invite()
    assert client_for(world.lead).get(revoke_url(invitation)).status_code == 405
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_revoking_an_accepted_invitation_changes_nothing(client, client_for, world, invite):
    invitation, link = invite("new.person@example.com")
    client.post(link, {"name": "Nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client_for(world.lead).post(revoke_url(invitation))
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.revoked_at is None
    assert Membership.objects.filter(pmo=world.pmo, user__email="new.person@example.com").exists()


# Roles -----------------------------------------------------------------------------------


def test_lead_changes_a_role(client_for, world):
    membership = world.membership(world.member)
    response = client_for(world.lead).post(role_url(membership), {"role": "viewer"})
    assert response.status_code == 302
    assert response["Location"] == members_url()
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    assert f"{world.member} is now viewer." in messages_of(response)


def test_lead_promotes_a_member_to_lead(client_for, world):
    membership = world.membership(world.viewer)
    client_for(world.lead).post(role_url(membership), {"role": "lead"})
    membership.refresh_from_db()
    assert membership.role == Role.LEAD
    # The new lead can manage members at once.
    assert client_for(world.viewer).get(invite_url()).status_code == 200


@pytest.mark.parametrize("role", ["owner", "", "LEAD"])
def test_an_unknown_role_changes_nothing(client_for, world, role):
    before = snapshot()
    response = client_for(world.lead).post(role_url(world.membership(world.member)), {"role": role})
    assert response.status_code == 302
    assert "Choose one of the roles: lead, member or viewer." in messages_of(response)
    assert snapshot() == before


def test_role_change_needs_post(client_for, world):
    before = snapshot()
    assert client_for(world.lead).get(role_url(world.membership(world.member))).status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_the_last_lead_cannot_be_demoted(client_for, world, role):
    before = snapshot()
    response = client_for(world.lead).post(role_url(world.membership(world.lead)), {"role": role}, follow=True)
    assert response.status_code == 200
    assert LAST_LEAD in text(response)
    assert snapshot() == before
    assert world.membership(world.lead).role == Role.LEAD


def test_the_last_lead_cannot_be_removed(client_for, world):
    before = snapshot()
    response = client_for(world.lead).post(remove_url(world.membership(world.lead)), follow=True)
    assert response.redirect_chain == [(members_url(), 302)]
    assert LAST_LEAD in text(response)
    assert snapshot() == before


def test_a_lead_can_step_down_once_another_lead_exists(client_for, world):
    client = client_for(world.lead)
    client.post(role_url(world.membership(world.member)), {"role": "lead"})
    response = client.post(role_url(world.membership(world.lead)), {"role": "member"})
    assert response.status_code == 302
    assert world.membership(world.lead).role == Role.MEMBER
    assert world.membership(world.member).role == Role.LEAD
    # Now a member, the former lead manages nobody any more ...
    assert client.post(role_url(world.membership(world.viewer)), {"role": "lead"}).status_code == 403
    # ... and the remaining lead is now the last one.
    response = client_for(world.member).post(role_url(world.membership(world.member)), {"role": "viewer"}, follow=True)
    assert LAST_LEAD in text(response)
    assert world.membership(world.member).role == Role.LEAD


def test_a_lead_removing_themselves_goes_to_the_pmo_list(client_for, world):
    client = client_for(world.lead)
    client.post(role_url(world.membership(world.member)), {"role": "lead"})
    own = world.membership(world.lead)

    response = client.post(remove_url(own))
    assert response.status_code == 302
    assert response["Location"] == reverse("pmo_list")
    assert not Membership.objects.filter(pk=own.pk).exists()
    assert User.objects.filter(pk=world.lead.pk).exists()
    assert client.get(members_url()).status_code == 404
    assert "Alpha PMO" not in text(client.get(reverse("pmo_list")))


def test_demoting_or_removing_a_lead_in_another_pmo_does_not_count_its_leads(client_for, world):
    """Alpha's last lead stays last even though Beta has a lead too."""
    assert Membership.objects.filter(role=Role.LEAD).count() == 2
    response = client_for(world.lead).post(role_url(world.membership(world.lead)), {"role": "member"}, follow=True)
    assert LAST_LEAD in text(response)
    assert world.membership(world.lead).role == Role.LEAD


# Removing members ---------------------------------------------------------------------------


def test_lead_removes_a_member(client_for, world):
    membership = world.membership(world.member)
    world.stakeholder.owner = membership
    world.stakeholder.save()
    client = client_for(world.lead)

    response = client.get(remove_url(membership))
    assert response.status_code == 200
    page = text(response)
    assert f"Remove {world.member} from Alpha PMO?" in page
    assert "They will lose access to this PMO at once." in page
    assert Membership.objects.filter(pk=membership.pk).exists()  # the GET only asks

    response = client.post(remove_url(membership))
    assert response.status_code == 302
    assert response["Location"] == members_url()
    assert f"{world.member} no longer belongs to Alpha PMO." in messages_of(response)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=world.member.pk).exists()  # the account stays

    world.stakeholder.refresh_from_db()
    assert world.stakeholder.owner is None
    assert Stakeholder.objects.filter(pk=world.stakeholder.pk).exists()

    # The removed member lost access at once.
    assert client_for(world.member).get("/pmo/alpha/").status_code == 404


def test_removing_a_member_leaves_other_owners_alone(client_for, world):
    lead_membership = world.membership(world.lead)
    world.stakeholder.owner = lead_membership
    world.stakeholder.save()
    client_for(world.lead).post(remove_url(world.membership(world.member)))
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.owner == lead_membership


def test_removing_an_unknown_member_is_404(client_for, world):
    before = snapshot()
    url = reverse("member_remove", kwargs={"slug": "alpha", "membership_id": 999999})
    assert client_for(world.lead).post(url).status_code == 404
    assert snapshot() == before


# Members and viewers ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_members_and_viewers_cannot_manage_members(client_for, world, invite, who, django_capture_on_commit_callbacks):
    invitation, _ = invite("pending@example.com")
    before = snapshot()
    client = client_for(getattr(world, who))
    target = world.membership(world.viewer if who == "member" else world.member)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.get(invite_url()).status_code == 403
        assert client.post(invite_url(), {"email": "friend@example.com", "role": "lead"}).status_code == 403
        assert client.post(role_url(target), {"role": "lead"}).status_code == 403
        assert client.post(role_url(world.membership(getattr(world, who))), {"role": "lead"}).status_code == 403
        assert client.get(remove_url(target)).status_code == 403
        assert client.post(remove_url(target)).status_code == 403
        assert client.post(remove_url(world.membership(world.lead))).status_code == 403
        assert client.post(revoke_url(invitation)).status_code == 403

    assert callbacks == []
    assert snapshot() == before
    assert len(mail.outbox) == 1  # only the lead's invitation from the fixture


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_members_page_offers_no_management_to_members_and_viewers(client_for, world, invite, who):
    invitation, _ = invite("pending@example.com")
    response = client_for(getattr(world, who)).get(members_url())
    assert response.status_code == 200
    page = response.content.decode()
    # They see who is there, and the pending invitation ...
    for user in (world.lead, world.member, world.viewer):
        assert user.email in page
    assert "pending@example.com" in page
    # ... but none of the buttons.
    assert invite_url() not in page
    assert "Invite a colleague" not in page
    assert 'name="role"' not in page
    assert "/role/" not in page
    assert "/remove/" not in page
    assert revoke_url(invitation) not in page
    assert ">Revoke<" not in page


def test_members_page_offers_management_to_the_lead(client_for, world, invite):
    invitation, _ = invite("pending@example.com")
    response = client_for(world.lead).get(members_url())
    page = response.content.decode()
    assert f'href="{invite_url()}"' in page
    for user in (world.lead, world.member, world.viewer):
        membership = world.membership(user)
        assert f'action="{role_url(membership)}"' in page
        assert f'href="{remove_url(membership)}"' in page
    assert f'action="{revoke_url(invitation)}"' in page
    # Every role can be chosen, and each member's current one is selected.
    assert len(re.findall(r'<option value="viewer" selected>', page)) == 1
    assert len(re.findall(r'<option value="lead" selected>', page)) == 1


def test_members_of_another_pmo_are_not_listed(client_for, world):
    page = text(client_for(world.lead).get(members_url()))
    assert "lead@beta.example" not in page


def test_a_lead_of_another_pmo_cannot_touch_alphas_members(client_for, world, invite):
    invitation, _ = invite("pending@example.com")
    before = snapshot()
    client = client_for(world.outsider)
    assert client.post(role_url(world.membership(world.member)), {"role": "viewer"}).status_code == 404
    assert client.post(remove_url(world.membership(world.member))).status_code == 404
    assert client.post(revoke_url(invitation)).status_code == 404
    # Nor through Beta's own URLs with Alpha's ids.
    beta_role = reverse("member_role", kwargs={"slug": "beta", "membership_id": world.membership(world.member).pk})
    assert client.post(beta_role, {"role": "viewer"}).status_code == 404
    assert snapshot() == before


def test_the_snapshot_helper_sees_a_change(world):
    """A guard for the helper the tests above rely on: it does notice a change."""
    before = snapshot()
    Membership.objects.filter(pk=world.membership(world.member).pk).update(role=Role.VIEWER)
    assert snapshot() != before


# An invitation's e-mail waiting for a retry, and the link kept in it -------------------------------


def _refusing(monkeypatch, error):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(backend, messages):
        raise error

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)


@pytest.mark.parametrize("withdrawn", ["revoked", "accepted", "expired"])
def test_an_invitation_withdrawn_while_its_email_waits_is_not_sent_and_its_link_is_forgotten(
    world, monkeypatch, withdrawn, django_capture_on_commit_callbacks
):
    import smtplib

    from pmo5p import outbox
    from pmo5p.models import OutgoingEmail

    with monkeypatch.context() as busy:
        _refusing(busy, smtplib.SMTPDataError(451, b"4.3.0 Try again later"))
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite_member(
                pmo=world.pmo, email="new@alpha.example", role=Role.MEMBER, invited_by=world.lead
            )
    (email,) = OutgoingEmail.objects.all()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.QUEUED, 1)
    assert "/invitations/" in email.text  # needed for the retry
    change = {
        "revoked": {"revoked_at": timezone.now()},
        "accepted": {"accepted_at": timezone.now(), "accepted_by": world.member},
        "expired": {"expires_at": timezone.now() - timedelta(seconds=1)},
    }[withdrawn]
    MemberInvitation.objects.filter(pk=invitation.pk).update(**change)
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    outbox.sweep()
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.CANCELLED
    assert mail.outbox == []
    assert (email.text, email.html) == ("", "")


def test_an_invitation_email_failed_for_good_forgets_its_link_and_send_again_makes_a_new_one(
    world, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    import smtplib

    from pmo5p.models import OutgoingEmail

    with monkeypatch.context() as refusing:
        _refusing(refusing, smtplib.SMTPRecipientsRefused({"new@alpha.example": (550, b"5.1.1 No such user")}))
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite_member(
                pmo=world.pmo, email="new@alpha.example", role=Role.MEMBER, invited_by=world.lead
            )
    (email,) = OutgoingEmail.objects.all()
    assert email.status == OutgoingEmail.Status.FAILED
    assert (email.text, email.html) == ("", "")  # the link rests nowhere but in its hash
    old_hash = invitation.token_hash

    url = reverse("member_invitation_resend", kwargs={"slug": world.pmo.slug, "invitation_id": invitation.pk})
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(world.lead).post(url).status_code == 302
    (message,) = mail.outbox
    token = token_from(message)
    invitation.refresh_from_db()
    assert invitation.token_hash != old_hash
    assert MemberInvitation.find_by_token(token) == invitation
    email.refresh_from_db()
    assert (email.status, email.text, email.html) == (OutgoingEmail.Status.SENT, "", "")
    assert message.extra_headers["Message-ID"] == email.message_id
