"""The follow-up case pages: the list's filters, pages and empty states, the case's page and
its forms, what a viewer may do, hostile text, and "Plan an action" from a case."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda.digests import _send
from agenda.models import Action
from pmo5p.models import OutgoingEmail, Role
from stakeholders.cases import services
from stakeholders.models import CaseNote, CaseStatus, FollowUpCase, Interaction
from tests.factories import FollowUpCaseFactory, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


def list_url(pmo, **query):
    url = reverse("case_list", kwargs={"slug": pmo.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def case_url(case, name="case_detail"):
    return reverse(name, kwargs={"slug": case.pmo.slug, "case_id": case.pk})


def shown(response) -> set[int]:
    return {case.pk for case in response.context["page"].object_list}


@pytest.fixture
def cases(world):
    member = world.membership(world.member)
    today = timezone.localdate()
    mine = FollowUpCaseFactory(for_stakeholder=world.stakeholder, owner=member, root_element="people")
    leads = FollowUpCaseFactory(of_pmo=world.pmo, due_on=today - timedelta(days=2), root_element="price")
    done = FollowUpCaseFactory(of_pmo=world.pmo, owner=member)
    services.resolve(done, world.member)
    group = FollowUpCaseFactory(of_pmo=world.pmo, group_key=f"{world.segment.pk}:product", segment=world.segment)
    theirs = FollowUpCaseFactory(for_stakeholder=world.other_stakeholder)
    return {"mine": mine, "leads": leads, "done": done, "group": group, "theirs": theirs}


def test_the_list_shows_the_open_cases_of_this_pmo_by_default(world, cases, client_for):
    response = client_for(world.viewer).get(list_url(world.pmo))
    assert response.status_code == 200
    assert shown(response) == {cases["mine"].pk, cases["leads"].pk, cases["group"].pk}
    page = response.content.decode()
    assert "Fiona Finance" in page and "Anonymous group: Finance" in page
    assert page.count(">Overdue</span>") == 1  # the leads' case, past due: in words
    assert "Follow-up</a>" in page and 'aria-current="page"' in page  # the Surveys section's tab


def test_a_case_contacted_after_its_due_date_is_no_longer_overdue(world, client_for):
    """The due date is the first contact's: once it is made, late or not, nothing is overdue."""
    late = FollowUpCaseFactory(of_pmo=world.pmo, due_on=timezone.localdate() - timedelta(days=9))
    client = client_for(world.viewer)
    assert ">Overdue</span>" in client.get(case_url(late)).content.decode()
    services.record_contact(late, by=world.member, date=timezone.localdate(), kind="meeting", summary="Called back.")
    assert ">Overdue</span>" not in client.get(list_url(world.pmo)).content.decode()
    assert ">Overdue</span>" not in client.get(case_url(late)).content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"owner": "mine"}, {"mine"}),
        ({"owner": "leads"}, {"leads", "group"}),
        ({"status": "any"}, {"mine", "leads", "done", "group"}),
        ({"status": "resolved"}, {"done"}),
        ({"element": "price"}, {"leads"}),
        ({"segment": "SEGMENT"}, {"mine", "group"}),
        ({"owner": "nonsense", "status": "nonsense"}, {"mine", "leads", "group"}),
    ],
)
def test_the_filters(world, cases, client_for, query, expected):
    if query.get("segment") == "SEGMENT":
        query["segment"] = world.segment.pk
    response = client_for(world.member).get(list_url(world.pmo, **query))
    assert shown(response) == {cases[name].pk for name in expected}


def test_filter_by_a_member(world, cases, client_for):
    member = world.membership(world.member)
    response = client_for(world.lead).get(list_url(world.pmo, owner=member.pk, status="any"))
    assert shown(response) == {cases["mine"].pk, cases["done"].pk}


def test_pages_of_25(world, client_for):
    survey = FollowUpCaseFactory(of_pmo=world.pmo, group_key="-:people").survey
    FollowUpCase.objects.bulk_create(
        FollowUpCase(pmo=world.pmo, survey=survey, group_key=f"-:{n}", due_on=timezone.localdate()) for n in range(30)
    )
    client = client_for(world.member)
    first = client.get(list_url(world.pmo, owner="leads"))
    assert len(first.context["page"].object_list) == 25
    assert "owner=leads&amp;page=2" in first.content.decode()
    second = client.get(list_url(world.pmo, owner="leads", page=2))
    assert len(second.context["page"].object_list) == 6


def test_empty_states(world, client_for):
    client = client_for(world.member)
    page = client.get(list_url(world.pmo)).content.decode()
    assert "No follow-up case yet" in page and 'data-empty="none"' in page
    case = FollowUpCaseFactory(of_pmo=world.pmo)
    services.resolve(case, world.member)
    page = client.get(list_url(world.pmo)).content.decode()
    assert "No case is open" in page
    page = client.get(list_url(world.pmo, element="process")).content.decode()
    assert "No case matches these filters" in page
    detail = client.get(case_url(case)).content.decode()
    assert "No note yet" in detail and "No contact recorded yet" in detail and "No action answers this case" in detail


def test_the_case_page(world, cases, client_for):
    case = cases["mine"]
    FollowUpCase.objects.filter(pk=case.pk).update(suggested_element="people")
    case.response.comment = "Too slow"
    case.response.save()
    page = client_for(world.member).get(case_url(case)).content.decode()
    assert "Fiona Finance" in page and "Too slow" in page and case.survey.title in page
    assert "(suggested)" in page
    for name in ("case_contact", "case_close"):
        assert case_url(case, name) in page
    assert case_url(case, "case_resolve") in page
    assert f"{reverse('action_create', kwargs={'slug': world.pmo.slug})}?follow_up_case={case.pk}" in page
    assert "Score before" in page  # the pulse's fragment, included as is


def test_an_anonymous_case_never_says_who(world, cases, client_for):
    page = client_for(world.lead).get(case_url(cases["group"])).content.decode()
    assert "Anonymous group: Finance" in page
    assert "Fiona" not in page and "Their comment" not in page


def test_another_pmos_case_answers_404(world, cases, client_for):
    client = client_for(world.lead)
    theirs = cases["theirs"]
    for name in ("case_detail", "case_contact", "case_close"):
        assert client.get(reverse(name, kwargs={"slug": world.pmo.slug, "case_id": theirs.pk})).status_code == 404
    for name in ("case_resolve", "case_reopen", "case_note", "case_assign", "case_root"):
        assert client.post(reverse(name, kwargs={"slug": world.pmo.slug, "case_id": theirs.pk})).status_code == 404
    assert FollowUpCase.objects.get(pk=theirs.pk).status == CaseStatus.OPEN


def test_a_viewer_sees_everything_and_changes_nothing(world, cases, client_for):
    client = client_for(world.viewer)
    case = cases["mine"]
    page = client.get(case_url(case)).content.decode()
    assert "Fiona Finance" in page
    assert case_url(case, "case_resolve") not in page and "Add the note" not in page and "Plan an action" not in page
    for name, data in (
        ("case_resolve", {}),
        ("case_close", {"reason": "No"}),
        ("case_note", {"text": "Hi"}),
        ("case_assign", {"owner": ""}),
        ("case_root", {"root_element": "price"}),
        ("case_contact", {"occurred_on": "2026-01-05", "kind": "meeting", "sentiment": "0", "summary": "x"}),
    ):
        assert client.post(case_url(case, name), data).status_code == 403
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.status, fresh.owner_id, fresh.root_element) == (CaseStatus.OPEN, case.owner_id, "people")
    assert not CaseNote.objects.exists()


def test_the_forms_go_through_the_write_path(world, cases, client_for):
    client = client_for(world.member)
    case = cases["leads"]
    member = world.membership(world.member)
    assert client.post(case_url(case, "case_assign"), {"owner": member.pk}).status_code == 302
    assert client.post(case_url(case, "case_root"), {"root_element": "process"}).status_code == 302
    assert client.post(case_url(case, "case_note"), {"text": "Left a message"}).status_code == 302
    response = client.post(
        case_url(case, "case_contact"),
        {"occurred_on": timezone.localdate().isoformat(), "kind": "meeting", "sentiment": "1", "summary": "Met"},
    )
    assert response.status_code == 302
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.owner, fresh.root_element, fresh.status) == (member, "process", CaseStatus.CONTACTED)
    assert fresh.notes.get().text == "Left a message" and fresh.interactions.get().summary == "Met"
    assert client.post(case_url(case, "case_resolve")).status_code == 302
    assert client.post(case_url(case, "case_reopen")).status_code == 302
    assert client.post(case_url(case, "case_close"), {"reason": "Duplicate"}).status_code == 302
    assert FollowUpCase.objects.get(pk=case.pk).status == CaseStatus.CLOSED


def test_refusals_keep_what_was_typed_and_change_nothing(world, cases, client_for):
    client = client_for(world.member)
    case = cases["mine"]
    response = client.post(case_url(case, "case_close"), {"reason": "   "})
    assert response.status_code == 200 and "Say why" in response.content.decode()
    response = client.post(case_url(case, "case_note"), {"text": ""})
    assert response.status_code == 400 and "empty" in response.content.decode()
    outsider = world.other_pmo.memberships.get()
    response = client.post(case_url(case, "case_assign"), {"owner": outsider.pk})
    assert response.status_code == 400 and "Choose a member of this PMO" in response.content.decode()
    viewer = world.membership(world.viewer)
    assert client.post(case_url(case, "case_assign"), {"owner": viewer.pk}).status_code == 400
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(
        case_url(case, "case_contact"), {"occurred_on": future, "kind": "meeting", "sentiment": "0", "summary": "Kept"}
    )
    assert response.status_code == 200 and "future" in response.content.decode() and "Kept" in response.content.decode()
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.status, fresh.owner_id) == (CaseStatus.OPEN, case.owner_id)
    assert not fresh.notes.exists() and not Interaction.objects.exists()


def test_hostile_text_is_escaped_everywhere(world, client_for):
    bad = StakeholderFactory(pmo=world.pmo, name=HOSTILE, segment=world.segment)
    case = FollowUpCaseFactory(for_stakeholder=bad)
    case.response.comment = HOSTILE
    case.response.save()
    services.add_note(case, world.member, HOSTILE)
    services.record_contact(case, by=world.member, date=timezone.localdate(), kind="meeting", summary=HOSTILE)
    services.close_no_action(case, HOSTILE)
    world.segment.name = HOSTILE
    world.segment.save()
    FollowUpCaseFactory(of_pmo=world.pmo, group_key=f"{world.segment.pk}:people", segment=world.segment)
    client = client_for(world.lead)
    for url in (case_url(case), list_url(world.pmo, status="any"), reverse("my_week", kwargs={"slug": world.pmo.slug})):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;" in page, url


def test_plan_an_action_from_a_case(world, cases, client_for):
    client = client_for(world.member)
    case = cases["mine"]
    url = reverse("action_create", kwargs={"slug": world.pmo.slug})
    form = client.get(f"{url}?follow_up_case={case.pk}").context["form"]
    assert form.initial["follow_up_case"] == case.pk
    assert form.initial["element"] == "people" and form.initial["target_stakeholders"] == [world.stakeholder.pk]
    data = {
        "title": "Weekly status call",
        "element": "people",
        "due_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "status": "planned",
        "problem": "performance",
        "follow_up_case": case.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert Action.objects.get(title="Weekly status call").follow_up_case == case
    assert "Weekly status call" in client.get(case_url(case)).content.decode()

    # Another PMO's case, from a tampered query or form: not prefilled, and refused.
    theirs = cases["theirs"]
    assert "follow_up_case" not in client.get(f"{url}?follow_up_case={theirs.pk}").context["form"].initial
    response = client.post(url, {**data, "title": "Tampered", "follow_up_case": theirs.pk})
    assert response.status_code == 200 and not Action.objects.filter(title="Tampered").exists()


def test_my_week_shows_open_cases_overdue_first(world, cases, client_for):
    page = client_for(world.member).get(reverse("my_week", kwargs={"slug": world.pmo.slug}))
    week = page.context["week"]
    assert [c.pk for c in week.cases] == [cases["mine"].pk]
    lead_week = client_for(world.lead).get(reverse("my_week", kwargs={"slug": world.pmo.slug})).context["week"]
    # The leads' cases, the overdue one first; nobody else's.
    assert [c.pk for c in lead_week.cases] == [cases["leads"].pk, cases["group"].pk]
    assert lead_week.cases_overdue == 1
    # A case given to someone leaves the leads' list.
    services.assign(cases["group"], MembershipFactory(pmo=world.pmo, role=Role.MEMBER))
    lead_week = client_for(world.lead).get(reverse("my_week", kwargs={"slug": world.pmo.slug})).context["week"]
    assert [c.pk for c in lead_week.cases] == [cases["leads"].pk]


def test_the_digest_lists_the_open_cases_escaped(world):
    """A week with nothing but an open case still sends the digest, which lists it."""
    bad = StakeholderFactory(pmo=world.pmo, name=HOSTILE)
    member = world.membership(world.member)
    case = FollowUpCaseFactory(for_stakeholder=bad, owner=member, due_on=timezone.localdate() - timedelta(days=1))
    member.digest_weekday, member.digest_time = 0, time(8, 0)
    member.save()
    assert _send(member, timezone.now())
    email = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.WEEKLY_DIGEST)
    assert "FOLLOW-UP CASES (1 open)" in email.text and f"/follow-up/{case.pk}/" in email.text
    assert "(overdue)" in email.text and HOSTILE in email.text  # plain text: nothing to escape
    assert "&lt;script&gt;" in email.html and "<script>alert" not in email.html


def test_the_stakeholders_page_links_their_cases(world, cases, client_for):
    url = reverse("stakeholder_detail", kwargs={"slug": world.pmo.slug, "stakeholder_id": world.stakeholder.pk})
    page = client_for(world.viewer).get(url).content.decode()
    assert 'data-list="cases"' in page and case_url(cases["mine"]) in page
    # Nobody else's, and no anonymous group's.
    assert case_url(cases["group"]) not in page and case_url(cases["leads"]) not in page
    other = StakeholderFactory(pmo=world.pmo)
    url = reverse("stakeholder_detail", kwargs={"slug": world.pmo.slug, "stakeholder_id": other.pk})
    assert 'data-list="cases"' not in client_for(world.viewer).get(url).content.decode()
