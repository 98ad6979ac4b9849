"""The admin shows follow-up cases, their notes, recovery pulses and "you said, we did"
updates, and writes none of them itself: a case changes through its write path (the two
actions), and a pulse's token seed and hash are never shown."""

import pytest
from django.test import Client

from stakeholders.models import CaseNote, CaseStatus, FollowUpCase, RecoveryPulse, SurveyUpdate
from tests.factories import FollowUpCaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(world):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_four_models_are_shown_and_not_written(world, admin):
    case = FollowUpCaseFactory(for_stakeholder=world.stakeholder)
    note = CaseNote.objects.create(case=case, author=world.lead, text="Called")
    pulse = RecoveryPulse.new(case, "fiona@corp.example")
    pulse.save()
    update = SurveyUpdate.objects.create(pmo=world.pmo, survey=case.survey, subject="You said", body="We did")
    for model, obj in (("followupcase", case), ("casenote", note), ("recoverypulse", pulse), ("surveyupdate", update)):
        assert admin.get(f"/admin/stakeholders/{model}/").status_code == 200, model
        page = admin.get(f"/admin/stakeholders/{model}/{obj.pk}/change/")
        assert page.status_code == 200, model
        assert admin.get(f"/admin/stakeholders/{model}/add/").status_code == 403, model
        assert admin.post(f"/admin/stakeholders/{model}/{obj.pk}/change/", {}).status_code == 403, model
    page = admin.get(f"/admin/stakeholders/recoverypulse/{pulse.pk}/change/").content.decode()
    for secret in (pulse.token_seed, pulse.token_hash, pulse.token):
        assert secret not in page


def test_the_admin_actions_go_through_the_write_path(world, admin):
    case = FollowUpCaseFactory(for_stakeholder=world.stakeholder)
    url = "/admin/stakeholders/followupcase/"
    admin.post(url, {"action": "resolve_cases", "_selected_action": [case.pk]})
    fresh = FollowUpCase.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.RESOLVED and fresh.resolved_at is not None
    # Resolving a resolved case is refused by the write path, and said so.
    response = admin.post(url, {"action": "resolve_cases", "_selected_action": [case.pk]}, follow=True)
    assert "reopen it" in response.content.decode()
    admin.post(url, {"action": "reopen_cases", "_selected_action": [case.pk]})
    assert FollowUpCase.objects.get(pk=case.pk).status == CaseStatus.OPEN
