"""Migration 0010 gives every invitation made before it the segment it counted in until then."""

from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from stakeholders.models import Stakeholder, SurveyInvitation
from tests.factories import ResponseFactory, SegmentFactory, StakeholderFactory
from tests.survey_helpers import open_survey

MIGRATION = "0010_invitation_segment_at_launch"


@pytest.mark.django_db
def test_the_backfill_gives_an_answered_invitation_its_responses_segment_and_the_others_their_stakeholders(world):
    it = SegmentFactory(pmo=world.pmo, name="IT")
    answered, deleted_since, silent, loose = (
        StakeholderFactory(pmo=world.pmo, segment=world.segment) for _ in range(4)
    )
    survey, invitations = open_survey(world.pmo, [answered, deleted_since, silent, loose])
    ResponseFactory(invitation=invitations[0], segment=world.segment)
    ResponseFactory(invitation=invitations[1], segment=None)  # its segment was deleted
    # All four moved after the survey; the one unanswered with no segment now.
    Stakeholder.objects.filter(pk__in=[answered.pk, deleted_since.pk, silent.pk]).update(segment=it)
    Stakeholder.objects.filter(pk=loose.pk).update(segment=None)
    SurveyInvitation.objects.update(segment=None)  # as the column is added: empty

    historical = MigrationLoader(connection).project_state(("stakeholders", MIGRATION)).apps
    import_module(f"stakeholders.migrations.{MIGRATION}").backfill_segments(historical, None)

    segments = dict(SurveyInvitation.objects.values_list("stakeholder_id", "segment_id"))
    assert segments == {answered.pk: world.segment.pk, deleted_since.pk: None, silent.pk: it.pk, loose.pk: None}
