"""The lead's side of perception surveys: draft, audience, launch, follow-up, results."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from pmo5p import outbox
from pmo5p.domain import Element
from pmo5p.models import Role
from pmo5p.params import whole_number
from pmo5p.tenancy import pmo_view
from stakeholders import scores
from stakeholders.exports import response_table
from stakeholders.models import Answer, QuestionKind, Survey, SurveyInvitation, SurveyStatus
from stakeholders.spreadsheets import spreadsheet_response
from stakeholders.surveys import anonymity, questionnaire
from stakeholders.surveys import emails as survey_emails
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys.forms import AudienceForm, QuestionsForm, ResponseForm, SurveyForm

RESPONSES_PER_PAGE = 50


def _survey(pmo, survey_id, **filters):
    return get_object_or_404(Survey.objects.filter(pmo=pmo, **filters), pk=survey_id)


@pmo_view()
@require_GET
def survey_list(request, pmo):
    # Responses counted through their invitation (one to one): joining invitations and
    # responses side by side would multiply the rows, invitations × responses per survey.
    survey_rows = pmo.surveys.annotate(
        invited=Count("invitations"),
        sent=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
        answered=Count("invitations__response"),
    ).order_by("-created_at")
    return render(request, "stakeholders/surveys/survey_list.html", {"pmo": pmo, "surveys": survey_rows})


@pmo_view(role=Role.MEMBER)
def survey_create(request, pmo):
    initial = {
        "closes_on": timezone.localdate() + timezone.timedelta(days=21),
        "title": f"How do you see {pmo.name}?",
        "intro": questionnaire.DEFAULT_INTRO,
    }
    form = SurveyForm(request.POST or None, initial=initial)
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
        "participation": scores.participation(survey),
        "page": page,
        "question_count": survey.questions.count(),
    }
    if survey.is_draft:
        context["audience"] = surveys.audience(survey)
    elif request.membership.is_lead:
        context["alerts"] = survey_emails.detractor_alerts(survey)
    return render(request, "stakeholders/surveys/survey_detail.html", context)


@pmo_view(role=Role.MEMBER)
def survey_edit(request, pmo, survey_id):
    survey = _survey(pmo, survey_id, status=SurveyStatus.DRAFT)
    form = SurveyForm(request.POST or None, instance=survey)
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
    form = ResponseForm(survey=survey, questions=questions)
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


# Results ------------------------------------------------------------------------------


@pmo_view()
@require_GET
def survey_results(request, pmo, survey_id):
    survey = _survey(pmo, survey_id)
    answers = Answer.objects.filter(response__survey=survey)
    element_scores = scores.element_scores(answers)
    nps = scores.nps_summary(survey.responses.all())
    with_comment = survey.responses.exclude(comment="")
    if survey.anonymous:
        # Not newest first: beside the response count, the top comment would be the latest answer's.
        comments = [
            (text, None)
            for text in with_comment.order_by(*anonymity.comment_order()).values_list("comment", flat=True)[:100]
        ]
    else:
        comments = with_comment.order_by("-submitted_at").values_list("comment", "submitted_at")[:100]
    context = {
        "pmo": pmo,
        "survey": survey,
        "participation": scores.participation(survey),
        "element_scores": list(element_scores.values()),
        "nps": nps,
        "segments": scores.segment_breakdown(survey),
        "min_group_size": settings.MIN_GROUP_SIZE,
        "comments": comments,
        "comment_count": with_comment.count(),
        "chart_data": {
            "labels": [e.label for e in Element],
            "perception": [_round(element_scores[e].perception) for e in Element],
            "importance": [_round(element_scores[e].importance) for e in Element],
            "nps": [nps.detractors, nps.passives, nps.promoters],
        },
    }
    if not survey.anonymous:
        page = Paginator(
            survey.responses.select_related("invitation__stakeholder", "segment").order_by(
                "invitation__stakeholder__name"
            ),
            RESPONSES_PER_PAGE,
        ).get_page(request.GET.get("page"))
        context["page"] = page
        context["per_stakeholder"] = _per_stakeholder(page.object_list)
    return render(request, "stakeholders/surveys/survey_results.html", context)


def _round(value):
    return None if value is None else round(value, 1)


def _per_stakeholder(responses):
    """Perception per element for one page of responses, in one grouped query."""
    responses = list(responses)
    rows = (
        Answer.objects.filter(response__in=responses, question__kind=QuestionKind.PERFORMANCE)
        .values("response_id", "question__element")
        .annotate(mean=Avg("value"))
    )
    table = {r.pk: {} for r in responses}
    for row in rows:
        table[row["response_id"]][row["question__element"]] = scores.score(row["mean"])
    return [(response, [table[response.pk].get(e.value) for e in Element]) for response in responses]


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
