"""The service × P heat map: each service a survey asked about, its satisfaction against
each P it mainly serves, beside the perception of that P in the same survey
(agenda/figures/services.py heat_map; docs/services.md)."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from agenda.dashboard import choice
from agenda.figures import services as service_figures
from pmo5p.domain import Element
from pmo5p.tenancy import pmo_view
from stakeholders.surveys import anonymity


@pmo_view()
@require_GET
def service_heat_map(request, pmo):
    surveys = service_figures.surveys_asking(pmo)
    survey = choice(request, "survey", surveys) or service_figures.default_service_survey(pmo)
    rows, per_element = service_figures.heat_map(survey) if survey else ([], {})
    return render(
        request,
        "agenda/catalogue/heat_map.html",
        {
            "pmo": pmo,
            "surveys": surveys,
            "survey": survey,
            "rows": rows,
            "perceptions": [(element, per_element[element]) for element in Element] if survey else [],
            "min_group_size": anonymity.min_group_size(),
            # The address of service 0, its last part left off: one reverse() for every row.
            "service_prefix": reverse("service_detail", args=[pmo.slug, 0]).removesuffix("0/"),
        },
    )
