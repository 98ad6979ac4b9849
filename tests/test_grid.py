"""The power–interest grid: influence and interest from 1 to 5, and 4 and 5 count as high."""

import re

import pytest
from django.db.models import Count
from django.urls import reverse

from stakeholders.models import Stakeholder
from stakeholders.selectors import Quadrant, power_interest_grid, quadrant_expression
from tests.factories import StakeholderFactory

MC, KS, KI, MO = Quadrant.MANAGE_CLOSELY, Quadrant.KEEP_SATISFIED, Quadrant.KEEP_INFORMED, Quadrant.MONITOR

# The whole grid, written out by hand. Rows: influence 5 down to 1; columns: interest 1 to 5.
GRID = {
    5: [KS, KS, KS, MC, MC],
    4: [KS, KS, KS, MC, MC],
    3: [MO, MO, MO, KI, KI],
    2: [MO, MO, MO, KI, KI],
    1: [MO, MO, MO, KI, KI],
}
ALL_CELLS = [(influence, interest, GRID[influence][interest - 1]) for influence in GRID for interest in range(1, 6)]


def cell_name(influence, interest):
    return f"Inf{influence} Int{interest}"


def grid_url(world):
    return reverse("grid", kwargs={"slug": world.pmo.slug})


def detail_url(world, stakeholder):
    return reverse("stakeholder_detail", kwargs={"slug": world.pmo.slug, "stakeholder_id": stakeholder.pk})


def sections(html):
    """The HTML of each quadrant's section on the grid page, by quadrant value."""
    found = dict(re.findall(r'<section class="[^"]*quadrant-(\w+)"[^>]*>(.*?)</section>', html, re.S))
    assert set(found) == {q.value for q in Quadrant}
    return found


@pytest.fixture
def every_cell(world):
    """One active stakeholder in each of the 25 cells (Fiona is removed to keep the grid exact)."""
    Stakeholder.objects.filter(pk=world.stakeholder.pk).delete()
    Stakeholder.objects.bulk_create(
        Stakeholder(
            pmo=world.pmo, name=cell_name(inf, intr), email=f"c{inf}{intr}@corp.example", influence=inf, interest=intr
        )
        for inf, intr, _ in ALL_CELLS
    )
    return {s.name: s for s in Stakeholder.objects.filter(pmo=world.pmo)}


def test_table_covers_every_combination_once():
    assert len(ALL_CELLS) == 25
    assert len({(inf, intr) for inf, intr, _ in ALL_CELLS}) == 25
    assert {q for *_, q in ALL_CELLS} == set(Quadrant)


@pytest.mark.parametrize(
    ("influence", "interest", "quadrant"),
    [
        (5, 5, MC),
        (4, 4, MC),
        (4, 3, KS),
        (5, 1, KS),
        (3, 4, KI),
        (1, 5, KI),
        (3, 3, MO),
        (1, 1, MO),
    ],
)
def test_named_examples_agree_with_the_table(influence, interest, quadrant):
    assert GRID[influence][interest - 1] == quadrant


@pytest.mark.parametrize(
    ("influence", "interest", "quadrant"), ALL_CELLS, ids=[cell_name(a, b) for a, b, _ in ALL_CELLS]
)
def test_quadrant_expression_for_every_cell(world, influence, interest, quadrant):
    stakeholder = StakeholderFactory(pmo=world.pmo, influence=influence, interest=interest)
    annotated = Stakeholder.objects.annotate(quadrant=quadrant_expression()).get(pk=stakeholder.pk)
    assert annotated.quadrant == quadrant.value


def test_quadrant_expression_over_the_whole_grid_in_one_query(world, every_cell, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = dict(
            Stakeholder.objects.filter(pmo=world.pmo).annotate(q=quadrant_expression()).values_list("name", "q")
        )
    assert found == {cell_name(inf, intr): q.value for inf, intr, q in ALL_CELLS}


def test_quadrant_expression_groups_in_the_database(world, every_cell):
    counts = dict(
        Stakeholder.objects.filter(pmo=world.pmo)
        .annotate(q=quadrant_expression())
        .values_list("q")
        .annotate(n=Count("id"))
        .values_list("q", "n")
    )
    assert counts == {MC.value: 4, KS.value: 6, KI.value: 6, MO.value: 9}


def test_power_interest_grid_places_every_cell(world, every_cell, django_assert_num_queries):
    with django_assert_num_queries(1):
        grid = power_interest_grid(world.pmo)
        # Reading what the page reads costs no more queries.
        shown = {q: [(s.name, s.influence, s.interest, s.segment) for s in people] for q, people in grid.items()}
    assert list(grid) == list(Quadrant)
    for influence, interest, quadrant in ALL_CELLS:
        assert cell_name(influence, interest) in [name for name, *_ in shown[quadrant]]
    assert {q: len(people) for q, people in grid.items()} == {MC: 4, KS: 6, KI: 6, MO: 9}


def test_power_interest_grid_orders_most_influential_first(world):
    Stakeholder.objects.filter(pk=world.stakeholder.pk).delete()
    for name, inf, intr in [("Bea", 4, 4), ("Ann", 4, 4), ("Cid", 5, 4), ("Dot", 4, 5), ("Eve", 5, 5)]:
        StakeholderFactory(pmo=world.pmo, name=name, influence=inf, interest=intr)
    grid = power_interest_grid(world.pmo)
    assert [s.name for s in grid[MC]] == ["Eve", "Cid", "Dot", "Ann", "Bea"]


def test_power_interest_grid_leaves_out_inactive_and_other_pmos(world):
    StakeholderFactory(pmo=world.pmo, name="Sleeping Giant", influence=5, interest=5, is_active=False)
    Stakeholder.objects.filter(pk=world.other_stakeholder.pk).update(influence=5, interest=5)
    grid = power_interest_grid(world.pmo)
    everyone = [s.name for people in grid.values() for s in people]
    assert everyone == ["Fiona Finance"]
    assert [s.name for s in grid[MO]] == ["Fiona Finance"]
    assert [s.name for s in power_interest_grid(world.other_pmo)[MC]] == ["Bob Beta"]


def test_empty_grid(world):
    Stakeholder.objects.filter(pmo=world.pmo).update(is_active=False)
    assert power_interest_grid(world.pmo) == {q: [] for q in Quadrant}


# The grid page -------------------------------------------------------------------------


def test_grid_page_shows_each_name_in_its_quadrant_with_link(world, client_for, every_cell):
    response = client_for(world.viewer).get(grid_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    found = sections(html)
    for influence, interest, quadrant in ALL_CELLS:
        stakeholder = every_cell[cell_name(influence, interest)]
        link = f'href="{detail_url(world, stakeholder)}"'
        for value, section in found.items():
            if value == quadrant.value:
                assert link in section, (stakeholder.name, quadrant)
                assert f'>{stakeholder.name} <span class="badge' in section  # the name, then its gap
            else:
                assert link not in section
                assert stakeholder.name not in section
    assert response.context["total"] == 25


def test_grid_page_quadrant_headings_counts_and_layout(world, client_for, every_cell):
    html = client_for(world.viewer).get(grid_url(world)).content.decode()
    found = sections(html)
    for quadrant, count in [(MC, 4), (KS, 6), (KI, 6), (MO, 9)]:
        section = found[quadrant.value]
        assert f">{quadrant.label}</h2>" in section
        assert f'<span class="badge rounded-pill text-bg-light border">{count}</span>' in section
        assert quadrant.description in section
    # Drawn as a grid: high influence on top (keep satisfied, manage closely), then monitor, keep informed.
    order = [m.group(1) for m in re.finditer(r"quadrant-(\w+)\"", html)]
    assert order == ["keep_satisfied", "manage_closely", "monitor", "keep_informed"]


def test_grid_page_leaves_out_inactive_stakeholders(world, client_for):
    sleeper = StakeholderFactory(pmo=world.pmo, name="Sleeping Giant", influence=5, interest=5, is_active=False)
    html = client_for(world.viewer).get(grid_url(world)).content.decode()
    assert "Sleeping Giant" not in html
    assert detail_url(world, sleeper) not in html
    assert f'href="{detail_url(world, world.stakeholder)}"' in sections(html)["monitor"]


def test_grid_page_never_shows_another_pmos_stakeholders(world, client_for):
    Stakeholder.objects.filter(pk=world.other_stakeholder.pk).update(influence=5, interest=5)
    response = client_for(world.lead).get(grid_url(world))
    html = response.content.decode()
    assert "Bob Beta" not in html
    assert f"/stakeholders/{world.other_stakeholder.pk}/" not in html
    assert response.context["total"] == 1

    beta = client_for(world.outsider).get(reverse("grid", kwargs={"slug": world.other_pmo.slug})).content.decode()
    assert "Bob Beta" in sections(beta)["manage_closely"]
    assert "Fiona Finance" not in beta


def test_grid_page_empty_state(world, client_for):
    Stakeholder.objects.filter(pk=world.stakeholder.pk).update(is_active=False)
    response = client_for(world.viewer).get(grid_url(world))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nobody on the grid yet" in html
    assert "<section" not in html
    assert "Fiona Finance" not in html


def test_grid_page_with_stakeholders_has_no_empty_state(world, client_for):
    html = client_for(world.viewer).get(grid_url(world)).content.decode()
    assert "Nobody on the grid yet" not in html
    assert "Nobody here." in sections(html)["manage_closely"]


@pytest.mark.parametrize(
    ("influence", "interest", "quadrant"),
    [(5, 5, MC), (4, 3, KS), (3, 4, KI), (3, 3, MO), (1, 1, MO), (4, 4, MC)],
)
def test_detail_page_names_the_quadrant(world, client_for, influence, interest, quadrant):
    stakeholder = StakeholderFactory(pmo=world.pmo, name="Quinn Quadrant", influence=influence, interest=interest)
    response = client_for(world.viewer).get(detail_url(world, stakeholder))
    html = response.content.decode()
    assert response.context["quadrant"] == quadrant
    assert f'Quadrant: <a href="{grid_url(world)}"><strong>{quadrant.label}</strong></a>' in html
    assert quadrant.description in html
    for other in Quadrant:
        if other != quadrant:
            assert f"<strong>{other.label}</strong>" not in html


def test_detail_page_of_inactive_stakeholder_still_names_the_quadrant(world, client_for):
    stakeholder = StakeholderFactory(pmo=world.pmo, influence=5, interest=1, is_active=False)
    html = client_for(world.viewer).get(detail_url(world, stakeholder)).content.decode()
    assert "<strong>Keep satisfied</strong>" in html
