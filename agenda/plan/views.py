"""The agenda: actions, suggestions and the cost-of-perception incident log."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agenda.models import Action, ActionStatus
from agenda.models.plan import OPEN_STATUSES
from agenda.plan import services as plan
from agenda.plan import suggestions
from agenda.plan.forms import ActionForm, IncidentForm
from pmo5p.domain import Element, Problem
from pmo5p.forms import save_form
from pmo5p.models import Role
from pmo5p.params import whole_number
from pmo5p.rules import RuleViolation
from pmo5p.tenancy import pmo_view

SUGGESTIONS_PER_PAGE = 50


def _quarter(day) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


@pmo_view()
@require_GET
def action_list(request, pmo):
    view = request.GET.get("view", "element")
    actions = list(
        Action.objects.filter(pmo=pmo)
        .select_related("owner__user", "service")
        .prefetch_related("target_segments")
        .order_by("due_on", "pk")
    )
    today = timezone.localdate()
    groups: dict = defaultdict(list)
    if view == "status":
        for action in actions:
            groups[ActionStatus(action.status)].append(action)
        ordered = [(status.label, groups.get(status, [])) for status in ActionStatus]
    elif view == "quarter":
        for action in actions:
            groups[_quarter(action.due_on)].append(action)
        ordered = sorted(groups.items())
    else:
        view = "element"
        for action in actions:
            groups[Element(action.element)].append(action)
        ordered = [(element.label, groups.get(element, [])) for element in Element]
    counts = {
        "open": sum(1 for a in actions if a.status in OPEN_STATUSES),
        "overdue": sum(1 for a in actions if a.status in OPEN_STATUSES and a.due_on < today),
        "done": sum(1 for a in actions if a.status == ActionStatus.DONE),
    }
    return render(
        request,
        "agenda/action_list.html",
        {"pmo": pmo, "groups": ordered, "view": view, "counts": counts, "today": today, "statuses": list(ActionStatus)},
    )


@pmo_view(role=Role.MEMBER)
def action_create(request, pmo):
    initial = {"due_on": plan.default_due_on(), "owner": request.membership.pk}
    # "Plan an action for this service", from a service's page.
    service = request.GET.get("service", "")
    if service.isdigit() and (found := pmo.services.filter(pk=service).first()):
        initial.update(service=found.pk, element=(found.elements or [""])[0])
    # "Plan an action" on a follow-up case's page: on its P at the root, for its stakeholder.
    case = whole_number(request.GET.get("follow_up_case"))
    if case is not None and (found := pmo.follow_up_cases.filter(pk=case).first()):
        initial.update(follow_up_case=found.pk, element=found.root_element or found.suggested_element)
        if found.stakeholder_id:
            initial.update(target_stakeholders=[found.stakeholder_id])
        elif found.segment_id:
            initial.update(target_segments=[found.segment_id])
    return _action_form(request, pmo, None, initial)


@pmo_view(role=Role.MEMBER)
def action_edit(request, pmo, action_id):
    return _action_form(request, pmo, get_object_or_404(pmo.actions, pk=action_id), {})


def _action_form(request, pmo, action, initial):
    form = ActionForm(request.POST or None, instance=action, initial=initial, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        plan.stamp_completion(form.instance)
        saved = save_form(form, created_by=request.user)
        messages.success(request, f"“{saved.title}” saved.")
        if saved.follow_up_case_id:
            return redirect("case_detail", slug=pmo.slug, case_id=saved.follow_up_case_id)
        return redirect("action_list", slug=pmo.slug)
    return render(request, "agenda/action_form.html", {"pmo": pmo, "form": form, "action": action})


@pmo_view(role=Role.MEMBER)
@require_POST
def action_set_status(request, pmo, action_id):
    action = get_object_or_404(pmo.actions, pk=action_id)
    status = request.POST.get("status", "")
    if status not in ActionStatus.values:
        messages.error(request, "Choose planned, in progress, done or dropped.")
    else:
        action.status = status
        plan.stamp_completion(action)
        action.save(update_fields=["status", "completed_at"])
        messages.success(request, f"“{action.title}” is now {action.get_status_display().lower()}.")
    return redirect("action_list", slug=pmo.slug)


@pmo_view(role=Role.MEMBER)
def action_delete(request, pmo, action_id):
    action = get_object_or_404(pmo.actions, pk=action_id)
    if request.method == "POST":
        action.delete()
        messages.success(request, f"“{action.title}” deleted.")
        return redirect("action_list", slug=pmo.slug)
    return render(
        request, "agenda/confirm_delete.html", {"pmo": pmo, "object": action, "what": "action", "back": "action_list"}
    )


# Suggestions -----------------------------------------------------------------------------


@pmo_view()
@require_GET
def suggestion_list(request, pmo):
    # Ranked highest priority first, a page at a time: a catalogue of hundreds of services and a
    # register of thousands of stakeholders call for a thousand suggestions and more (a page of
    # over a megabyte), of which the first pages are the ones to act on.
    page = Paginator(suggestions.suggestions(pmo), SUGGESTIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "agenda/suggestions.html",
        {"pmo": pmo, "suggestions": page.object_list, "page": page, "total": page.paginator.count},
    )


@pmo_view(role=Role.MEMBER)
@require_POST
def suggestion_adopt(request, pmo):
    try:
        action = plan.adopt_suggestion(pmo, request.membership, request.POST.get("key", ""))
    except plan.AlreadyAdopted as refusal:
        messages.error(request, refusal.message)
        return redirect("action_list", slug=pmo.slug)
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
        return redirect("suggestion_list", slug=pmo.slug)
    messages.success(request, "Added to the agenda. Adjust the owner, due date and details, then save.")
    return redirect("action_edit", slug=pmo.slug, action_id=action.pk)


# Incidents ---------------------------------------------------------------------------------


@pmo_view()
@require_GET
def incident_list(request, pmo):
    incidents = pmo.incidents.prefetch_related("stakeholders")
    by_problem = {
        row["problem"]: row
        for row in pmo.incidents.values("problem").annotate(
            n=Count("id"), cost=Sum("estimated_cost"), days=Sum("days_lost")
        )
    }
    totals = pmo.incidents.aggregate(n=Count("id"), cost=Sum("estimated_cost"), days=Sum("days_lost"))
    year_ago = timezone.localdate() - timedelta(days=365)
    last_year = pmo.incidents.aggregate(
        cost=Sum("estimated_cost", filter=Q(occurred_on__gte=year_ago)),
        days=Sum("days_lost", filter=Q(occurred_on__gte=year_ago)),
    )
    return render(
        request,
        "agenda/incident_list.html",
        {
            "pmo": pmo,
            "incidents": incidents,
            "problems": [(problem, by_problem.get(problem.value)) for problem in Problem],
            "totals": totals,
            "last_year": last_year,
        },
    )


@pmo_view(role=Role.MEMBER)
def incident_create(request, pmo):
    return _incident_form(request, pmo, None)


@pmo_view(role=Role.MEMBER)
def incident_edit(request, pmo, incident_id):
    return _incident_form(request, pmo, get_object_or_404(pmo.incidents, pk=incident_id))


def _incident_form(request, pmo, incident):
    form = IncidentForm(request.POST or None, instance=incident, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        save_form(form, created_by=request.user)
        messages.success(request, "Incident logged.")
        return redirect("incident_list", slug=pmo.slug)
    return render(request, "agenda/incident_form.html", {"pmo": pmo, "form": form, "incident": incident})


@pmo_view(role=Role.MEMBER)
def incident_delete(request, pmo, incident_id):
    incident = get_object_or_404(pmo.incidents, pk=incident_id)
    if request.method == "POST":
        incident.delete()
        messages.success(request, "Incident deleted.")
        return redirect("incident_list", slug=pmo.slug)
    return render(
        request,
        "agenda/confirm_delete.html",
        {"pmo": pmo, "object": incident, "what": "incident", "back": "incident_list"},
    )
