"""The stakeholder's side: /s/<token>/, with no account.

GET shows the form and never changes a response (mail scanners open links too);
only the final POST makes a response. Every public URL is rate limited per client
address ("ip": pmo5p.client.client_address, through RATELIMIT_IP_META_KEY).
"""

import functools
import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from pmo5p.domain import Element
from pmo5p.models import Pmo
from pmo5p.params import whole_number
from stakeholders.models import Stakeholder, Survey, SurveyInvitation, hash_token
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys.forms import ResponseForm


def rate(group, request) -> str:
    """Read at each request, not at import, so that a change of the setting takes effect."""
    return settings.SURVEY_RATE_LIMIT


# The lookup of every public request: the invitation with its survey, the survey's PMO and
# the stakeholder, as select_related("survey__pmo", "stakeholder") would read them. Its SQL is
# written once per process from the models' metadata: Django compiles that four-table query
# anew on each request, about 0.5 ms of CPU, a quarter of an answer's.
_LOOKUP = (
    # (model, the relation it is reached by from the invitation, or None, the table's alias)
    (SurveyInvitation, None, "invitation"),
    (Survey, "survey", "survey"),
    (Pmo, "survey__pmo", "pmo"),
    (Stakeholder, "stakeholder", "stakeholder"),
)


@functools.cache
def _lookup_sql() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(
        f"{alias}.{qn(field.column)}" for model, _, alias in _LOOKUP for field in model._meta.concrete_fields
    )
    tables = {alias: qn(model._meta.db_table) for model, _, alias in _LOOKUP}
    invitation, survey = SurveyInvitation._meta, Survey._meta
    pk = {alias: qn(model._meta.pk.column) for model, _, alias in _LOOKUP}
    return (
        f"SELECT {columns} FROM {tables['invitation']} invitation "  # noqa: S608 - names from the models, quoted
        f"JOIN {tables['survey']} survey ON survey.{pk['survey']} = invitation.{qn(invitation.get_field('survey').column)} "
        f"JOIN {tables['pmo']} pmo ON pmo.{pk['pmo']} = survey.{qn(survey.get_field('pmo').column)} "
        f"JOIN {tables['stakeholder']} stakeholder "
        f"ON stakeholder.{pk['stakeholder']} = invitation.{qn(invitation.get_field('stakeholder').column)} "
        f"WHERE invitation.{qn(invitation.get_field('token_hash').column)} = %s"
    )


def _invitation_by_hash(digest: str) -> SurveyInvitation | None:
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    loaded = {}
    for model, path, _ in _LOOKUP:
        fields = model._meta.concrete_fields
        loaded[path] = model.from_db(connection.alias, [f.attname for f in fields], _converted(fields, values))
    invitation = loaded[None]
    loaded["survey"].pmo = loaded["survey__pmo"]
    invitation.survey = loaded["survey"]
    invitation.stakeholder = loaded["stakeholder"]
    return invitation


def _converted(fields, values) -> list:
    """The next len(fields) values, through each field's converters, as the ORM reads them
    (a JSON column arrives as text)."""
    converted = []
    for field in fields:
        value = next(values)
        for converter in field.get_db_converters(connection):
            value = converter(value, field.cached_col, connection)
        converted.append(value)
    return converted


def _find_invitation(token: str) -> SurveyInvitation | None:
    if len(token) > 64:
        return None
    digest = hash_token(token)
    invitation = _invitation_by_hash(digest)
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
    services = surveys.services_asked(survey, invitation.segment_id)
    context = {"survey": survey, "pmo": survey.pmo, "invitation": invitation, "elements": list(Element)}

    if request.method == "POST":
        form = ResponseForm(request.POST, survey=survey, questions=questions, services=services)
        if request.POST.get("action") == "save":
            surveys.save_draft(invitation, form.draft())
            form = ResponseForm(initial=form.draft(), survey=survey, questions=questions, services=services)
            return render(request, "stakeholders/public/answer.html", {**context, "form": form, "saved": True})
        if form.is_valid():
            try:
                surveys.submit(
                    invitation,
                    values=form.values(),
                    nps=form.nps_value(),
                    comment=form.cleaned_data.get("comment", ""),
                    questions=questions,
                    services=form.service_replies(),
                )
            except surveys.AlreadyAnswered:
                return _unavailable(request, invitation, "answered", 410)
            except surveys.SurveyClosed:
                return _unavailable(request, invitation, "closed", 410)
            return HttpResponse(_thanks(survey.pk, survey.title, survey.pmo.name))
        # Keep what they gave, so that closing the page now loses nothing either.
        surveys.save_draft(invitation, form.draft())
        return render(request, "stakeholders/public/answer.html", {**context, "form": form}, status=400)

    initial = dict(invitation.draft_answers)
    nps = whole_number(request.GET.get("nps"))
    if nps is not None and nps <= 10:
        initial["nps"] = str(nps)  # from the 0–10 links in the e-mail: filled in, not submitted
    form = ResponseForm(initial=initial, survey=survey, questions=questions, services=services)
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
    services = surveys.services_asked(survey, invitation.segment_id)
    form = ResponseForm(request.POST, survey=survey, questions=surveys.survey_questions(survey), services=services)
    surveys.save_draft(invitation, form.draft())
    return JsonResponse({"saved": True})


@functools.lru_cache(maxsize=256)
def _thanks(survey_id: int, title: str, pmo_name: str) -> str:
    """The thank-you page, rendered once per process for each survey's title and PMO's name,
    all it shows: nothing of the stakeholder or the request (no form, no token, no user)."""
    return render_to_string("stakeholders/public/thanks.html", {"survey": {"title": title}, "pmo": {"name": pmo_name}})


def rate_limited(request, exception):
    return render(request, "stakeholders/public/rate_limited.html", status=429)
