"""The PMO's home page: which P needs attention, and which stakeholders are at risk."""

from django.conf import settings
from django.db.models import Count, Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agenda.figures import insights
from agenda.models import SelfAssessment
from pmo5p.domain import Element, MaturityStage
from pmo5p.params import whole_number
from pmo5p.services import record_visit
from pmo5p.tenancy import pmo_view
from stakeholders import scores
from stakeholders.models import Survey, SurveyStatus
from stakeholders.selectors import Quadrant


def _choice(request, name, queryset):
    """The object chosen in a filter, from the PMO's own rows only."""
    pk = whole_number(request.GET.get(name))
    return queryset.filter(pk=pk).first() if pk is not None else None


@pmo_view()
@require_GET
def dashboard(request, pmo):
    """The PMO's home: which P needs attention, and which stakeholders are at risk."""
    record_visit(request.membership)
    surveys_with_answers = (
        Survey.objects.filter(pmo=pmo).exclude(status=SurveyStatus.DRAFT).order_by("-launched_at", "-pk")
    )
    survey = _choice(request, "survey", surveys_with_answers) or insights.default_survey(pmo)
    segment = _choice(request, "segment", pmo.segments.all())
    segment_id = segment.pk if segment else None
    segment_hidden = bool(survey and segment and not insights.segment_is_shown(survey, segment.pk))

    stakeholders = pmo.stakeholders.filter(is_active=True)
    if segment:
        stakeholders = stakeholders.filter(segment=segment)
    context = {
        "pmo": pmo,
        "surveys": surveys_with_answers,
        "survey": survey,
        "segments": pmo.segments.all(),
        "segment": segment,
        "segment_hidden": segment_hidden,
        "min_group_size": settings.MIN_GROUP_SIZE,
        "stakeholder_count": stakeholders.count(),
        "at_risk": insights.at_risk_stakeholders(pmo, segment_id),
        "maturity": insights.maturity_distribution(stakeholders),
        "grid": insights.grid_by_maturity(stakeholders),
        "stages": list(MaturityStage),
        "has_self_assessment": SelfAssessment.objects.filter(pmo=pmo).exists(),
        **_register_figures(pmo),
    }
    context["quadrants"] = [(q, sum(context["grid"][q].values())) for q in Quadrant]
    context["nobody_assessed"] = context["maturity"][None] == context["stakeholder_count"]
    if survey and not segment_hidden:
        element_rows = insights.element_insights(pmo, survey, segment_id)
        responses = survey.responses.all()
        if segment:
            responses = responses.filter(segment=segment)
        nps = scores.nps_summary(responses)
        sent = insights.invitations_sent(survey, segment_id)
        response_count = responses.count()
        context.update(
            elements=element_rows,
            ranking=insights.ranked_by_priority(element_rows),
            nps=nps,
            responses=response_count,
            sent=sent,
            response_rate=(response_count / sent * 100) if sent else None,
            trend=insights.perception_trend(pmo, segment_id),
        )
        context["chart_data"] = _chart_data(element_rows, context["trend"])
    return render(request, "agenda/dashboard.html", context)


def _register_figures(pmo) -> dict:
    totals = pmo.stakeholders.aggregate(
        active=Count("id", filter=Q(is_active=True)),
        inactive=Count("id", filter=Q(is_active=False)),
        without_email=Count("id", filter=Q(is_active=True, email="")),
        without_owner=Count("id", filter=Q(is_active=True, owner__isnull=True)),
    )
    return {
        "totals": totals,
        "member_count": pmo.memberships.count(),
        "segment_count": pmo.segments.count(),
    }


def _round(value):
    return None if value is None else round(value, 1)


def _chart_data(element_rows, trend):
    return {
        "labels": [row.element.label for row in element_rows],
        "perception": [_round(row.perception) for row in element_rows],
        "self": [_round(row.self_score) for row in element_rows],
        "ipa": [
            {"label": row.element.label, "x": _round(row.perception), "y": _round(row.importance)}
            for row in element_rows
            if row.perception is not None and row.importance is not None
        ],
        "trend": {
            "labels": [point.title for point in trend],
            "series": [
                {"label": element.label, "data": [_round(point.perception.get(element)) for point in trend]}
                for element in Element
            ],
        },
    }
