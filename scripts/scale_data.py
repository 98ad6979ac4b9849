"""The data of scripts/benchmark_scale.py: PMOs with years of closed surveys, loaded fast.

The bulky tables (stakeholders, invitations, responses, answers, maturity records,
interactions) go in with PostgreSQL's COPY FROM STDIN: a million answers in seconds, where
the ORM's bulk_create takes minutes. The small ones (PMOs, members, segments, surveys and
their questions, self-assessments, actions, incidents) go through the ORM and the product's
own create_survey, so that they are exactly what the product makes.

Every column of a COPY is named: a column added to one of these models without a database
default makes the COPY fail with its name, rather than load rows the product would not.
The values are drawn from a seeded generator, so two runs build the same PMOs.
"""

import io
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from agenda.figures.kept import keep_figures
from agenda.figures.responses import store_perceptions
from agenda.models import Action, Incident, SelfAssessment
from pmo5p.domain import Element, Problem
from pmo5p.models import Membership, Pmo, Role, User
from stakeholders.models import (
    InteractionKind,
    QuestionKind,
    Response,
    Segment,
    Survey,
    SurveyStatus,
    hash_token,
    make_token,
)
from stakeholders.surveys.lifecycle import create_survey

SEGMENT_NAMES = [
    "Executive sponsors",
    "Finance",
    "IT",
    "Operations",
    "HR",
    "Project managers",
    "Procurement",
    "Legal",
    "Sales",
    "Customer service",
]
BUSINESS_UNITS = ["Retail", "Corporate", "Manufacturing", "Logistics", "Digital", "Group functions"]
JOB_TITLES = ["Director", "Head of department", "Programme manager", "Project manager", "Analyst", "Team lead"]
COMMENTS = [
    "The monthly reports are useful but arrive too late to act on.",
    "Stage gates take too long for small projects.",
    "Very helpful team, always available when we need them.",
    "I would like more coaching on risk management.",
    "The templates are too heavy for a project of our size.",
    "Good support during the budget review, thank you.",
    "We never hear back after we send our status updates.",
    "The portfolio dashboard helps me explain priorities to my team.",
]
# Elements rated a little above or below a stakeholder's overall view, as real surveys show.
ELEMENT_OFFSET = {
    Element.PRODUCT: 0.2,
    Element.PHYSICAL_EVIDENCE: -0.3,
    Element.PRICE: -0.4,
    Element.PEOPLE: 0.4,
    Element.PROCESS: 0.0,
}
LEVELS, LEVEL_WEIGHTS = [1, 2, 3, 4, 5], [25, 30, 25, 13, 7]
DONT_KNOW_SHARE = 0.06  # performance answers "Don't know" (NULL)
COMMENT_SHARE = 0.15
SURVEY_DAYS_OPEN = 21
SURVEY_EVERY_DAYS = 91  # one survey a quarter


@dataclass
class Shape:
    """What to build for one PMO."""

    slug: str
    name: str
    stakeholders: int
    answers: int  # answers of the closed surveys, about (each response answers every question)
    surveys: int  # closed surveys, one a quarter up to about two months ago
    segments: int
    interactions_per_stakeholder: int = 4
    open_survey: bool = False  # an open survey with an invitation for each active stakeholder


@dataclass
class Built:
    pmo: Pmo
    segment_ids: list[int]
    latest_survey: Survey
    answers: int = 0
    responses: int = 0
    open_survey: Survey | None = None
    open_tokens: list[str] = field(default_factory=list)


@dataclass
class Person:
    id: int
    email: str
    segment_id: int | None
    active: bool
    attitude: float  # the mean rating this stakeholder tends to give, 1 to 5
    propensity: float  # how likely they answer a survey, relative to others


def build(shape: Shape, lead: User, *, today: date, seed: int) -> Built:
    """One PMO as `shape` says, `lead` its lead; rows go in through COPY.

    The rows bypass the product's write path (stakeholders.surveys.lifecycle.submit and
    close): whatever the product comes to keep up to date as answers arrive or a survey
    closes (precomputed figures) has to be brought up to date here, by its own functions.
    """
    rng = random.Random(f"{seed}:{shape.slug}")
    pmo = Pmo.objects.create(name=shape.name, slug=shape.slug, time_zone="Europe/London")
    lead_membership = Membership.objects.create(pmo=pmo, user=lead, role=Role.LEAD, receives_reports=True)
    owners = [lead_membership, *_members(pmo, shape.slug, count=4)]
    segments = Segment.objects.bulk_create(Segment(pmo=pmo, name=name) for name in SEGMENT_NAMES[: shape.segments])
    people = _stakeholders(pmo, shape.stakeholders, [s.pk for s in segments], [m.pk for m in owners], today, rng)
    surveys = _closed_surveys(pmo, lead, shape.surveys, today)
    built = Built(pmo, [s.pk for s in segments], surveys[-1])
    responses_wanted = math.ceil(shape.answers / _rated_questions_per_response())
    for index, (survey, count) in enumerate(zip(surveys, _split(responses_wanted, len(surveys)), strict=True)):
        # The mood moves a little from survey to survey, and dips in the latest, so that some
        # influential stakeholders' perception falls by 10 points (the at-risk list).
        drift = rng.gauss(0, 0.1) - (0.1 if index == len(surveys) - 1 else 0)
        answers, responses = _survey_rows(survey, people, count, drift, rng)
        built.answers += answers
        built.responses += responses
    store_perceptions(Response.objects.filter(survey__pmo=pmo))
    # What closing keeps of each closed survey (lifecycle.close), by the same function.
    keep_figures([survey.pk for survey in surveys])
    if shape.open_survey:
        built.open_survey, built.open_tokens = _open_survey(pmo, lead, people, today, rng)
    _maturity_records(pmo, lead, people, today, rng)
    _interactions(pmo, lead, people, shape.interactions_per_stakeholder, today, rng)
    _plan(pmo, lead, shape.surveys, today)
    return built


def analyse() -> None:
    """What autovacuum would have done by now: fresh statistics and visibility maps, so that
    the planner sees the data as a live database's and index-only scans stay index-only."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


# The rows -----------------------------------------------------------------------------


def _members(pmo: Pmo, slug: str, *, count: int) -> list[Membership]:
    users = [User.objects.create_user(email=f"member{n}@{slug}.example", name=f"Member {n}") for n in range(count)]
    return Membership.objects.bulk_create(Membership(pmo=pmo, user=user, role=Role.MEMBER) for user in users)


def _stakeholders(pmo, count, segment_ids, owner_ids, today, rng) -> list[Person]:
    ids = _reserve_ids("stakeholders_stakeholder", count)
    people, rows = [], []
    created = _at(today - timedelta(days=6 * 365))
    for n, pk in enumerate(ids):
        person = Person(
            id=pk,
            email=f"s{n:05d}@{pmo.slug}.example",
            segment_id=segment_ids[n % len(segment_ids)] if segment_ids and n % 20 else None,
            active=rng.random() > 0.05,
            attitude=min(4.6, max(1.4, rng.gauss(3.3, 0.7))),
            propensity=rng.uniform(0.2, 1.0),
        )
        people.append(person)
        rows.append(
            (
                pk,
                pmo.pk,
                f"Stakeholder {n:05d}",
                person.email,
                rng.choice(JOB_TITLES),
                rng.choice(BUSINESS_UNITS),
                rng.choices(LEVELS, LEVEL_WEIGHTS)[0],  # influence: a fifth of them 4 or 5
                rng.choices(LEVELS, LEVEL_WEIGHTS[::-1])[0],  # interest
                "",
                person.active,
                created,
                created,
                rng.choice(owner_ids) if rng.random() < 0.8 else None,
                person.segment_id,
            )
        )
    _copy(
        "stakeholders_stakeholder",
        "id pmo_id name email job_title business_unit influence interest notes is_active created_at updated_at "
        "owner_id segment_id",
        rows,
    )
    return people


def _closed_surveys(pmo, lead, count, today) -> list[Survey]:
    """`count` closed surveys, oldest first, the latest closed about two months ago."""
    surveys = []
    for n in range(count):
        launched = _at(today - timedelta(days=60 + SURVEY_DAYS_OPEN + (count - 1 - n) * SURVEY_EVERY_DAYS))
        closed = launched + timedelta(days=SURVEY_DAYS_OPEN)
        survey = create_survey(
            pmo=pmo,
            created_by=lead,
            title=f"Perception survey {launched:%Y} Q{(launched.month - 1) // 3 + 1}",
            closes_on=closed.date(),
        )
        Survey.objects.filter(pk=survey.pk).update(
            status=SurveyStatus.CLOSED, created_at=launched - timedelta(days=7), launched_at=launched, closed_at=closed
        )
        survey.refresh_from_db()
        surveys.append(survey)
    return surveys


def _survey_rows(survey, people, count, drift, rng) -> tuple[int, int]:
    """The invitations of `survey` (every active stakeholder), `count` responses and their answers."""
    invited = [p for p in people if p.active]
    responders = _weighted_sample(invited, count, rng)
    submitted = {
        p.id: survey.launched_at + timedelta(seconds=rng.uniform(600, SURVEY_DAYS_OPEN * 86400 - 600))
        for p in responders
    }
    invitation_ids = _invitations(survey, invited, submitted, rng)[1]
    response_ids = _reserve_ids("stakeholders_response", len(responders))
    questions = list(survey.questions.all())
    response_rows, answer_rows = [], []
    for response_id, person in zip(response_ids, responders, strict=True):
        shift = drift + (rng.gauss(-0.5, 0.3) if rng.random() < 0.1 else 0)  # some change their mind
        nps = _clamp(round((person.attitude + shift - 1) * 2.6 + rng.gauss(0, 1.6)), 0, 10)
        at = submitted[person.id]
        comment = rng.choice(COMMENTS) if rng.random() < COMMENT_SHARE else ""
        response_rows.append(
            (
                response_id,
                invitation_ids[person.id],
                survey.pk,
                person.segment_id,
                nps,
                comment,
                at,
                at if nps <= 6 else None,
            )
        )
        answer_rows.extend(
            (response_id, q.pk, _answer(q, person.attitude + shift, rng))
            for q in questions
            if q.kind in (QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE)
        )
    _copy(
        "stakeholders_response",
        "id invitation_id survey_id segment_id nps comment submitted_at detractor_alerted_at",
        response_rows,
    )
    _copy("stakeholders_answer", "response_id question_id value", answer_rows)
    return len(answer_rows), len(response_rows)


def _answer(question, attitude: float, rng) -> int | None:
    if question.kind == QuestionKind.IMPORTANCE:
        return _clamp(round(rng.gauss(3.9, 0.8)), 1, 5)
    if rng.random() < DONT_KNOW_SHARE:
        return None
    return _clamp(round(rng.gauss(attitude + ELEMENT_OFFSET[Element(question.element)], 0.7)), 1, 5)


def _invitations(survey, invited, responded: dict, rng) -> tuple[list[str], dict[int, int]]:
    """One sent invitation per invited stakeholder; their link tokens and ids by stakeholder."""
    ids = _reserve_ids("stakeholders_invitation", len(invited))
    tokens, by_person, rows = [], {}, []
    sent, now = survey.launched_at, timezone.now()
    for pk, person in zip(ids, invited, strict=True):
        seed = f"{rng.getrandbits(128):032x}"
        token = make_token(seed)
        tokens.append(token)
        by_person[person.id] = pk
        answered = responded.get(person.id)
        # Reminded a week after the invitation, unless they had answered by then (or the week is not over).
        reminder = sent + timedelta(days=7)
        reminded = reminder if reminder <= now and (answered is None or answered > reminder) else None
        rows.append(
            (
                pk,
                survey.pk,
                person.id,
                person.segment_id,
                person.email,
                seed,
                hash_token(token),
                sent,
                "sent",
                sent,
                1,
                "",
                reminded,
                reminded,
                "{}",
                None,
                answered,
            )
        )
    _copy(
        "stakeholders_invitation",
        "id survey_id stakeholder_id segment_id email token_seed token_hash created_at send_status sent_at send_attempts "
        "last_error reminder_claimed_at reminded_at draft_answers draft_saved_at responded_at",
        rows,
    )
    return tokens, by_person


def _open_survey(pmo, lead, people, today, rng) -> tuple[Survey, list[str]]:
    """A survey launched yesterday that nobody has answered yet, and its links."""
    survey = create_survey(
        pmo=pmo, created_by=lead, title="Perception survey (open)", closes_on=today + timedelta(days=14)
    )
    launched = timezone.now() - timedelta(days=1)
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.OPEN, launched_at=launched)
    survey.refresh_from_db()
    tokens, _ = _invitations(survey, [p for p in people if p.active], {}, rng)
    return survey, tokens


def _maturity_records(pmo, lead, people, today, rng) -> None:
    rows = []
    for person in people:
        if rng.random() > 0.7:
            continue
        stage = rng.randint(1, 4)
        days = sorted(rng.sample(range(1, 5 * 365), rng.randint(1, 4)), reverse=True)
        for ago in days:
            stage = _clamp(stage + rng.choice((-1, 0, 0, 1)), 1, 5)
            on = today - timedelta(days=ago)
            rows.append(
                (pmo.pk, person.id, stage, "Reviewed at the quarterly relationship check.", on, _at(on), lead.pk)
            )
    _copy("agenda_maturityrecord", "pmo_id stakeholder_id stage rationale recorded_on created_at author_id", rows)


def _interactions(pmo, lead, people, per_stakeholder, today, rng) -> None:
    count = len(people) * per_stakeholder // 2  # each has one to three stakeholders
    ids = _reserve_ids("stakeholders_interaction", count)
    kinds, elements = list(InteractionKind.values), list(Element.values)
    rows, links = [], []
    for pk in ids:
        on = today - timedelta(days=rng.randrange(5 * 365))
        chosen = rng.sample(elements, rng.randint(0, 2))
        rows.append(
            (pk, pmo.pk, on, rng.choice(kinds), _json(chosen), rng.randint(-2, 2), "Status review.", lead.pk, _at(on))
        )
        links.extend((pk, person.id) for person in rng.sample(people, min(len(people), rng.randint(1, 3))))
    _copy(
        "stakeholders_interaction", "id pmo_id occurred_on kind elements sentiment summary author_id created_at", rows
    )
    _copy("stakeholders_interaction_stakeholders", "interaction_id stakeholder_id", links)


def _plan(pmo, lead, quarters, today) -> None:
    """A self-assessment of each element a quarter, and the agenda's actions and incidents."""
    SelfAssessment.objects.bulk_create(
        SelfAssessment(
            pmo=pmo,
            element=element,
            rating=1 + (n + k) % 5,
            assessed_on=today - timedelta(days=n * SURVEY_EVERY_DAYS),
            author=lead,
        )
        for n in range(quarters)
        for k, element in enumerate(Element)
    )
    elements, problems = list(Element), list(Problem)
    Action.objects.bulk_create(
        Action(
            pmo=pmo,
            title=f"Action {n}",
            element=elements[n % 5],
            problem=problems[n % 5],
            due_on=today + timedelta(days=n - 20),
            status=["planned", "in_progress", "done", "dropped"][n % 4],
            completed_at=_at(today - timedelta(days=n % 30)) if n % 4 == 2 else None,
            created_by=lead,
        )
        for n in range(60)
    )
    Incident.objects.bulk_create(
        Incident(
            pmo=pmo,
            title=f"Incident {n}",
            problem=problems[n % 5],
            occurred_on=today - timedelta(days=n * 3),
            elements=[elements[n % 5]],
            estimated_cost=1000 * n,
            days_lost=n % 7,
            created_by=lead,
        )
        for n in range(40)
    )


# Helpers ------------------------------------------------------------------------------


def _rated_questions_per_response() -> int:
    """The questions of the standard questionnaire with an Answer row (not the NPS or the comment)."""
    from stakeholders.surveys import questionnaire

    return sum(len(s) for s in questionnaire.PERFORMANCE_STATEMENTS.values()) + len(questionnaire.IMPORTANCE_QUESTIONS)


def _weighted_sample(people: list[Person], count: int, rng) -> list[Person]:
    """`count` people drawn without replacement, the keen ones more often (Efraimidis–Spirakis)."""
    if count > len(people):
        raise ValueError(f"{count} responses asked of a survey of {len(people)} stakeholders: ask fewer answers")
    return sorted(people, key=lambda p: rng.random() ** (1 / p.propensity), reverse=True)[:count]


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]


def _reserve_ids(table: str, count: int) -> range:
    """`count` ids of `table`'s identity sequence, taken at once for rows that COPY loads."""
    if count == 0:
        return range(0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [table, table, count],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


def _copy(table: str, columns: str, rows) -> None:
    """COPY `rows` (tuples in the order of `columns`) into `table`, in PostgreSQL's text format."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_text(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns.split())}) FROM STDIN", buffer)


def _text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    # Only the texts of this module are written: none holds a tab, a newline or a backslash.
    return str(value)


def _json(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
