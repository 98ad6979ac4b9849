"""The follow-up cases' pages (docs/follow-up.md): the list, a case's page, and its changes.

Every change goes through services.py; these views read the input and show its refusals.
Viewers see every page and change nothing (pmo_view: a POST needs a member).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from pmo5p.domain import ELEMENT_AIMS, Element
from pmo5p.forms import add_refusal
from pmo5p.models import Role
from pmo5p.params import whole_number
from pmo5p.tenancy import pmo_view
from stakeholders.cases import services
from stakeholders.cases.forms import AssignForm, CloseForm, ContactForm, NoteForm, RootForm
from stakeholders.models import OPEN_CASE_STATUSES, CaseStatus, FollowUpCase
from stakeholders.surveys import figure_source

PER_PAGE = 25


def _filtered(request, pmo) -> tuple:
    """The list's cases for the filters of the query (owner, status, P, segment), and the values kept."""
    params = request.GET
    chosen = {}
    cases = FollowUpCase.objects.filter(pmo=pmo)
    status = params.get("status", "")
    if status == "any":
        chosen["status"] = status
    elif status in CaseStatus.values:
        cases = cases.filter(status=status)
        chosen["status"] = status
    else:
        # The default: what still asks something of someone.
        cases = cases.filter(status__in=OPEN_CASE_STATUSES)
    owner = params.get("owner", "")
    if owner == "mine":
        cases = cases.filter(owner=request.membership)
        chosen["owner"] = owner
    elif owner == "leads":
        cases = cases.filter(owner__isnull=True)
        chosen["owner"] = owner
    elif (member := whole_number(owner)) is not None:
        cases = cases.filter(owner_id=member)
        chosen["owner"] = str(member)
    element = params.get("element", "")
    if element in Element.values:
        cases = cases.filter(root_element=element)
        chosen["element"] = element
    segment = whole_number(params.get("segment"))
    if segment is not None:
        cases = cases.filter(segment_id=segment)
        chosen["segment"] = segment
    return cases, chosen


@pmo_view()
@require_GET
def case_list(request, pmo):
    cases, chosen = _filtered(request, pmo)
    # Two queries whatever the number of cases: the count, and the page with what it shows.
    cases = cases.select_related("stakeholder", "survey", "segment", "owner__user").order_by("due_on", "pk")
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "stakeholders/cases/list.html",
        {
            "pmo": pmo,
            "page": page,
            "query_without_page": query.urlencode(),
            "chosen": chosen,
            "today": timezone.localdate(),
            "any_case": chosen or page.paginator.count or pmo.follow_up_cases.exists(),
            "members": pmo.memberships.select_related("user").order_by("user__name"),
            "segments": pmo.segments.order_by("name"),
            "elements": [(element.value, element.label) for element in Element],
            "statuses": CaseStatus.choices,
        },
    )


def _case(pmo, case_id) -> FollowUpCase:
    """A case of this PMO (another PMO's answers 404)."""
    return get_object_or_404(
        FollowUpCase.objects.filter(pmo=pmo).select_related(
            "stakeholder", "survey", "segment", "response", "owner__user"
        ),
        pk=case_id,
    )


def _detail(request, pmo, case, *, assign_form=None, root_form=None, note_form=None, status=200):
    lowest = []
    if case.response_id is not None:
        lowest = [
            (element, ELEMENT_AIMS[element], score)
            for element, score in figure_source.source().lowest_elements(case.response)
        ]
    context = {
        "pmo": pmo,
        "case": case,
        "today": timezone.localdate(),
        "lowest": lowest,
        # A comment says who wrote it: shown for a named survey's response only.
        "comment": case.response.comment if case.response_id and not case.survey.anonymous else "",
        "root_aim": ELEMENT_AIMS[Element(case.root_element)] if case.root_element else "",
        "assign_form": assign_form or AssignForm(initial={"owner": case.owner_id}, pmo=pmo),
        "root_form": root_form or RootForm(initial={"root_element": case.root_element}, case=case),
        "note_form": note_form or NoteForm(),
        "notes": case.notes.select_related("author"),
        "interactions": case.interactions.select_related("author").order_by("-occurred_on", "-created_at"),
        "actions": case.actions.select_related("owner__user").order_by("due_on", "pk"),
    }
    return render(request, "stakeholders/cases/detail.html", context, status=status)


@pmo_view()
@require_GET
def case_detail(request, pmo, case_id):
    return _detail(request, pmo, _case(pmo, case_id))


def _back(pmo, case):
    return redirect("case_detail", slug=pmo.slug, case_id=case.pk)


@pmo_view(role=Role.MEMBER)
@require_POST
def case_assign(request, pmo, case_id):
    case = _case(pmo, case_id)
    form = AssignForm(request.POST, pmo=pmo)
    if form.is_valid():
        try:
            services.assign(case, form.cleaned_data["owner"])
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            owner = case.owner.user if case.owner else "the leads"
            messages.success(request, f"The case is now {owner}'s.")
            return _back(pmo, case)
    return _detail(request, pmo, case, assign_form=form, status=400)


@pmo_view(role=Role.MEMBER)
@require_POST
def case_root(request, pmo, case_id):
    case = _case(pmo, case_id)
    form = RootForm(request.POST, case=case)
    if form.is_valid():
        try:
            services.set_root(case, form.cleaned_data["root_element"])
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "P at the root saved.")
            return _back(pmo, case)
    return _detail(request, pmo, case, root_form=form, status=400)


@pmo_view(role=Role.MEMBER)
@require_POST
def case_note(request, pmo, case_id):
    case = _case(pmo, case_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(case, request.user, form.cleaned_data["text"])
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Note added.")
            return _back(pmo, case)
    return _detail(request, pmo, case, note_form=form, status=400)


@pmo_view(role=Role.MEMBER)
def case_contact(request, pmo, case_id):
    """Record a contact: an interaction with the stakeholder (a note, for an anonymous group)."""
    case = _case(pmo, case_id)
    initial = {"occurred_on": timezone.localdate(), "elements": [case.root_element] if case.root_element else []}
    form = ContactForm(request.POST or None, initial=initial, anonymous=case.is_anonymous)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            services.record_contact(
                case,
                by=request.user,
                date=values["occurred_on"],
                kind=values["kind"],
                summary=values["summary"],
                sentiment=values.get("sentiment", 0),
                elements=values.get("elements", []),
            )
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Contact recorded: the case is contacted.")
            return _back(pmo, case)
    return render(request, "stakeholders/cases/contact.html", {"pmo": pmo, "case": case, "form": form})


@pmo_view(role=Role.MEMBER)
@require_POST
def case_resolve(request, pmo, case_id):
    return _status_button(
        request, pmo, case_id, lambda case: services.resolve(case, request.user), lambda case: "The case is resolved."
    )


def _status_button(request, pmo, case_id, change, done) -> object:
    """A status button's POST: `change` the case through the write path, then say `done(case)`
    or the refusal, back on the case's page."""
    case = _case(pmo, case_id)
    try:
        change(case)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, done(case))
    return _back(pmo, case)


@pmo_view(role=Role.MEMBER)
def case_close(request, pmo, case_id):
    case = _case(pmo, case_id)
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.close_no_action(case, form.cleaned_data["reason"])
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "The case is closed with no action.")
            return _back(pmo, case)
    return render(request, "stakeholders/cases/close.html", {"pmo": pmo, "case": case, "form": form})


@pmo_view(role=Role.MEMBER)
@require_POST
def case_reopen(request, pmo, case_id):
    return _status_button(
        request,
        pmo,
        case_id,
        services.reopen,
        lambda case: f"The case is open again ({case.get_status_display().lower()}).",
    )
