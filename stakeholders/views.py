from copy import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from pmo5p.forms import add_refusal
from pmo5p.models import Role
from pmo5p.tenancy import pmo_view
from stakeholders import register
from stakeholders.engagement import engagement_of, with_engagement
from stakeholders.filters import StakeholderFilter
from stakeholders.forms import SegmentForm, StakeholderForm
from stakeholders.selectors import Quadrant, power_interest_grid
from stakeholders.timeline import timeline

TIMELINE_LENGTH = 30


def _stakeholders(pmo):
    return pmo.stakeholders.select_related("segment", "owner__user")


@pmo_view()
@require_GET
def stakeholder_list(request, pmo):
    today = timezone.localdate()
    stakeholders = with_engagement(_stakeholders(pmo), pmo, today)
    filterset = StakeholderFilter(request.GET or None, queryset=stakeholders, pmo=pmo, today=today)
    page = Paginator(filterset.qs, settings.STAKEHOLDERS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for stakeholder in page.object_list:
        stakeholder.engagement = engagement_of(stakeholder, today)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "stakeholders/stakeholder_list.html",
        {
            "pmo": pmo,
            "filter": filterset,
            "page": page,
            "query_without_page": query.urlencode(),
            "is_filtered": any(v for k, v in request.GET.items() if k not in ("page", "sort")),
            "register_is_empty": not page.paginator.count and not pmo.stakeholders.exists(),
            "today": today,
        },
    )


# The latest follow-up cases on a stakeholder's page; the case list has them all.
CASES_SHOWN = 5


@pmo_view()
@require_GET
def stakeholder_detail(request, pmo, stakeholder_id):
    today = timezone.localdate()
    stakeholder = get_object_or_404(with_engagement(_stakeholders(pmo), pmo, today), pk=stakeholder_id)
    entries = timeline(stakeholder, limit=TIMELINE_LENGTH)
    return render(
        request,
        "stakeholders/stakeholder_detail.html",
        {
            "pmo": pmo,
            "stakeholder": stakeholder,
            "quadrant": Quadrant(stakeholder.quadrant),
            "timeline": entries[:TIMELINE_LENGTH],
            "maturity": next((e for e in entries if e.kind == "maturity"), None),
            "engagement": engagement_of(stakeholder, today),
            # Their follow-up cases (issue 14), the latest first: one query, shown only if any.
            "cases": stakeholder.follow_up_cases.select_related("survey").order_by("-opened_at", "-pk")[:CASES_SHOWN],
            "today": today,
        },
    )


@pmo_view(role=Role.MEMBER)
def stakeholder_create(request, pmo):
    form = StakeholderForm(request.POST or None, pmo=pmo, initial={"segment": request.GET.get("segment")})
    if request.method == "POST" and form.is_valid():
        try:
            stakeholder = register.create_stakeholder(pmo, form.cleaned_data)
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"{stakeholder.name} is on the register.")
            if "save_and_add" in request.POST:
                return redirect("stakeholder_create", slug=pmo.slug)
            return redirect("stakeholder_detail", slug=pmo.slug, stakeholder_id=stakeholder.pk)
    return render(request, "stakeholders/stakeholder_form.html", {"pmo": pmo, "form": form})


@pmo_view(role=Role.MEMBER)
def stakeholder_edit(request, pmo, stakeholder_id):
    stakeholder = get_object_or_404(pmo.stakeholders, pk=stakeholder_id)
    # The form and the write edit copies: a refused edit must not rename the page's heading and breadcrumb.
    form = StakeholderForm(request.POST or None, instance=copy(stakeholder), pmo=pmo)
    if request.method == "POST" and form.is_valid():
        try:
            saved = register.update_stakeholder(copy(stakeholder), form.cleaned_data)
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"{saved.name} is saved.")
            return redirect("stakeholder_detail", slug=pmo.slug, stakeholder_id=saved.pk)
    return render(request, "stakeholders/stakeholder_form.html", {"pmo": pmo, "form": form, "stakeholder": stakeholder})


@pmo_view(role=Role.MEMBER)
@require_POST
def stakeholder_set_active(request, pmo, stakeholder_id):
    stakeholder = get_object_or_404(pmo.stakeholders, pk=stakeholder_id)
    register.update_stakeholder(stakeholder, {"is_active": request.POST.get("active") == "true"})
    if stakeholder.is_active:
        messages.success(request, f"{stakeholder.name} is active again.")
    else:
        messages.success(request, f"{stakeholder.name} is deactivated: kept on record, left out of surveys.")
    return redirect("stakeholder_detail", slug=pmo.slug, stakeholder_id=stakeholder.pk)


@pmo_view(role=Role.MEMBER)
def stakeholder_delete(request, pmo, stakeholder_id):
    stakeholder = get_object_or_404(pmo.stakeholders, pk=stakeholder_id)
    if request.method == "POST":
        register.delete_stakeholder(stakeholder)
        messages.success(request, f"{stakeholder.name} is deleted from the register.")
        return redirect("stakeholder_list", slug=pmo.slug)
    return render(request, "stakeholders/stakeholder_delete.html", {"pmo": pmo, "stakeholder": stakeholder})


@pmo_view()
@require_GET
def grid(request, pmo):
    today = timezone.localdate()
    quadrants = power_interest_grid(pmo, annotate=lambda stakeholders: with_engagement(stakeholders, pmo, today))
    return render(
        request,
        "stakeholders/grid.html",
        {
            "pmo": pmo,
            # Laid out as the grid is drawn: high influence on top, high interest on the right.
            "rows": [
                [
                    (Quadrant.KEEP_SATISFIED, quadrants[Quadrant.KEEP_SATISFIED]),
                    (Quadrant.MANAGE_CLOSELY, quadrants[Quadrant.MANAGE_CLOSELY]),
                ],
                [
                    (Quadrant.MONITOR, quadrants[Quadrant.MONITOR]),
                    (Quadrant.KEEP_INFORMED, quadrants[Quadrant.KEEP_INFORMED]),
                ],
            ],
            "total": sum(len(people) for people in quadrants.values()),
        },
    )


# Segments --------------------------------------------------------------------------


@pmo_view()
@require_GET
def segment_list(request, pmo):
    segments = pmo.segments.annotate(
        active_count=Count("stakeholders", filter=Q(stakeholders__is_active=True)),
        total_count=Count("stakeholders"),
    )
    unsegmented = pmo.stakeholders.filter(segment__isnull=True, is_active=True).count()
    return render(
        request, "stakeholders/segment_list.html", {"pmo": pmo, "segments": segments, "unsegmented": unsegmented}
    )


@pmo_view(role=Role.MEMBER)
def segment_create(request, pmo):
    return _segment_form(request, pmo, None)


@pmo_view(role=Role.MEMBER)
def segment_edit(request, pmo, segment_id):
    return _segment_form(request, pmo, get_object_or_404(pmo.segments, pk=segment_id))


def _segment_form(request, pmo, segment):
    form = SegmentForm(request.POST or None, instance=copy(segment) if segment else None, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        try:
            if segment is None:
                saved = register.create_segment(pmo, form.cleaned_data)
            else:
                saved = register.update_segment(copy(segment), form.cleaned_data)
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, f"Segment “{saved.name}” is saved.")
            return redirect("segment_list", slug=pmo.slug)
    return render(request, "stakeholders/segment_form.html", {"pmo": pmo, "form": form, "segment": segment})


@pmo_view(role=Role.MEMBER)
def segment_delete(request, pmo, segment_id):
    segment = get_object_or_404(pmo.segments.annotate(member_count=Count("stakeholders")), pk=segment_id)
    if request.method == "POST":
        segment.delete()
        messages.success(request, f"Segment “{segment.name}” is deleted; its stakeholders are kept, without a segment.")
        return redirect("segment_list", slug=pmo.slug)
    return render(request, "stakeholders/segment_delete.html", {"pmo": pmo, "segment": segment})
