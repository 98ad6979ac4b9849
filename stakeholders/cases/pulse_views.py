"""The recovery pulse's pages: the stakeholder's /r/<token>/, with no account, and the
member's "Send a recovery pulse" button on a resolved case.

The public page is built as the survey link is (stakeholders/surveys/public_views.py):
looked up by the token's hash, GET never changes anything (mail scanners open links, and
the e-mail's 0–10 links only preselect a score), only POST stores, once; rate limited per
client address with the survey link's setting.
"""

import hmac

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from pmo5p.models import Role
from pmo5p.params import whole_number
from pmo5p.tenancy import pmo_view
from stakeholders.cases import pulses
from stakeholders.models import FollowUpCase, RecoveryPulse, hash_token
from stakeholders.surveys.public_views import rate

SCORE_ERROR = "Choose a number from 0 (not at all likely) to 10 (extremely likely)."


class PulseForm(forms.Form):
    score = forms.TypedChoiceField(
        label=pulses.QUESTION,
        choices=[(value, str(value)) for value in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": SCORE_ERROR, "invalid_choice": SCORE_ERROR},
    )
    comment = forms.CharField(
        label="Anything you would like to add?",
        required=False,
        max_length=pulses.COMMENT_MAX,
        widget=forms.Textarea,
    )


def _find_pulse(token: str) -> RecoveryPulse | None:
    if len(token) > 64:
        return None
    digest = hash_token(token)
    pulse = RecoveryPulse.objects.select_related("case__pmo", "case__stakeholder").filter(token_hash=digest).first()
    # Found by hash; the constant-time comparison guards any future lookup by the token itself.
    if pulse is None or not hmac.compare_digest(pulse.token_hash, digest):
        return None
    return pulse


def _unavailable(request, pulse, reason: str, status: int):
    context = {"pulse": pulse, "reason": reason, "pmo": pulse.case.pmo if pulse else None}
    return render(request, "stakeholders/public/pulse_unavailable.html", context, status=status)


@ratelimit(key="ip", rate=rate, block=True)
@require_http_methods(["GET", "POST"])
def answer(request, token):
    pulse = _find_pulse(token)
    if pulse is None:
        return _unavailable(request, None, "unknown", 404)
    if pulse.answered_at:
        return _unavailable(request, pulse, "answered", 410)
    context = {"pulse": pulse, "pmo": pulse.case.pmo, "stakeholder": pulse.case.stakeholder}
    if request.method == "POST":
        form = PulseForm(request.POST)
        if form.is_valid():
            if not pulses.answer_pulse(pulse, form.cleaned_data["score"], form.cleaned_data["comment"]):
                return _unavailable(request, pulse, "answered", 410)  # another submit won the race
            return render(request, "stakeholders/public/pulse_thanks.html", {"pmo": pulse.case.pmo})
        return render(request, "stakeholders/public/pulse.html", {**context, "form": form}, status=400)
    score = whole_number(request.GET.get("score"))
    initial = {"score": score} if score is not None and score <= 10 else {}
    return render(request, "stakeholders/public/pulse.html", {**context, "form": PulseForm(initial=initial)})


@pmo_view(role=Role.MEMBER)
@require_POST
def send(request, pmo, case_id):
    case = get_object_or_404(FollowUpCase.objects.filter(pmo=pmo), pk=case_id)
    try:
        pulse = pulses.send_pulse(case, by=request.user)
    except pulses.PulseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Recovery pulse sent to {pulse.email}.")
    return redirect("case_detail", slug=pmo.slug, case_id=case.pk)
