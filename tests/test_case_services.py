"""The follow-up case's one write path (stakeholders/cases/services.py): each transition,
and each refusal, which changes nothing."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone

from pmo5p.models import Role
from stakeholders.cases import services
from stakeholders.cases.services import CaseError
from stakeholders.models import CaseNote, CaseStatus, FollowUpCase, Interaction, Stakeholder
from tests.factories import FollowUpCaseFactory, MembershipFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world):
    return FollowUpCaseFactory(for_stakeholder=world.stakeholder)


@pytest.fixture
def group_case(world):
    return FollowUpCaseFactory(of_pmo=world.pmo, group_key=f"{world.segment.pk}:people", segment=world.segment)


def snapshot(case):
    fresh = FollowUpCase.objects.get(pk=case.pk)
    return (
        model_to_dict(fresh, exclude=["interactions"]),
        fresh.first_contact_at,
        fresh.resolved_at,
        fresh.closed_at,
        sorted(fresh.interactions.values_list("pk", flat=True)),
        CaseNote.objects.filter(case=case).count(),
        Interaction.objects.count(),
    )


def unchanged(case, call, error=CaseError):
    before = snapshot(case)
    with pytest.raises(error) as refused:
        call()
    assert snapshot(case) == before
    return str(refused.value)


def test_assign_to_a_member_and_back_to_the_leads(world, case):
    member = world.membership(world.member)
    services.assign(case, member)
    assert FollowUpCase.objects.get(pk=case.pk).owner == member
    services.assign(case, None)
    assert FollowUpCase.objects.get(pk=case.pk).owner is None


def test_assign_refuses_an_owner_of_another_pmo_or_a_viewer(world, case):
    outsider = world.other_pmo.memberships.get(user=world.outsider)
    assert "member of this PMO" in unchanged(case, lambda: services.assign(case, outsider))
    viewer = world.membership(world.viewer)
    assert "viewer" in unchanged(case, lambda: services.assign(case, viewer))


def test_assign_refuses_a_case_for_a_stakeholder_of_another_pmo(world, case):
    # Made by hand against the rules: the write path still refuses to touch it.
    FollowUpCase.objects.filter(pk=case.pk).update(stakeholder=world.other_stakeholder)
    case.refresh_from_db()
    member = world.membership(world.member)
    assert "another PMO" in unchanged(case, lambda: services.assign(case, member))


def test_set_root_keeps_the_suggestion_and_refuses_what_is_no_p(case):
    FollowUpCase.objects.filter(pk=case.pk).update(suggested_element="price")
    case.refresh_from_db()
    services.set_root(case, "people")
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.root_element, fresh.suggested_element) == ("people", "price")
    assert "five P" in unchanged(case, lambda: services.set_root(case, "pizza"))


def test_add_note_refuses_empty_and_too_long(world, case):
    note = services.add_note(case, world.member, "  Called, will call back.  ")
    assert note.text == "Called, will call back." and note.author == world.member
    assert "empty" in unchanged(case, lambda: services.add_note(case, world.member, "   "))
    assert "4,000" in unchanged(case, lambda: services.add_note(case, world.member, "x" * 4001))


def test_record_contact_records_an_interaction_through_the_register(world, case):
    day = timezone.localdate() - timedelta(days=1)
    interaction = services.record_contact(
        case, by=world.member, date=day, kind="meeting", summary="Talked it over", sentiment=1, elements=["people"]
    )
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.CONTACTED and fresh.first_contact_at is not None
    assert list(fresh.interactions.all()) == [interaction]
    assert list(interaction.stakeholders.all()) == [world.stakeholder]
    assert (interaction.author, interaction.sentiment, interaction.elements) == (world.member, 1, ["people"])
    # The register's write path keeps the stakeholder's last touch.
    assert Stakeholder.objects.get(pk=world.stakeholder.pk).last_touched_on == day

    first = fresh.first_contact_at
    services.record_contact(case, by=world.member, date=day, kind="other", summary="Again")
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert fresh.first_contact_at == first and fresh.interactions.count() == 2


def test_record_contact_refusals_change_nothing(world, case):
    future = timezone.localdate() + timedelta(days=2)

    # The register's refusals, its own ValidationErrors: a date in the future, an empty summary.
    assert "future" in unchanged(
        case,
        lambda: services.record_contact(case, by=world.member, date=future, kind="meeting", summary="Soon"),
        ValidationError,
    )
    assert "Summarise" in unchanged(
        case,
        lambda: services.record_contact(case, by=world.member, date=date(2026, 1, 5), kind="meeting", summary=" "),
        ValidationError,
    )
    services.resolve(case, world.member)
    assert "reopen" in unchanged(
        case, lambda: services.record_contact(case, by=world.member, date=date(2026, 1, 5), kind="meeting", summary="x")
    )


def test_a_group_case_contact_is_a_note_and_names_nobody(world, group_case):
    before = Interaction.objects.count()
    note = services.record_contact(
        group_case, by=world.lead, date=date(2026, 1, 5), kind="workshop", summary="Met the Finance segment"
    )
    assert isinstance(note, CaseNote) and "Met the Finance segment" in note.text and "workshop" in note.text
    assert Interaction.objects.count() == before
    fresh = FollowUpCase.objects.get(pk=group_case.pk)
    assert fresh.status == CaseStatus.CONTACTED and fresh.first_contact_at is not None
    assert "Summarise" in unchanged(
        group_case,
        lambda: services.record_contact(group_case, by=world.lead, date=date(2026, 1, 5), kind="meeting", summary=""),
    )


def test_link_interaction_of_the_same_pmo_and_stakeholder(world, case):
    interaction = Interaction.objects.create(pmo=world.pmo, summary="Coffee", occurred_on=date(2026, 1, 5))
    interaction.stakeholders.add(world.stakeholder)
    services.link_interaction(case, interaction)
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert list(fresh.interactions.all()) == [interaction] and fresh.status == CaseStatus.CONTACTED


def test_link_interaction_refuses_another_pmos_or_another_stakeholders(world, case, group_case):
    theirs = Interaction.objects.create(pmo=world.other_pmo, summary="Theirs", occurred_on=date(2026, 1, 5))
    theirs.stakeholders.add(world.other_stakeholder)
    assert "another PMO" in unchanged(case, lambda: services.link_interaction(case, theirs))
    someone_else = Interaction.objects.create(pmo=world.pmo, summary="Other", occurred_on=date(2026, 1, 5))
    someone_else.stakeholders.add(StakeholderFactory(pmo=world.pmo))
    assert "not with this case" in unchanged(case, lambda: services.link_interaction(case, someone_else))
    assert "names nobody" in unchanged(group_case, lambda: services.link_interaction(group_case, someone_else))


def test_resolve_then_reopen(world, case):
    services.resolve(case, world.member)
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.RESOLVED and fresh.resolved_at is not None
    assert "reopen" in unchanged(case, lambda: services.resolve(case, world.member))
    services.reopen(case)
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.status, fresh.resolved_at) == (CaseStatus.OPEN, None)


def test_reopen_a_contacted_case_goes_back_to_contacted(world, case):
    services.record_contact(case, by=world.member, date=date(2026, 1, 5), kind="meeting", summary="Talked")
    services.close_no_action(case, "They left the company.")
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.status, fresh.closed_reason) == (CaseStatus.CLOSED, "They left the company.")
    services.reopen(case)
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert (fresh.status, fresh.closed_at, fresh.closed_reason) == (CaseStatus.CONTACTED, None, "")


def test_close_needs_a_reason_and_an_open_case(world, case):
    assert "Say why" in unchanged(case, lambda: services.close_no_action(case, "   "))
    assert "2,000" in unchanged(case, lambda: services.close_no_action(case, "x" * 2001))
    services.resolve(case, world.member)
    assert "reopen" in unchanged(case, lambda: services.close_no_action(case, "Duplicate"))
    services.reopen(case)
    assert "nothing to reopen" in unchanged(case, lambda: services.reopen(case))


def test_a_stale_copy_sees_the_other_clicks_change(world, case):
    """Two pages open on the same case: the second click reads the locked row, not its copy."""
    other_copy = FollowUpCase.objects.get(pk=case.pk)
    services.resolve(case, world.member)
    assert "reopen" in unchanged(other_copy, lambda: services.close_no_action(other_copy, "Duplicate"))


def test_owner_must_be_able_to_edit_even_in_the_same_pmo(world):
    case = FollowUpCaseFactory(of_pmo=world.pmo)
    viewer = MembershipFactory(pmo=world.pmo, role=Role.VIEWER)
    with pytest.raises(CaseError):
        services.assign(case, viewer)
