"""One timeline per stakeholder: interactions, survey responses, and whatever the
apps built on the register add (agenda adds maturity records).

Apps above stakeholders register a source at start-up instead of being imported
here, so that dependencies keep pointing one way (agenda → stakeholders).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils import timezone

from stakeholders.models import Response, Stakeholder


@dataclass
class Entry:
    on: date
    kind: str  # "interaction", "response", "maturity", ...
    title: str
    detail: str = ""
    badge: str = ""
    url: str = ""


Source = Callable[[Stakeholder, int], list[Entry]]
_sources: list[Source] = []


def register(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


def _interactions(stakeholder: Stakeholder, limit: int) -> list[Entry]:
    interactions = stakeholder.interactions.select_related("occurrence__touchpoint").order_by(
        "-occurred_on", "-created_at"
    )[:limit]
    return [_interaction(stakeholder, i) for i in interactions]


def _interaction(stakeholder: Stakeholder, interaction) -> Entry:
    entry = Entry(
        on=interaction.occurred_on,
        kind="interaction",
        title=f"{interaction.get_kind_display()}",
        detail=interaction.summary,
        badge=f"{interaction.sentiment:+d}" if interaction.sentiment else "0",
    )
    occurrence = getattr(interaction, "occurrence", None)
    if occurrence is not None:
        # Marked done from the communication plan: where it came from.
        entry.title += f" · recorded from the touchpoint “{occurrence.touchpoint.purpose}”"
        entry.url = reverse("touchpoint_detail", args=[stakeholder.pmo.slug, occurrence.touchpoint_id])
    return entry


def _responses(stakeholder: Stakeholder, limit: int) -> list[Entry]:
    # Answers to anonymous surveys are never tied to a person, here or anywhere.
    responses = (
        Response.objects.filter(invitation__stakeholder=stakeholder, survey__anonymous=False)
        .select_related("survey")
        .order_by("-submitted_at")[:limit]
    )
    return [
        Entry(
            on=timezone.localdate(r.submitted_at),  # the PMO's day, not UTC's
            kind="response",
            title=f"Answered “{r.survey.title}”",
            detail="" if r.nps is None else f"Would recommend the PMO: {r.nps}/10",
        )
        for r in responses
    ]


def timeline(stakeholder: Stakeholder, limit: int = 30) -> list[Entry]:
    """The latest `limit` entries of every source, newest first (one query per source).

    Each source gives its own latest entries, so the first entry of a kind is that
    kind's latest, even where the page shows fewer.
    """
    entries = _interactions(stakeholder, limit) + _responses(stakeholder, limit)
    for source in _sources:
        entries += source(stakeholder, limit)
    return sorted(entries, key=lambda e: e.on, reverse=True)
