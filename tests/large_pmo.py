"""A PMO with thousands of stakeholders and answers, for tests/test_report_queries.py and
scripts/benchmark_report.py.

Made in a few bulk inserts with the ORM, not with tests/factories.py: a factory makes
one row at a time, and `make benchmark` runs with the runtime requirements only, where
factory_boy is not installed.
"""

from datetime import UTC, date, datetime, timedelta

from agenda.figures.kept import keep_figures
from agenda.figures.responses import store_perceptions
from agenda.models import Action, Incident, MaturityRecord, SelfAssessment
from pmo5p.domain import Element, Problem, ServiceUsage
from stakeholders.models import (
    Answer,
    QuestionKind,
    Response,
    Segment,
    Service,
    ServiceAnswer,
    Stakeholder,
    Survey,
    SurveyInvitation,
    SurveyService,
    SurveyStatus,
)
from stakeholders.surveys.lifecycle import create_survey
from tests.helpers import analyze_answers

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
        invitation = SurveyInvitation.new(survey, person)
        invitation.sent_at = launched
        invitation.send_status = SurveyInvitation.SendStatus.SENT
        invitations.append(invitation)
    SurveyInvitation.objects.bulk_create(invitations, batch_size=2000)
    responders = invitations[: max(1, -(-answers // len(questions)))]  # at least `answers` answers
    responses = Response.objects.bulk_create(
        (
            Response(
                invitation=invitation,
                survey=survey,
                segment_id=invitation.segment_id,
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
    store_perceptions(Response.objects.filter(survey=survey))
    analyze_answers()
    # What closing keeps (stakeholders.surveys.lifecycle.close): the survey was made closed.
    keep_figures([survey.pk])
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


USAGES = [ServiceUsage.USES, ServiceUsage.USES, ServiceUsage.KNOWS, ServiceUsage.UNAWARE]


def add_services(pmo, *, services: int, per_response: int = 5) -> list[Service]:
    """A catalogue of `services` services, every one asked about in each of the PMO's launched
    surveys, and `per_response` of them answered by each response (in turn, so that each
    service is answered by about as many): half use it and rate it, a quarter know it, a
    quarter did not know it. In bulk, as build_large_pmo."""
    made = Service.objects.bulk_create(
        Service(pmo=pmo, name=f"Service {n:04d}", elements=[list(Element)[n % len(Element)].value])
        for n in range(services)
    )
    surveys = list(Survey.objects.filter(pmo=pmo, status__in=[SurveyStatus.OPEN, SurveyStatus.CLOSED]))
    asked = SurveyService.objects.bulk_create(
        SurveyService(survey=survey, service=service, name=service.name, elements=service.elements, position=n)
        for survey in surveys
        for n, service in enumerate(made)
    )
    asked_in = {survey.pk: [a for a in asked if a.survey_id == survey.pk] for survey in surveys}
    responses = Response.objects.filter(survey__in=surveys).order_by("pk").values_list("pk", "survey_id")

    def answers():
        for number, (response, survey_id) in enumerate(responses):
            mine = asked_in[survey_id]
            for k in range(min(per_response, len(mine))):
                usage = USAGES[(number + k) % len(USAGES)]
                rated = usage == ServiceUsage.USES
                yield ServiceAnswer(
                    response_id=response,
                    survey_service=mine[(number * per_response + k) % len(mine)],
                    usage=usage,
                    satisfaction=1 + (number + 2 * k) % 5 if rated else None,
                    importance=1 + (number * 3 + k) % 5 if rated else None,
                )

    ServiceAnswer.objects.bulk_create(answers(), batch_size=5000)
    return made
