from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from stakeholders.models import SurveyStatus
from tests.survey_helpers import open_survey


def test_one_round_runs_the_beat_schedule_in_process(world):
    survey, _ = open_survey(world.pmo, [world.stakeholder], closes_on=timezone.localdate() - timedelta(days=2))

    call_command("run_periodic_tasks", "--once")

    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED  # close_due_surveys ran


def test_with_a_broker_it_refuses_and_points_to_beat(world, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.raises(CommandError, match="make beat"):
        call_command("run_periodic_tasks", "--once")
