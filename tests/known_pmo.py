"""The `known` fixture: a PMO whose every dashboard figure is worked out by hand.

The expected figures, with how each is made, are in tests/insight_fixtures.py; the data
is made with the factories of tests/factories.py.
Test modules load it with `pytest_plugins = ["tests.known_pmo"]`.
"""

from dataclasses import dataclass
from datetime import date

import pytest

from pmo5p.domain import Element
from stakeholders.models import Stakeholder, Survey, SurveyStatus
from tests.factories import (
    MaturityRecordFactory,
    ResponseFactory,
    SegmentFactory,
    SelfAssessmentFactory,
    StakeholderFactory,
    SurveyInvitationFactory,
    every,
)
from tests.insight_fixtures import PE, PR, C, E, P, at, build_survey


@dataclass
class KnownPmo:
    world: object
    it: object
    people: dict[str, Stakeholder]
    spring: Survey
    summer: Survey
    autumn: Survey
    anonymous: Survey
    other_survey: Survey


@pytest.fixture
def known(world) -> KnownPmo:
    pmo, lead, member = world.pmo, world.lead, world.member
    it = SegmentFactory(pmo=pmo, name="IT")
    finance = world.segment

    def person(name, influence, interest, segment=None, **kwargs):
        return StakeholderFactory(pmo=pmo, name=name, influence=influence, interest=interest, segment=segment, **kwargs)

    people = {
        "Fiona": world.stakeholder,  # 3, 3, Finance
        "Ada": person("Ada", 5, 5, finance),
        "Ben": person("Ben", 4, 2, finance),
        "Cara": person("Cara", 3, 5, finance),
        "Dan": person("Dan", 4, 4, it),
        "Eve": person("Eve", 5, 1, it),
        "Fay": person("Fay", 5, 5, finance, is_active=False),
        "Gus": person("Gus", 4, 4, it),
        "Hal": person("Hal", 4, 5, finance),
        "Ivy": person("Ivy", 2, 2),
    }
    s = people

    spring = build_survey(pmo, lead, "Spring", closed_on=date(2025, 3, 31))
    on = date(2025, 3, 20)
    # Each rates every statement and importance alike; Ada's price is Don't know.
    for name, value, nps in (("Gus", 5, 8), ("Ada", 3, 6), ("Ben", 1, 9), ("Cara", 5, None)):
        ratings = {**every(value), C: (None, None)} if name == "Ada" else every(value)
        importance = dict.fromkeys(Element, value)
        ResponseFactory(
            survey=spring, stakeholder=s[name], ratings=ratings, importance=importance, nps=nps, submitted_at=at(on)
        )

    summer = build_survey(pmo, lead, "Summer", closed_on=date(2025, 6, 30))
    on = date(2025, 6, 20)
    ResponseFactory(survey=summer, stakeholder=s["Ben"], ratings=every(5), submitted_at=at(on))
    # 3,3,1,1,2 → 10/5 = 2 → 25
    ResponseFactory(
        survey=summer, stakeholder=s["Dan"], ratings={P: (3, 3), E: (1, 1), PE: (2, None)}, submitted_at=at(on)
    )
    # 4 × 8 + 5 = 37/9 → 77.8
    ResponseFactory(
        survey=summer, stakeholder=s["Eve"], ratings={**every(4, (P, E, C, PE)), PR: (5, None)}, submitted_at=at(on)
    )

    autumn = build_survey(pmo, lead, "Autumn", closed_on=date(2025, 10, 31))
    on = date(2025, 10, 20)
    # Ada: 25/8 → 53.1 (up from 50)
    ResponseFactory(
        survey=autumn,
        stakeholder=s["Ada"],
        ratings={P: (3, 3), E: (3, 3), PE: (2, 2), PR: (5, 4)},
        importance={P: 3, E: 3, PE: 2, PR: 2},
        nps=10,
        submitted_at=at(on),
    )
    # Ben: 24/8 → 50 (down from 100)
    ResponseFactory(
        survey=autumn,
        stakeholder=s["Ben"],
        ratings={P: (2, 4), E: (3, 3), PE: (2, 2), PR: (4, 4)},
        importance={P: 2, E: 3, PE: 2, PR: 3},
        nps=9,
        submitted_at=at(on),
    )
    # Cara: 24/8 → 50 (down from 100, but influence 3)
    ResponseFactory(
        survey=autumn,
        stakeholder=s["Cara"],
        ratings={P: (4, 2), E: (3, 3), PE: (1, 1), PR: (5, 5)},
        importance={P: 4, E: 3, PE: 1, PR: 2},
        nps=7,
        submitted_at=at(on),
    )
    # Dan: 2,2,2,1,1 → 8/5 = 1.6 → 15: exactly 10 below 25
    ResponseFactory(
        survey=autumn,
        stakeholder=s["Dan"],
        ratings={P: (2, None), E: (2, 2), PE: (1, None), PR: (1, None)},
        importance={P: 3, E: 3, PE: 3, PR: 2},
        nps=3,
        submitted_at=at(on),
    )
    # Eve: 4,3,4,3,4,4,4 → 26/7 → 67.9: 9.9 below 77.8, not 10
    ResponseFactory(
        survey=autumn,
        stakeholder=s["Eve"],
        ratings={P: (None, 4), E: (3, 4), PE: (3, 4), PR: (4, 4)},
        importance={P: 3, E: 3, PE: 2, PR: 1},
        submitted_at=at(on),
    )
    SurveyInvitationFactory(survey=autumn, stakeholder=s["Fiona"], sent=True)
    SurveyInvitationFactory(survey=autumn, stakeholder=s["Gus"], sent=True)
    SurveyInvitationFactory(survey=autumn, stakeholder=s["Hal"])

    # Gus's newer answer to an anonymous survey is never tied to him: were it, 100 → 0.
    anonymous = build_survey(pmo, lead, "Anonymous pulse", status=SurveyStatus.OPEN, anonymous=True)
    ResponseFactory(
        survey=anonymous,
        stakeholder=s["Gus"],
        ratings=every(1),
        importance=dict.fromkeys(Element, 1),
        submitted_at=at(date(2025, 11, 5)),
    )

    # Self-assessments: the latest per element wins; the history is kept.
    def rate(element, rating, on, author=lead):
        SelfAssessmentFactory(pmo=pmo, element=element, rating=rating, assessed_on=on, author=author)

    rate(P, 4, date(2025, 6, 1), member)
    rate(P, 2, date(2025, 1, 10))  # entered later, but dated earlier
    rate(E, 3, date(2025, 6, 1))
    rate(C, 5, date(2025, 6, 1))
    rate(PR, 2, date(2025, 6, 1))
    rate(PR, 5, date(2025, 6, 1))  # same date, entered later
    SelfAssessmentFactory(pmo=world.other_pmo, element=P, rating=1, assessed_on=date(2025, 12, 1))

    def stage(name, value, on):
        MaturityRecordFactory(stakeholder=s[name], stage=value, recorded_on=on, author=member)

    stage("Ada", 4, date(2025, 3, 1))
    stage("Ada", 2, date(2025, 9, 1))
    stage("Ben", 1, date(2025, 9, 1))
    stage("Cara", 1, date(2025, 9, 1))
    stage("Dan", 3, date(2025, 8, 1))  # entered first, dated later: the current stage
    stage("Dan", 2, date(2025, 5, 1))
    stage("Fay", 1, date(2025, 9, 1))
    stage("Ivy", 5, date(2025, 9, 1))
    MaturityRecordFactory(
        stakeholder=world.other_stakeholder,
        stage=1,
        rationale="Theirs",
        recorded_on=date(2025, 9, 1),
    )

    # The other PMO has a closed survey of its own, answered all 5.
    other = build_survey(world.other_pmo, world.outsider, "Beta survey", closed_on=date(2025, 12, 1))
    ResponseFactory(
        survey=other,
        stakeholder=world.other_stakeholder,
        ratings=every(5),
        importance=dict.fromkeys(Element, 5),
        nps=10,
        submitted_at=at(date(2025, 11, 1)),
    )

    return KnownPmo(world, it, people, spring, summer, autumn, anonymous, other)
