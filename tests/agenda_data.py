"""Survey data for the agenda tests, made straight with the ORM.

`known_survey` builds a closed survey whose figures are worked out by hand (below);
`build_large_pmo` fills a PMO with thousands of stakeholders and answers in a few
bulk inserts, for the query-count test and scripts/benchmark_report.py.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from agenda.models import Action, Incident, MaturityRecord, SelfAssessment
from pmo5p.domain import Element, MaturityStage, Problem
from stakeholders.models import Answer, Invitation, QuestionKind, Response, Segment, Stakeholder, Survey, SurveyStatus
from stakeholders.surveys import create_survey

P, E, C, PE, PR = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS


# Figures as the code before the versioned schema stored them (commit 50bd431, the
# November report of tests/test_reports.py::test_a_second_report_shows_the_change_since_the_first,
# dumped from AgendaReport.figures): version 1, no "schema_version" key. A report made
# by hand in a test, ready, carries these.
REPORT_FIGURES_V1 = json.loads((Path(__file__).parent / "fixtures" / "report_figures_v1.json").read_text())


@dataclass
class Questions:
    survey: Survey
    performance: dict  # Element -> [two questions]
    importance: dict  # Element -> question


def closed_survey(pmo, author, title, *, closed_at: datetime, status=SurveyStatus.CLOSED) -> Questions:
    survey = create_survey(pmo=pmo, created_by=author, title=title, closes_on=date(2099, 1, 1))
    survey.status = status
    survey.launched_at = closed_at - timedelta(days=14)
    survey.closed_at = closed_at if status == SurveyStatus.CLOSED else None
    survey.save()
    questions = Questions(survey, {}, {})
    for question in survey.questions.all():
        if question.kind == QuestionKind.PERFORMANCE:
            questions.performance.setdefault(Element(question.element), []).append(question)
        elif question.kind == QuestionKind.IMPORTANCE:
            questions.importance[Element(question.element)] = question
    return questions


def invite(questions: Questions, stakeholder) -> Invitation:
    invitation = Invitation.new(questions.survey, stakeholder)
    invitation.sent_at = questions.survey.launched_at
    invitation.send_status = Invitation.SendStatus.SENT
    invitation.save()
    return invitation


def respond(questions: Questions, stakeholder, ratings: dict, *, nps=None, on: datetime | None = None) -> Response:
    """ratings: Element -> (performance rating for both statements, importance)."""
    invitation = invite(questions, stakeholder)
    submitted = on or questions.survey.launched_at + timedelta(days=1)
    response = Response.objects.create(
        invitation=invitation,
        survey=questions.survey,
        segment_id=stakeholder.segment_id,
        nps=nps,
        submitted_at=submitted,
    )
    answers = []
    for element, (performance, importance) in ratings.items():
        answers += [Answer(response=response, question=q, value=performance) for q in questions.performance[element]]
        answers.append(Answer(response=response, question=questions.importance[element], value=importance))
    Answer.objects.bulk_create(answers)
    Invitation.objects.filter(pk=invitation.pk).update(responded_at=submitted)
    return response


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
    questions: Questions
    it: Segment
    finance_people: list
    it_people: list

    @property
    def survey(self) -> Survey:
        return self.questions.survey


def known_survey(world, *, closed_at=datetime(2026, 10, 20, 12, tzinfo=UTC), title="Autumn") -> KnownSurvey:
    pmo = world.pmo
    it = Segment.objects.create(pmo=pmo, name="IT")
    questions = closed_survey(pmo, world.lead, title, closed_at=closed_at)
    finance_people = [
        Stakeholder.objects.create(pmo=pmo, name=f"Finance {n}", email=f"fin{n}@corp.example", segment=world.segment)
        for n in range(3)
    ]
    it_people = [
        Stakeholder.objects.create(pmo=pmo, name=f"IT {n}", email=f"it{n}@corp.example", segment=it) for n in range(3)
    ]
    for person, nps in zip(finance_people, (10, 9, 3), strict=True):
        respond(questions, person, FINANCE_RATINGS, nps=nps)
    for person, nps in zip(it_people, (8, 7, None), strict=True):
        respond(questions, person, IT_RATINGS, nps=nps)
    invite(questions, world.stakeholder)  # Fiona: invited, no answer
    return KnownSurvey(questions, it, finance_people, it_people)


def at_risk_person(world, name="Hank Heavy", *, stage=MaturityStage.AWARE, on=date(2026, 10, 1)) -> Stakeholder:
    """Influence 5 and maturity Aware: at risk."""
    person = Stakeholder.objects.create(
        pmo=world.pmo, name=name, email=f"{name.split()[0].lower()}@corp.example", influence=5, interest=4
    )
    MaturityRecord.objects.create(pmo=world.pmo, stakeholder=person, stage=stage, rationale="Seen", recorded_on=on)
    return person


# A large PMO --------------------------------------------------------------------------------------

SEGMENT_NAMES = ["Executive sponsors", "Finance", "IT", "Operations", "HR", "Project managers"]


def build_large_pmo(pmo, author, *, stakeholders: int, answers: int, today: date) -> Survey:
    """`stakeholders` stakeholders and about `answers` answers in one closed survey, in bulk.

    Each response answers the ten performance statements and five importance questions
    (15 answers), so `answers` / 15 stakeholders (rounded up) respond. Also: maturity records (some
    in the month before `today`), self-assessments, actions and incidents.
    """
    # Small PMOs get fewer segments, so that some still reach the anonymity threshold.
    names = SEGMENT_NAMES[: max(1, min(len(SEGMENT_NAMES), stakeholders // 3))]
    segments = Segment.objects.bulk_create(Segment(pmo=pmo, name=name) for name in names)
    people = Stakeholder.objects.bulk_create(
        Stakeholder(
            pmo=pmo,
            name=f"Stakeholder {n:05d}",
            email=f"s{n:05d}@big.example",
            segment=segments[n % len(segments)],
            influence=1 + n % 5,
            interest=1 + (n * 7) % 5,
        )
        for n in range(stakeholders)
    )
    launched = datetime.combine(today - timedelta(days=60), datetime.min.time(), tzinfo=UTC)
    survey = create_survey(pmo=pmo, created_by=author, title="Big survey", closes_on=today)
    Survey.objects.filter(pk=survey.pk).update(
        status=SurveyStatus.CLOSED, launched_at=launched, closed_at=launched + timedelta(days=30)
    )
    questions = [q for q in survey.questions.all() if q.kind in (QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE)]
    invitations = []
    for person in people:
        invitation = Invitation.new(survey, person)
        invitation.sent_at = launched
        invitation.send_status = Invitation.SendStatus.SENT
        invitations.append(invitation)
    Invitation.objects.bulk_create(invitations, batch_size=2000)
    responders = invitations[: max(1, -(-answers // len(questions)))]  # at least `answers` answers
    responses = Response.objects.bulk_create(
        (
            Response(
                invitation=invitation,
                survey=survey,
                segment_id=invitation.stakeholder.segment_id,
                nps=n % 11,
                submitted_at=launched + timedelta(days=1 + n % 20, minutes=n),
            )
            for n, invitation in enumerate(responders)
        ),
        batch_size=2000,
    )
    Answer.objects.bulk_create(
        (
            Answer(response=response, question=question, value=None if (n + k) % 23 == 0 else 1 + (n * 3 + k) % 5)
            for n, response in enumerate(responses)
            for k, question in enumerate(questions)
        ),
        batch_size=5000,
    )
    # Half the stakeholders judged 90 days ago; a third of those judged again 10 days ago
    # (up, down or the same), and some others judged for the first time then.
    judged = people[: stakeholders // 2]
    MaturityRecord.objects.bulk_create(
        [
            MaturityRecord(
                pmo=pmo, stakeholder=person, stage=1 + (n * 2) % 5, rationale="Bulk", recorded_on=today - timedelta(90)
            )
            for n, person in enumerate(judged)
        ]
        + [
            MaturityRecord(
                pmo=pmo, stakeholder=person, stage=1 + (n * 3) % 5, rationale="Bulk", recorded_on=today - timedelta(10)
            )
            for n, person in enumerate(people)
            if n % 3 == 0 and n < stakeholders * 2 // 3
        ],
        batch_size=2000,
    )
    SelfAssessment.objects.bulk_create(
        SelfAssessment(pmo=pmo, element=element, rating=3, assessed_on=today - timedelta(days=30))
        for element in Element
    )
    Action.objects.bulk_create(
        Action(
            pmo=pmo,
            title=f"Action {n}",
            element=list(Element)[n % 5],
            problem=list(Problem)[n % 5],
            due_on=today + timedelta(days=n - 20),
            status=["planned", "in_progress", "done", "dropped"][n % 4],
            completed_at=datetime.combine(today - timedelta(days=n % 30), datetime.min.time(), tzinfo=UTC)
            if n % 4 == 2
            else None,
        )
        for n in range(min(60, stakeholders))
    )
    Incident.objects.bulk_create(
        Incident(
            pmo=pmo,
            title=f"Incident {n}",
            problem=list(Problem)[n % 5],
            occurred_on=today - timedelta(days=n),
            elements=[list(Element)[n % 5]],
            estimated_cost=1000 * n,
            days_lost=n % 7,
        )
        for n in range(min(40, stakeholders))
    )
    return survey
