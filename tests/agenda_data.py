"""Survey data for the agenda tests.

`known_survey` builds, with the factories of tests/factories.py, a closed survey whose
figures are worked out by hand (below). A PMO of thousands of rows is in
tests/large_pmo.py.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pmo5p.domain import Element, MaturityStage
from stakeholders.models import Response, Segment, Stakeholder, Survey
from tests.factories import (
    MaturityRecordFactory,
    ResponseFactory,
    SegmentFactory,
    StakeholderFactory,
    SurveyFactory,
    SurveyInvitationFactory,
)

P, E, C, PE, PR = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS


# Figures as the code before the versioned schema stored them (commit 50bd431, the
# November report of tests/test_reports.py::test_a_second_report_shows_the_change_since_the_first,
# dumped from AgendaReport.figures): version 1, no "schema_version" key. A report made
# by hand in a test, ready, carries these.
REPORT_FIGURES_V1 = json.loads((Path(__file__).parent / "fixtures" / "report_figures_v1.json").read_text())


def respond_per_element(survey, stakeholder, ratings: dict, *, nps=None, on: datetime | None = None) -> Response:
    """A response (ResponseFactory) in the shape of the tables below: `ratings` maps an element
    to (the rating of both its performance statements, its importance). Answered the day
    after the survey's launch unless `on` is given."""
    return ResponseFactory(
        survey=survey,
        stakeholder=stakeholder,
        ratings={element: (performance, performance) for element, (performance, _) in ratings.items()},
        importance={element: importance for element, (_, importance) in ratings.items()},
        nps=nps,
        submitted_at=on or survey.launched_at + timedelta(days=1),
    )


# The hand-worked survey -----------------------------------------------------------------------
#
# Three Finance and three IT stakeholders answer "Autumn"; each gives both performance
# statements of an element the same rating. Score = (rating − 1) / 4 × 100.
#
#                 Finance (perf, imp)   IT (perf, imp)   all: perception, importance → quadrant, priority
# Product         2, 5                  5, 5             3.5 → 62.5, 5 → 100  → Keep up, 37.5
# Phys. evidence  2, 4                  2, 4             2 → 25, 4 → 75       → Concentrate, 56.25
# Price           3, 2                  3, 2             3 → 50, 2 → 25       → Overkill, 12.5
# People          2, 2                  2, 2             2 → 25, 2 → 25       → Low priority, 18.75
# Process         4, 4                  4, 4             4 → 75, 4 → 75       → Keep up, 18.75
#
# Ranking: Physical Evidence, Product, People, Process (tied with People: model order), Price.
# Finance alone: Product 25 / 100 → "Concentrate here", priority 75; Physical Evidence
# 25 / 75 → "Concentrate here", 56.25. IT alone: Physical Evidence "Concentrate here".
# NPS: Finance 10, 9, 3; IT 8, 7, None → 5 answers, 2 promoters, 2 passives, 1 detractor → 20.
# Invitations sent: the six who answered and Fiona (world.stakeholder) → 7; response rate 6/7 → 86%.

FINANCE_RATINGS = {P: (2, 5), E: (2, 4), C: (3, 2), PE: (2, 2), PR: (4, 4)}
IT_RATINGS = {P: (5, 5), E: (2, 4), C: (3, 2), PE: (2, 2), PR: (4, 4)}
KNOWN_PERCEPTION = {P: 62.5, E: 25.0, C: 50.0, PE: 25.0, PR: 75.0}
KNOWN_IMPORTANCE = {P: 100.0, E: 75.0, C: 25.0, PE: 25.0, PR: 75.0}
KNOWN_PRIORITY = {P: 37.5, E: 56.25, C: 12.5, PE: 18.75, PR: 18.75}
KNOWN_RANKING = [E, P, PE, PR, C]
KNOWN_QUADRANT = {
    P: "Keep up the good work",
    E: "Concentrate here",
    C: "Possible overkill",
    PE: "Low priority",
    PR: "Keep up the good work",
}


@dataclass
class KnownSurvey:
    survey: Survey
    it: Segment
    finance_people: list
    it_people: list


def known_survey(world, *, closed_at=datetime(2026, 10, 20, 12, tzinfo=UTC), title="Autumn") -> KnownSurvey:
    pmo = world.pmo
    it = SegmentFactory(pmo=pmo, name="IT")
    survey = SurveyFactory(pmo=pmo, created_by=world.lead, title=title, closed=True, closed_at=closed_at)
    finance_people = [
        StakeholderFactory(pmo=pmo, name=f"Finance {n}", email=f"fin{n}@corp.example", segment=world.segment)
        for n in range(3)
    ]
    it_people = [StakeholderFactory(pmo=pmo, name=f"IT {n}", email=f"it{n}@corp.example", segment=it) for n in range(3)]
    for person, nps in zip(finance_people, (10, 9, 3), strict=True):
        respond_per_element(survey, person, FINANCE_RATINGS, nps=nps)
    for person, nps in zip(it_people, (8, 7, None), strict=True):
        respond_per_element(survey, person, IT_RATINGS, nps=nps)
    SurveyInvitationFactory(survey=survey, stakeholder=world.stakeholder, sent=True)  # Fiona: invited, no answer
    return KnownSurvey(survey, it, finance_people, it_people)


def at_risk_person(world, name="Hank Heavy", *, stage=MaturityStage.AWARE, on=date(2026, 10, 1)) -> Stakeholder:
    """Influence 5 and maturity Aware: at risk."""
    person = StakeholderFactory(
        pmo=world.pmo, name=name, email=f"{name.split()[0].lower()}@corp.example", influence=5, interest=4
    )
    MaturityRecordFactory(stakeholder=person, stage=stage, recorded_on=on)
    return person
