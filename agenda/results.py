"""A survey's results page, at the survey engine's address (surveys/<id>/results/) but served
from agenda, since its figures come from the figures layer (agenda/figures/)."""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from agenda.figures import drivers, kept, segments
from agenda.figures import responses as response_figures
from agenda.figures import survey as survey_figures
from agenda.figures.present import Kind, rounded, shown
from pmo5p.domain import Element
from pmo5p.tenancy import pmo_view
from stakeholders.models import Response, Survey, SurveyInvitation
from stakeholders.surveys import anonymity

# 25 rows a page, as the stakeholder list: a PMO lead reads the first screenfuls and
# looks a person up by name (the stakeholder's page) or in the CSV, rather than paging
# through thousands of rows; a page of 50 rows of five scores was three times the HTML of a
# small PMO's whole results page.
RESPONSES_PER_PAGE = 25
# A page of comments beside the page of stakeholders, the rest on the following pages
# (?comments=N): a large survey's hundreds of comments are not all rendered on every view.
COMMENTS_PER_PAGE = 20


@dataclass
class StakeholderRow:
    """One row of the per-stakeholder table: the perceptions (Element order) and their text."""

    stakeholder_id: int
    name: str
    url: str
    perceptions: list[float | None]
    shown: list[str]
    nps: int | None


@pmo_view()
@require_GET
def survey_results(request, pmo, survey_id):
    survey = get_object_or_404(Survey.objects.filter(pmo=pmo), pk=survey_id)
    element_figures = kept.survey_element_figures(survey)
    nps = survey_figures.nps(survey_figures.survey_responses(survey))
    # The survey's participation is its segments' added up: one query for the page and the table.
    by_segment = survey_figures.participation_by_segment(survey)
    participation = survey_figures.Participation.total(by_segment.values())
    context = {
        "pmo": pmo,
        "survey": survey,
        "participation": participation,
        "element_scores": list(element_figures.values()),
        "nps": nps,
        "segments": segments.segment_figures(survey, by_segment),
        # Beside the stated importance the page has already: one query more, the correlations.
        "drivers": drivers.derived_importance(
            survey, stated={element: f.importance for element, f in element_figures.items()}
        )
        if participation.responses
        else [],
        "min_driver_respondents": drivers.MIN_DRIVER_RESPONDENTS,
        "derived_high": drivers.DERIVED_HIGH,
        "stated_high": drivers.STATED_HIGH,
        "min_group_size": anonymity.min_group_size(),
        **_comments(request, survey),
        "chart_data": {
            "labels": [e.label for e in Element],
            "perception": [rounded(element_figures[e].perception, Kind.SCORE) for e in Element],
            "importance": [rounded(element_figures[e].importance, Kind.SCORE) for e in Element],
            "nps": [nps.detractors, nps.passives, nps.promoters],
        },
    }
    if not survey.anonymous:
        context.update(_per_stakeholder(request, pmo, survey, participation.responses))
    return render(request, "agenda/survey_results.html", context)


def _per_stakeholder(request, pmo, survey, responses: int) -> dict:
    """A page of the named survey's responses, by stakeholder name: only the columns shown
    (a large survey has thousands), and each row's figures as text already,
    its link from one reversed address, so that the template does not call a filter and a
    {% url %} per cell. `responses`: their number, from the survey's participation."""
    # The survey's invitations whose stakeholder answered, in the order of the stakeholders'
    # names (then their id: one response per stakeholder and survey, so pages never overlap).
    # PostgreSQL walks the PMO's stakeholders by the (pmo, name, id) index and stops at the
    # page's last row, looking each one's invitation and response up by key: a first page
    # reads a few dozen rows, not the survey's thousands of responses sorted by name. The
    # response is looked up from its invitation (a subquery), never by joining every
    # response: that join made PostgreSQL scan every PMO's responses for a page deep in the
    # list.
    answer = Response.objects.filter(invitation=OuterRef("pk")).order_by()
    paginator = Paginator(
        SurveyInvitation.objects.filter(survey=survey, stakeholder__pmo=pmo)
        .annotate(response_id=Subquery(answer.values("pk")), nps=Subquery(answer.values("nps")))
        .filter(response_id__isnull=False)
        .order_by("stakeholder__name", "stakeholder_id")
        .values("response_id", "nps", "stakeholder", name=F("stakeholder__name")),
        RESPONSES_PER_PAGE,
    )
    # The count the participation made of the same rows, not a COUNT of this join again.
    paginator.count = responses
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    perceptions = response_figures.perceptions_of([row["response_id"] for row in rows])
    # The address of stakeholder 0, its last part replaced: one reverse() for the page.
    prefix = reverse("stakeholder_detail", args=[pmo.slug, 0]).removesuffix("0/")
    per_stakeholder = []
    for row in rows:
        mine = perceptions[row["response_id"]]
        per_stakeholder.append(
            StakeholderRow(
                stakeholder_id=row["stakeholder"],
                name=row["name"],
                url=f"{prefix}{row['stakeholder']}/",
                perceptions=mine,
                shown=[shown(value, Kind.SCORE) for value in mine],
                nps=row["nps"],
            )
        )
    return {"page": page, "per_stakeholder": per_stakeholder, "page_query": _query_without(request, "page")}


def _query_without(request, name: str) -> str:
    """The page's query string without one paginator's parameter, kept by the other's links."""
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


def _comments(request, survey) -> dict:
    """A page of the survey's comments (?comments=N; a bad number is the first or last page,
    as Paginator.get_page decides), and how many there are in all (the paginator's count)."""
    with_comment = survey.responses.exclude(comment="")
    if survey.anonymous:
        # Not newest first: beside the response count, the top comment would be the latest
        # answer's; the pages keep that order, so they say nothing of when one came either.
        comments = with_comment.order_by(*anonymity.comment_order()).values_list("comment", flat=True)
    else:
        comments = with_comment.order_by("-submitted_at", "-pk").values_list("comment", "submitted_at")
    page = Paginator(comments, COMMENTS_PER_PAGE).get_page(request.GET.get("comments"))
    shown_comments = [(text, None) for text in page.object_list] if survey.anonymous else list(page.object_list)
    return {
        "comments": shown_comments,
        "comment_page": page,
        "comment_count": page.paginator.count,
        "comment_query": _query_without(request, "comments"),
    }
