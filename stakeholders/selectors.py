"""Reads on the stakeholder register."""

from django.db import models
from django.db.models import Case, Q, Value, When

from stakeholders.models import HIGH_LEVEL, Stakeholder


class Quadrant(models.TextChoices):
    """The power–interest grid; high influence or interest means 4 or 5."""

    MANAGE_CLOSELY = "manage_closely", "Manage closely"
    KEEP_SATISFIED = "keep_satisfied", "Keep satisfied"
    KEEP_INFORMED = "keep_informed", "Keep informed"
    MONITOR = "monitor", "Monitor"

    @property
    def description(self) -> str:
        return {
            Quadrant.MANAGE_CLOSELY: "High influence, high interest: engage fully and often.",
            Quadrant.KEEP_SATISFIED: "High influence, lower interest: meet their needs without overloading them.",
            Quadrant.KEEP_INFORMED: "High interest, lower influence: keep them in the loop; they are often allies.",
            Quadrant.MONITOR: "Lower influence and interest: watch for changes, with light-touch communication.",
        }[self]


def quadrant_expression() -> Case:
    return Case(
        When(influence__gte=HIGH_LEVEL, interest__gte=HIGH_LEVEL, then=Value(Quadrant.MANAGE_CLOSELY.value)),
        When(influence__gte=HIGH_LEVEL, then=Value(Quadrant.KEEP_SATISFIED.value)),
        When(interest__gte=HIGH_LEVEL, then=Value(Quadrant.KEEP_INFORMED.value)),
        default=Value(Quadrant.MONITOR.value),
        output_field=models.CharField(),
    )


def power_interest_grid(pmo) -> dict[Quadrant, list[Stakeholder]]:
    """Active stakeholders by quadrant, most influential first, in one query."""
    grid = {quadrant: [] for quadrant in Quadrant}
    rows = (
        Stakeholder.objects.filter(pmo=pmo, is_active=True)
        .annotate(quadrant=quadrant_expression())
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
