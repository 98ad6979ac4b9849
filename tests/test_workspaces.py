"""PMO workspaces: creating one, its settings, the home redirect, the list, switching, the 5P page."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from pmo5p.domain import ELEMENT_AIMS, Element, MaturityStage, Problem
from pmo5p.models import Membership, Pmo, Role
from tests.factories import MembershipFactory, PmoFactory, UserFactory
from tests.helpers import assert_field_error, form_data, messages_of, text

NEW_PMO = {
    "name": "Finance Transformation PMO",
    "slug": "finance-pmo",
    "description": "Runs the finance change portfolio.",
    "time_zone": "Europe/Paris",
}


def create(client, **changes):
    """Post the new-PMO form as a browser would, with its defaults for fields not named here."""
    url = reverse("pmo_create")
    return client.post(url, {**form_data(client, url), **NEW_PMO, **changes})


def snapshot():
    return (
        list(Pmo.objects.values().order_by("id")),
        list(Membership.objects.values_list("id", "pmo_id", "user_id", "role").order_by("id")),
    )


# Creating a PMO ----------------------------------------------------------------------


def test_create_page_needs_sign_in(client, db):
    response = client.get(reverse("pmo_create"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_create_page_shows_the_form(client_for, world):
    response = client_for(world.member).get(reverse("pmo_create"))
    assert response.status_code == 200
    page = response.content.decode()
    for field in ("name", "slug", "description", "time_zone"):
        assert f'name="{field}"' in page
    assert re.search(r'<option value="Europe/London" selected>', page)


def test_create_pmo_makes_the_creator_lead_and_opens_it(client_for, db):
    creator = UserFactory()
    client = client_for(creator)

    response = create(client)

    pmo = Pmo.objects.get(slug="finance-pmo")
    assert response.status_code == 302
    assert response["Location"] == f"/pmo/{pmo.slug}/"
    assert pmo.name == "Finance Transformation PMO"
    assert pmo.description == "Runs the finance change portfolio."
    assert pmo.time_zone == "Europe/Paris"
    membership = Membership.objects.get(pmo=pmo)
    assert membership.user == creator
    assert membership.role == Role.LEAD
    assert f"{pmo.name} is ready" in " ".join(messages_of(response))

    home = client.get(response["Location"])
    assert home.status_code == 200
    assert "Finance Transformation PMO" in text(home)


def test_create_pmo_strips_the_name(client_for, db):
    create(client_for(UserFactory()), name="   Padded PMO   ")
    assert Pmo.objects.get().name == "Padded PMO"


def test_create_pmo_accepts_a_name_of_exactly_120_characters(client_for, db):
    response = create(client_for(UserFactory()), name="P" * 120)
    assert response.status_code == 302
    assert Pmo.objects.get().name == "P" * 120


def test_a_member_of_another_pmo_can_create_one_too(client_for, world):
    response = create(client_for(world.viewer))
    assert response.status_code == 302
    assert Membership.objects.get(pmo__slug="finance-pmo").user == world.viewer
    # Their role in the other PMO is unchanged.
    assert world.membership(world.viewer).role == Role.VIEWER


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "     "}, "name", "This field is required."),
        ({"name": "X"}, "name", "Ensure this value has at least 2 characters"),
        ({"name": "P" * 121}, "name", "Keep the name to 120 characters or fewer."),
        ({"slug": "alpha"}, "slug", "Another PMO already uses this slug"),
        ({"slug": "new"}, "slug", "“new” is reserved by pmo5p."),
        ({"slug": "admin"}, "slug", "“admin” is reserved by pmo5p."),
        ({"slug": "api"}, "slug", "“api” is reserved by pmo5p."),
        ({"slug": "static"}, "slug", "“static” is reserved by pmo5p."),
        ({"slug": "finance pmo"}, "slug", "Enter a valid “slug”"),
        ({"slug": "finance/pmo"}, "slug", "Enter a valid “slug”"),
        ({"slug": "finance.pmo"}, "slug", "Enter a valid “slug”"),
        ({"slug": "pmö"}, "slug", "Enter a valid “slug”"),
        ({"slug": ""}, "slug", "This field is required."),
        ({"slug": "s" * 51}, "slug", "at most 50 characters"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice."),
        ({"time_zone": ""}, "time_zone", "This field is required."),
        ({"description": "d" * 2001}, "description", "at most 2000 characters"),
    ],
    ids=[
        "empty-name",
        "whitespace-name",
        "one-letter-name",
        "name-over-120",
        "slug-taken",
        "slug-new",
        "slug-admin",
        "slug-api",
        "slug-static",
        "slug-with-space",
        "slug-with-slash",
        "slug-with-dot",
        "slug-non-ascii",
        "slug-empty",
        "slug-too-long",
        "unknown-time-zone",
        "empty-time-zone",
        "description-too-long",
    ],
)
def test_create_pmo_bad_input_is_refused_next_to_the_field(client_for, world, changes, field, message):
    before = snapshot()
    response = create(client_for(world.member), **changes)
    assert_field_error(response, field, message)
    assert snapshot() == before


def test_slug_taken_is_refused_whatever_its_case(client_for, world):
    """Slugs are lower-case (the help text says so): "ALPHA" is "alpha", which is taken."""
    before = snapshot()
    response = create(client_for(world.member), slug="ALPHA")
    assert_field_error(response, "slug", "Another PMO already uses this slug")
    assert snapshot() == before


def test_reserved_slug_is_refused_whatever_its_case(client_for, world):
    before = snapshot()
    response = create(client_for(world.member), slug="New")
    assert_field_error(response, "slug", "is reserved by pmo5p")
    assert snapshot() == before


def test_slug_is_stored_lower_case(client_for, db):
    create(client_for(UserFactory()), slug="Finance-PMO")
    assert Pmo.objects.get().slug == "finance-pmo"


# PMO settings ----------------------------------------------------------------------


def settings_url(pmo):
    return reverse("pmo_settings", kwargs={"slug": pmo.slug})


def test_lead_edits_the_settings_but_not_the_slug(client_for, world):
    client = client_for(world.lead)
    response = client.get(settings_url(world.pmo))
    assert response.status_code == 200
    slug_input = re.search(r'<input[^>]*name="slug"[^>]*>', response.content.decode()).group(0)
    assert "disabled" in slug_input
    assert 'value="alpha"' in slug_input

    data = form_data(client, settings_url(world.pmo))
    assert "slug" not in data
    response = client.post(
        settings_url(world.pmo),
        {
            **data,
            "name": "Alpha Portfolio Office",
            "slug": "hijacked",
            "description": "New words.",
            "time_zone": "Asia/Tokyo",
            "currency": "EUR",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/pmo/alpha/settings/"
    world.pmo.refresh_from_db()
    assert world.pmo.name == "Alpha Portfolio Office"
    assert world.pmo.description == "New words."
    assert world.pmo.time_zone == "Asia/Tokyo"
    assert world.pmo.currency == "EUR"
    assert world.pmo.slug == "alpha"
    assert not Pmo.objects.filter(slug="hijacked").exists()
    assert "PMO settings saved." in messages_of(response)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "P" * 121}, "name", "Keep the name to 120 characters or fewer."),
        ({"time_zone": "Nowhere/Never"}, "time_zone", "Select a valid choice."),
        ({"currency": "XYZ"}, "currency", "Choose a currency from the list (an ISO 4217 code such as GBP or EUR)."),
        ({"currency": "gbp<script>"}, "currency", "Choose a currency from the list"),
    ],
    ids=["empty-name", "whitespace-name", "name-over-120", "unknown-time-zone", "unknown-currency", "hostile-currency"],
)
def test_settings_bad_input_changes_nothing(client_for, world, changes, field, message):
    before = snapshot()
    client = client_for(world.lead)
    response = client.post(settings_url(world.pmo), {**form_data(client, settings_url(world.pmo)), **changes})
    assert_field_error(response, field, message)
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_members_and_viewers_get_403_on_settings(client_for, world, who):
    client = client_for(getattr(world, who))
    before = snapshot()
    assert client.get(settings_url(world.pmo)).status_code == 403
    response = client.post(settings_url(world.pmo), {"name": "Taken over", "time_zone": "UTC"})
    assert response.status_code == 403
    assert "Your role doesn't allow this" in text(response)
    assert snapshot() == before


def test_only_the_lead_sees_the_settings_link(client_for, world):
    link = f'href="{settings_url(world.pmo)}"'
    assert link in client_for(world.lead).get(world.pmo.get_absolute_url()).content.decode()
    assert link not in client_for(world.member).get(world.pmo.get_absolute_url()).content.decode()


def test_settings_of_another_pmo_are_404(client_for, world):
    before = snapshot()
    client = client_for(world.lead)
    assert client.get(settings_url(world.other_pmo)).status_code == 404
    assert client.post(settings_url(world.other_pmo), {"name": "Mine now", "time_zone": "UTC"}).status_code == 404
    assert snapshot() == before


# Home and the list of PMOs ---------------------------------------------------------


def test_home_needs_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_without_a_pmo_goes_to_the_list(client_for, db):
    response = client_for(UserFactory()).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("pmo_list")


def test_home_opens_the_last_visited_pmo(client_for, world):
    MembershipFactory(pmo=world.other_pmo, user=world.lead, role=Role.VIEWER)
    client = client_for(world.lead)

    assert client.get("/pmo/beta/").status_code == 200
    assert client.get(reverse("home"))["Location"] == "/pmo/beta/my-week/"

    assert client.get("/pmo/alpha/").status_code == 200
    assert client.get(reverse("home"))["Location"] == "/pmo/alpha/my-week/"


def test_home_prefers_a_visited_pmo_to_one_never_opened(client_for, db):
    """A PMO never visited (last_visited_at NULL) must not win over the one last visited,
    whatever the database does with NULLs in a descending sort."""
    user = UserFactory()
    MembershipFactory(user=user, pmo=PmoFactory(name="Aardvark PMO", slug="aardvark"), last_visited_at=None)
    MembershipFactory(user=user, pmo=PmoFactory(name="Zebra PMO", slug="zebra"), last_visited_at=timezone.now())
    response = client_for(user).get(reverse("home"))
    assert response["Location"] == "/pmo/zebra/my-week/"


def test_home_with_no_visit_yet_opens_the_first_pmo_by_name(client_for, db):
    user = UserFactory()
    MembershipFactory(user=user, pmo=PmoFactory(name="Zebra PMO", slug="zebra"))
    MembershipFactory(user=user, pmo=PmoFactory(name="Aardvark PMO", slug="aardvark"))
    assert client_for(user).get(reverse("home"))["Location"] == "/pmo/aardvark/my-week/"


def test_opening_a_pmo_records_the_visit_of_that_membership_only(client_for, world):
    client_for(world.member).get("/pmo/alpha/")
    assert world.membership(world.member).last_visited_at is not None
    assert world.membership(world.lead).last_visited_at is None


def test_pmo_list_shows_only_the_users_own_pmos(client_for, world):
    response = client_for(world.lead).get(reverse("pmo_list"))
    assert response.status_code == 200
    page = text(response)
    assert "Alpha PMO" in page
    assert 'href="/pmo/alpha/"' in page
    assert "Beta PMO" not in page
    assert "/pmo/beta/" not in page
    assert "You are lead" in page
    assert "3 members" in page
    assert [m.pmo.slug for m in response.context["memberships"]] == ["alpha"]


def test_pmo_list_shows_each_role(client_for, world):
    MembershipFactory(pmo=world.other_pmo, user=world.viewer, role=Role.MEMBER)
    page = text(client_for(world.viewer).get(reverse("pmo_list")))
    assert re.search(r"Alpha PMO.*You are viewer", page, re.S)
    assert re.search(r"Beta PMO.*You are member", page, re.S)
    assert "2 members" in page  # Beta: the outsider and the viewer


def test_pmo_list_empty_state(client_for, db):
    response = client_for(UserFactory()).get(reverse("pmo_list"))
    assert response.status_code == 200
    page = text(response)
    assert "You don't belong to a PMO yet" in page
    assert f'href="{reverse("pmo_create")}"' in page


# Switching between PMOs --------------------------------------------------------------


def test_user_in_two_pmos_switches_between_them(client_for, world):
    MembershipFactory(pmo=world.other_pmo, user=world.member, role=Role.VIEWER)
    client = client_for(world.member)

    for slug, own, other in (("alpha", "Fiona Finance", "Bob Beta"), ("beta", "Bob Beta", "Fiona Finance")):
        response = client.get(f"/pmo/{slug}/stakeholders/")
        assert response.status_code == 200
        page = text(response)
        switcher = re.findall(r'class="dropdown-item(?: active)?" href="/pmo/([\w-]+)/">([^<]+?) <', page)
        assert switcher == [("alpha", "Alpha PMO"), ("beta", "Beta PMO")]
        active = re.findall(r'class="dropdown-item active" href="/pmo/([\w-]+)/"', page)
        assert active == [slug]
        assert own in page
        assert other not in page

    # Each PMO's pages carry its own name in the title.
    alpha, beta = text(client.get("/pmo/alpha/")), text(client.get("/pmo/beta/"))
    assert "<title>Dashboard · Alpha PMO · pmo5p</title>" in alpha
    assert "<title>Dashboard · Beta PMO · pmo5p</title>" in beta


def test_navigation_lists_only_the_users_pmos(client_for, world):
    page = text(client_for(world.member).get("/pmo/alpha/"))
    assert "Alpha PMO" in page
    assert "Beta PMO" not in page
    assert 'href="/pmo/beta/"' not in page


def test_a_pmo_time_zone_does_not_leak_into_later_requests(client_for, world):
    world.pmo.time_zone = "Asia/Tokyo"
    world.pmo.save()
    client = client_for(world.lead)
    assert client.get("/pmo/alpha/").status_code == 200
    # The PMO's zone applies to its own pages only; the next request starts from settings.TIME_ZONE.
    assert timezone.get_current_timezone_name() == "UTC"


# The 5P model page -------------------------------------------------------------------


def test_five_p_model_page(client_for, world):
    response = client_for(world.viewer).get(reverse("five_p_model", kwargs={"slug": "alpha"}))
    assert response.status_code == 200
    page = text(response)

    labels = re.findall(r'<h2 class="h5 card-title">([^<]+)</h2>', page)
    assert labels == ["Product", "Physical Evidence", "Price", "People", "Process"]
    assert [element.label for element in Element] == labels
    for element in Element:
        assert f"Aim: {ELEMENT_AIMS[element]}" in page
        assert element.explanation in page
    assert "Aim: meeting basic needs" in page
    assert "Aim: building confidence through experience" in page

    problems = re.findall(r'<dt class="col-sm-4">([^<]+)</dt>', page)
    assert problems == [problem.label for problem in Problem]
    assert len(problems) == 5
    for problem in Problem:
        assert problem.explanation[1:] in page  # shown with a capital first letter

    stages = re.findall(r'<li class="list-group-item">([^<]+)</li>', page)
    assert (
        stages == [stage.label for stage in MaturityStage] == ["Unaware", "Aware", "Understanding", "Respect", "Trust"]
    )
    assert "understanding, respect and trust" in page


def test_five_p_model_page_is_read_only(client_for, world):
    url = reverse("five_p_model", kwargs={"slug": "alpha"})
    assert client_for(world.lead).post(url).status_code == 405
