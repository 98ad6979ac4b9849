"""The stakeholder's side: /s/<token>/, with no account.

GET shows the form and never changes a response (mail scanners open links too);
only the final POST makes a response. Every public URL is rate limited per client
address ("ip": pmo5p.client.client_address, through RATELIMIT_IP_META_KEY).
"""

import hmac

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from pmo5p.domain import Element
from pmo5p.params import whole_number
from stakeholders.models import SurveyInvitation, hash_token
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys.forms import ResponseForm


def rate(group, request) -> str:
    """Read at each request, not at import, so that a change of the setting takes effect."""
    return settings.SURVEY_RATE_LIMIT


def _find_invitation(token: str) -> SurveyInvitation | None:
    if len(token) > 64:
        return None
    digest = hash_token(token)
    invitation = SurveyInvitation.objects.select_related("survey__pmo", "stakeholder").filter(token_hash=digest).first()
    # The lookup is by hash; the constant-time comparison guards against any
    # future lookup that would compare tokens themselves.
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        return None
    return invitation


def _unavailable(request, invitation, reason: str, status: int):
    # The PMO is named in the page's header too, so that the stakeholder knows whose link it is.
    context = {"invitation": invitation, "reason": reason, "pmo": invitation.survey.pmo if invitation else None}
    return render(request, "stakeholders/public/unavailable.html", context, status=status)


def _check(request, invitation):
    """The page to show instead of the form, if the link cannot be answered now."""
    if invitation is None:
        return _unavailable(request, None, "unknown", 404)
    survey = invitation.survey
    if invitation.responded_at:
        return _unavailable(request, invitation, "answered", 410)
    if survey.is_draft:
        return _unavailable(request, invitation, "draft", 404)
    if not surveys.is_answerable(survey):
        return _unavailable(request, invitation, "closed", 410)
    return None


@ratelimit(key="ip", rate=rate, block=True)
@require_http_methods(["GET", "POST"])
def answer(request, token):
    invitation = _find_invitation(token)
    refusal = _check(request, invitation)
    if refusal:
        return refusal
    survey = invitation.survey
    questions = surveys.survey_questions(survey)
    context = {"survey": survey, "pmo": survey.pmo, "invitation": invitation, "elements": list(Element)}

    if request.method == "POST":
        form = ResponseForm(request.POST, survey=survey, questions=questions)
        if request.POST.get("action") == "save":
            surveys.save_draft(invitation, form.draft())
            form = ResponseForm(initial=form.draft(), survey=survey, questions=questions)
            return render(request, "stakeholders/public/answer.html", {**context, "form": form, "saved": True})
        if form.is_valid():
            try:
                surveys.submit(
                    invitation,
                    values=form.values(),
                    nps=form.nps_value(),
                    comment=form.cleaned_data.get("comment", ""),
                    questions=questions,
                )
            except surveys.AlreadyAnswered:
                return _unavailable(request, invitation, "answered", 410)
            return render(request, "stakeholders/public/thanks.html", context)
        # Keep what they gave, so that closing the page now loses nothing either.
        surveys.save_draft(invitation, form.draft())
        return render(request, "stakeholders/public/answer.html", {**context, "form": form}, status=400)

    initial = dict(invitation.draft_answers)
    nps = whole_number(request.GET.get("nps"))
    if nps is not None and nps <= 10:
        initial["nps"] = str(nps)  # from the 0–10 links in the e-mail: filled in, not submitted
    form = ResponseForm(initial=initial, survey=survey, questions=questions)
    return render(
        request, "stakeholders/public/answer.html", {**context, "form": form, "resumed": bool(invitation.draft_answers)}
    )


@ratelimit(key="ip", rate=rate, block=True)
@require_POST
def save(request, token):
    """Autosave from the page's script: keeps the valid answers given so far."""
    invitation = _find_invitation(token)
    refusal = _check(request, invitation)
    if refusal:
        return JsonResponse({"saved": False}, status=refusal.status_code)
    survey = invitation.survey
    form = ResponseForm(request.POST, survey=survey, questions=surveys.survey_questions(survey))
    surveys.save_draft(invitation, form.draft())
    return JsonResponse({"saved": True})


def rate_limited(request, exception):
    return render(request, "stakeholders/public/rate_limited.html", status=429)
