"""Drafting a perception survey: the standard questionnaire, editing it while a draft,
the preview, the pages that close once launched, and what a viewer may do."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pmo5p.domain import Element
from stakeholders.models import Question, QuestionKind, Response, Survey, SurveyInvitation, SurveyStatus
from stakeholders.surveys import questionnaire
from tests.factories import FAR_CLOSE, SurveyFactory, SurveyInvitationFactory
from tests.helpers import assert_field_error, messages_of, text, visible
from tests.survey_helpers import open_survey, questions, survey_url

NEEDS_A_STATEMENT = "Product needs at least one performance statement."


def question_rows(survey):
    return list(Question.objects.filter(survey=survey).order_by("pk").values())


def survey_row(survey):
    return Survey.objects.filter(pk=survey.pk).values().get()


def questions_post(survey, **overrides) -> dict:
    """The questions form posted back unchanged."""
    data = {f"text_{q.pk}": q.text for q in questions(survey)}
    data.update(overrides)
    return data


# The standard questionnaire ------------------------------------------------------------


def test_a_new_survey_starts_from_the_standard_questionnaire(world, client_for):
    client = client_for(world.lead)
    response = client.post(
        reverse("survey_create", kwargs={"slug": world.pmo.slug}),
        {"title": "Spring pulse", "intro": "Tell us.", "closes_on": "2099-06-30", "reminder_delay_days": "5"},
    )
    survey = Survey.objects.get(pmo=world.pmo)
    assert response.status_code == 302
    assert response["Location"] == survey_url("survey_detail", survey)
    assert (survey.title, survey.intro, survey.closes_on, survey.reminder_delay_days) == (
        "Spring pulse",
        "Tell us.",
        date(2099, 6, 30),
        5,
    )
    assert survey.status == SurveyStatus.DRAFT and not survey.anonymous and survey.created_by == world.lead

    for element in Element:
        performance = questions(survey, QuestionKind.PERFORMANCE, element)
        importance = questions(survey, QuestionKind.IMPORTANCE, element)
        assert len(performance) >= 2, element
        assert [q.text for q in performance] == questionnaire.PERFORMANCE_STATEMENTS[element]
        assert [q.text for q in importance] == [questionnaire.IMPORTANCE_QUESTIONS[element]]
    nps = questions(survey, QuestionKind.NPS)
    comment = questions(survey, QuestionKind.COMMENT)
    assert [(q.text, q.element) for q in nps] == [(questionnaire.NPS_QUESTION, "")]
    assert [(q.text, q.element) for q in comment] == [(questionnaire.COMMENT_QUESTION, "")]
    assert survey.questions.count() == 5 * 3 + 2
    # In the order the stakeholder answers them: element by element, then NPS and comment.
    ordered = list(survey.questions.all())
    assert [q.kind for q in ordered[-2:]] == [QuestionKind.NPS, QuestionKind.COMMENT]
    assert [q.element for q in ordered[:3]] == [Element.PRODUCT] * 3
    assert ordered[2].kind == QuestionKind.IMPORTANCE


def test_the_new_survey_form_offers_the_standard_introduction(world, client_for):
    response = client_for(world.lead).get(reverse("survey_create", kwargs={"slug": world.pmo.slug}))
    assert response.status_code == 200
    assert response.context["form"]["intro"].value() == questionnaire.DEFAULT_INTRO


def test_a_survey_cannot_close_in_the_past(world, client_for):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client_for(world.lead).post(
        reverse("survey_create", kwargs={"slug": world.pmo.slug}),
        {"title": "Late", "intro": "", "closes_on": yesterday.isoformat(), "reminder_delay_days": "7"},
    )
    assert_field_error(response, "closes_on", "The close date is in the past")
    assert not Survey.objects.exists()
    assert not Question.objects.exists()


def test_the_lead_edits_title_intro_close_date_and_reminder_delay_of_a_draft(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    response = client_for(world.lead).post(
        survey_url("survey_edit", survey),
        {
            "title": "Autumn pulse",
            "intro": "A new intro.",
            "closes_on": "2099-10-01",
            "reminder_delay_days": "3",
            "anonymous": "on",
        },
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.title, survey.intro, survey.closes_on, survey.reminder_delay_days, survey.anonymous) == (
        "Autumn pulse",
        "A new intro.",
        date(2099, 10, 1),
        3,
        True,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "Give the survey a title."),
        ("reminder_delay_days", "0", "Remind after at least 1 day."),
        ("reminder_delay_days", "61", "Remind within 60 days."),
        ("closes_on", "not a date", "Enter a date"),
    ],
)
def test_bad_survey_settings_are_refused_and_nothing_changes(world, client_for, field, value, message):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    before = survey_row(survey)
    data = {"title": "Ok", "intro": "", "closes_on": "2099-10-01", "reminder_delay_days": "7", field: value}
    response = client_for(world.lead).post(survey_url("survey_edit", survey), data)
    assert_field_error(response, field, message)
    assert survey_row(survey) == before


def test_the_lead_rewords_a_question_and_adds_a_statement(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    first = questions(survey, QuestionKind.PERFORMANCE, Element.PEOPLE)[0]
    nps = questions(survey, QuestionKind.NPS)[0]
    data = questions_post(
        survey,
        **{
            f"text_{first.pk}": "The PMO's people know their trade.",
            f"text_{nps.pk}": "Would you recommend us?",
            "new_people": "The PMO's people answer quickly.",
        },
    )
    response = client_for(world.lead).post(survey_url("survey_questions", survey), data)
    assert response.status_code == 302
    first.refresh_from_db()
    nps.refresh_from_db()
    assert first.text == "The PMO's people know their trade."
    assert nps.text == "Would you recommend us?"
    people = questions(survey, element=Element.PEOPLE)
    assert [q.text for q in people if q.kind == QuestionKind.PERFORMANCE][-1] == "The PMO's people answer quickly."
    # The new statement comes after the element's statements, before its importance question.
    assert [q.kind for q in people] == [QuestionKind.PERFORMANCE] * 3 + [QuestionKind.IMPORTANCE]
    assert survey.questions.count() == 18


def test_the_lead_removes_a_statement_that_is_not_the_last_of_its_element(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    first, second = questions(survey, QuestionKind.PERFORMANCE, Element.PRODUCT)
    response = client_for(world.lead).post(
        survey_url("survey_questions", survey), questions_post(survey, **{f"remove_{first.pk}": "on"})
    )
    assert response.status_code == 302
    assert questions(survey, QuestionKind.PERFORMANCE, Element.PRODUCT) == [second]
    assert survey.questions.count() == 16


def test_removing_the_last_statement_of_an_element_is_refused_and_nothing_is_saved(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    first, second = questions(survey, QuestionKind.PERFORMANCE, Element.PRODUCT)
    other = questions(survey, QuestionKind.PERFORMANCE, Element.PRICE)[0]
    before = question_rows(survey)
    data = questions_post(
        survey,
        **{f"remove_{first.pk}": "on", f"remove_{second.pk}": "on", f"text_{other.pk}": "Reworded at the same time."},
    )
    response = client_for(world.lead).post(survey_url("survey_questions", survey), data)
    assert response.status_code == 200
    assert NEEDS_A_STATEMENT in visible(response)
    assert question_rows(survey) == before


def test_a_question_cannot_be_left_without_text(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    question = questions(survey, QuestionKind.IMPORTANCE, Element.PRICE)[0]
    before = question_rows(survey)
    response = client_for(world.lead).post(
        survey_url("survey_questions", survey), questions_post(survey, **{f"text_{question.pk}": "  "})
    )
    assert_field_error(response, f"text_{question.pk}", "A question needs its text.")
    assert question_rows(survey) == before


# Preview -----------------------------------------------------------------------------------


def form_shape(form):
    return [(name, field.label, list(getattr(field, "choices", []))) for name, field in form.fields.items()]


def test_the_preview_shows_the_stakeholders_form_with_no_way_to_submit(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead, intro="Our intro for you.")
    client = client_for(world.lead)
    preview = client.get(survey_url("survey_preview", survey))
    assert preview.status_code == 200
    page = text(preview)
    assert 'type="submit"' not in page
    assert "survey-form.js" not in page  # no autosave either
    assert "Our intro for you." in page
    for element in Element:
        assert element.label in page and element.aim.capitalize() in page

    # The stakeholder's page, once the survey is open, is the same form.
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.OPEN)
    invitation = SurveyInvitationFactory(survey=survey, stakeholder=world.stakeholder, sent_at=timezone.now())
    public = client.get(invitation.path)
    assert public.status_code == 200
    assert form_shape(public.context["form"]) == form_shape(preview.context["form"])
    assert 'type="submit"' in text(public)


def test_posting_to_the_preview_saves_nothing(world, client_for):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    response = client_for(world.lead).post(survey_url("survey_preview", survey), {"nps": "3", "action": "submit"})
    assert response.status_code == 405
    assert not Response.objects.exists()


# Draft only -------------------------------------------------------------------------------


DRAFT_ONLY = ["survey_edit", "survey_questions", "survey_audience", "survey_launch", "survey_delete"]


@pytest.mark.parametrize("status", [SurveyStatus.OPEN, SurveyStatus.CLOSED])
@pytest.mark.parametrize("name", DRAFT_ONLY)
def test_draft_only_pages_answer_404_once_launched(world, client_for, name, status):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    Survey.objects.filter(pk=survey.pk).update(status=status)
    before = (survey_row(survey), question_rows(survey), SurveyInvitation.objects.count())
    client = client_for(world.lead)
    assert client.get(survey_url(name, survey)).status_code == 404
    data = {
        "title": "Changed",
        "closes_on": "2099-01-01",
        "reminder_delay_days": "2",
        "target_segments": world.segment.pk,
    }
    assert client.post(survey_url(name, survey), data).status_code == 404
    assert (survey_row(survey), question_rows(survey), SurveyInvitation.objects.count()) == before


def test_a_draft_can_be_deleted(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    client = client_for(world.lead)
    assert client.get(survey_url("survey_delete", survey)).status_code == 200
    response = client.post(survey_url("survey_delete", survey))
    assert response.status_code == 302
    assert not Survey.objects.filter(pk=survey.pk).exists()
    assert not Question.objects.filter(survey_id=survey.pk).exists()


def test_closing_by_hand(world, client_for):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    response = client_for(world.member).post(survey_url("survey_close", survey))
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED and survey.closed_at is not None
    assert "Survey closed" in messages_of(response)[0]


def test_closing_a_draft_is_refused(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    response = client_for(world.lead).post(survey_url("survey_close", survey))
    assert response.status_code == 302
    assert messages_of(response) == ["Only an open survey can be closed."]
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.DRAFT


# Viewer ----------------------------------------------------------------------------------


@pytest.fixture
def surveys_of_each_state(world):
    draft = SurveyFactory(pmo=world.pmo, created_by=world.lead, title="The draft")
    opened, (invitation,) = open_survey(world.pmo, [world.stakeholder], title="The open one")
    return draft, opened, invitation


def test_a_viewer_sees_the_survey_pages_without_the_buttons_to_change_them(world, client_for, surveys_of_each_state):
    draft, opened, _ = surveys_of_each_state
    client = client_for(world.viewer)
    listing = text(client.get(reverse("survey_list", kwargs={"slug": world.pmo.slug})))
    assert "The draft" in listing and "The open one" in listing
    assert reverse("survey_create", kwargs={"slug": world.pmo.slug}) not in listing

    draft_page = client.get(survey_url("survey_detail", draft))
    assert draft_page.status_code == 200
    for name in DRAFT_ONLY:
        assert survey_url(name, draft) not in text(draft_page)
    open_page = client.get(survey_url("survey_detail", opened))
    assert open_page.status_code == 200
    assert "Fiona Finance" in text(open_page)
    assert survey_url("survey_close", opened) not in text(open_page)
    assert "/resend/" not in text(open_page)
    for name in ("survey_results", "survey_preview", "survey_export"):
        assert client.get(survey_url(name, opened)).status_code == 200


def test_a_member_gets_the_buttons(world, client_for, surveys_of_each_state):
    draft, opened, _ = surveys_of_each_state
    client = client_for(world.member)
    assert survey_url("survey_launch", draft) in text(client.get(survey_url("survey_detail", draft)))
    assert survey_url("survey_close", opened) in text(client.get(survey_url("survey_detail", opened)))


def test_a_viewer_changes_nothing(world, client_for, surveys_of_each_state):
    draft, opened, invitation = surveys_of_each_state
    client = client_for(world.viewer)
    before = (list(Survey.objects.values()), list(Question.objects.values()), list(SurveyInvitation.objects.values()))
    posts = [
        reverse("survey_create", kwargs={"slug": world.pmo.slug}),
        *[survey_url(name, draft) for name in DRAFT_ONLY],
        survey_url("survey_close", opened),
        survey_url("invitation_resend", opened, survey_invitation_id=invitation.pk),
    ]
    for url in posts:
        response = client.post(url, {"title": "Hacked", "closes_on": "2099-01-01", "reminder_delay_days": "2"})
        assert response.status_code == 403, url
    for name in ("survey_edit", "survey_questions", "survey_audience", "survey_launch"):
        assert client.get(survey_url(name, draft)).status_code == 403
    after = (list(Survey.objects.values()), list(Question.objects.values()), list(SurveyInvitation.objects.values()))
    assert after == before


def test_another_pmos_survey_is_not_found(world, client_for):
    survey = SurveyFactory(pmo=world.other_pmo, created_by=world.outsider)
    client = client_for(world.lead)
    url = reverse("survey_detail", kwargs={"slug": world.pmo.slug, "survey_id": survey.pk})
    assert client.get(url).status_code == 404
    assert (
        client.post(reverse("survey_delete", kwargs={"slug": world.pmo.slug, "survey_id": survey.pk})).status_code
        == 404
    )
    assert Survey.objects.filter(pk=survey.pk).exists()


def test_the_close_date_field_round_trips(world, client_for):
    survey = SurveyFactory(pmo=world.pmo, created_by=world.lead)
    form = client_for(world.lead).get(survey_url("survey_edit", survey)).context["form"]
    assert form["closes_on"].value() == FAR_CLOSE
