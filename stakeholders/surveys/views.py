"""The lead's side of perception surveys: draft, audience, launch, follow-up, the export of
the answers. The results page is agenda/results.py (its figures come from agenda/figures/)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from pmo5p import outbox
from pmo5p.domain import Element
from pmo5p.models import Role
from pmo5p.params import whole_number
from pmo5p.tenancy import pmo_view
from stakeholders.exports import response_table
from stakeholders.models import Survey, SurveyInvitation, SurveyStatus, SurveyUpdate
from stakeholders.spreadsheets import spreadsheet_response
from stakeholders.surveys import emails as survey_emails
from stakeholders.surveys import figure_source, questionnaire
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys.forms import AudienceForm, QuestionsForm, ResponseForm, SurveyForm

RESPONSES_PER_PAGE = 50


def _survey(pmo, survey_id, **filters):
    return get_object_or_404(Survey.objects.filter(pmo=pmo, **filters), pk=survey_id)


@pmo_view()
@require_GET
def survey_list(request, pmo):
    survey_rows = list(pmo.surveys.order_by("-created_at"))
    participation = figure_source.source().participation_by_survey(survey_rows)
    rows = [(survey, participation[survey.pk]) for survey in survey_rows]
    return render(request, "stakeholders/surveys/survey_list.html", {"pmo": pmo, "surveys": rows})


@pmo_view(role=Role.MEMBER)
def survey_create(request, pmo):
    initial = {
        "closes_on": timezone.localdate() + timezone.timedelta(days=21),
        "title": f"How do you see {pmo.name}?",
        "intro": questionnaire.DEFAULT_INTRO,
    }
    form = SurveyForm(request.POST or None, initial=initial, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        survey = surveys.create_survey(pmo=pmo, created_by=request.user, **form.cleaned_data)
        messages.success(
            request,
            "The survey starts from the standard 5P questionnaire. Adjust the questions, then choose who to ask.",
        )
        return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)
    return render(request, "stakeholders/surveys/survey_form.html", {"pmo": pmo, "form": form})


@pmo_view()
@require_GET
def survey_detail(request, pmo, survey_id):
    survey = _survey(pmo, survey_id)
    invitations = (
        survey.invitations.select_related("stakeholder", "response").order_by("stakeholder__name")
        if not survey.is_draft
        else SurveyInvitation.objects.none()
    )
    page = Paginator(invitations, RESPONSES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "pmo": pmo,
        "survey": survey,
        "participation": figure_source.source().participation_by_survey([survey])[survey.pk],
        "page": page,
        "question_count": survey.questions.count(),
    }
    if survey.is_draft:
        context["audience"] = surveys.audience(survey)
        context["services"] = surveys.survey_services(survey)
    elif request.membership.is_lead:
        context["alerts"] = survey_emails.detractor_alerts(survey)
    if survey.is_closed:
        # "You said, we did": the lead's link to write it, then its archive for everyone.
        context["update"] = SurveyUpdate.objects.filter(survey=survey).first()
    return render(request, "stakeholders/surveys/survey_detail.html", context)


@pmo_view(role=Role.MEMBER)
def survey_edit(request, pmo, survey_id):
    survey = _survey(pmo, survey_id, status=SurveyStatus.DRAFT)
    form = SurveyForm(request.POST or None, instance=survey, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Survey saved.")
        return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)
    return render(request, "stakeholders/surveys/survey_form.html", {"pmo": pmo, "form": form, "survey": survey})


@pmo_view(role=Role.MEMBER)
def survey_questions(request, pmo, survey_id):
    survey = _survey(pmo, survey_id, status=SurveyStatus.DRAFT)
    form = QuestionsForm(request.POST or None, survey=survey)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Questions saved. Preview the survey to see it as stakeholders will.")
        return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)
    sections, others = form.sections()
    return render(
        request,
        "stakeholders/surveys/survey_questions.html",
        {"pmo": pmo, "survey": survey, "form": form, "sections": sections, "others": others},
    )


@pmo_view()
@require_GET
def survey_preview(request, pmo, survey_id):
    survey = _survey(pmo, survey_id)
    questions = list(survey.questions.all())
    # Every service the survey asks about: each respondent sees those that serve their segment.
    form = ResponseForm(survey=survey, questions=questions, services=survey.survey_services.all())
    return render(
        request,
        "stakeholders/public/answer.html",
        {"survey": survey, "pmo": pmo, "form": form, "preview": True, "elements": list(Element)},
    )


@pmo_view(role=Role.MEMBER)
def survey_audience(request, pmo, survey_id):
    survey = _survey(pmo, survey_id, status=SurveyStatus.DRAFT)
    # Nothing ticked is a POST with no field at all: still a submission, to be refused.
    form = AudienceForm(request.POST if request.method == "POST" else None, instance=survey)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Audience saved. Check who will be asked, then launch.")
        return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)
    return render(request, "stakeholders/surveys/survey_audience.html", {"pmo": pmo, "survey": survey, "form": form})


@pmo_view(role=Role.MEMBER)
def survey_launch(request, pmo, survey_id):
    survey = _survey(pmo, survey_id, status=SurveyStatus.DRAFT)
    audience = surveys.audience(survey)
    if request.method == "POST":
        recent_ids = {s.pk for s in audience.recently_surveyed}
        include = [pk for pk in map(whole_number, request.POST.getlist("include_recent")) if pk in recent_ids]
        try:
            invitations = surveys.launch(survey, include_recent_ids=include)
        except surveys.SurveyError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"Survey launched: {len(invitations)} invitation{'s' if len(invitations) != 1 else ''} on their way.",
            )
            return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)
    return render(
        request, "stakeholders/surveys/survey_launch.html", {"pmo": pmo, "survey": survey, "audience": audience}
    )


@pmo_view(role=Role.MEMBER)
@require_POST
def survey_close(request, pmo, survey_id):
    survey = _survey(pmo, survey_id)
    if surveys.close(survey):
        messages.success(request, "Survey closed: the link in the invitations no longer opens it.")
    else:
        messages.error(request, "Only an open survey can be closed.")
    return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)


@pmo_view(role=Role.MEMBER)
def survey_delete(request, pmo, survey_id):
    survey = _survey(pmo, survey_id, status=SurveyStatus.DRAFT)
    if request.method == "POST":
        survey.delete()
        messages.success(request, f"Draft “{survey.title}” deleted.")
        return redirect("survey_list", slug=pmo.slug)
    return render(request, "stakeholders/surveys/survey_delete.html", {"pmo": pmo, "survey": survey})


@pmo_view(role=Role.MEMBER)
@require_POST
def invitation_resend(request, pmo, survey_id, survey_invitation_id):
    survey = _survey(pmo, survey_id)
    invitation = get_object_or_404(survey.invitations.select_related("stakeholder", "survey"), pk=survey_invitation_id)
    try:
        surveys.resend(invitation)
    except surveys.SurveyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The invitation to {invitation.stakeholder} is being sent again.")
    return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)


# Results: the page is agenda/results.py; the export of the answers is here.


@pmo_view()
@require_GET
def survey_export(request, pmo, survey_id):
    survey = _survey(pmo, survey_id)
    headers, rows = response_table(pmo, survey)
    return spreadsheet_response(f"survey-{survey.pk}-responses", headers, rows, "csv")


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
@require_POST
def detractor_alert_resend(request, pmo, survey_id, email_id):
    survey = _survey(pmo, survey_id)
    email = get_object_or_404(survey_emails.alert_emails(survey), pk=email_id)
    if outbox.send_again(email):
        messages.success(request, "Sending the detractor alert again.")
    else:
        messages.info(request, "That detractor alert went out, or is on its way: nothing to send again.")
    return redirect("survey_detail", slug=pmo.slug, survey_id=survey.pk)
