"""Writes on assessments, and the maturity stage the app suggests for a stakeholder."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone

from agenda.figures.present import Kind, shown
from agenda.figures.responses import last_two_perceptions
from agenda.models import MaturityRecord, SelfAssessment
from pmo5p.domain import Element, MaturityStage
from pmo5p.rules import not_in_future
from stakeholders.models import Stakeholder

RECENT_DAYS = 180

# Assessments and maturity records say what has happened: the web forms and the API check
# their dates here.


def check_assessed_on(day):
    return not_in_future(
        "assessed_on", day, "The assessment date is in the future: record what has happened, up to today."
    )


def check_recorded_on(day):
    return not_in_future("recorded_on", day, "The date is in the future: record what has happened, up to today.")


@transaction.atomic
def record_self_assessment(
    *, pmo, author, assessed_on, ratings: dict[Element, tuple[int, str]]
) -> list[SelfAssessment]:
    """One round of self-assessment: a rating and evidence note for each element given."""
    rows = [
        SelfAssessment(
            pmo=pmo, author=author, assessed_on=assessed_on, element=element, rating=rating, evidence=evidence
        )
        for element, (rating, evidence) in ratings.items()
    ]
    return SelfAssessment.objects.bulk_create(rows)


@dataclass
class StageSuggestion:
    stage: MaturityStage
    reason: str


def suggest_stage(stakeholder: Stakeholder, *, today=None) -> StageSuggestion:
    """A starting point for the member's judgement, from the latest perception and interactions.

    - no named survey answer and no interaction in the last 180 days → Unaware;
    - interactions but no survey answer → Aware;
    - then by the latest perception: under 40 Aware, under 60 Understanding, under 80
      Respect; 80 or more is Trust when recent interactions were positive on
      average, else Respect.
    """
    today = today or timezone.localdate()
    recent = stakeholder.interactions.filter(occurred_on__gte=today - timedelta(days=RECENT_DAYS)).aggregate(
        count=Count("id"), sentiment=Avg("sentiment")
    )
    count, sentiment = recent["count"], recent["sentiment"]
    touch = f"{count} interaction{'s' if count != 1 else ''} in the last {RECENT_DAYS} days"
    if count:
        touch += f", average sentiment {sentiment:+.1f}"
    perception = (last_two_perceptions(Stakeholder.objects.filter(pk=stakeholder.pk)).get(stakeholder.pk) or [None])[0]

    if perception is None:
        if not count:
            return StageSuggestion(
                MaturityStage.UNAWARE, f"No survey answer and no interaction in the last {RECENT_DAYS} days."
            )
        return StageSuggestion(MaturityStage.AWARE, f"No survey answer yet; {touch}.")
    seen = f"Latest perception {shown(perception, Kind.SCORE)}/100; {touch}."
    if perception < 40:
        return StageSuggestion(MaturityStage.AWARE, seen)
    if perception < 60:
        return StageSuggestion(MaturityStage.UNDERSTANDING, seen)
    if perception < 80 or not count or sentiment < 1:
        return StageSuggestion(MaturityStage.RESPECT, seen)
    return StageSuggestion(MaturityStage.TRUST, seen)


def record_maturity(*, pmo, stakeholder, author, stage, rationale, recorded_on) -> MaturityRecord:
    return MaturityRecord.objects.create(
        pmo=pmo, stakeholder=stakeholder, author=author, stage=stage, rationale=rationale, recorded_on=recorded_on
    )
