"""Pages of issue #4: self-assessment, relationship maturity, interactions and the stakeholder timeline."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda.models import MaturityRecord, SelfAssessment
from pmo5p.domain import Element, MaturityStage
from pmo5p.models import Pmo
from stakeholders.models import Interaction
from tests.factories import MaturityRecordFactory, ResponseFactory, SegmentFactory, StakeholderFactory, every
from tests.helpers import assert_field_error, messages_of, text, visible
from tests.insight_fixtures import at, build_survey


def url(world, name, **kwargs):
    return reverse(name, kwargs={"slug": world.pmo.slug, **kwargs})


def today():
    return timezone.localdate()


# Self-assessment ----------------------------------------------------------------------------------------

RATINGS = {Element.PRODUCT: 4, Element.PHYSICAL_EVIDENCE: 2, Element.PRICE: 3, Element.PEOPLE: 5, Element.PROCESS: 1}


def self_assessment_data(on=None, **overrides):
    data = {"assessed_on": (on or date(2025, 11, 1)).isoformat()}
    for element, rating in RATINGS.items():
        data[f"rating_{element.value}"] = str(rating)
        data[f"evidence_{element.value}"] = f"Evidence for {element.label}"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def element_section(response, element: Element) -> str:
    page = text(response)
    start = page.index(f'aria-labelledby="sa-{element.value}"')
    return page[start : page.index("</section>", start)]


def checked_rating(response, element: Element) -> str | None:
    found = re.findall(rf'<input[^>]*name="rating_{element.value}"[^>]*value="(\d)"[^>]*checked', text(response))
    return found[0] if found else None


def test_self_assessment_records_all_five_with_date_and_author(world, client_for):
    client = client_for(world.lead)
    response = client.post(url(world, "self_assessment_new"), self_assessment_data())
    assert response.status_code == 302
    assert response["Location"] == url(world, "assessments")
    rows = SelfAssessment.objects.filter(pmo=world.pmo)
    assert {(Element(r.element), r.rating) for r in rows} == set(RATINGS.items())
    assert {(r.assessed_on, r.author) for r in rows} == {(date(2025, 11, 1), world.lead)}
    assert rows.get(element=Element.PRICE).evidence == "Evidence for Price"
    assert "Self-assessment recorded." in messages_of(response)[0]


def test_history_is_kept_and_the_page_shows_the_latest(world, client_for):
    client = client_for(world.member)
    client.post(url(world, "self_assessment_new"), self_assessment_data(on=date(2025, 10, 1)))
    client.post(
        url(world, "self_assessment_new"),
        self_assessment_data(on=date(2025, 11, 2), rating_product="2", evidence_product="Complaints rose"),
    )
    assert SelfAssessment.objects.filter(pmo=world.pmo).count() == 10
    response = client.get(url(world, "assessments"))
    current = dict(response.context["current"])
    assert current[Element.PRODUCT].rating == 2
    assert current[Element.PRODUCT].evidence == "Complaints rose"
    assert len(response.context["history"]) == 10
    page = visible(response)
    history = page[page.index("History of self-assessments") :]
    assert "2 Nov 2025 Product 2/5 Complaints rose" in history
    assert "1 Oct 2025 Product 4/5 Evidence for Product" in history
    assert history.index("2 Nov 2025") < history.index("1 Oct 2025")


def test_previous_ratings_are_pre_selected(world, client_for):
    client = client_for(world.member)
    response = client.get(url(world, "self_assessment_new"))
    assert all(checked_rating(response, element) is None for element in Element)
    client.post(url(world, "self_assessment_new"), self_assessment_data())
    response = client.get(url(world, "self_assessment_new"))
    assert {element: checked_rating(response, element) for element in Element} == {
        element: str(rating) for element, rating in RATINGS.items()
    }
    assert "Your last ratings are pre-selected." in visible(response)


@pytest.mark.parametrize("value", ["0", "6", "x", "", None])
def test_a_rating_out_of_range_or_missing_is_refused(world, client_for, value):
    data = self_assessment_data(rating_people=value, evidence_price="Kept as typed")
    response = client_for(world.member).post(url(world, "self_assessment_new"), data)
    assert response.status_code == 200
    assert "Rate People from 1 (poor) to 5 (excellent)." in element_section(response, Element.PEOPLE)
    assert "Rate People" not in element_section(response, Element.PRICE)
    assert not SelfAssessment.objects.exists()
    # What was given is kept.
    assert checked_rating(response, Element.PRICE) == "3"
    assert checked_rating(response, Element.PEOPLE) is None
    assert "Kept as typed" in element_section(response, Element.PRICE)
    assert "nothing is saved yet" in visible(response)


def test_an_assessment_dated_in_the_future_is_refused(world, client_for):
    data = self_assessment_data(on=today() + timedelta(days=1))
    response = client_for(world.member).post(url(world, "self_assessment_new"), data)
    assert_field_error(response, "assessed_on", "The assessment date is in the future")
    assert not SelfAssessment.objects.exists()
    assert checked_rating(response, Element.PRODUCT) == "4"


def test_today_is_accepted(world, client_for):
    response = client_for(world.member).post(url(world, "self_assessment_new"), self_assessment_data(on=today()))
    assert response.status_code == 302
    assert SelfAssessment.objects.filter(assessed_on=today()).count() == 5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Give the date of the assessment."),
        ("31/31/2025", "Enter a date, e.g. 2026-11-25."),
        ("2025-02-30", "Enter a date, e.g. 2026-11-25."),
    ],
)
def test_a_missing_or_bad_date_is_refused(world, client_for, value, message):
    response = client_for(world.member).post(url(world, "self_assessment_new"), self_assessment_data(assessed_on=value))
    assert_field_error(response, "assessed_on", message)
    assert not SelfAssessment.objects.exists()


def test_evidence_over_1000_characters_is_refused(world, client_for):
    data = self_assessment_data(evidence_product="x" * 1001)
    response = client_for(world.member).post(url(world, "self_assessment_new"), data)
    assert_field_error(response, "evidence_product", "Keep the evidence to 1,000 characters (it has 1001).")
    assert not SelfAssessment.objects.exists()
    ok = client_for(world.member).post(url(world, "self_assessment_new"), {**data, "evidence_product": "x" * 1000})
    assert ok.status_code == 302
    assert SelfAssessment.objects.get(element=Element.PRODUCT).evidence == "x" * 1000


def test_a_viewer_cannot_self_assess(world, client_for):
    client = client_for(world.viewer)
    assert client.get(url(world, "self_assessment_new")).status_code == 403
    assert client.post(url(world, "self_assessment_new"), self_assessment_data()).status_code == 403
    assert not SelfAssessment.objects.exists()
    page = visible(client.get(url(world, "assessments")))
    assert "New self-assessment" not in page
    assert "Rate the PMO now" not in page


# Relationship maturity --------------------------------------------------------------------------------------


def maturity_url(world, stakeholder=None):
    return url(world, "maturity_new", stakeholder_id=(stakeholder or world.stakeholder).pk)


def maturity_data(**overrides):
    data = {"stage": "3", "rationale": "Asked for the PMO's view on two projects", "recorded_on": "2025-11-01"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_shows_the_suggestion_and_its_reason(world, client_for):
    interaction = Interaction.objects.create(pmo=world.pmo, summary="Kick-off", sentiment=1, occurred_on=today())
    interaction.stakeholders.add(world.stakeholder)
    response = client_for(world.member).get(maturity_url(world))
    assert response.status_code == 200
    page = visible(response)
    assert "Suggested: Aware." in page
    assert "No survey answer yet; 1 interaction in the last 180 days, average sentiment +1.0." in page
    assert "you decide" in page
    assert response.context["form"]["stage"].value() == MaturityStage.AWARE
    assert re.search(r'name="stage" value="2"[^>]*checked', text(response))


def test_a_member_records_a_stage(world, client_for):
    response = client_for(world.member).post(maturity_url(world), maturity_data())
    assert response.status_code == 302
    assert response["Location"] == url(world, "stakeholder_detail", stakeholder_id=world.stakeholder.pk)
    record = MaturityRecord.objects.get()
    assert (record.pmo, record.stakeholder, record.stage, record.recorded_on, record.author) == (
        world.pmo,
        world.stakeholder,
        3,
        date(2025, 11, 1),
        world.member,
    )
    assert record.rationale == "Asked for the PMO's view on two projects"
    assert messages_of(response) == ["Fiona Finance: Understanding recorded."]


def test_history_is_kept_and_the_current_stage_is_the_latest_date(world, client_for):
    client = client_for(world.member)
    client.post(maturity_url(world), maturity_data(stage="4", recorded_on="2025-10-01", rationale="Later"))
    client.post(maturity_url(world), maturity_data(stage="2", recorded_on="2025-06-01", rationale="Earlier"))
    assert MaturityRecord.objects.count() == 2
    response = client.get(url(world, "stakeholder_detail", stakeholder_id=world.stakeholder.pk))
    assert response.context["maturity"].badge == "Respect"
    page = visible(response)
    assert "Maturity Respect since 1 Oct 2025" in page
    timeline = page[page.index("Timeline") :]
    assert timeline.index("Maturity: Respect") < timeline.index("Maturity: Aware")
    assert "Later" in timeline and "Earlier" in timeline


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stage", "0", "Choose one of the five stages, from Unaware to Trust."),
        ("stage", "6", "Choose one of the five stages, from Unaware to Trust."),
        ("stage", "x", "Choose one of the five stages, from Unaware to Trust."),
        ("stage", None, "Choose a stage, from Unaware to Trust."),
        ("rationale", "   ", "Say why: what you have seen or heard that places them at this stage."),
        ("rationale", None, "Say why: what you have seen or heard that places them at this stage."),
        ("rationale", "x" * 2001, "Keep the rationale to 2,000 characters (it has 2001)."),
        ("recorded_on", "2025-13-01", "Enter a date, e.g. 2026-11-25."),
        ("recorded_on", None, "Give the date of this judgement."),
    ],
)
def test_bad_maturity_input_is_refused(world, client_for, field, value, message):
    response = client_for(world.member).post(maturity_url(world), maturity_data(**{field: value}))
    assert_field_error(response, field, message)
    assert not MaturityRecord.objects.exists()
    # The rest of what was typed is kept.
    if field != "rationale":
        assert "Asked for the PMO's view on two projects" in text(response)


def test_a_maturity_date_in_the_future_is_refused(world, client_for):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = client_for(world.member).post(maturity_url(world), maturity_data(recorded_on=tomorrow))
    assert_field_error(response, "recorded_on", "The date is in the future")
    assert not MaturityRecord.objects.exists()


def test_another_pmos_stakeholder_is_not_found(world, client_for):
    client = client_for(world.member)
    assert client.get(maturity_url(world, world.other_stakeholder)).status_code == 404
    assert client.post(maturity_url(world, world.other_stakeholder), maturity_data()).status_code == 404
    assert not MaturityRecord.objects.exists()


def test_a_viewer_cannot_record_maturity(world, client_for):
    client = client_for(world.viewer)
    assert client.get(maturity_url(world)).status_code == 403
    assert client.post(maturity_url(world), maturity_data()).status_code == 403
    assert not MaturityRecord.objects.exists()
    page = visible(client.get(url(world, "stakeholder_detail", stakeholder_id=world.stakeholder.pk)))
    assert "Record maturity" not in page
    assert "Log an interaction" not in page


def test_the_assessments_page_shows_maturity_per_segment(world, client_for):
    it = SegmentFactory(pmo=world.pmo, name="IT")
    ada = StakeholderFactory(pmo=world.pmo, name="Ada", segment=world.segment, influence=5)
    ben = StakeholderFactory(pmo=world.pmo, name="Ben", segment=it)
    StakeholderFactory(pmo=world.pmo, name="Cy", segment=it, influence=4)
    StakeholderFactory(pmo=world.pmo, name="Di", segment=None)
    StakeholderFactory(pmo=world.pmo, name="Ex", segment=it, is_active=False)
    StakeholderFactory(pmo=world.other_pmo, name="Theirs", segment=world.other_segment)
    for stakeholder, stage, on in [
        (ada, 2, date(2025, 1, 1)),
        (ada, 4, date(2025, 2, 1)),
        (ben, 4, date(2025, 1, 1)),
        (world.stakeholder, 1, date(2025, 1, 1)),
    ]:
        MaturityRecordFactory(pmo=world.pmo, stakeholder=stakeholder, stage=stage, rationale="r", recorded_on=on)
    response = client_for(world.viewer).get(url(world, "assessments"))
    rows = {row["name"]: (row["counts"], row["total"]) for row in response.context["maturity_rows"]}
    #              Unaware, Aware, Understanding, Respect, Trust, not assessed
    assert rows == {
        "Finance": ([1, 0, 0, 1, 0, 0], 2),  # Fiona 1, Ada 4
        "IT": ([0, 0, 0, 1, 0, 1], 2),  # Ben 4, Cy
        "No segment": ([0, 0, 0, 0, 0, 1], 1),  # Di
    }
    page = visible(response)
    assert "Finance 1 0 0 1 0 0" in page
    assert "IT 0 0 0 1 0 1" in page
    assert "No segment 0 0 0 0 0 1" in page
    # Influential and not assessed: Cy only (Ada has a stage).
    assert [s.name for s in response.context["unassessed_influential"]] == ["Cy"]


# Interactions ---------------------------------------------------------------------------------------------


def interaction_data(world, *stakeholders, **overrides):
    data = {
        "occurred_on": "2025-11-03",
        "kind": "workshop",
        "stakeholders": [s.pk for s in (stakeholders or (world.stakeholder,))],
        "elements": ["product", "people"],
        "sentiment": "1",
        "summary": "Walked the finance team through the new intake",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def links() -> int:
    return Interaction.stakeholders.through.objects.count()


def test_log_an_interaction_with_several_stakeholders(world, client_for):
    ada = StakeholderFactory(pmo=world.pmo, name="Ada")
    response = client_for(world.member).post(
        url(world, "interaction_create"), interaction_data(world, world.stakeholder, ada, sentiment="-2")
    )
    assert response.status_code == 302
    assert response["Location"] == url(world, "interaction_list")
    interaction = Interaction.objects.get()
    assert interaction.pmo == world.pmo
    assert set(interaction.stakeholders.all()) == {world.stakeholder, ada}
    assert interaction.elements == ["product", "people"]
    assert interaction.element_labels == ["Product", "People"]
    assert (interaction.sentiment, interaction.kind, interaction.occurred_on) == (-2, "workshop", date(2025, 11, 3))
    assert interaction.author == world.member
    assert messages_of(response) == ["Interaction saved."]


def test_log_an_interaction_with_one_stakeholder_returns_to_their_page(world, client_for):
    response = client_for(world.member).post(url(world, "interaction_create"), interaction_data(world))
    assert response["Location"] == url(world, "stakeholder_detail", stakeholder_id=world.stakeholder.pk)
    assert Interaction.objects.get().stakeholders.get() == world.stakeholder


def test_elements_are_kept_once_each_in_the_models_order(world, client_for):
    data = interaction_data(world, elements=["process", "product", "process"])
    assert client_for(world.member).post(url(world, "interaction_create"), data).status_code == 302
    assert Interaction.objects.get().elements == ["product", "process"]


def test_no_element_is_allowed(world, client_for):
    data = interaction_data(world, elements=None)
    assert client_for(world.member).post(url(world, "interaction_create"), data).status_code == 302
    assert Interaction.objects.get().elements == []


@pytest.mark.parametrize("value", ["²", "١", "-1", "abc", "99999999999999999999"])
def test_odd_ids_in_the_query_are_ignored(world, client_for, value):
    client = client_for(world.member)
    form = client.get(url(world, "interaction_create") + f"?stakeholder={value}").context["form"]
    assert "stakeholders" not in form.initial
    assert client.get(url(world, "interaction_list") + f"?stakeholder={value}").status_code == 200


@pytest.mark.parametrize("kind", ["meeting", "workshop", "newsletter", "report", "showcase", "escalation", "other"])
def test_every_kind_of_touchpoint(world, client_for, kind):
    response = client_for(world.member).post(url(world, "interaction_create"), interaction_data(world, kind=kind))
    assert response.status_code == 302
    assert Interaction.objects.get().kind == kind


def test_the_stakeholder_is_prefilled(world, client_for):
    client = client_for(world.member)
    form = client.get(url(world, "interaction_create") + f"?stakeholder={world.stakeholder.pk}").context["form"]
    assert form.initial["stakeholders"] == [world.stakeholder.pk]
    for other in (world.other_stakeholder.pk, "abc", "99999999999999999999"):
        form = client.get(url(world, "interaction_create") + f"?stakeholder={other}").context["form"]
        assert "stakeholders" not in form.initial
    page = client.get(url(world, "interaction_create")).content.decode()
    assert "Bob Beta" not in page
    assert "Fiona Finance (Finance)" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"occurred_on": "FUTURE"},
            "occurred_on",
            "That date is in the future: log interactions once they have happened.",
        ),
        ({"occurred_on": "2025-02-31"}, "occurred_on", "Enter a date, e.g. 2026-11-25."),
        ({"occurred_on": ""}, "occurred_on", "Give the date it happened."),
        ({"sentiment": "3"}, "sentiment", "Choose a sentiment from −2 to +2."),
        ({"sentiment": "-3"}, "sentiment", "Choose a sentiment from −2 to +2."),
        ({"stakeholders": []}, "stakeholders", "Choose at least one stakeholder."),
        ({"stakeholders": "OTHER"}, "stakeholders", "Choose stakeholders of this PMO."),
        ({"stakeholders": ["abc"]}, "stakeholders", "Choose stakeholders of this PMO."),
        ({"elements": ["product", "placement"]}, "elements", "Choose among the five P elements."),
        ({"summary": "   "}, "summary", "Summarise what happened, in a sentence or two."),
        ({"summary": "x" * 2001}, "summary", "Keep the summary to 2,000 characters or fewer (it has 2001)."),
        (
            {"kind": "lunch"},
            "kind",
            "Choose a kind: meeting, workshop, newsletter, report, showcase, escalation or other.",
        ),
    ],
)
def test_bad_interaction_input_is_refused_and_nothing_saved(world, client_for, overrides, field, message):
    if overrides.get("occurred_on") == "FUTURE":
        overrides = {"occurred_on": (today() + timedelta(days=1)).isoformat()}
    if overrides.get("stakeholders") == "OTHER":
        overrides = {"stakeholders": [world.stakeholder.pk, world.other_stakeholder.pk]}
    response = client_for(world.member).post(url(world, "interaction_create"), interaction_data(world, **overrides))
    assert_field_error(response, field, message)
    assert not Interaction.objects.exists()
    assert links() == 0
    if field != "summary":
        assert "Walked the finance team through the new intake" in text(response)


def test_edit_an_interaction(world, client_for):
    ada = StakeholderFactory(pmo=world.pmo, name="Ada")
    interaction = Interaction.objects.create(
        pmo=world.pmo, summary="Before", author=world.lead, occurred_on=date(2025, 1, 1)
    )
    interaction.stakeholders.add(world.stakeholder)
    client = client_for(world.member)
    edit = url(world, "interaction_edit", interaction_id=interaction.pk)
    form = client.get(edit).context["form"]
    assert form["summary"].value() == "Before"
    response = client.post(edit, interaction_data(world, ada, summary="After", elements=["process"]))
    assert response.status_code == 302
    interaction.refresh_from_db()
    assert interaction.summary == "After"
    assert interaction.elements == ["process"]
    assert list(interaction.stakeholders.all()) == [ada]
    assert interaction.author == world.lead  # who logged it, not who edited it
    assert links() == 1


def test_a_refused_edit_changes_nothing(world, client_for):
    interaction = Interaction.objects.create(pmo=world.pmo, summary="Before", sentiment=1, occurred_on=date(2025, 1, 1))
    interaction.stakeholders.add(world.stakeholder)
    edit = url(world, "interaction_edit", interaction_id=interaction.pk)
    response = client_for(world.member).post(
        edit, interaction_data(world, world.other_stakeholder, summary="After", sentiment="-2")
    )
    assert_field_error(response, "stakeholders", "Choose stakeholders of this PMO.")
    interaction.refresh_from_db()
    assert (interaction.summary, interaction.sentiment) == ("Before", 1)
    assert list(interaction.stakeholders.all()) == [world.stakeholder]


def test_delete_an_interaction(world, client_for):
    interaction = Interaction.objects.create(pmo=world.pmo, summary="Gone soon")
    interaction.stakeholders.add(world.stakeholder)
    client = client_for(world.member)
    delete = url(world, "interaction_delete", interaction_id=interaction.pk)
    assert "Gone soon" in visible(client.get(delete))
    assert Interaction.objects.exists()
    response = client.post(delete)
    assert response["Location"] == url(world, "interaction_list")
    assert not Interaction.objects.exists()
    assert links() == 0
    assert world.stakeholder.__class__.objects.filter(pk=world.stakeholder.pk).exists()


def test_the_list_and_its_stakeholder_filter(world, client_for):
    ada = StakeholderFactory(pmo=world.pmo, name="Ada")
    first = Interaction.objects.create(pmo=world.pmo, summary="With Fiona", occurred_on=date(2025, 1, 1))
    first.stakeholders.add(world.stakeholder)
    second = Interaction.objects.create(
        pmo=world.pmo, summary="With both", occurred_on=date(2025, 2, 1), elements=["price"], sentiment=-1
    )
    second.stakeholders.add(world.stakeholder, ada)
    theirs = Interaction.objects.create(pmo=world.other_pmo, summary="Theirs")
    theirs.stakeholders.add(world.other_stakeholder)
    client = client_for(world.viewer)
    response = client.get(url(world, "interaction_list"))
    assert list(response.context["page"].object_list) == [second, first]
    page = visible(response)
    assert "Theirs" not in page
    assert "With both" in page and "Price" in page and "−1 · Negative" in page
    assert "With Ada, Fiona Finance" in page
    filtered = client.get(url(world, "interaction_list") + f"?stakeholder={ada.pk}")
    assert list(filtered.context["page"].object_list) == [second]


def test_a_viewer_sees_interactions_but_cannot_change_them(world, client_for):
    interaction = Interaction.objects.create(pmo=world.pmo, summary="Seen")
    interaction.stakeholders.add(world.stakeholder)
    client = client_for(world.viewer)
    page = visible(client.get(url(world, "interaction_list")))
    assert "Seen" in page
    for label in ("Log an interaction", "Edit", "Delete"):
        assert label not in page
    assert client.get(url(world, "interaction_create")).status_code == 403
    assert client.post(url(world, "interaction_create"), interaction_data(world)).status_code == 403
    edit = url(world, "interaction_edit", interaction_id=interaction.pk)
    assert client.post(edit, interaction_data(world, summary="Changed")).status_code == 403
    assert client.post(url(world, "interaction_delete", interaction_id=interaction.pk)).status_code == 403
    assert list(Interaction.objects.values_list("summary", flat=True)) == ["Seen"]


def test_another_pmos_interaction_is_not_found(world, client_for):
    theirs = Interaction.objects.create(pmo=world.other_pmo, summary="Theirs")
    theirs.stakeholders.add(world.other_stakeholder)
    client = client_for(world.member)
    assert client.get(url(world, "interaction_edit", interaction_id=theirs.pk)).status_code == 404
    assert client.post(url(world, "interaction_delete", interaction_id=theirs.pk)).status_code == 404
    assert Interaction.objects.filter(pk=theirs.pk).exists()


# The stakeholder's timeline --------------------------------------------------------------------------------


def detail(world, client, stakeholder=None):
    return client.get(url(world, "stakeholder_detail", stakeholder_id=(stakeholder or world.stakeholder).pk))


def test_timeline_holds_interactions_maturity_and_named_responses_in_date_order(world, client_for):
    s = world.stakeholder
    meeting = Interaction.objects.create(
        pmo=world.pmo, kind="meeting", summary="Quarterly review", sentiment=-1, occurred_on=date(2025, 3, 10)
    )
    meeting.stakeholders.add(s)
    MaturityRecordFactory(
        pmo=world.pmo, stakeholder=s, stage=3, rationale="Uses our reports", recorded_on=date(2025, 5, 2)
    )
    named = build_survey(world.pmo, world.lead, "Named spring survey", closed_on=date(2025, 4, 30))
    ResponseFactory(survey=named, stakeholder=s, ratings=every(4), nps=9, submitted_at=at(date(2025, 4, 15)))
    anonymous = build_survey(world.pmo, world.lead, "Anonymous pulse", closed_on=date(2025, 6, 30), anonymous=True)
    ResponseFactory(survey=anonymous, stakeholder=s, ratings=every(1), nps=2, submitted_at=at(date(2025, 6, 15)))

    response = detail(world, client_for(world.viewer))
    entries = response.context["timeline"]
    assert [(e.on, e.kind) for e in entries] == [
        (date(2025, 5, 2), "maturity"),
        (date(2025, 4, 15), "response"),
        (date(2025, 3, 10), "interaction"),
    ]
    page = visible(response)
    timeline = page[page.index("Timeline") :]
    assert timeline.index("2 May 2025 Maturity: Understanding Uses our reports") < timeline.index(
        "15 Apr 2025 Answered “Named spring survey” Would recommend the PMO: 9/10"
    )
    assert timeline.index("Answered “Named spring survey”") < timeline.index(
        "10 Mar 2025 Meeting sentiment -1 Quarterly review"
    )
    assert "Anonymous pulse" not in text(response)
    assert "2/10" not in page
    assert "Maturity Understanding since 2 May 2025" in page


def test_timeline_shows_a_response_on_the_pmos_own_date(world, client_for):
    Pmo.objects.filter(pk=world.pmo.pk).update(time_zone="Asia/Tokyo")
    named = build_survey(world.pmo, world.lead, "Late answer", closed_on=date(2025, 12, 1))
    response = ResponseFactory(
        survey=named, stakeholder=world.stakeholder, ratings=every(4), submitted_at=at(date(2025, 11, 20))
    )
    # 20:00 UTC on the 20th is the 21st in Tokyo.
    response.submitted_at = datetime(2025, 11, 20, 20, tzinfo=UTC)
    response.save()
    entries = detail(world, client_for(world.viewer)).context["timeline"]
    assert [(e.on, e.kind) for e in entries] == [(date(2025, 11, 21), "response")]


def test_the_detail_page_without_history_says_what_will_appear(world, client_for):
    response = detail(world, client_for(world.member))
    page = visible(response)
    assert "Not assessed yet" in page
    assert "Nothing yet." in page
    assert "Record maturity" in page and "Log an interaction" in page
    assert f'href="{url(world, "maturity_new", stakeholder_id=world.stakeholder.pk)}"' in text(response)


def test_the_timeline_is_the_stakeholders_own(world, client_for):
    ada = StakeholderFactory(pmo=world.pmo, name="Ada")
    other = Interaction.objects.create(pmo=world.pmo, summary="Only with Ada")
    other.stakeholders.add(ada)
    MaturityRecordFactory(pmo=world.pmo, stakeholder=ada, stage=5, rationale="Ada's", recorded_on=date(2025, 1, 1))
    response = detail(world, client_for(world.viewer))
    assert response.context["timeline"] == []
    assert response.context["maturity"] is None
