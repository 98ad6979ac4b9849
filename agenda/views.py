from django.db.models import Count, Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pmo5p.domain import Element
from pmo5p.services import record_visit
from pmo5p.tenancy import pmo_view
from stakeholders.selectors import Quadrant, quadrant_expression


@pmo_view()
@require_GET
def overview(request, pmo):
    """The PMO's home page: where the register stands and what to do next."""
    record_visit(request.membership)
    totals = pmo.stakeholders.aggregate(
        active=Count("id", filter=Q(is_active=True)),
        inactive=Count("id", filter=Q(is_active=False)),
        without_email=Count("id", filter=Q(is_active=True, email="")),
        without_owner=Count("id", filter=Q(is_active=True, owner__isnull=True)),
    )
    by_quadrant = dict(
        pmo.stakeholders.filter(is_active=True)
        .annotate(quadrant=quadrant_expression())
        .values_list("quadrant")
        .annotate(n=Count("id"))
        .values_list("quadrant", "n")
    )
    counts = pmo.memberships.aggregate(members=Count("id"))
    segment_count = pmo.segments.count()
    return render(
        request,
        "agenda/overview.html",
        {
            "pmo": pmo,
            "totals": totals,
            "quadrants": [(quadrant, by_quadrant.get(quadrant.value, 0)) for quadrant in Quadrant],
            "member_count": counts["members"],
            "segment_count": segment_count,
            "elements": list(Element),
        },
    )
