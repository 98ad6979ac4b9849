"""Engagement plans on the register's pages (issue 13, docs/engagement.md): targets and gaps
computed by hand for a small register covering each quadrant, an own target and cadence, a
stakeholder never assessed and an inactive one; the register's gap and touch filters and
sorts; the grid's colours with their words; the stakeholder's "Engagement plan" panel; the
last touch kept by every write of interactions; the API's fields; the PMO's defaults."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pmo5p import services
from pmo5p.domain import MaturityStage
from pmo5p.models import ApiToken, Pmo
from stakeholders import register
from stakeholders.engagement import with_engagement
from stakeholders.models import Interaction, Stakeholder
from tests.factories import MaturityRecordFactory, StakeholderFactory, UserFactory
from tests.helpers import assert_field_error

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def touch(world, on: date, *people) -> Interaction:
    return register.create_interaction(
        world.pmo, world.member, {"summary": "Met", "stakeholders": list(people), "occurred_on": on}
    )


def assess(stakeholder, *stages) -> None:
    """Maturity records in date order: the last is the current stage."""
    for day, stage in enumerate(stages, start=1):
        MaturityRecordFactory(stakeholder=stakeholder, stage=stage, recorded_on=date(2026, 6, day))


@pytest.fixture
def plan(world):
    """Defaults: manage closely → Trust every 30 days, keep satisfied → Respect / 60,
    keep informed → Understanding / 90, monitor → Aware / 180."""
    people = {
        "Ada": StakeholderFactory(pmo=world.pmo, name="Ada", influence=5, interest=5),  # manage closely
        "Ben": StakeholderFactory(pmo=world.pmo, name="Ben", influence=5, interest=2),  # keep satisfied
        "Cleo": StakeholderFactory(pmo=world.pmo, name="Cleo", influence=2, interest=5),  # keep informed
        "Dan": StakeholderFactory(
            pmo=world.pmo,
            name="Dan",
            influence=1,
            interest=1,  # monitor, with a target and cadence of his own
            target_stage=MaturityStage.TRUST,
            target_reason="Chairs the new portfolio board.",
            cadence_days=7,
        ),
        "Eve": StakeholderFactory(pmo=world.pmo, name="Eve", influence=4, interest=4),  # never assessed
        "Fiona Finance": world.stakeholder,  # 3 and 3: monitor
        "Ina": StakeholderFactory(pmo=world.pmo, name="Ina", influence=5, interest=4, is_active=False),
    }
    assess(people["Ada"], MaturityStage.RESPECT)
    assess(people["Ben"], MaturityStage.TRUST, MaturityStage.AWARE)  # the latest counts
    assess(people["Cleo"], MaturityStage.TRUST)
    assess(people["Dan"], MaturityStage.AWARE)
    assess(people["Fiona Finance"], MaturityStage.AWARE)
    assess(people["Ina"], MaturityStage.UNAWARE)
    touch(world, date(2026, 10, 1), people["Ada"])
    touch(world, date(2026, 11, 20), people["Ben"], people["Dan"])
    touch(world, date(2025, 1, 1), people["Ina"])
    # Another PMO's stakeholder, far below target and overdue, shows nowhere here.
    assess(world.other_stakeholder, MaturityStage.UNAWARE)
    return people


# By hand: target − current stage; due = last touch (or the day added) + cadence.
EXPECTED = {
    #                target                         gap   cadence due on
    "Ada": (MaturityStage.TRUST, 1, 30, date(2026, 10, 31)),
    "Ben": (MaturityStage.RESPECT, 2, 60, date(2027, 1, 19)),
    "Cleo": (MaturityStage.UNDERSTANDING, -2, 90, date(2027, 2, 23)),
    "Dan": (MaturityStage.TRUST, 3, 7, date(2026, 11, 27)),
    "Eve": (MaturityStage.TRUST, None, 30, date(2026, 12, 25)),
    "Fiona Finance": (MaturityStage.AWARE, 0, 180, date(2027, 5, 24)),
    "Ina": (MaturityStage.TRUST, 4, 30, date(2025, 1, 31)),
}


def register_url(world, query=""):
    return reverse("stakeholder_list", kwargs={"slug": world.pmo.slug}) + query


def names_on(client, world, query):
    response = client.get(register_url(world, query))
    assert response.status_code == 200
    return [s.name for s in response.context["page"].object_list]


def test_targets_gaps_cadences_and_due_dates_are_as_computed_by_hand(world, plan):
    rows = with_engagement(Stakeholder.objects.filter(pmo=world.pmo), world.pmo, TODAY)
    found = {s.name: (s.target, s.gap, s.cadence, s.touch_due_on) for s in rows}
    assert found == EXPECTED
    overdue = {s.name for s in rows if s.touch_overdue}
    assert overdue == {"Ada", "Ina"}


def test_the_defaults_are_the_pmos_own(world, plan):
    Pmo.objects.filter(pk=world.pmo.pk).update(
        target_stage_manage_closely=MaturityStage.RESPECT, cadence_days_monitor=3
    )
    pmo = Pmo.objects.get(pk=world.pmo.pk)
    rows = {s.name: s for s in with_engagement(Stakeholder.objects.filter(pmo=pmo), pmo, TODAY)}
    assert (rows["Ada"].target, rows["Ada"].gap) == (MaturityStage.RESPECT, 0)
    assert rows["Dan"].target == MaturityStage.TRUST  # his own stays
    assert rows["Fiona Finance"].touch_due_on == date(2026, 11, 28)
    assert rows["Dan"].cadence == 7


def test_the_register_shows_target_gap_last_touch_and_touch_due(world, plan, client_for):
    response = client_for(world.viewer).get(register_url(world))
    html = " ".join(response.content.decode().split())
    rows = {s.name: s for s in response.context["page"].object_list}
    assert rows["Dan"].engagement.target_is_default is False
    assert (
        'Trust <span class="badge text-bg-light border" title="Their own target, not their quadrant\'s default">own</span>'
        in html
    )
    assert html.count(">own</span>") == 1
    for words in ("1 below", "2 below", "2 above", "3 below", "Not assessed", "At target", "4 below"):
        assert f">{words}</span>" in html
    assert "overdue 25 days" in html  # Ada: due 31 October
    assert "overdue 663 days" in html  # Ina: due 31 January 2025
    assert "last 1 Oct 2026" in html and "never touched" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?gap=below", ["Ada", "Ben", "Dan", "Ina"]),
        ("?gap=reached", ["Cleo", "Fiona Finance"]),
        ("?gap=not_assessed", ["Eve"]),
        ("?touch=overdue", ["Ada", "Ina"]),
        ("?touch=due_soon", ["Dan"]),  # due by 9 December: Dan on the 27th; Eve on 25 December is not
        ("?touch=overdue&gap=below&active=true", ["Ada"]),
    ],
)
def test_the_register_filters_by_gap_and_touch(world, plan, client_for, query, expected):
    assert names_on(client_for(world.viewer), world, query) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # Largest gap first; the not assessed last.
        ("gap", ["Ina", "Dan", "Ben", "Ada", "Fiona Finance", "Cleo", "Eve"]),
        ("-gap", ["Cleo", "Fiona Finance", "Ada", "Ben", "Dan", "Ina", "Eve"]),
        # Never touched first, then longest ago; ties by name.
        ("last_touched", ["Cleo", "Eve", "Fiona Finance", "Ina", "Ada", "Ben", "Dan"]),
        ("touch_due", ["Ina", "Ada", "Dan", "Eve", "Ben", "Cleo", "Fiona Finance"]),
        ("-touch_due", ["Fiona Finance", "Cleo", "Ben", "Eve", "Dan", "Ada", "Ina"]),
    ],
)
def test_the_register_sorts_by_gap_last_touch_and_touch_due(world, plan, client_for, sort, expected):
    assert names_on(client_for(world.viewer), world, f"?sort={sort}") == expected


def test_the_sort_choices_say_which_way(world, client_for):
    response = client_for(world.viewer).get(register_url(world))
    html = response.content.decode()
    assert "Gap to target, largest first" in html
    assert "Touch due, earliest first" in html


def test_a_bad_gap_or_touch_filter_is_a_form_error_not_a_crash(world, plan, client_for):
    response = client_for(world.viewer).get(register_url(world, "?gap=huge&touch=yesterday"))
    assert response.status_code == 200
    assert set(response.context["filter"].form.errors) == {"gap", "touch"}


def test_the_grid_colours_each_stakeholder_by_gap_with_words(world, plan, client_for):
    response = client_for(world.viewer).get(reverse("grid", kwargs={"slug": world.pmo.slug}))
    html = " ".join(response.content.decode().split())
    shown = {s.name: s.gap for _, people in sum(response.context["rows"], []) for s in people}
    assert shown == {name: gap for name, (_, gap, _, _) in EXPECTED.items() if name != "Ina"}  # active only

    def chip(name):
        start = html.index(f"> {name} <span") if f"> {name} <span" in html else html.index(f">{name} <span")
        return html[html.rindex("<a ", 0, start) : html.index("</a>", start)]

    assert "border-danger" in chip("Ben") and "−2" in chip("Ben") and "2 stages below target" in chip("Ben")
    assert "border-warning" in chip("Ada") and "1 stage below target" in chip("Ada")
    assert "border-success" in chip("Cleo") and "2 stages above target" in chip("Cleo")
    assert "border-success" in chip("Fiona Finance") and "at target" in chip("Fiona Finance")
    assert "border-secondary" in chip("Eve") and "not assessed" in chip("Eve")
    assert "Gap to target maturity:" in html  # the legend


def panel(client, world, stakeholder):
    response = client.get(
        reverse("stakeholder_detail", kwargs={"slug": world.pmo.slug, "stakeholder_id": stakeholder.pk})
    )
    html = " ".join(response.content.decode().split())
    start = html.index('id="engagement-plan"')
    return html[start : html.index("</section>", start)]


def test_the_stakeholders_page_shows_their_engagement_plan(world, plan, client_for):
    client = client_for(world.viewer)
    dan = panel(client, world, plan["Dan"])
    assert "<strong>Aware</strong> → <strong>Trust</strong>" in dan
    assert "own target" in dan and "Why: Chairs the new portfolio board." in dan
    assert ">3 below<" in dan
    assert "Every 7 days" in dan and "own cadence" in dan
    assert "20 Nov 2026" in dan and "(5 days ago)" in dan
    assert "Due 27 Nov 2026" in dan

    ada = panel(client, world, plan["Ada"])
    assert (
        '→ <strong>Trust</strong> <span class="small text-body-secondary">(the default for Manage closely)</span>'
        in ada
    )
    assert "Every 30 days" in ada and "(the default for Manage closely)" in ada
    assert "Overdue 25 days" in ada and "(due 31 Oct 2026)" in ada

    eve = panel(client, world, plan["Eve"])
    assert "Not assessed" in eve and "Never: no interaction logged yet" in eve and "Due 25 Dec 2026" in eve


# The last touch, kept by every write of interactions ------------------------------------------


def true_last_touch(stakeholder):
    dates = Interaction.objects.filter(stakeholders=stakeholder).values_list("occurred_on", flat=True)
    return max(dates, default=None)


def assert_last_touch_true(*people):
    for person in people:
        stored = Stakeholder.objects.get(pk=person.pk).last_touched_on
        assert stored == true_last_touch(person), person.name


@pytest.fixture
def two(world):
    return world.stakeholder, StakeholderFactory(pmo=world.pmo, name="Gus")


def test_register_writes_keep_the_last_touch(world, two):
    fiona, gus = two
    first = touch(world, date(2026, 11, 1), fiona)
    assert_last_touch_true(fiona, gus)
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on == date(2026, 11, 1)
    later = touch(world, date(2026, 11, 10), fiona, gus)
    assert_last_touch_true(fiona, gus)
    # The date moves back: their last touch follows.
    register.update_interaction(later, {"occurred_on": date(2026, 10, 5)})
    assert_last_touch_true(fiona, gus)
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on == date(2026, 11, 1)
    # Gus is taken off it: never touched again.
    register.update_interaction(later, {"stakeholders": [fiona]})
    assert Stakeholder.objects.get(pk=gus.pk).last_touched_on is None
    register.delete_interaction(first)
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on == date(2026, 10, 5)
    register.delete_interaction(later)
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on is None
    assert_last_touch_true(fiona, gus)


def test_the_pages_keep_the_last_touch(world, two, client_for):
    fiona, gus = two
    client = client_for(world.member)
    slug = {"slug": world.pmo.slug}
    form = {"occurred_on": "2026-11-20", "kind": "meeting", "stakeholders": [fiona.pk, gus.pk], "sentiment": "1",
            "summary": "Met"}  # fmt: skip
    assert client.post(reverse("interaction_create", kwargs=slug), form).status_code == 302
    touch(world, date(2026, 9, 1), gus)
    assert Stakeholder.objects.get(pk=gus.pk).last_touched_on == date(2026, 11, 20)
    interaction = Interaction.objects.get(occurred_on=date(2026, 11, 20))
    edit = reverse("interaction_edit", kwargs={**slug, "interaction_id": interaction.pk})
    assert client.post(edit, {**form, "occurred_on": "2026-11-02", "stakeholders": [fiona.pk]}).status_code == 302
    assert Stakeholder.objects.get(pk=gus.pk).last_touched_on == date(2026, 9, 1)
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on == date(2026, 11, 2)
    delete = reverse("interaction_delete", kwargs={**slug, "interaction_id": interaction.pk})
    assert client.post(delete).status_code == 302
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on is None
    assert_last_touch_true(fiona, gus)


@pytest.fixture
def api(world):
    _token, key = ApiToken.issue(user=world.member, name="tests")
    return Client(headers={"Authorization": f"Bearer {key}"})


def test_the_api_keeps_the_last_touch(world, two, api):
    fiona, gus = two
    slug = {"slug": world.pmo.slug}
    body = {"occurred_on": "2026-11-20", "kind": "meeting", "stakeholders": [fiona.pk, gus.pk], "summary": "Met"}
    created = api.post(reverse("api-interaction-list", kwargs=slug), body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert_last_touch_true(fiona, gus)
    detail = reverse("api-interaction-detail", kwargs={**slug, "pk": created.json()["id"]})
    patched = api.patch(
        detail, {"occurred_on": "2026-08-08", "stakeholders": [gus.pk]}, content_type="application/json"
    )
    assert patched.status_code == 200, patched.content
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on is None
    assert Stakeholder.objects.get(pk=gus.pk).last_touched_on == date(2026, 8, 8)
    assert api.delete(detail).status_code == 204
    assert Stakeholder.objects.get(pk=gus.pk).last_touched_on is None


def test_the_admin_keeps_the_last_touch(world, two, client_for):
    fiona, gus = two
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    interaction = touch(world, date(2026, 11, 20), fiona)
    touch(world, date(2026, 10, 1), fiona)
    change = reverse("admin:stakeholders_interaction_change", args=[interaction.pk])
    form = {
        "pmo": world.pmo.pk,
        "author": world.member.pk,
        "occurred_on": "2026-11-21",
        "kind": "meeting",
        "stakeholders": f"{gus.pk}",
        "elements": [],
        "sentiment": "0",
        "summary": "Met",
    }
    response = client.post(change, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on == date(2026, 10, 1)
    assert Stakeholder.objects.get(pk=gus.pk).last_touched_on == date(2026, 11, 21)
    delete = reverse("admin:stakeholders_interaction_delete", args=[interaction.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert Stakeholder.objects.get(pk=gus.pk).last_touched_on is None
    changelist = reverse("admin:stakeholders_interaction_changelist")
    rest = list(Interaction.objects.values_list("pk", flat=True))
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": rest, "post": "yes"})
    assert response.status_code == 302
    assert Stakeholder.objects.get(pk=fiona.pk).last_touched_on is None


# The API's engagement fields -------------------------------------------------------------------


def test_the_api_reads_and_writes_the_engagement_plan(world, plan, api):
    slug = {"slug": world.pmo.slug}
    rows = {row["name"]: row for row in api.get(reverse("api-stakeholder-list", kwargs=slug)).json()["results"]}
    dan = rows["Dan"]
    assert (dan["target_stage"], dan["target"], dan["gap"], dan["cadence_days"]) == (5, 5, 3, 7)
    assert (dan["last_touched_on"], dan["touch_due_on"]) == ("2026-11-20", "2026-11-27")
    assert (rows["Eve"]["target_stage"], rows["Eve"]["target"], rows["Eve"]["gap"]) == (None, 5, None)

    detail = reverse("api-stakeholder-detail", kwargs={**slug, "pk": plan["Ada"].pk})
    response = api.patch(
        detail, {"target_stage": 4, "target_reason": "Respect is enough for now.", "cadence_days": 14},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    # Read again after the write: the target in force and the gap follow it.
    assert (body["target"], body["gap"], body["touch_due_on"]) == (4, 0, "2026-10-15")
    back = api.patch(detail, {"target_stage": None}, content_type="application/json").json()
    assert (back["target"], back["gap"], back["target_reason"]) == (5, 1, "")
    assert Stakeholder.objects.get(pk=plan["Ada"].pk).target_reason == ""
    # Read-only: the API takes none of them.
    api.patch(detail, {"last_touched_on": "2026-11-24", "gap": 0, "target": 1}, content_type="application/json")
    ada = Stakeholder.objects.get(pk=plan["Ada"].pk)
    assert (ada.last_touched_on, ada.target_stage) == (date(2026, 10, 1), None)


def test_back_to_the_default_target_clears_the_reason_on_the_form(world, plan, client_for):
    dan = plan["Dan"]
    url = reverse("stakeholder_edit", kwargs={"slug": world.pmo.slug, "stakeholder_id": dan.pk})
    client = client_for(world.member)
    page = client.get(url).content.decode()
    assert "Default for Monitor: Aware" in page and "Default for Monitor: 180 days" in page
    assert "Engagement plan" in page
    data = {"name": "Dan", "email": dan.email, "influence": "1", "interest": "1", "is_active": "on",
            "target_stage": "", "target_reason": "Chairs the new portfolio board.", "cadence_days": ""}  # fmt: skip
    assert client.post(url, data).status_code == 302
    saved = Stakeholder.objects.get(pk=dan.pk)
    assert (saved.target_stage, saved.target_reason, saved.cadence_days) == (None, "", None)


# The PMO's defaults ------------------------------------------------------------------------------


def settings_data(pmo, **changes):
    data = {name: str(getattr(pmo, name)) for name in services.ENGAGEMENT_DEFAULT_FIELDS}
    return {**data, **changes}


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("cadence_days_monitor", "0", "Choose a cadence from 1 to 730 days."),
        ("cadence_days_manage_closely", "731", "Choose a cadence from 1 to 730 days."),
        ("cadence_days_keep_informed", "", "Choose a cadence from 1 to 730 days."),
        ("cadence_days_keep_informed", "ten", "Choose a cadence from 1 to 730 days."),
        ("target_stage_keep_satisfied", "0", "Choose a stage from Unaware to Trust."),
        ("target_stage_monitor", "6", "Choose a stage from Unaware to Trust."),
    ],
)
def test_the_settings_page_refuses_a_bad_default_and_saves_nothing(world, client_for, field, bad, message):
    url = reverse("engagement_settings", kwargs={"slug": world.pmo.slug})
    before = list(Pmo.objects.filter(pk=world.pmo.pk).values())
    data = settings_data(world.pmo, target_stage_manage_closely="4", **{field: bad})
    response = client_for(world.lead).post(url, data)
    assert_field_error(response, field, message)
    assert list(Pmo.objects.filter(pk=world.pmo.pk).values()) == before
    # What was typed stays.
    assert response.context["form"]["target_stage_manage_closely"].value() == "4"


def test_the_settings_page_saves_the_defaults_and_explains_them(world, client_for):
    url = reverse("engagement_settings", kwargs={"slug": world.pmo.slug})
    client = client_for(world.lead)
    page = client.get(url).content.decode()
    assert "High influence, lower interest: meet their needs without overloading them." in page
    assert "Understanding" in page and "The maturity stages" in page
    response = client.post(url, settings_data(world.pmo, target_stage_monitor="1", cadence_days_monitor="365"))
    assert response.status_code == 302
    pmo = Pmo.objects.get(pk=world.pmo.pk)
    assert (pmo.target_stage_monitor, pmo.cadence_days_monitor, pmo.cadence_days_manage_closely) == (1, 365, 30)
    settings_page = client.get(reverse("pmo_settings", kwargs={"slug": world.pmo.slug})).content.decode()
    assert url in settings_page


def test_the_write_function_refuses_out_of_range_defaults_whoever_calls(world):
    with pytest.raises(Exception) as refusal:
        services.update_engagement_defaults(
            pmo=world.pmo, values={"cadence_days_monitor": 0, "target_stage_monitor": 6}
        )
    assert refusal.value.message_dict == {
        "cadence_days_monitor": ["Choose a cadence from 1 to 730 days."],
        "target_stage_monitor": ["Choose a stage from Unaware to Trust."],
    }
    pmo = Pmo.objects.get(pk=world.pmo.pk)
    assert (pmo.cadence_days_monitor, pmo.target_stage_monitor) == (180, MaturityStage.AWARE)
