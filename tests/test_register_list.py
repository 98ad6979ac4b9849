"""The register's list page: search, filters, sorting, pagination and its empty states."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from pmo5p.models import Membership
from stakeholders.models import Stakeholder
from tests.factories import MembershipFactory, SegmentFactory, StakeholderFactory

EMPTY_REGISTER = "The register is empty"
NO_MATCH = "No stakeholder matches"


def list_url(world):
    return reverse("stakeholder_list", kwargs={"slug": world.pmo.slug})


def names(response):
    return [s.name for s in response.context["page"].object_list]


@pytest.fixture
def register(world):
    """A small register with distinct, hand-picked values, and a look-alike in the other PMO."""
    Stakeholder.objects.filter(pk=world.stakeholder.pk).update(
        job_title="Budget lead", business_unit="Group finance", influence=3, interest=3
    )
    sales = SegmentFactory(pmo=world.pmo, name="Sales")
    owner = world.membership(world.member)
    alice = StakeholderFactory(
        pmo=world.pmo,
        name="Alice Anders",
        email="alice@north.example",
        job_title="Quartermaster",
        business_unit="Treasury",
        segment=sales,
        influence=5,
        interest=1,
        owner=owner,
    )
    bruno = StakeholderFactory(
        pmo=world.pmo,
        name="Bruno Berg",
        email="bruno@south.example",
        job_title="Harbour pilot",
        business_unit="Xylophone Lab",
        segment=world.segment,
        influence=1,
        interest=5,
        owner=world.membership(world.lead),
    )
    carla = StakeholderFactory(
        pmo=world.pmo,
        name="Carla Cole",
        email="carla@west.example",
        job_title="Steward",
        business_unit="Facilities",
        segment=sales,
        influence=4,
        interest=2,
        owner=owner,
        is_active=False,
    )
    # The other PMO has a stakeholder matching every search and filter value above.
    StakeholderFactory(
        pmo=world.other_pmo,
        name="Alice Bruno Carla Fiona",
        email="alice@south.example",
        job_title="Quartermaster Harbour pilot",
        business_unit="Treasury Xylophone Lab",
        segment=world.other_segment,
        influence=5,
        interest=5,
    )
    return {"sales": sales, "owner": owner, "alice": alice, "bruno": bruno, "carla": carla}


ALL = ["Alice Anders", "Bruno Berg", "Carla Cole", "Fiona Finance"]


def test_list_shows_only_own_pmo_stakeholders(world, client_for, register):
    response = client_for(world.viewer).get(list_url(world))
    assert response.status_code == 200
    assert names(response) == ALL
    html = response.content.decode()
    assert "Bob Beta" not in html
    assert "Alice Bruno Carla Fiona" not in html
    assert "4 stakeholders." in html


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("alice", ["Alice Anders"]),
        ("ANDERS", ["Alice Anders"]),
        ("South.Example", ["Bruno Berg"]),
        ("FIONA@corp", ["Fiona Finance"]),
        ("quartermaster", ["Alice Anders"]),
        ("HARBOUR", ["Bruno Berg"]),
        ("treasury", ["Alice Anders"]),
        ("xylophone LAB", ["Bruno Berg"]),
        ("group FIN", ["Fiona Finance"]),
        ("  steward  ", ["Carla Cole"]),
        (".example", ALL),
        ("   ", ALL),
    ],
)
def test_search_by_name_email_job_title_or_unit_ignoring_case(world, client_for, register, q, expected):
    response = client_for(world.viewer).get(list_url(world), {"q": q})
    assert response.status_code == 200
    assert names(response) == expected


def test_search_without_match_shows_no_match_state(world, client_for, register):
    response = client_for(world.viewer).get(list_url(world), {"q": "nobody-like-this"})
    html = response.content.decode()
    assert names(response) == []
    assert NO_MATCH in html
    assert EMPTY_REGISTER not in html
    assert "0 stakeholders match these filters." in html
    assert "Clear filters" in html


def test_filter_by_segment(world, client_for, register):
    client = client_for(world.viewer)
    assert names(client.get(list_url(world), {"segment": register["sales"].pk})) == ["Alice Anders", "Carla Cole"]
    assert names(client.get(list_url(world), {"segment": world.segment.pk})) == ["Bruno Berg", "Fiona Finance"]


def test_filter_by_owner(world, client_for, register):
    client = client_for(world.viewer)
    response = client.get(list_url(world), {"owner": register["owner"].pk})
    assert names(response) == ["Alice Anders", "Carla Cole"]
    assert names(client.get(list_url(world), {"owner": world.membership(world.lead).pk})) == ["Bruno Berg"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("influence", "5", ["Alice Anders"]),
        ("influence", "4", ["Carla Cole"]),
        ("influence", "3", ["Fiona Finance"]),
        ("influence", "2", []),
        ("interest", "5", ["Bruno Berg"]),
        ("interest", "1", ["Alice Anders"]),
        ("interest", "3", ["Fiona Finance"]),
    ],
)
def test_filter_by_influence_and_interest(world, client_for, register, field, value, expected):
    response = client_for(world.viewer).get(list_url(world), {field: value})
    assert response.context["filter"].form.errors == {}
    assert names(response) == expected


@pytest.mark.parametrize(
    ("active", "expected"),
    [
        ("", ALL),
        (None, ALL),
        ("true", ["Alice Anders", "Bruno Berg", "Fiona Finance"]),
        ("false", ["Carla Cole"]),
    ],
)
def test_filter_active_inactive_default_shows_both(world, client_for, register, active, expected):
    params = {} if active is None else {"active": active}
    response = client_for(world.viewer).get(list_url(world), params)
    assert names(response) == expected


def test_inactive_stakeholders_are_marked_in_the_list(world, client_for, register):
    html = client_for(world.viewer).get(list_url(world), {"active": "false"}).content.decode()
    assert 'Carla Cole</a> <span class="badge text-bg-light border">inactive</span>' in html


def test_filters_combine(world, client_for, register):
    response = client_for(world.viewer).get(
        list_url(world), {"segment": register["sales"].pk, "active": "true", "q": "a"}
    )
    assert names(response) == ["Alice Anders"]
    assert "1 stakeholder matches these filters." in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Alice Anders", "Bruno Berg", "Carla Cole", "Fiona Finance"]),
        ("name", ["Alice Anders", "Bruno Berg", "Carla Cole", "Fiona Finance"]),
        ("-name", ["Fiona Finance", "Carla Cole", "Bruno Berg", "Alice Anders"]),
        ("influence", ["Bruno Berg", "Fiona Finance", "Carla Cole", "Alice Anders"]),
        ("-influence", ["Alice Anders", "Carla Cole", "Fiona Finance", "Bruno Berg"]),
        ("interest", ["Alice Anders", "Carla Cole", "Fiona Finance", "Bruno Berg"]),
        ("-interest", ["Bruno Berg", "Fiona Finance", "Carla Cole", "Alice Anders"]),
    ],
)
def test_sorting(world, client_for, register, sort, expected):
    response = client_for(world.viewer).get(list_url(world), {"sort": sort})
    assert response.context["filter"].form.errors == {}
    assert names(response) == expected


def test_sort_by_segment_ties_by_name(world, client_for, register):
    response = client_for(world.viewer).get(list_url(world), {"sort": "segment"})
    # Finance: Bruno, Fiona; Sales: Alice, Carla.
    assert names(response) == ["Bruno Berg", "Fiona Finance", "Alice Anders", "Carla Cole"]
    response = client_for(world.viewer).get(list_url(world), {"sort": "-segment"})
    assert names(response) == ["Alice Anders", "Carla Cole", "Bruno Berg", "Fiona Finance"]


def test_sort_by_last_updated(world, client_for, register):
    base = datetime(2024, 1, 1, tzinfo=UTC)
    order = ["Carla Cole", "Fiona Finance", "Alice Anders", "Bruno Berg"]
    for days, name in enumerate(order):
        Stakeholder.objects.filter(pmo=world.pmo, name=name).update(updated_at=base + timedelta(days=days))
    client = client_for(world.viewer)
    assert names(client.get(list_url(world), {"sort": "updated"})) == order
    assert names(client.get(list_url(world), {"sort": "-updated"})) == order[::-1]


def test_sort_ties_are_broken_by_name(world, client_for):
    # Created in reverse name order, all with the same influence and interest.
    for name in ["Zed", "Yan", "Xia", "Abe"]:
        StakeholderFactory(pmo=world.pmo, name=name, influence=2, interest=2)
    StakeholderFactory(pmo=world.pmo, name="Mia", influence=2, interest=2, is_active=False)
    client = client_for(world.viewer)
    assert names(client.get(list_url(world), {"sort": "influence"})) == [
        "Abe",
        "Mia",
        "Xia",
        "Yan",
        "Zed",
        "Fiona Finance",
    ]
    assert names(client.get(list_url(world), {"sort": "-interest"})) == [
        "Fiona Finance",
        "Abe",
        "Mia",
        "Xia",
        "Yan",
        "Zed",
    ]


def test_unknown_sort_is_a_form_error_not_a_crash(world, client_for, register):
    response = client_for(world.viewer).get(list_url(world), {"sort": "pmo__name"})
    assert response.status_code == 200
    assert "sort" in response.context["filter"].form.errors
    assert names(response) == ALL


# Pagination ----------------------------------------------------------------------------


@pytest.fixture
def thirty(world):
    """30 stakeholders in all: Fiona and 29 more, all in the Finance segment."""
    for i in range(29):
        StakeholderFactory(pmo=world.pmo, segment=world.segment, name=f"Person {i:02d}", influence=1 + i % 2)
    assert Stakeholder.objects.filter(pmo=world.pmo).count() == 30


def test_pagination_25_per_page(world, client_for, thirty):
    client = client_for(world.viewer)
    first = client.get(list_url(world))
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.num_pages == 2
    assert "30 stakeholders." in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()

    second = client.get(list_url(world), {"page": 2})
    assert second.status_code == 200
    assert second.context["page"].number == 2
    assert len(second.context["page"].object_list) == 5
    # Every stakeholder is on exactly one page.
    assert sorted(names(first) + names(second)) == sorted(
        Stakeholder.objects.filter(pmo=world.pmo).values_list("name", flat=True)
    )


def test_pagination_with_ties_shows_each_stakeholder_once(world, client_for, thirty):
    client = client_for(world.viewer)
    for sort in ("influence", "-interest", "segment"):
        seen = names(client.get(list_url(world), {"sort": sort})) + names(
            client.get(list_url(world), {"sort": sort, "page": 2})
        )
        assert len(seen) == 30
        assert len(set(seen)) == 30, sort


def test_pagination_links_keep_the_filters(world, client_for, thirty):
    params = {"q": "e", "segment": world.segment.pk, "active": "true", "sort": "-name"}
    response = client_for(world.viewer).get(list_url(world), params)
    html = response.content.decode()
    assert response.context["page"].paginator.count == 30
    assert names(response)[0] == "Person 28"
    link = f'href="?q=e&amp;segment={world.segment.pk}&amp;active=true&amp;sort=-name&amp;page=2"'
    assert link in html

    second = client_for(world.viewer).get(list_url(world), {**params, "page": 2})
    html = second.content.decode()
    assert second.context["page"].number == 2
    assert names(second)[-1] == "Fiona Finance"
    assert f'href="?q=e&amp;segment={world.segment.pk}&amp;active=true&amp;sort=-name&amp;page=1"' in html
    # The page number is not repeated in the links.
    assert "page=2&amp;page" not in html


@pytest.mark.parametrize("page", ["3", "999", "-1"])
def test_out_of_range_page_gives_the_last_page(world, client_for, thirty, page):
    response = client_for(world.viewer).get(list_url(world), {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == 2
    assert len(response.context["page"].object_list) == 5


def test_page_that_is_not_a_number_gives_the_first_page(world, client_for, thirty):
    response = client_for(world.viewer).get(list_url(world), {"page": "abc"})
    assert response.status_code == 200
    assert response.context["page"].number == 1


def test_single_page_has_no_pagination(world, client_for, register):
    html = client_for(world.viewer).get(list_url(world)).content.decode()
    assert 'aria-label="Pages"' not in html


# Empty states and isolation ----------------------------------------------------------


def test_empty_register_state(world, client_for):
    Stakeholder.objects.filter(pmo=world.pmo).delete()
    for user in (world.member, world.viewer):
        response = client_for(user).get(list_url(world))
        html = response.content.decode()
        assert response.status_code == 200
        assert EMPTY_REGISTER in html
        assert NO_MATCH not in html
        assert "Bob Beta" not in html
        assert ("Add the first stakeholder" in html) is (user == world.member)


def test_empty_register_state_even_with_filters(world, client_for):
    Stakeholder.objects.filter(pmo=world.pmo).delete()
    html = client_for(world.viewer).get(list_url(world), {"q": "bob"}).content.decode()
    assert EMPTY_REGISTER in html
    assert NO_MATCH not in html


def test_register_with_only_other_filters_out_is_not_empty(world, client_for):
    response = client_for(world.viewer).get(list_url(world), {"active": "false"})
    html = response.content.decode()
    assert names(response) == []
    assert NO_MATCH in html
    assert EMPTY_REGISTER not in html


def test_other_pmo_segment_is_refused_as_filter(world, client_for, register):
    response = client_for(world.viewer).get(list_url(world), {"segment": world.other_segment.pk})
    assert response.status_code == 200
    assert "segment" in response.context["filter"].form.errors
    html = response.content.decode()
    assert "Bob Beta" not in html
    assert "Alice Bruno Carla Fiona" not in html
    assert all(s.pmo_id == world.pmo.pk for s in response.context["page"].object_list)


def test_other_pmo_owner_is_refused_as_filter(world, client_for, register):
    outsider = Membership.objects.get(pmo=world.other_pmo, user=world.outsider)
    StakeholderFactory(pmo=world.other_pmo, name="Owned In Beta", owner=outsider)
    response = client_for(world.viewer).get(list_url(world), {"owner": outsider.pk})
    assert "owner" in response.context["filter"].form.errors
    assert "Owned In Beta" not in response.content.decode()
    assert all(s.pmo_id == world.pmo.pk for s in response.context["page"].object_list)


def test_filter_choices_offer_only_own_segments_and_members(world, client_for, register):
    beta_member = MembershipFactory(pmo=world.other_pmo, user__name="Zoltan Outsider").user
    response = client_for(world.viewer).get(list_url(world))
    form = response.context["filter"].form
    assert set(form.fields["segment"].queryset) == {world.segment, register["sales"]}
    assert set(form.fields["owner"].queryset) == set(Membership.objects.filter(pmo=world.pmo))
    html = response.content.decode()
    assert "Beta segment" not in html
    assert beta_member.name not in html


def test_list_links_to_each_detail_page(world, client_for, register):
    html = client_for(world.viewer).get(list_url(world)).content.decode()
    for stakeholder in Stakeholder.objects.filter(pmo=world.pmo):
        detail = reverse("stakeholder_detail", kwargs={"slug": "alpha", "stakeholder_id": stakeholder.pk})
        assert f'href="{detail}"' in html
    other = reverse("stakeholder_detail", kwargs={"slug": "alpha", "stakeholder_id": world.other_stakeholder.pk})
    assert f'href="{other}"' not in html
