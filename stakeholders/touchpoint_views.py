"""The communication plan's pages: touchpoints, their dates, and marking a date done or
cancelled. The rules are stakeholders/touchpoints.py's; these pages read the input and show
the refusals."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from pmo5p.domain import ELEMENT_AIMS, Element
from pmo5p.forms import add_refusal
from pmo5p.models import Role
from pmo5p.params import whole_number
from pmo5p.tenancy import pmo_view
from stakeholders import touchpoints
from stakeholders.models import OccurrenceStatus, Touchpoint, TouchpointOccurrence
from stakeholders.touchpoint_forms import OccurrenceDoneForm, TouchpointForm

PER_PAGE = 25
# Names shown for a touchpoint's stakeholders in a list; the rest are counted.
NAMES_SHOWN = 3  # _row.html counts "and N more" past these three


def _occurrences(pmo):
    return (
        TouchpointOccurrence.objects.filter(pmo=pmo)
        .select_related("touchpoint__owner__user", "touchpoint__segment", "interaction")
        .prefetch_related("touchpoint__stakeholders")
    )


def _filtered(pmo, occurrences, params) -> tuple:
    """The list's filters (owner, segment, P), read from the query; the values kept."""
    chosen = {}
    owner = whole_number(params.get("owner"))
    if owner is not None:
        occurrences = occurrences.filter(touchpoint__owner_id=owner)
        chosen["owner"] = owner
    segment = whole_number(params.get("segment"))
    if segment is not None:
        # A segment's touchpoints: for the segment, or for named stakeholders in it.
        for_segment = (
            Touchpoint.objects.filter(pmo=pmo, segment_id=segment)
            .values("pk")
            .union(
                Touchpoint.stakeholders.through.objects.filter(
                    touchpoint__pmo=pmo, stakeholder__segment_id=segment
                ).values("touchpoint_id")
            )
        )
        occurrences = occurrences.filter(touchpoint_id__in=for_segment)
        chosen["segment"] = segment
    element = params.get("element", "")
    if element in Element.values:
        occurrences = occurrences.filter(touchpoint__element=element)
        chosen["element"] = element
    return occurrences, chosen


@pmo_view()
@require_GET
def touchpoint_list(request, pmo):
    today = timezone.localdate()
    # This week and next: to the Sunday of next week.
    horizon = today + timedelta(days=13 - today.weekday())
    occurrences, chosen = _filtered(pmo, _occurrences(pmo), request.GET)
    planned = occurrences.filter(status=OccurrenceStatus.PLANNED)
    sections = [
        (
            "missed",
            "Missed",
            "Planned dates that have passed: mark each done, or cancel it with a reason.",
            planned.filter(on__lt=today).order_by("on", "pk"),
        ),
        (
            "soon",
            "This week and next",
            "",
            occurrences.filter(on__gte=today, on__lte=horizon).order_by("on", "touchpoint__at_time", "pk"),
        ),
        ("later", "Later", "", planned.filter(on__gt=horizon).order_by("on", "pk")),
    ]
    query = request.GET.copy()
    pages = []
    for key, title, hint, rows in sections:
        param = f"{key}_page"
        rest = query.copy()
        rest.pop(param, None)
        page = Paginator(rows, PER_PAGE).get_page(request.GET.get(param))
        pages.append(
            {"key": key, "title": title, "hint": hint, "page": page, "param": param, "query": rest.urlencode()}
        )
    return render(
        request,
        "stakeholders/touchpoints/list.html",
        {
            "pmo": pmo,
            "sections": pages,
            "today": today,
            "chosen": chosen,
            "any_touchpoint": pmo.touchpoints.exists(),
            "members": pmo.memberships.select_related("user").order_by("user__name"),
            "segments": pmo.segments.order_by("name"),
            "elements": [(element.value, element.label, ELEMENT_AIMS[element]) for element in Element],
            "names_shown": NAMES_SHOWN,
        },
    )


def _touchpoint_form(request, pmo, touchpoint, initial):
    form = TouchpointForm(request.POST or None, initial=initial, pmo=pmo)
    if request.method == "POST" and "find_stakeholders" in request.POST:
        form.show_unchecked()
    elif request.method == "POST" and form.is_valid():
        try:
            if touchpoint is None:
                touchpoint = touchpoints.create_touchpoint(pmo, request.user, form.values())
                messages.success(request, f"Touchpoint planned: {touchpoint.occurrences.count()} date(s).")
            else:
                touchpoints.update_touchpoint(pmo, request.user, touchpoint, form.values())
                messages.success(request, "Touchpoint saved; its dates to come follow the new plan.")
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            return redirect("touchpoint_detail", slug=pmo.slug, touchpoint_id=touchpoint.pk)
    return render(
        request,
        "stakeholders/touchpoints/form.html",
        {"pmo": pmo, "form": form, "touchpoint": touchpoint, "aims": [(e.label, ELEMENT_AIMS[e]) for e in Element]},
    )


@pmo_view(role=Role.MEMBER)
def touchpoint_create(request, pmo):
    initial = {"owner": request.membership.pk, "starts_on": timezone.localdate()}
    stakeholder_id = whole_number(request.GET.get("stakeholder"))
    if stakeholder_id is not None and pmo.stakeholders.filter(pk=stakeholder_id).exists():
        initial["stakeholders"] = [stakeholder_id]
    return _touchpoint_form(request, pmo, None, initial)


@pmo_view(role=Role.MEMBER)
def touchpoint_edit(request, pmo, touchpoint_id):
    touchpoint = get_object_or_404(pmo.touchpoints, pk=touchpoint_id)
    return _touchpoint_form(request, pmo, touchpoint, TouchpointForm.initial_of(touchpoint))


@pmo_view()
@require_GET
def touchpoint_detail(request, pmo, touchpoint_id):
    touchpoint = get_object_or_404(
        pmo.touchpoints.select_related("owner__user", "segment", "created_by"), pk=touchpoint_id
    )
    occurrences = list(touchpoint.occurrences.select_related("interaction", "closed_by"))
    today = timezone.localdate()
    return render(
        request,
        "stakeholders/touchpoints/detail.html",
        {
            "pmo": pmo,
            "touchpoint": touchpoint,
            "aim": ELEMENT_AIMS[Element(touchpoint.element)],
            "stakeholders": touchpoint.stakeholders.select_related("segment").order_by("name"),
            "occurrences": occurrences,
            "today": today,
            "counts": {status: sum(1 for o in occurrences if o.status == status) for status in OccurrenceStatus.values},
            "missed": sum(1 for o in occurrences if o.status == OccurrenceStatus.PLANNED and o.on < today),
        },
    )


@pmo_view(role=Role.MEMBER)
def touchpoint_delete(request, pmo, touchpoint_id):
    touchpoint = get_object_or_404(pmo.touchpoints, pk=touchpoint_id)
    if request.method == "POST":
        recorded = touchpoints.delete_touchpoint(pmo, request.user, touchpoint)
        kept = f" The {recorded} interaction(s) it recorded stay in the register." if recorded else ""
        messages.success(request, f"Touchpoint deleted with its dates.{kept}")
        return redirect("touchpoint_list", slug=pmo.slug)
    return render(
        request,
        "stakeholders/touchpoints/delete.html",
        {
            "pmo": pmo,
            "touchpoint": touchpoint,
            "done": touchpoint.occurrences.filter(status=OccurrenceStatus.DONE).count(),
            "dates": touchpoint.occurrences.count(),
        },
    )


def _occurrence(pmo, occurrence_id):
    return get_object_or_404(
        TouchpointOccurrence.objects.filter(pmo=pmo).select_related("touchpoint__segment", "touchpoint__owner__user"),
        pk=occurrence_id,
    )


def _closed(request, pmo, occurrence) -> bool:
    """A date already done or cancelled: say so and go back to its touchpoint."""
    if occurrence.status == OccurrenceStatus.PLANNED:
        return False
    word = touchpoints.ALREADY_DONE if occurrence.status == OccurrenceStatus.DONE else touchpoints.ALREADY_CANCELLED
    messages.info(request, word)
    return True


@pmo_view(role=Role.MEMBER)
def occurrence_done(request, pmo, occurrence_id):
    occurrence = _occurrence(pmo, occurrence_id)
    back = redirect("touchpoint_detail", slug=pmo.slug, touchpoint_id=occurrence.touchpoint_id)
    if _closed(request, pmo, occurrence):
        return back
    today = timezone.localdate()
    initial = touchpoints.interaction_values(occurrence, today, use_today=request.GET.get("today") == "1")
    initial["stakeholders"] = [stakeholder.pk for stakeholder in initial["stakeholders"]]
    form = OccurrenceDoneForm(request.POST or None, initial=initial, pmo=pmo)
    if request.method == "POST" and "find_stakeholders" in request.POST:
        form.show_unchecked()
    elif request.method == "POST" and form.is_valid():
        try:
            touchpoints.mark_done(pmo, request.user, occurrence, form.values())
        except touchpoints.RuleViolation as refusal:
            if refusal.field is not None:
                add_refusal(form, refusal)
            else:
                messages.error(request, refusal.message)
                return back
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Done: the interaction is recorded.")
            return back
    return render(
        request,
        "stakeholders/touchpoints/done.html",
        {"pmo": pmo, "occurrence": occurrence, "touchpoint": occurrence.touchpoint, "form": form, "today": today},
    )


class CancelForm(forms.Form):
    # Required by the write path, which words the refusal; the form only reads it.
    reason = forms.CharField(required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


@pmo_view(role=Role.MEMBER)
def occurrence_cancel(request, pmo, occurrence_id):
    occurrence = _occurrence(pmo, occurrence_id)
    back = redirect("touchpoint_detail", slug=pmo.slug, touchpoint_id=occurrence.touchpoint_id)
    if _closed(request, pmo, occurrence):
        return back
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            touchpoints.cancel_occurrence(pmo, request.user, occurrence, form.cleaned_data["reason"])
        except touchpoints.RuleViolation as refusal:
            if refusal.field is None:
                messages.error(request, refusal.message)
                return back
            add_refusal(form, refusal)
        else:
            messages.success(request, f"{occurrence.on:%-d %B %Y} cancelled.")
            return back
    return render(
        request,
        "stakeholders/touchpoints/cancel.html",
        {"pmo": pmo, "occurrence": occurrence, "touchpoint": occurrence.touchpoint, "form": form},
    )
