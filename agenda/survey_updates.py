""" "You said, we did" (docs/follow-up.md): the lead's page that writes, saves and sends a
closed survey's update, then keeps it as the archive. The writing and sending are
stakeholders/surveys/updates.py's; this module adds the prefill, which needs the survey's
figures (agenda/figures/) and the agenda's actions, hence its place in agenda.
"""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agenda.figures import kept
from agenda.figures.present import Kind, shown
from agenda.models import Action, ActionStatus
from pmo5p.domain import Element
from pmo5p.models import Role
from pmo5p.tenancy import pmo_view
from stakeholders.models import Survey, SurveyUpdate
from stakeholders.surveys import anonymity, updates

# Actions worth telling stakeholders about: a dropped one is no "we did".
TOLD_STATUSES = [ActionStatus.PLANNED, ActionStatus.IN_PROGRESS, ActionStatus.DONE]


def prefill(survey: Survey) -> dict[str, str]:
    """The subject and a plain-text body to start from: per P, the survey's score (only for a
    group shown: enough responses rated it, anonymity.group_is_shown) and the agenda actions on that P adopted
    since the survey launched; then a closing line. Two queries."""
    figures = kept.survey_element_figures(survey)
    actions: dict[str, list[Action]] = {element: [] for element in Element}
    since = Action.objects.filter(pmo=survey.pmo, status__in=TOLD_STATUSES).order_by("created_at", "pk")
    if survey.launched_at:
        since = since.filter(created_at__gte=survey.launched_at)
    for action in since:
        actions[action.element].append(action)
    lines = [
        f"Thank you for answering “{survey.title}”. Here is what you told us about each part of our work, "
        "and what we have done since.",
        "",
    ]
    for element in Element:
        entry = figures[element]
        if entry.perception is not None and anonymity.group_is_shown(entry.perception_responses):
            lines.append(f"{element.label}: you scored us {shown(entry.perception, Kind.SCORE)} out of 100.")
        else:
            lines.append(f"{element.label}: fewer than {anonymity.min_group_size()} answers, so no score is shown.")
        for action in actions[element]:
            lines.append(f"- {action.title} ({ActionStatus(action.status).label.lower()})")
        if not actions[element]:
            lines.append("- Nothing new on this yet.")
        lines.append("")
    lines.append("Thank you for telling us. We will keep at it, and ask you again.")
    return {"subject": updates.clean_subject(f"You said, we did: {survey.title}"), "body": "\n".join(lines)}


class UpdateForm(forms.Form):
    subject = forms.CharField(
        max_length=updates.SUBJECT_MAX,
        error_messages={
            "required": "Write a subject.",
            "max_length": f"Keep the subject to {updates.SUBJECT_MAX} characters.",
        },
    )
    body = forms.CharField(
        label="Message",
        max_length=updates.BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text="Plain text: line breaks are kept. Each e-mail ends with the PMO's name and a link to stop these updates.",
        error_messages={
            "required": "Write the message.",
            "max_length": f"Keep the message to {updates.BODY_MAX} characters.",
        },
    )


def _page(request, pmo, survey, form=None, status=200):
    update = SurveyUpdate.objects.filter(survey=survey).select_related("sent_by").first()
    context = {"pmo": pmo, "survey": survey, "update": update}
    if survey.is_closed and not (update and update.is_sent):
        context["form"] = form or UpdateForm(initial=_draft(update) if update else prefill(survey))
        context["recipients"] = updates.recipients(survey)
    return render(request, "agenda/survey_update.html", context, status=status)


def _draft(update: SurveyUpdate) -> dict:
    return {"subject": update.subject, "body": update.body}


def _survey(pmo, survey_id) -> Survey:
    return get_object_or_404(Survey.objects.filter(pmo=pmo), pk=survey_id)


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
def survey_update(request, pmo, survey_id):
    """GET: the compose page (a closed survey, not sent yet), the archive (sent), or why not
    (open or draft). POST: save the draft; the text typed is kept on any refusal."""
    survey = _survey(pmo, survey_id)
    if request.method != "POST":
        return _page(request, pmo, survey)
    form = UpdateForm(request.POST)
    if form.is_valid():
        try:
            updates.save(survey, **form.cleaned_data, by=request.user)
        except updates.UpdateRefused as refusal:
            if not survey.is_closed or SurveyUpdate.objects.filter(survey=survey, sent_at__isnull=False).exists():
                # No form to show it on (an open survey, or the update sent meanwhile): say it above the page.
                messages.error(request, str(refusal))
                return redirect("survey_update", slug=pmo.slug, survey_id=survey.pk)
            form.add_error(None, str(refusal))
        else:
            messages.success(request, "Draft saved. Check who will receive it, then send it.")
            return redirect("survey_update", slug=pmo.slug, survey_id=survey.pk)
    return _page(request, pmo, survey, form, status=400)


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
@require_POST
def survey_update_send(request, pmo, survey_id):
    """Send the saved draft, once."""
    survey = _survey(pmo, survey_id)
    update = SurveyUpdate.objects.filter(survey=survey).first()
    if update is None:
        messages.error(request, "Save the draft first: what is sent is the draft as saved.")
        return redirect("survey_update", slug=pmo.slug, survey_id=survey.pk)
    try:
        with transaction.atomic():
            rows = updates.send(update, by=request.user)
    except updates.UpdateRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, f"The update is on its way to {len(rows)} stakeholder{'s' if len(rows) != 1 else ''}."
        )
    return redirect("survey_update", slug=pmo.slug, survey_id=survey.pk)
