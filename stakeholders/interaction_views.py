from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from pmo5p.forms import add_refusal
from pmo5p.models import Role
from pmo5p.params import whole_number
from pmo5p.tenancy import pmo_view
from stakeholders import register
from stakeholders.interaction_forms import InteractionForm

PER_PAGE = 25


@pmo_view()
@require_GET
def interaction_list(request, pmo):
    interactions = pmo.interactions.select_related("author").prefetch_related("stakeholders")
    stakeholder_id = whole_number(request.GET.get("stakeholder"))
    if stakeholder_id is not None:
        interactions = interactions.filter(stakeholders__id=stakeholder_id)
    page = Paginator(interactions, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "stakeholders/interaction_list.html",
        {"pmo": pmo, "page": page, "query_without_page": query.urlencode()},
    )


@pmo_view(role=Role.MEMBER)
def interaction_create(request, pmo):
    initial = {}
    stakeholder_id = whole_number(request.GET.get("stakeholder"))
    if stakeholder_id is not None and pmo.stakeholders.filter(pk=stakeholder_id).exists():
        initial["stakeholders"] = [stakeholder_id]
    return _interaction_form(request, pmo, None, initial)


@pmo_view(role=Role.MEMBER)
def interaction_edit(request, pmo, interaction_id):
    return _interaction_form(request, pmo, get_object_or_404(pmo.interactions, pk=interaction_id), {})


def _interaction_form(request, pmo, interaction, initial):
    form = InteractionForm(request.POST or None, instance=interaction, initial=initial, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        try:
            if interaction is None:
                register.create_interaction(pmo, request.user, form.cleaned_data)
            else:
                register.update_interaction(interaction, form.cleaned_data)
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Interaction saved.")
            stakeholders = form.cleaned_data["stakeholders"]
            if len(stakeholders) == 1:
                return redirect("stakeholder_detail", slug=pmo.slug, stakeholder_id=stakeholders[0].pk)
            return redirect("interaction_list", slug=pmo.slug)
    return render(request, "stakeholders/interaction_form.html", {"pmo": pmo, "form": form, "interaction": interaction})


@pmo_view(role=Role.MEMBER)
def interaction_delete(request, pmo, interaction_id):
    interaction = get_object_or_404(pmo.interactions, pk=interaction_id)
    if request.method == "POST":
        register.delete_interaction(interaction)
        messages.success(request, "Interaction deleted.")
        return redirect("interaction_list", slug=pmo.slug)
    return render(request, "stakeholders/interaction_delete.html", {"pmo": pmo, "interaction": interaction})
