"""Figures per service (agenda/figures/services.py, docs/services.md): hand-computed for a
small known set of answers.

The known set, a closed survey with five respondents, three in Finance and two in Ops:

| respondent | Reporting (everyone)       | Help desk (Ops only)   |
| ---------- | -------------------------- | ---------------------- |
| F1         | uses, satisfaction 5, imp 4 | not asked              |
| F2         | uses, satisfaction 2, imp ? | not asked              |
| F3         | knows                       | not asked              |
| O1         | didn't know it              | uses, satisfaction 1, imp 5 |
| O2         | uses, satisfaction ?, imp 5 | knows                  |

(? is "Don't know".) Reporting, whole survey: 5 answered, 4 aware (80%), 3 users (60%);
satisfaction (5 + 2) / 2 = 3.5 → (3.5 − 1) / 4 × 100 = 62.5 on 2 ratings; importance
(4 + 5) / 2 = 4.5 → 87.5 on 2; quadrant "Keep up the good work" (both ≥ 50); priority
87.5 × (100 − 62.5) / 100 = 32.8125. In Finance: 3 answered, 3 aware (100%), 2 users
(66.7%), satisfaction 62.5 on 2, importance 4 → 75.0 on 1. Ops has 2 respondents, under the
minimum group size of 3: hidden. Help desk was answered by 2 (Ops only): hidden everywhere.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import override_settings
from django.utils import timezone

from agenda.figures import services as service_figures
from agenda.figures.elements import IpaQuadrant
from pmo5p.domain import ServiceUsage
from stakeholders.models import Service, SurveyService, SurveyStatus
from tests.factories import (
    ResponseFactory,
    SegmentFactory,
    ServiceAnswerFactory,
    ServiceFactory,
    StakeholderFactory,
    SurveyFactory,
    SurveyServiceFactory,
)
from tests.survey_helpers import open_survey

USES, KNOWS, UNAWARE = ServiceUsage.USES, ServiceUsage.KNOWS, ServiceUsage.UNAWARE


def answer(asked, response, usage, satisfaction=None, importance=None):
    return ServiceAnswerFactory(
        survey_service=asked, response=response, usage=usage, satisfaction=satisfaction, importance=importance
    )


def respondents(pmo, survey_kwargs, groups):
    """A launched survey and one response per stakeholder, in the segments given."""
    people = [StakeholderFactory(pmo=pmo, segment=segment) for segment in groups]
    survey, invitations = open_survey(pmo, people, **survey_kwargs)
    return survey, [ResponseFactory(invitation=invitation) for invitation in invitations]


@pytest.fixture
def known(world):
    finance = world.segment
    ops = SegmentFactory(pmo=world.pmo, name="Ops")
    reporting = ServiceFactory(pmo=world.pmo, name="Reporting")
    help_desk = ServiceFactory(pmo=world.pmo, name="Help desk", segments=[ops])
    survey, (f1, f2, f3, o1, o2) = respondents(world.pmo, {"title": "Spring"}, [finance] * 3 + [ops] * 2)
    asked_reporting = SurveyServiceFactory(survey=survey, service=reporting)
    asked_help = SurveyServiceFactory(survey=survey, service=help_desk)
    assert asked_help.segment_ids == [ops.pk]
    answer(asked_reporting, f1, USES, 5, 4)
    answer(asked_reporting, f2, USES, 2, None)
    answer(asked_reporting, f3, KNOWS)
    answer(asked_reporting, o1, UNAWARE)
    answer(asked_reporting, o2, USES, None, 5)
    answer(asked_help, o1, USES, 1, 5)
    answer(asked_help, o2, KNOWS)
    survey.status, survey.closed_at = SurveyStatus.CLOSED, timezone.now()
    survey.save(update_fields=["status", "closed_at"])
    return SimpleNamespace(
        survey=survey,
        finance=finance,
        ops=ops,
        reporting=reporting,
        help_desk=help_desk,
        asked_reporting=asked_reporting,
        asked_help=asked_help,
    )


def as_tuple(f):
    return (
        f.answered,
        f.aware,
        f.users,
        f.awareness,
        f.usage,
        f.satisfaction,
        f.satisfaction_n,
        f.importance,
        f.importance_n,
        f.quadrant,
        f.priority,
        f.suppressed,
    )


HIDDEN = (0, 0, 0, None, None, None, 0, None, 0, None, None, True)
REPORTING = (5, 4, 3, 80.0, 60.0, 62.5, 2, 87.5, 2, IpaQuadrant.KEEP_UP, 32.8125, False)


def test_a_surveys_service_figures_by_hand(known, django_assert_num_queries):
    with django_assert_num_queries(2):
        figures = service_figures.survey_service_figures(known.survey)
    assert list(figures) == [known.asked_reporting.pk, known.asked_help.pk]
    reporting = figures[known.asked_reporting.pk]
    assert (reporting.name, reporting.survey_id) == ("Reporting", known.survey.pk)
    assert as_tuple(reporting) == REPORTING
    # Help desk: two answered (Ops only), under the minimum group size.
    assert as_tuple(figures[known.asked_help.pk]) == HIDDEN


def test_a_segments_service_figures_by_hand(known):
    finance = service_figures.survey_service_figures(known.survey, known.finance.pk)[known.asked_reporting.pk]
    assert as_tuple(finance)[:9] == (3, 3, 2, 100.0, pytest.approx(200 / 3), 62.5, 2, 75.0, 1)
    assert finance.quadrant == IpaQuadrant.KEEP_UP and finance.priority == pytest.approx(75 * 37.5 / 100)
    ops = service_figures.survey_service_figures(known.survey, known.ops.pk)
    assert as_tuple(ops[known.asked_reporting.pk]) == HIDDEN
    assert as_tuple(ops[known.asked_help.pk]) == HIDDEN


def test_the_minimum_group_size_is_read_from_the_policy(known):
    with override_settings(MIN_GROUP_SIZE=2):
        help_desk = service_figures.survey_service_figures(known.survey)[known.asked_help.pk]
    # Satisfaction 1 → 0.0, importance 5 → 100.0: "Concentrate here", priority 100.
    assert as_tuple(help_desk) == (2, 2, 1, 100.0, 50.0, 0.0, 1, 100.0, 1, IpaQuadrant.CONCENTRATE, 100.0, False)


def test_the_catalogue_reads_each_service_from_its_latest_closed_survey(known, world, django_assert_num_queries):
    # A later open survey asked about Reporting and has answers: the closed one still counts.
    later, (r1, r2, r3) = respondents(world.pmo, {"title": "Summer"}, [known.finance] * 3)
    asked_later = SurveyServiceFactory(survey=later, service=known.reporting)
    for response in (r1, r2, r3):
        answer(asked_later, response, UNAWARE)
    # An open survey asked about a new service and nobody answered yet: absent.
    fresh = ServiceFactory(pmo=world.pmo, name="Training")
    SurveyServiceFactory(survey=later, service=fresh)
    never = ServiceFactory(pmo=world.pmo, name="Never asked")
    # Another PMO's service asked about in its own survey: never read.
    SurveyServiceFactory(survey=SurveyFactory(pmo=world.other_pmo, closed=True))
    with django_assert_num_queries(2):
        figures = service_figures.catalogue_figures(world.pmo)
    assert set(figures) == {known.reporting.pk, known.help_desk.pk}
    assert as_tuple(figures[known.reporting.pk]) == REPORTING
    assert figures[known.reporting.pk].survey_id == known.survey.pk
    assert never.pk not in figures and fresh.pk not in figures
    # Once answered, the open survey is the one for a service no closed survey asked about.
    answer(SurveyService.objects.get(survey=later, service=fresh), r1, KNOWS)
    assert service_figures.catalogue_figures(world.pmo)[fresh.pk].survey_id == later.pk


def test_a_service_renamed_or_deleted_keeps_its_snapshot(known):
    Service.objects.filter(pk=known.reporting.pk).update(name="Portfolio reporting")
    known.help_desk.delete()
    figures = service_figures.survey_service_figures(known.survey)
    assert [f.name for f in figures.values()] == ["Reporting", "Help desk"]
    assert as_tuple(figures[known.asked_reporting.pk]) == REPORTING
    assert set(service_figures.catalogue_figures(known.survey.pmo)) == {known.reporting.pk}


def test_a_services_trend_oldest_first_and_open_surveys_last(known, world, django_assert_num_queries):
    earlier, responses = respondents(world.pmo, {"title": "Winter"}, [known.finance] * 3)
    asked = SurveyServiceFactory(survey=earlier, service=known.reporting)
    for response, rating in zip(responses, (1, 1, 3), strict=True):
        answer(asked, response, USES, rating, 3)
    earlier.status, earlier.closed_at = SurveyStatus.CLOSED, known.survey.closed_at - timedelta(days=90)
    earlier.save(update_fields=["status", "closed_at"])
    later, (r1, *_rest) = respondents(world.pmo, {"title": "Summer"}, [known.finance] * 3)
    SurveyServiceFactory(survey=later, service=known.reporting)
    with django_assert_num_queries(2):
        trend = service_figures.service_trend(known.reporting)
    assert [f.survey_id for f in trend] == [earlier.pk, known.survey.pk, later.pk]
    # Winter: (1 + 1 + 3) / 3 = 5/3 → 16.7; importance 3 → 50.0, "Concentrate here".
    assert as_tuple(trend[0])[:9] == (3, 3, 3, 100.0, 100.0, pytest.approx(50 / 3), 3, 50.0, 3)
    assert trend[0].quadrant == IpaQuadrant.CONCENTRATE
    assert as_tuple(trend[1]) == REPORTING
    assert as_tuple(trend[2]) == HIDDEN  # nobody answered yet
    # The catalogue reads the latest closed of the two, not the earlier.
    assert as_tuple(service_figures.catalogue_figures(world.pmo)[known.reporting.pk]) == REPORTING


def test_a_services_figures_per_segment(known, world, django_assert_max_num_queries):
    # A segment invited but not served by Help desk gets no row; one served gets its row.
    with django_assert_max_num_queries(4):
        rows = service_figures.service_segment_figures(known.reporting)
    assert [name for name, _ in rows] == ["Finance", "Ops"]
    assert as_tuple(rows[0][1])[:9] == (3, 3, 2, 100.0, pytest.approx(200 / 3), 62.5, 2, 75.0, 1)
    assert rows[1][1].suppressed
    assert [name for name, _ in service_figures.service_segment_figures(known.help_desk)] == ["Ops"]
    # A segment deleted after the launch: its respondents count under "No segment", last.
    known.finance.delete()
    rows = service_figures.service_segment_figures(known.reporting)
    assert [name for name, _ in rows] == ["Ops", "No segment"]
    assert as_tuple(rows[1][1])[:3] == (3, 3, 2)
    assert service_figures.service_segment_figures(ServiceFactory(pmo=world.pmo)) == []
