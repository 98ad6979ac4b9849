"""The stakeholder register: adding, editing, (de)activating and deleting stakeholders,
the segments they belong to, and what each role is offered on the register's pages."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.html import escape

from pmo5p.models import Membership
from stakeholders.models import Segment, Stakeholder
from tests.factories import SegmentFactory, StakeholderFactory

NAME_REQUIRED = "Give the stakeholder's name."
NAME_TOO_LONG = "Keep the name to 150 characters or fewer (it has 151)."
INFLUENCE_RANGE = "Choose an influence from 1 (very low) to 5 (very high)."
INTEREST_RANGE = "Choose an interest from 1 (very low) to 5 (very high)."
OWNER_OF_PMO = "Choose a member of this PMO as the relationship owner."
SEGMENT_OF_PMO = "Choose one of this PMO's segments."
INVALID_EMAIL = "Enter a valid e-mail address."
FIONA_HAS_EMAIL = "Fiona Finance already has this e-mail address in this PMO."
SEGMENT_REQUIRED = "Give the segment a name."
SEGMENT_TOO_LONG = "Keep the segment's name to 80 characters or fewer (it has 81)."
SEGMENT_DUPLICATE = "This PMO has a segment with this name already."


def url(name, world, **kwargs):
    return reverse(name, kwargs={"slug": world.pmo.slug, **kwargs})


def stakeholder_rows():
    return list(Stakeholder.objects.order_by("pk").values())


def segment_rows():
    return list(Segment.objects.order_by("pk").values())


def other_membership(world):
    return Membership.objects.get(pmo=world.other_pmo, user=world.outsider)


def form_data(world, **overrides):
    """Every field of the stakeholder form, filled in with valid values."""
    data = {
        "name": "Paula Procurement",
        "email": "paula@corp.example",
        "job_title": "Head of Procurement",
        "business_unit": "Purchasing",
        "segment": world.segment.pk,
        "influence": "4",
        "interest": "2",
        "owner": world.membership(world.member).pk,
        "notes": "Met at the steering committee.\nPrefers short updates.",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def assert_form_keeps(form, data, bad_field):
    """The re-rendered form still holds everything else the user entered."""
    for field, value in data.items():
        if field == bad_field:
            continue
        if field == "is_active":
            assert form[field].value() is True
        else:
            assert str(form[field].value()) == str(value), field


@pytest.fixture
def gary(world):
    """A second stakeholder of the PMO, to be edited."""
    return StakeholderFactory(
        pmo=world.pmo,
        name="Gary Governance",
        email="gary@corp.example",
        job_title="Auditor",
        business_unit="Internal audit",
        influence=2,
        interest=5,
        notes="Original notes",
    )


# Bad input: (overrides given the world, field in error, message on that field).
BAD_INPUT = [
    pytest.param(lambda w: {"name": ""}, "name", NAME_REQUIRED, id="empty-name"),
    pytest.param(lambda w: {"name": "   "}, "name", NAME_REQUIRED, id="whitespace-name"),
    pytest.param(lambda w: {"name": "x" * 151}, "name", NAME_TOO_LONG, id="name-151-chars"),
    pytest.param(lambda w: {"email": "FIONA@CORP.EXAMPLE"}, "email", FIONA_HAS_EMAIL, id="duplicate-email-other-case"),
    pytest.param(lambda w: {"email": "not-an-email"}, "email", INVALID_EMAIL, id="invalid-email"),
    pytest.param(lambda w: {"influence": "0"}, "influence", INFLUENCE_RANGE, id="influence-0"),
    pytest.param(lambda w: {"influence": "6"}, "influence", INFLUENCE_RANGE, id="influence-6"),
    pytest.param(lambda w: {"influence": "abc"}, "influence", INFLUENCE_RANGE, id="influence-abc"),
    pytest.param(lambda w: {"interest": "0"}, "interest", INTEREST_RANGE, id="interest-0"),
    pytest.param(lambda w: {"interest": "6"}, "interest", INTEREST_RANGE, id="interest-6"),
    pytest.param(lambda w: {"owner": other_membership(w).pk}, "owner", OWNER_OF_PMO, id="owner-of-other-pmo"),
    pytest.param(lambda w: {"segment": w.other_segment.pk}, "segment", SEGMENT_OF_PMO, id="segment-of-other-pmo"),
]


# Creating ----------------------------------------------------------------------------


def test_member_creates_stakeholder_with_every_field(world, client_for):
    client = client_for(world.member)
    owner = world.membership(world.lead)
    response = client.post(url("stakeholder_create", world), form_data(world, owner=owner.pk))

    stakeholder = Stakeholder.objects.get(pmo=world.pmo, name="Paula Procurement")
    assert response.status_code == 302
    assert response["Location"] == url("stakeholder_detail", world, stakeholder_id=stakeholder.pk)
    assert stakeholder.email == "paula@corp.example"
    assert stakeholder.job_title == "Head of Procurement"
    assert stakeholder.business_unit == "Purchasing"
    assert stakeholder.segment == world.segment
    assert stakeholder.influence == 4
    assert stakeholder.interest == 2
    assert stakeholder.owner == owner
    assert stakeholder.notes == "Met at the steering committee.\nPrefers short updates."
    assert stakeholder.is_active is True

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    for text in (
        "Paula Procurement",
        "paula@corp.example",
        "Head of Procurement",
        "Purchasing",
        "Finance",
        escape(world.lead.name),
        "Met at the steering committee.<br>Prefers short updates.",
        "4 · High",
        "2 · Low",
        "Keep satisfied",
        "is on the register.",
    ):
        assert text in html, text
    assert "inactive" not in html


def test_member_creates_inactive_stakeholder_without_optional_fields(world, client_for):
    client = client_for(world.member)
    data = {"name": "  Olga Optional  ", "email": "", "influence": "1", "interest": "1"}
    response = client.post(url("stakeholder_create", world), data)

    stakeholder = Stakeholder.objects.get(pmo=world.pmo, name="Olga Optional")
    assert response.status_code == 302
    assert stakeholder.is_active is False
    assert stakeholder.segment is None
    assert stakeholder.owner is None
    assert stakeholder.email == ""
    html = client.get(response["Location"]).content.decode()
    assert "None: this stakeholder can't be surveyed yet" in html
    assert "Nobody yet" in html
    assert "inactive" in html


def test_email_is_stored_trimmed_and_lower_case(world, client_for):
    client_for(world.member).post(url("stakeholder_create", world), form_data(world, email="  Paula@Corp.EXAMPLE "))
    assert Stakeholder.objects.get(name="Paula Procurement").email == "paula@corp.example"


def test_save_and_add_another_redirects_to_an_empty_create_form(world, client_for):
    client = client_for(world.member)
    response = client.post(url("stakeholder_create", world), {**form_data(world), "save_and_add": "1"})

    assert response.status_code == 302
    assert response["Location"] == url("stakeholder_create", world)
    assert Stakeholder.objects.filter(pmo=world.pmo, name="Paula Procurement").exists()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert not page.context["form"].is_bound
    assert "Paula Procurement is on the register." in page.content.decode()


def test_create_form_preselects_segment_from_query(world, client_for):
    response = client_for(world.member).get(url("stakeholder_create", world) + f"?segment={world.segment.pk}")
    assert response.status_code == 200
    assert str(response.context["form"]["segment"].value()) == str(world.segment.pk)
    assert "Save and add another" in response.content.decode()


def test_same_email_in_another_pmo_is_allowed(world, client_for):
    Stakeholder.objects.filter(pk=world.other_stakeholder.pk).update(email="shared@corp.example")
    response = client_for(world.member).post(
        url("stakeholder_create", world), form_data(world, email="SHARED@corp.example")
    )

    assert response.status_code == 302
    assert Stakeholder.objects.filter(email="shared@corp.example").count() == 2
    assert Stakeholder.objects.get(pmo=world.pmo, name="Paula Procurement").email == "shared@corp.example"


def test_two_stakeholders_without_email_are_allowed_by_the_form(world, client_for):
    client = client_for(world.member)
    client.post(url("stakeholder_create", world), form_data(world, name="First", email=""))
    response = client.post(url("stakeholder_create", world), form_data(world, name="Second", email=""))
    assert response.status_code == 302
    assert Stakeholder.objects.filter(pmo=world.pmo, email="").count() == 2


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_create_refuses_bad_input(world, client_for, overrides, field, message):
    data = form_data(world, **overrides(world))
    before = stakeholder_rows()
    response = client_for(world.member).post(url("stakeholder_create", world), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [message]
    assert list(form.errors) == [field]
    assert escape(message) in response.content.decode()
    assert_form_keeps(form, data, field)
    assert 'value="Head of Procurement"' in response.content.decode()
    assert stakeholder_rows() == before


def test_viewer_cannot_create(world, client_for):
    before = stakeholder_rows()
    client = client_for(world.viewer)
    assert client.get(url("stakeholder_create", world)).status_code == 403
    assert client.post(url("stakeholder_create", world), form_data(world)).status_code == 403
    assert stakeholder_rows() == before


# Editing -----------------------------------------------------------------------------


def test_member_edits_stakeholder(world, client_for, gary):
    client = client_for(world.member)
    page = client.get(url("stakeholder_edit", world, stakeholder_id=gary.pk))
    assert page.status_code == 200
    assert page.context["form"]["name"].value() == "Gary Governance"
    assert "Save and add another" not in page.content.decode()

    owner = world.membership(world.member)
    data = form_data(world, name="Gary G. Governance", email="gary.g@corp.example", influence="5", interest="5")
    response = client.post(url("stakeholder_edit", world, stakeholder_id=gary.pk), data)

    assert response.status_code == 302
    assert response["Location"] == url("stakeholder_detail", world, stakeholder_id=gary.pk)
    gary.refresh_from_db()
    assert gary.name == "Gary G. Governance"
    assert gary.email == "gary.g@corp.example"
    assert gary.job_title == "Head of Procurement"
    assert gary.business_unit == "Purchasing"
    assert gary.segment == world.segment
    assert (gary.influence, gary.interest) == (5, 5)
    assert gary.owner == owner
    assert gary.notes.startswith("Met at the steering committee.")
    assert gary.pmo == world.pmo
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == 2
    assert "Manage closely" in client.get(response["Location"]).content.decode()


def test_editing_keeps_own_email_even_in_another_case(world, client_for):
    data = form_data(world, name="Fiona Finance", email="Fiona@Corp.Example")
    response = client_for(world.member).post(url("stakeholder_edit", world, stakeholder_id=world.stakeholder.pk), data)

    assert response.status_code == 302
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.email == "fiona@corp.example"
    assert world.stakeholder.job_title == "Head of Procurement"


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_edit_refuses_bad_input_and_keeps_the_stored_row(world, client_for, gary, overrides, field, message):
    data = form_data(world, **overrides(world))
    before = stakeholder_rows()
    stored = Stakeholder.objects.filter(pk=gary.pk).values().get()
    response = client_for(world.member).post(url("stakeholder_edit", world, stakeholder_id=gary.pk), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [message]
    assert list(form.errors) == [field]
    assert escape(message) in response.content.decode()
    assert_form_keeps(form, data, field)
    assert Stakeholder.objects.filter(pk=gary.pk).values().get() == stored
    assert stakeholder_rows() == before


def test_edit_of_another_pmos_stakeholder_is_404_and_changes_nothing(world, client_for):
    before = stakeholder_rows()
    response = client_for(world.member).post(
        url("stakeholder_edit", world, stakeholder_id=world.other_stakeholder.pk), form_data(world)
    )
    assert response.status_code == 404
    assert stakeholder_rows() == before


# Deactivating and reactivating --------------------------------------------------------


def test_member_deactivates_and_reactivates(world, client_for):
    client = client_for(world.member)
    set_active = url("stakeholder_set_active", world, stakeholder_id=world.stakeholder.pk)
    detail = url("stakeholder_detail", world, stakeholder_id=world.stakeholder.pk)

    response = client.post(set_active, {"active": "false"})
    assert response.status_code == 302
    assert response["Location"] == detail
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.is_active is False
    html = client.get(detail).content.decode()
    assert "deactivated: kept on record" in html
    assert "Reactivate" in html
    assert 'name="active" value="true"' in html

    response = client.post(set_active, {"active": "true"})
    assert response.status_code == 302
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.is_active is True
    html = client.get(detail).content.decode()
    assert "is active again" in html
    assert 'name="active" value="false"' in html
    # Deactivating keeps the stakeholder and all it holds.
    assert world.stakeholder.segment == world.segment
    assert world.stakeholder.email == "fiona@corp.example"


def test_set_active_answers_only_post(world, client_for):
    response = client_for(world.member).get(url("stakeholder_set_active", world, stakeholder_id=world.stakeholder.pk))
    assert response.status_code == 405
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.is_active is True


def test_viewer_cannot_deactivate(world, client_for):
    response = client_for(world.viewer).post(
        url("stakeholder_set_active", world, stakeholder_id=world.stakeholder.pk), {"active": "false"}
    )
    assert response.status_code == 403
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.is_active is True


# Deleting ----------------------------------------------------------------------------


def test_delete_asks_for_confirmation_then_deletes(world, client_for, gary):
    client = client_for(world.member)
    delete = url("stakeholder_delete", world, stakeholder_id=gary.pk)

    page = client.get(delete)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Delete Gary Governance?" in html
    assert "Deactivate instead" in html
    assert Stakeholder.objects.filter(pk=gary.pk).exists()

    response = client.post(delete)
    assert response.status_code == 302
    assert response["Location"] == url("stakeholder_list", world)
    assert not Stakeholder.objects.filter(pk=gary.pk).exists()
    assert Stakeholder.objects.filter(pk=world.stakeholder.pk).exists()
    assert Stakeholder.objects.filter(pk=world.other_stakeholder.pk).exists()
    assert "Gary Governance is deleted from the register." in client.get(response["Location"]).content.decode()


def test_viewer_cannot_delete(world, client_for):
    client = client_for(world.viewer)
    delete = url("stakeholder_delete", world, stakeholder_id=world.stakeholder.pk)
    assert client.get(delete).status_code == 403
    assert client.post(delete).status_code == 403
    assert Stakeholder.objects.filter(pk=world.stakeholder.pk).exists()


# Database constraints, with the form bypassed ----------------------------------------


@pytest.mark.parametrize(
    ("influence", "interest"),
    [(6, 3), (0, 3), (3, 6), (3, 0)],
    ids=["influence-6", "influence-0", "interest-6", "interest-0"],
)
def test_database_refuses_level_out_of_range(world, influence, interest):
    before = stakeholder_rows()
    with pytest.raises(IntegrityError), transaction.atomic():
        Stakeholder.objects.create(pmo=world.pmo, name="Out of range", influence=influence, interest=interest)
    assert stakeholder_rows() == before


def test_database_refuses_duplicate_email_ignoring_case_in_same_pmo(world):
    before = stakeholder_rows()
    with pytest.raises(IntegrityError), transaction.atomic():
        Stakeholder.objects.create(pmo=world.pmo, name="Fiona Again", email="FIONA@CORP.EXAMPLE")
    assert stakeholder_rows() == before


def test_database_allows_same_email_in_another_pmo(world):
    Stakeholder.objects.create(pmo=world.other_pmo, name="Fiona in Beta", email="Fiona@Corp.Example")
    assert Stakeholder.objects.filter(email__iexact="fiona@corp.example").count() == 2


def test_database_allows_several_stakeholders_without_email(world):
    Stakeholder.objects.create(pmo=world.pmo, name="No mail 1", email="")
    Stakeholder.objects.create(pmo=world.pmo, name="No mail 2", email="")
    assert Stakeholder.objects.filter(pmo=world.pmo, email="").count() == 2


def test_database_refuses_duplicate_segment_name_ignoring_case_in_same_pmo(world):
    before = segment_rows()
    with pytest.raises(IntegrityError), transaction.atomic():
        Segment.objects.create(pmo=world.pmo, name="FINANCE")
    assert segment_rows() == before
    Segment.objects.create(pmo=world.other_pmo, name="finance")
    assert Segment.objects.filter(name__iexact="finance").count() == 2


# Segments ----------------------------------------------------------------------------


def test_member_creates_segment(world, client_for):
    client = client_for(world.member)
    assert client.get(url("segment_create", world)).status_code == 200
    response = client.post(url("segment_create", world), {"name": "  Sponsors ", "description": "Budget holders"})

    assert response.status_code == 302
    assert response["Location"] == url("segment_list", world)
    segment = Segment.objects.get(pmo=world.pmo, name="Sponsors")
    assert segment.description == "Budget holders"
    html = client.get(response["Location"]).content.decode()
    assert "Segment “Sponsors” is saved." in html
    assert "Budget holders" in html


def test_member_edits_segment(world, client_for):
    client = client_for(world.member)
    edit = url("segment_edit", world, segment_id=world.segment.pk)
    page = client.get(edit)
    assert page.status_code == 200
    assert page.context["form"]["name"].value() == "Finance"

    response = client.post(edit, {"name": "Finance & Control", "description": "CFO's people"})
    assert response.status_code == 302
    world.segment.refresh_from_db()
    assert world.segment.name == "Finance & Control"
    assert world.segment.description == "CFO's people"
    assert Segment.objects.filter(pmo=world.pmo).count() == 1


def test_editing_segment_keeps_own_name_in_another_case(world, client_for):
    response = client_for(world.member).post(
        url("segment_edit", world, segment_id=world.segment.pk), {"name": "FINANCE", "description": ""}
    )
    assert response.status_code == 302
    world.segment.refresh_from_db()
    assert world.segment.name == "FINANCE"


def test_member_deletes_segment_and_its_stakeholders_stay(world, client_for):
    client = client_for(world.member)
    delete = url("segment_delete", world, segment_id=world.segment.pk)
    page = client.get(delete)
    assert page.status_code == 200
    assert "Its 1 stakeholder stays on the register, without a segment." in page.content.decode()
    assert Segment.objects.filter(pk=world.segment.pk).exists()

    response = client.post(delete)
    assert response.status_code == 302
    assert response["Location"] == url("segment_list", world)
    assert not Segment.objects.filter(pk=world.segment.pk).exists()
    world.stakeholder.refresh_from_db()
    assert world.stakeholder.segment is None
    assert Segment.objects.filter(pk=world.other_segment.pk).exists()
    world.other_stakeholder.refresh_from_db()
    assert world.other_stakeholder.segment == world.other_segment


def test_segment_name_of_another_pmo_is_allowed(world, client_for):
    response = client_for(world.member).post(url("segment_create", world), {"name": "BETA SEGMENT", "description": ""})
    assert response.status_code == 302
    assert Segment.objects.filter(name__iexact="beta segment").count() == 2


SEGMENT_BAD_INPUT = [
    pytest.param("", SEGMENT_REQUIRED, id="empty"),
    pytest.param("   ", SEGMENT_REQUIRED, id="whitespace"),
    pytest.param("s" * 81, SEGMENT_TOO_LONG, id="81-chars"),
    pytest.param("fINANCE", SEGMENT_DUPLICATE, id="duplicate-other-case"),
]


@pytest.mark.parametrize(("name", "message"), SEGMENT_BAD_INPUT)
def test_segment_create_refuses_bad_name(world, client_for, name, message):
    before = segment_rows()
    data = {"name": name, "description": "Kept description"}
    response = client_for(world.member).post(url("segment_create", world), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["name"] == [message]
    assert list(form.errors) == ["name"]
    assert escape(message) in response.content.decode()
    assert form["description"].value() == "Kept description"
    assert "Kept description" in response.content.decode()
    assert segment_rows() == before


@pytest.mark.parametrize(("name", "message"), SEGMENT_BAD_INPUT)
def test_segment_edit_refuses_bad_name(world, client_for, name, message):
    sales = SegmentFactory(pmo=world.pmo, name="Sales", description="Original")
    before = segment_rows()
    response = client_for(world.member).post(
        url("segment_edit", world, segment_id=sales.pk), {"name": name, "description": "Changed"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [message]
    assert response.context["form"]["description"].value() == "Changed"
    assert segment_rows() == before


def test_viewer_cannot_change_segments(world, client_for):
    client = client_for(world.viewer)
    before = segment_rows()
    assert client.get(url("segment_create", world)).status_code == 403
    assert client.post(url("segment_create", world), {"name": "New"}).status_code == 403
    assert client.post(url("segment_edit", world, segment_id=world.segment.pk), {"name": "New"}).status_code == 403
    assert client.post(url("segment_delete", world, segment_id=world.segment.pk)).status_code == 403
    assert segment_rows() == before


# What each role is offered -----------------------------------------------------------


PAGES = ["list", "detail", "grid", "segments"]


def page_and_edit_links(world, page):
    """A page, a text every reader sees there, and the addresses only an editor is offered."""
    sid = world.stakeholder.pk
    return {
        "list": (url("stakeholder_list", world), "Fiona Finance", [url("stakeholder_create", world)]),
        "detail": (
            url("stakeholder_detail", world, stakeholder_id=sid),
            "fiona@corp.example",
            [
                url("stakeholder_edit", world, stakeholder_id=sid),
                url("stakeholder_set_active", world, stakeholder_id=sid),
                url("stakeholder_delete", world, stakeholder_id=sid),
            ],
        ),
        "grid": (url("grid", world), "Fiona Finance", [url("stakeholder_create", world)]),
        "segments": (
            url("segment_list", world),
            "Finance",
            [
                url("segment_create", world),
                url("segment_edit", world, segment_id=world.segment.pk),
                url("segment_delete", world, segment_id=world.segment.pk),
            ],
        ),
    }[page]


BUTTONS = ["Add stakeholder", "Edit</a>", "Deactivate</button>", "Reactivate</button>", "Delete</a>", "New segment"]


@pytest.mark.parametrize("page", PAGES)
def test_viewer_sees_no_edit_buttons(world, client_for, page):
    address, shown, links = page_and_edit_links(world, page)
    response = client_for(world.viewer).get(address)

    assert response.status_code == 200
    html = response.content.decode()
    assert shown in html
    for link in links:
        assert f'"{link}"' not in html, link
    for button in BUTTONS:
        assert button not in html, button


@pytest.mark.parametrize("page", PAGES)
def test_member_sees_edit_buttons(world, client_for, page):
    address, shown, links = page_and_edit_links(world, page)
    response = client_for(world.member).get(address)

    assert response.status_code == 200
    html = response.content.decode()
    assert shown in html
    for link in links:
        assert f'"{link}"' in html, link


def test_refused_edit_keeps_the_stored_name_in_heading_and_breadcrumb(world, client_for, gary):
    data = form_data(world, name="Renamed Gary", email="not-an-email")
    response = client_for(world.member).post(url("stakeholder_edit", world, stakeholder_id=gary.pk), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Edit Gary Governance</h1>" in html
    assert f'<a href="{url("stakeholder_detail", world, stakeholder_id=gary.pk)}">Gary Governance</a>' in html
    assert "<h1>Edit Renamed Gary</h1>" not in html
    # The entered name is still in the form, to be corrected and sent again.
    assert response.context["form"]["name"].value() == "Renamed Gary"
    assert Stakeholder.objects.get(pk=gary.pk).name == "Gary Governance"


def test_successful_edit_message_uses_the_new_name(world, client_for, gary):
    client = client_for(world.member)
    response = client.post(
        url("stakeholder_edit", world, stakeholder_id=gary.pk), form_data(world, name="Renamed Gary")
    )
    assert response.status_code == 302
    assert "Renamed Gary is saved." in client.get(response["Location"]).content.decode()


def test_refused_segment_edit_keeps_the_stored_name_in_heading(world, client_for):
    edit = url("segment_edit", world, segment_id=world.segment.pk)
    response = client_for(world.member).post(edit, {"name": "Treasury", "description": "d" * 1001})

    html = response.content.decode()
    assert response.status_code == 200
    assert "description" in response.context["form"].errors
    assert "Edit segment “Finance”" in html
    assert "Edit segment “Treasury”" not in html
    world.segment.refresh_from_db()
    assert world.segment.name == "Finance"
