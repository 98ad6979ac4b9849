"""The PMO's home page: which P needs attention, and which stakeholders are at risk."""

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agenda.figures import elements, engagement, follow_up, history, relationships
from agenda.figures import services as service_figures
from agenda.figures import survey as survey_figures
from agenda.figures.present import Kind, rounded
from agenda.models import SelfAssessment
from pmo5p.domain import Element, MaturityStage
from pmo5p.params import whole_number
from pmo5p.services import record_visit
from pmo5p.tenancy import pmo_view
from stakeholders.models import Survey, SurveyStatus
from stakeholders.selectors import Quadrant
from stakeholders.surveys import anonymity

# The most influential at-risk stakeholders shown at first; the rest behind "and N more", so
# that a large PMO's home page stays small. The report keeps its own list (docs/figures.md).
AT_RISK_SHOWN = 20
# The relationships furthest below their target shown in the engagement card.
DRIFTED_SHOWN = 5


def choice(request, name, queryset):
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
    survey = choice(request, "survey", surveys_with_answers) or survey_figures.default_survey(pmo)
    segment = choice(request, "segment", pmo.segments.all())
    segment_id = segment.pk if segment else None
    # The survey's participation, for everyone or for the chosen segment (survey.participation_by_segment).
    taking_part = survey_figures.participation(survey, segment_id) if survey else None
    segment_hidden = bool(taking_part and segment and not anonymity.group_is_shown(taking_part.responses))

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
        "min_group_size": anonymity.min_group_size(),
        **_at_risk(request, pmo, segment_id),
        **_engagement(pmo, segment_id),
        "follow_up": follow_up.follow_up_figures(pmo, segment_id=segment_id),
        "follow_up_days": follow_up.DASHBOARD_DAYS,
        "grid": relationships.grid_by_maturity(stakeholders),
        "stages": list(MaturityStage),
        "has_self_assessment": SelfAssessment.objects.filter(pmo=pmo).exists(),
        # The catalogue's, whatever the filters: each service from its latest survey (docs/services.md).
        "services_to_work_on": service_figures.services_to_work_on(pmo),
        **_register_figures(pmo),
    }
    # The distribution from the grid's counts: one query on every stakeholder's latest stage, not two.
    context["maturity"] = relationships.distribution_of_grid(context["grid"])
    context["quadrants"] = [(q, sum(context["grid"][q].values())) for q in Quadrant]
    # The grid counts each of these stakeholders once: their number without a COUNT of its own.
    context["stakeholder_count"] = sum(count for _, count in context["quadrants"])
    context["nobody_assessed"] = context["maturity"][None] == context["stakeholder_count"]
    if survey and not segment_hidden:
        element_rows = elements.element_insights(pmo, survey, segment_id)
        context.update(
            elements=element_rows,
            ranking=elements.ranked_by_priority(element_rows),
            nps=survey_figures.nps(survey_figures.survey_responses(survey, segment_id)),
            participation=taking_part,
            trend=history.perception_trend(pmo, segment_id),
        )
        context["chart_data"] = _chart_data(element_rows, context["trend"])
    return render(request, "agenda/dashboard.html", context)


def _at_risk(request, pmo, segment_id) -> dict:
    """The at-risk list, most influential first: the first AT_RISK_SHOWN, or all of them
    with ?at_risk=all (the "and N more" link, keeping the page's other filters)."""
    limit = None if request.GET.get("at_risk") == "all" else AT_RISK_SHOWN
    shown, count = relationships.at_risk_page(pmo, segment_id, limit=limit)
    return {"at_risk": shown, "at_risk_count": count, "at_risk_more": count - len(shown)}


def _engagement(pmo, segment_id) -> dict:
    """The engagement card (docs/figures.md, "Engagement"): the index of the chosen segment or
    of everyone, from its rows per segment (their sum: no query of its own), its trend and the
    relationships furthest below target. Three queries, whatever the size."""
    today = timezone.localdate()
    by_segment = engagement.engagement_by_segment(pmo, segment_id, today=today)
    trend = engagement.engagement_trend(pmo, segment_id, today=today)
    drifted = engagement.drifted(pmo, segment_id, today=today, limit=DRIFTED_SHOWN)
    return {
        "engagement": engagement.total_of(by_segment),
        "engagement_by_segment": by_segment,
        "engagement_trend": trend,
        # A line worth drawing: someone was assessed at one of its dates at least.
        "engagement_trend_shown": any(point.counts.not_assessed < point.counts.total for point in trend),
        "drifted": drifted,
        "engagement_chart": {
            "labels": ["Today" if point.is_today else f"{point.day:%b %Y}" for point in trend],
            "index": [rounded(point.counts.index, Kind.PERCENT) for point in trend],
        },
    }


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


def _chart_data(element_rows, trend):
    def score(value):
        return rounded(value, Kind.SCORE)

    return {
        "labels": [row.element.label for row in element_rows],
        "perception": [score(row.perception) for row in element_rows],
        "self": [score(row.self_score) for row in element_rows],
        "ipa": [
            {"label": row.element.label, "x": score(row.perception), "y": score(row.importance)}
            for row in element_rows
            if row.perception is not None and row.importance is not None
        ],
        "trend": {
            "labels": [point.title for point in trend],
            "series": [
                {"label": element.label, "data": [score(point.perception.get(element)) for point in trend]}
                for element in Element
            ],
        },
    }
