"""The service catalogue's pages: every service at once, each service's own page, the forms
that add, change and delete a service (through stakeholders/catalogue.py), and the PMO's
words for the offering levels."""

from collections import Counter
from copy import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from agenda.catalogue.forms import OfferingLevelsForm, ServiceForm
from agenda.figures.services import calls_for, catalogue_figures, service_segment_figures, service_trend
from agenda.models.plan import OPEN_STATUSES, Action
from pmo5p.domain import Element, OfferingLevel
from pmo5p.forms import add_refusal
from pmo5p.models import Role
from pmo5p.tenancy import pmo_view
from stakeholders import catalogue
from stakeholders.models import ServiceStatus
from stakeholders.surveys import anonymity


def _services(pmo):
    return pmo.services.select_related("owner__user").prefetch_related("segments")


def _path(service, words: dict) -> list[dict]:
    """The offering levels as the service's path: where it is, where it is heading, and the
    PMO's words for each level."""
    low, high = sorted((service.level_now, service.level_target))
    return [
        {
            "level": level,
            "words": words[level],
            "now": level == service.level_now,
            "target": level == service.level_target,
            "on_path": low <= level <= high,
        }
        for level in OfferingLevel
    ]


# A PMO has tens of services; a catalogue of hundreds (an import, a large organisation's shared
# services) is read a page at a time, as the register is: each row carries its figures, its path
# and its open actions, and 1,000 of them at once made a page of seconds and megabytes. The
# summary above the table (how many, by status, how many rising) counts the whole catalogue.
SERVICES_PER_PAGE = 50
RISING = Q(level_target__gt=F("level_now"))


@pmo_view()
@require_GET
def service_list(request, pmo):
    open_actions = (
        Action.objects.filter(status__in=OPEN_STATUSES).select_related("owner__user").order_by("due_on", "pk")
    )
    services = _services(pmo).prefetch_related(Prefetch("actions", open_actions, to_attr="open_actions"))
    page = Paginator(services, SERVICES_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    figures = catalogue_figures(pmo, shown) if shown else {}
    # The whole catalogue's summary in one query: how many of each status, how many rising.
    counts = pmo.services.order_by().values("status").annotate(n=Count("id"), rising=Count("id", filter=RISING))
    statuses = Counter({row["status"]: row["n"] for row in counts})
    return render(
        request,
        "agenda/catalogue/service_list.html",
        {
            "pmo": pmo,
            "page": page,
            # Each service with its figures and what they call for (calls_for: the suggestions'
            # rules), so that the catalogue says which few know and which to improve next.
            "rows": [
                (service, f, calls_for(f, service.level_now) if f else [])
                for service in shown
                for f in [figures.get(service.pk)]
            ],
            "total": page.paginator.count,
            "statuses": [(status, statuses[status]) for status in ServiceStatus if statuses[status]],
            "levels": pmo.offering_level_descriptions(),
            "rising": sum(row["rising"] for row in counts),
            "min_group_size": anonymity.min_group_size(),
        },
    )


def _service_figures(pmo, service) -> dict:
    """The service's figures for its page: those of the survey the catalogue reads it from
    (the survey of its figures per segment), its trend across surveys, and each survey's title."""
    trend = service_trend(service)
    segments = service_segment_figures(service) if trend else []
    chosen = segments[0][1].survey_id if segments else None
    titles = dict(pmo.surveys.filter(pk__in={f.survey_id for f in trend}).values_list("pk", "title")) if trend else {}
    latest = next((f for f in reversed(trend) if f.survey_id == chosen), None)
    return {
        "latest": latest,
        "latest_title": titles.get(latest.survey_id, "") if latest else "",
        "trend": [(titles.get(f.survey_id, ""), f) for f in trend],
        "segment_figures": segments,
        "min_group_size": anonymity.min_group_size(),
    }


@pmo_view()
@require_GET
def service_detail(request, pmo, service_id):
    service = get_object_or_404(_services(pmo), pk=service_id)
    actions = list(service.actions.select_related("owner__user").order_by("due_on", "pk"))
    words = pmo.offering_level_descriptions()
    return render(
        request,
        "agenda/catalogue/service_detail.html",
        {
            "pmo": pmo,
            "service": service,
            **_service_figures(pmo, service),
            "path": _path(service, words),
            "elements": [Element(value) for value in service.elements if value in Element.values],
            "open_actions": [action for action in actions if action.is_open],
            "closed_actions": [action for action in actions if not action.is_open],
            "events": service.events.select_related("author"),
            "surveys_asked": service.pmo.surveys.filter(survey_services__service=service).distinct().count(),
        },
    )


@pmo_view(role=Role.MEMBER)
def service_create(request, pmo):
    return _service_form(request, pmo, None)


@pmo_view(role=Role.MEMBER)
def service_edit(request, pmo, service_id):
    return _service_form(request, pmo, get_object_or_404(pmo.services, pk=service_id))


def _service_form(request, pmo, service):
    form = ServiceForm(request.POST or None, instance=copy(service) if service else None, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        try:
            if service is None:
                saved = catalogue.create_service(
                    pmo, request.user, form.values, confirm_lower_target=form.confirmations["confirm_lower_target"]
                )
            else:
                saved = catalogue.update_service(copy(service), request.user, form.values, **form.confirmations)
        except ValidationError as refusal:
            add_refusal(form, refusal)
            form.offer_confirmations(refusal)
        else:
            messages.success(request, f"Service “{saved.name}” is saved.")
            return redirect("service_detail", slug=pmo.slug, service_id=saved.pk)
    return render(
        request,
        "agenda/catalogue/service_form.html",
        {"pmo": pmo, "form": form, "service": service, "levels": pmo.offering_level_descriptions()},
    )


@pmo_view(role=Role.MEMBER)
def service_delete(request, pmo, service_id):
    service = get_object_or_404(pmo.services, pk=service_id)
    if request.method == "POST":
        catalogue.delete_service(service)
        messages.success(request, f"Service “{service.name}” is deleted.")
        return redirect("service_list", slug=pmo.slug)
    return render(
        request,
        "agenda/catalogue/service_delete.html",
        {"pmo": pmo, "service": service, "effects": catalogue.deletion_effects(service)},
    )


@pmo_view(role=Role.MEMBER)
def offering_levels(request, pmo):
    form = OfferingLevelsForm(request.POST or None, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.set_offering_levels(pmo, form.words)
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "The offering levels' words are saved.")
            return redirect("service_list", slug=pmo.slug)
    return render(request, "agenda/catalogue/offering_levels.html", {"pmo": pmo, "form": form})
