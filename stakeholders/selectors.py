"""Reads on the stakeholder register."""

from django.db import models
from django.db.models import Case, Q, Value, When

from pmo5p.domain import QUADRANT_DESCRIPTIONS
from stakeholders.models import HIGH_LEVEL, Stakeholder


class Quadrant(models.TextChoices):
    """The power–interest grid; high influence or interest means 4 or 5."""

    MANAGE_CLOSELY = "manage_closely", "Manage closely"
    KEEP_SATISFIED = "keep_satisfied", "Keep satisfied"
    KEEP_INFORMED = "keep_informed", "Keep informed"
    MONITOR = "monitor", "Monitor"

    @property
    def description(self) -> str:
        return QUADRANT_DESCRIPTIONS[self.value]


def quadrant_cases(value_of) -> Case:
    """A Case over a stakeholder's quadrant, giving value_of(quadrant) for each: the one place
    the grid's rule (high means HIGH_LEVEL or more) is written as SQL."""
    return Case(
        When(influence__gte=HIGH_LEVEL, interest__gte=HIGH_LEVEL, then=value_of(Quadrant.MANAGE_CLOSELY)),
        When(influence__gte=HIGH_LEVEL, then=value_of(Quadrant.KEEP_SATISFIED)),
        When(interest__gte=HIGH_LEVEL, then=value_of(Quadrant.KEEP_INFORMED)),
        default=value_of(Quadrant.MONITOR),
    )


def quadrant_expression() -> Case:
    case = quadrant_cases(lambda quadrant: Value(quadrant.value))
    case.output_field = models.CharField()
    return case


def power_interest_grid(pmo, annotate=None) -> dict[Quadrant, list[Stakeholder]]:
    """Active stakeholders by quadrant, most influential first, in one query. `annotate`, if
    given, adds to the query what the caller shows (the grid page: the gap to target)."""
    grid = {quadrant: [] for quadrant in Quadrant}
    stakeholders = Stakeholder.objects.filter(pmo=pmo, is_active=True)
    if annotate is not None:
        stakeholders = annotate(stakeholders)
    rows = (
        stakeholders.annotate(quadrant=quadrant_expression())
        .select_related("segment")
        .only("id", "name", "influence", "interest", "job_title", "segment__name")
        .order_by("-influence", "-interest", "name")
    )
    for stakeholder in rows:
        grid[Quadrant(stakeholder.quadrant)].append(stakeholder)
    return grid


def search(stakeholders, text: str):
    """Stakeholders whose name, e-mail, job title or business unit contains the text."""
    text = text.strip()
    if not text:
        return stakeholders
    return stakeholders.filter(
        Q(name__icontains=text)
        | Q(email__icontains=text)
        | Q(job_title__icontains=text)
        | Q(business_unit__icontains=text)
    )
