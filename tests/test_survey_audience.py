"""Who a survey asks: whole segments, hand-picked stakeholders or both; who is left out
(inactive, no e-mail) and why; and survey fatigue, the PMO's fewest days between surveys."""

import pytest
from django.core import mail

from stakeholders.models import Survey, SurveyInvitation
from stakeholders.surveys import lifecycle as surveys
from tests.factories import SegmentFactory, StakeholderFactory, SurveyFactory, SurveyInvitationFactory
from tests.helpers import assert_field_error, messages_of, visible
from tests.survey_helpers import days_ago, open_survey, survey_url


def targets(survey):
    survey = Survey.objects.get(pk=survey.pk)
    return (
        sorted(survey.target_segments.values_list("pk", flat=True)),
        sorted(survey.target_stakeholders.values_list("pk", flat=True)),
    )


def invited_names(survey):
    return sorted(SurveyInvitation.objects.filter(survey=survey).values_list("stakeholder__name", flat=True))


@pytest.fixture
def people(world):
    """Fiona in Finance, plus Finance's others and an IT segment."""
    it = SegmentFactory(pmo=world.pmo, name="IT")
    return {
        "finance2": StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Frank Finance"),
        "inactive": StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Ivy Inactive", is_active=False),
        "no_email": StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Nemo Nomail", email=""),
        "it1": StakeholderFactory(pmo=world.pmo, segment=it, name="Ian IT"),
        "it2": StakeholderFactory(pmo=world.pmo, segment=it, name="Isla IT"),
        "loner": StakeholderFactory(pmo=world.pmo, segment=None, name="Lone Wolf"),
        "it": it,
    }


def names(stakeholders):
    return sorted(s.name for s in stakeholders)


def test_whole_segments(world, people):
    survey = SurveyFactory(pmo=world.pmo)
    survey.target_segments.add(world.segment)
    plan = surveys.audience(survey)
    assert names(plan.invitable) == ["Fiona Finance", "Frank Finance"]
    assert names(plan.inactive) == ["Ivy Inactive"]
    assert names(plan.without_email) == ["Nemo Nomail"]
    assert plan.recently_surveyed == []
    assert plan.chosen_count == 4


def test_hand_picked(world, people):
    survey = SurveyFactory(pmo=world.pmo)
    survey.target_stakeholders.add(people["loner"], people["it1"])
    assert names(surveys.audience(survey).invitable) == ["Ian IT", "Lone Wolf"]


def test_segments_and_hand_picked_together_count_each_stakeholder_once(world, people, client_for):
    survey = SurveyFactory(pmo=world.pmo)
    response = client_for(world.lead).post(
        survey_url("survey_audience", survey),
        {"target_segments": [people["it"].pk], "target_stakeholders": [people["it1"].pk, world.stakeholder.pk]},
    )
    assert response.status_code == 302
    assert targets(survey) == ([people["it"].pk], sorted([people["it1"].pk, world.stakeholder.pk]))
    plan = surveys.audience(survey)
    assert names(plan.invitable) == ["Fiona Finance", "Ian IT", "Isla IT"]
    assert plan.chosen_count == 3
    assert len({s.pk for s in plan.invitable}) == 3


def test_the_pages_say_who_is_left_out_and_why(world, people, client_for):
    survey = SurveyFactory(pmo=world.pmo)
    survey.target_segments.add(world.segment)
    client = client_for(world.lead)
    for page in (survey_url("survey_detail", survey), survey_url("survey_launch", survey)):
        shown = visible(client.get(page))
        assert "2 will be asked." in shown
        assert "1 inactive: left out." in shown
        assert "1 without an e-mail address: left out (Nemo Nomail)." in shown


def test_launch_invites_only_who_can_be_asked(world, people, django_capture_on_commit_callbacks):
    survey = SurveyFactory(pmo=world.pmo)
    survey.target_segments.add(world.segment)
    survey.target_stakeholders.add(people["inactive"], people["no_email"], world.stakeholder)
    with django_capture_on_commit_callbacks(execute=True):
        surveys.launch(survey)
    assert invited_names(survey) == ["Fiona Finance", "Frank Finance"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.stakeholder.email, people["finance2"].email])


# Survey fatigue ----------------------------------------------------------------------------


@pytest.fixture
def recently_asked(world, people):
    """Fiona was sent another survey 30 days ago; Frank 100 days ago; Ian was invited
    10 days ago but the e-mail never went out."""
    _, (fiona,) = open_survey(world.pmo, [world.stakeholder], sent_at=days_ago(30), title="Earlier")
    _, (frank,) = open_survey(world.pmo, [people["finance2"]], sent_at=days_ago(100), title="Much earlier")
    earlier, _ = open_survey(world.pmo, [], title="Unsent")
    SurveyInvitationFactory(survey=earlier, stakeholder=people["it1"], send_status=SurveyInvitation.SendStatus.FAILED)
    survey = SurveyFactory(pmo=world.pmo, title="Now")
    survey.target_stakeholders.add(world.stakeholder, people["finance2"], people["it1"])
    return survey


def test_a_stakeholder_sent_another_survey_within_the_window_is_set_apart(world, recently_asked):
    assert world.pmo.survey_fatigue_days == 90
    plan = surveys.audience(recently_asked)
    assert names(plan.recently_surveyed) == ["Fiona Finance"]
    assert names(plan.invitable) == ["Frank Finance", "Ian IT"]
    assert plan.recently_surveyed[0].last_surveyed_at is not None


def test_the_window_is_the_pmos_setting(world, recently_asked):
    world.pmo.survey_fatigue_days = 20
    world.pmo.save()
    assert surveys.audience(Survey.objects.get(pk=recently_asked.pk)).recently_surveyed == []
    world.pmo.survey_fatigue_days = 120
    world.pmo.save()
    plan = surveys.audience(Survey.objects.get(pk=recently_asked.pk))
    assert names(plan.recently_surveyed) == ["Fiona Finance", "Frank Finance"]


def test_another_pmos_surveys_do_not_count(world):
    # The same person registered in the other PMO, surveyed there yesterday.
    twin = StakeholderFactory(pmo=world.other_pmo, name="Fiona Finance", email=world.stakeholder.email)
    open_survey(world.other_pmo, [twin], sent_at=days_ago(1))
    survey = SurveyFactory(pmo=world.pmo)
    survey.target_stakeholders.add(world.stakeholder)
    assert names(surveys.audience(survey).invitable) == ["Fiona Finance"]


def test_the_launch_page_lists_the_recently_asked_apart(world, recently_asked, client_for):
    page = client_for(world.lead).get(survey_url("survey_launch", recently_asked))
    shown = visible(page)
    assert "Asked recently" in shown
    assert f'name="include_recent" value="{world.stakeholder.pk}"' in page.content.decode()
    assert "1 was sent another survey in the last 90 days" in shown


def test_launch_leaves_the_recently_asked_out_unless_ticked(
    world, recently_asked, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.lead).post(survey_url("survey_launch", recently_asked))
    assert response.status_code == 302
    assert invited_names(recently_asked) == ["Frank Finance", "Ian IT"]
    assert messages_of(response) == ["Survey launched: 2 invitations on their way."]


def test_launch_includes_the_recently_asked_who_are_ticked(
    world, recently_asked, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.lead).post(
            survey_url("survey_launch", recently_asked), {"include_recent": world.stakeholder.pk}
        )
    assert invited_names(recently_asked) == ["Fiona Finance", "Frank Finance", "Ian IT"]


def test_include_recent_ignores_ids_that_are_not_in_the_recently_asked_list(
    world, people, recently_asked, client_for, django_capture_on_commit_callbacks
):
    recently_asked.target_stakeholders.add(people["inactive"], people["no_email"])
    smuggled = [people["inactive"].pk, people["no_email"].pk, people["loner"].pk, world.other_stakeholder.pk, "x"]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.lead).post(survey_url("survey_launch", recently_asked), {"include_recent": smuggled})
    assert invited_names(recently_asked) == ["Frank Finance", "Ian IT"]
    # The service applies the same rule when called directly.
    other = SurveyFactory(pmo=world.pmo, title="Direct")
    other.target_stakeholders.add(people["it2"])
    surveys.launch(other, include_recent_ids=[people["loner"].pk, people["inactive"].pk])
    assert invited_names(other) == ["Isla IT"]


# Bad input ---------------------------------------------------------------------------------


def test_an_empty_audience_is_refused(world, client_for):
    survey = SurveyFactory(pmo=world.pmo)
    survey.target_stakeholders.add(world.stakeholder)
    response = client_for(world.lead).post(survey_url("survey_audience", survey), {})
    assert response.status_code == 200
    assert "Choose at least one segment or one stakeholder to ask." in visible(response)
    assert targets(survey) == ([], [world.stakeholder.pk])


@pytest.mark.parametrize(
    ("field", "message"),
    [("target_segments", "Choose segments of this PMO."), ("target_stakeholders", "Choose stakeholders of this PMO.")],
)
def test_another_pmos_segment_or_stakeholder_is_refused(world, client_for, field, message):
    survey = SurveyFactory(pmo=world.pmo)
    survey.target_segments.add(world.segment)
    foreign = world.other_segment.pk if field == "target_segments" else world.other_stakeholder.pk
    data = {"target_segments": [world.segment.pk], "target_stakeholders": [world.stakeholder.pk]}
    data[field] = [*data[field], foreign]
    response = client_for(world.lead).post(survey_url("survey_audience", survey), data)
    assert_field_error(response, field, message)
    assert targets(survey) == ([world.segment.pk], [])
