"""The assessments page: the PMO's self-assessment and each stakeholder's maturity stage."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agenda.assessments import services as assessments
from agenda.assessments.forms import MaturityForm, SelfAssessmentForm
from agenda.figures import insights
from agenda.models import SelfAssessment
from pmo5p.domain import Element, MaturityStage
from pmo5p.models import Role
from pmo5p.tenancy import pmo_view


@pmo_view()
@require_GET
def assessments_page(request, pmo):
    current = insights.latest_self_assessments(pmo)
    history = SelfAssessment.objects.filter(pmo=pmo).select_related("author")[:50]
    by_segment = (
        insights.with_current_stage(pmo.stakeholders.filter(is_active=True))
        .values("segment_id", "segment__name", "current_stage")
        .annotate(n=Count("id"))
        .order_by("segment__name")
    )
    segments: dict = {}
    for row in by_segment:
        entry = segments.setdefault(row["segment_id"], {"name": row["segment__name"] or "No segment", "counts": {}})
        entry["counts"][row["current_stage"]] = row["n"]
    stage_keys = [stage.value for stage in MaturityStage] + [None]
    maturity_rows = [
        {
            "name": s["name"],
            "segment_id": key,
            "counts": [s["counts"].get(k, 0) for k in stage_keys],
            "total": sum(s["counts"].values()),
        }
        for key, s in segments.items()
    ]
    return render(
        request,
        "agenda/assessments.html",
        {
            "pmo": pmo,
            "current": [(element, current.get(element)) for element in Element],
            "history": history,
            "maturity_rows": maturity_rows,
            "stages": list(MaturityStage),
            "unassessed_influential": insights.with_current_stage(
                pmo.stakeholders.filter(is_active=True, influence__gte=insights.AT_RISK_INFLUENCE)
            )
            .filter(current_stage__isnull=True)
            .order_by("-influence", "name")[:10],
        },
    )


@pmo_view(role=Role.MEMBER)
def self_assessment_new(request, pmo):
    previous = insights.latest_self_assessments(pmo)
    form = SelfAssessmentForm(request.POST or None, previous=previous)
    if request.method == "POST" and form.is_valid():
        assessments.record_self_assessment(
            pmo=pmo, author=request.user, assessed_on=form.cleaned_data["assessed_on"], ratings=form.ratings()
        )
        messages.success(request, "Self-assessment recorded. The dashboard now compares it with what stakeholders say.")
        return redirect("assessments", slug=pmo.slug)
    return render(request, "agenda/self_assessment_form.html", {"pmo": pmo, "form": form, "previous": previous})


@pmo_view(role=Role.MEMBER)
def maturity_new(request, pmo, stakeholder_id):
    stakeholder = get_object_or_404(pmo.stakeholders.select_related("segment"), pk=stakeholder_id)
    suggestion = assessments.suggest_stage(stakeholder)
    form = MaturityForm(request.POST or None, initial={"stage": suggestion.stage, "recorded_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        assessments.record_maturity(pmo=pmo, stakeholder=stakeholder, author=request.user, **form.cleaned_data)
        messages.success(request, f"{stakeholder.name}: {MaturityStage(form.cleaned_data['stage']).label} recorded.")
        return redirect("stakeholder_detail", slug=pmo.slug, stakeholder_id=stakeholder.pk)
    return render(
        request,
        "agenda/maturity_form.html",
        {"pmo": pmo, "stakeholder": stakeholder, "form": form, "suggestion": suggestion},
    )
