"""A survey's results page, at the survey engine's address (surveys/<id>/results/) but served
from agenda, since its figures come from the figures layer (agenda/figures/)."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from agenda.figures import kept, segments
from agenda.figures import responses as response_figures
from agenda.figures import survey as survey_figures
from agenda.figures.present import Kind, rounded
from pmo5p.domain import Element
from pmo5p.tenancy import pmo_view
from stakeholders.models import Survey
from stakeholders.surveys import anonymity

RESPONSES_PER_PAGE = 50
COMMENTS_SHOWN = 100


@pmo_view()
@require_GET
def survey_results(request, pmo, survey_id):
    survey = get_object_or_404(Survey.objects.filter(pmo=pmo), pk=survey_id)
    element_figures = kept.survey_element_figures(survey)
    nps = survey_figures.nps(survey_figures.survey_responses(survey))
    context = {
        "pmo": pmo,
        "survey": survey,
        "participation": survey_figures.participation(survey),
        "element_scores": list(element_figures.values()),
        "nps": nps,
        "segments": segments.segment_figures(survey),
        "min_group_size": anonymity.min_group_size(),
        **_comments(survey),
        "chart_data": {
            "labels": [e.label for e in Element],
            "perception": [rounded(element_figures[e].perception, Kind.SCORE) for e in Element],
            "importance": [rounded(element_figures[e].importance, Kind.SCORE) for e in Element],
            "nps": [nps.detractors, nps.passives, nps.promoters],
        },
    }
    if not survey.anonymous:
        page = Paginator(
            # The invitations named by survey too (the same rows): PostgreSQL then reads this
            # survey's invitations by their index rather than scanning every survey's.
            survey.responses.filter(invitation__survey=survey)
            .select_related("invitation__stakeholder", "segment")
            .order_by("invitation__stakeholder__name"),
            RESPONSES_PER_PAGE,
        ).get_page(request.GET.get("page"))
        per_response = response_figures.per_response(list(page.object_list))
        context["page"] = page
        context["per_stakeholder"] = [
            (response, [per_response[response.pk][e].perception for e in Element]) for response in page.object_list
        ]
    return render(request, "agenda/survey_results.html", context)


def _comments(survey) -> dict:
    with_comment = survey.responses.exclude(comment="")
    if survey.anonymous:
        # Not newest first: beside the response count, the top comment would be the latest answer's.
        texts = with_comment.order_by(*anonymity.comment_order()).values_list("comment", flat=True)
        comments = [(text, None) for text in texts[:COMMENTS_SHOWN]]
    else:
        comments = with_comment.order_by("-submitted_at").values_list("comment", "submitted_at")[:COMMENTS_SHOWN]
    return {"comments": comments, "comment_count": with_comment.count()}
