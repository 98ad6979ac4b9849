"""The demo PMO that `make run` loads, so that a newcomer sees a working product at once."""

import random
import unicodedata
import zoneinfo
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from agenda.figures.kept import keep_figures
from agenda.figures.responses import store_perceptions
from agenda.models import Action, Incident, MaturityRecord, ReportSchedule, SelfAssessment
from agenda.reports.services import reschedule
from pmo5p.domain import DETRACTOR_MAX, ServiceUsage
from pmo5p.models import Membership, Pmo, Role, User
from stakeholders import catalogue, register, touchpoints
from stakeholders.cases import opening, pulses
from stakeholders.cases import services as cases
from stakeholders.models import (
    Answer,
    CaseStatus,
    FollowUpCase,
    Interaction,
    QuestionKind,
    RecoveryPulse,
    Recurrence,
    Response,
    Segment,
    Service,
    ServiceAnswer,
    Stakeholder,
    SurveyInvitation,
    SurveyStatus,
)
from stakeholders.surveys import lifecycle as surveys

DEMO_SLUG = "demo"
DEMO_PASSWORD = "pmo5p-demo"  # noqa: S105 (printed by `make run` for the local demo)
DEMO_USERS = [
    ("lead@example.com", "Alex Morgan", Role.LEAD),
    ("member@example.com", "Priya Shah", Role.MEMBER),
    ("viewer@example.com", "Tom Becker", Role.VIEWER),
]
SEGMENTS = {
    "Executive sponsors": "Executives who sponsor the portfolio's programmes.",
    "Finance": "Finance business partners and controllers.",
    "IT": "Technology leaders and delivery managers.",
    "Operations": "Operational business units receiving change.",
    "HR": "People and talent teams.",
    "Project managers": "The project community the PMO serves day to day.",
}
FIRST = [
    "Olivia",
    "Liam",
    "Amara",
    "Noah",
    "Sofia",
    "Ethan",
    "Mei",
    "Lucas",
    "Fatima",
    "Oscar",
    "Ingrid",
    "Mateo",
    "Hannah",
    "Kwame",
    "Zoe",
    "Rahul",
    "Chloe",
    "Diego",
    "Aisha",
    "Jonas",
    "Elena",
    "Samuel",
    "Nadia",
    "Felix",
    "Grace",
    "Tariq",
    "Isla",
    "Marco",
    "Leila",
    "Henrik",
    "Ruth",
    "Yusuf",
    "Clara",
    "Ravi",
    "Emma",
    "Daniel",
]
LAST = [
    "Hughes",
    "Okafor",
    "Lindqvist",
    "Patel",
    "Rossi",
    "Nakamura",
    "Fischer",
    "Dubois",
    "Kowalski",
    "Mensah",
    "Novak",
    "García",
    "O'Brien",
    "Haddad",
    "Jensen",
    "Silva",
    "Chen",
    "Walsh",
]
TITLES = {
    "Executive sponsors": [
        "Chief Operating Officer",
        "Chief Financial Officer",
        "Director of Strategy",
        "Chief Digital Officer",
    ],
    "Finance": ["Finance Business Partner", "Head of Financial Planning", "Portfolio Controller"],
    "IT": ["Head of Delivery", "Enterprise Architect", "IT Service Manager"],
    "Operations": ["Operations Director", "Regional Operations Manager", "Head of Customer Service"],
    "HR": ["HR Business Partner", "Head of Talent", "Learning & Development Lead"],
    "Project managers": ["Senior Project Manager", "Programme Manager", "Project Manager"],
}
INFLUENCE = {
    "Executive sponsors": (4, 5),
    "Finance": (3, 5),
    "IT": (2, 4),
    "Operations": (2, 4),
    "HR": (1, 3),
    "Project managers": (1, 3),
}
INTEREST = {
    "Executive sponsors": (2, 4),
    "Finance": (2, 4),
    "IT": (3, 5),
    "Operations": (2, 4),
    "HR": (1, 3),
    "Project managers": (4, 5),
}


@transaction.atomic
def load_demo() -> tuple[Pmo, bool]:
    """Create the demo PMO once; return it and whether it was created now."""
    existing = Pmo.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return existing, False

    rng = random.Random(5)  # the same demo for everybody
    pmo = Pmo.objects.create(
        name="Group Transformation PMO",
        slug=DEMO_SLUG,
        description="The PMO of a mid-sized insurer's transformation portfolio: 40 projects, 6 programmes.",
        time_zone="Europe/London",
    )
    memberships = []
    for email, name, role in DEMO_USERS:
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=DEMO_PASSWORD, name=name
        )
        memberships.append(Membership.objects.create(pmo=pmo, user=user, role=role))
    owners = memberships[:2]

    segments = {name: Segment.objects.create(pmo=pmo, name=name, description=text) for name, text in SEGMENTS.items()}
    names = [f"{first} {last}" for first, last in zip(FIRST, rng.sample(LAST * 2, len(FIRST)), strict=True)]
    stakeholders = []
    for index, name in enumerate(names):
        segment_name = list(SEGMENTS)[index % len(SEGMENTS)]
        email_name = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
        email_name = email_name.replace(" ", ".").replace("'", "")
        stakeholders.append(
            Stakeholder(
                pmo=pmo,
                name=name,
                email="" if index % 17 == 16 else f"{email_name}@insurer.example",
                job_title=rng.choice(TITLES[segment_name]),
                business_unit=segment_name if segment_name != "Project managers" else "Transformation Office",
                segment=segments[segment_name],
                influence=rng.randint(*INFLUENCE[segment_name]),
                interest=rng.randint(*INTEREST[segment_name]),
                owner=owners[index % 2] if index % 9 else None,
                is_active=index % 13 != 12,
            )
        )
    Stakeholder.objects.bulk_create(stakeholders)
    lead, member = memberships[0].user, memberships[1].user
    services = _services(pmo, memberships, segments)
    # Drawn apart from the rest of the demo, which stays as it was before the services.
    service_rng = random.Random(12)
    # A year ago the PMO was seen a little better on evidence and price than now.
    _closed_survey(
        pmo,
        lead,
        rng,
        "Autumn perception survey",
        days_ago=300,
        shift={"physical_evidence": 0.5, "price": 0.3},
        services=[s for name, s in services.items() if name != "Benefits tracking"],  # launched since
        service_rng=service_rng,
    )
    _closed_survey(
        pmo,
        lead,
        rng,
        "Spring perception survey",
        days_ago=75,
        shift={},
        services=list(services.values()),
        service_rng=service_rng,
    )
    _follow_up_history(memberships)
    _assessments(pmo, lead, member, rng)
    _agenda(pmo, memberships, services)
    _touchpoints(pmo, memberships, segments)
    _last_touched(pmo)
    return pmo, True


# The demo's catalogue (issue 12): name, description, the segments it serves (none: everyone),
# its P's, status, launched (days ago), level now and target, its owner (0: the lead, 1: the member).
SERVICES = [
    (
        "Portfolio reporting",
        "The monthly portfolio report to the executive committee, and each programme's dashboard.",
        [],
        ["physical_evidence", "product"],
        "live",
        900,
        3,
        4,
        0,
    ),
    (
        "Project assurance",
        "Independent stage-gate and health-check reviews of projects and programmes.",
        ["Executive sponsors", "IT", "Project managers"],
        ["process", "people"],
        "live",
        700,
        2,
        3,
        0,
    ),
    (
        "Methods and templates",
        "The project lifecycle, its templates and the guidance on tailoring them.",
        ["IT", "Operations", "Project managers"],
        ["process", "price"],
        "live",
        1100,
        2,
        3,
        1,
    ),
    (
        "Resource management",
        "Who works on what across the portfolio: capacity, clashes and the skills to find.",
        ["IT", "HR", "Project managers"],
        ["product", "price"],
        "pilot",
        400,
        1,
        2,
        1,
    ),
    (
        "Training and coaching",
        "Courses and one-to-one coaching in project and programme management.",
        [],
        ["people"],
        "live",
        800,
        2,
        2,
        1,
    ),
    (
        "Benefits tracking",
        "Following each programme's benefits from its business case to their realisation.",
        ["Executive sponsors", "Finance"],
        ["physical_evidence", "price"],
        "pilot",
        200,
        1,
        3,
        0,
    ),
    (
        "Help desk",
        "Answers to project managers' and sponsors' questions within a working day.",
        ["IT", "Operations", "Project managers"],
        ["people", "process"],
        "live",
        600,
        2,
        2,
        1,
    ),
]
# How stakeholders see each service: the share who know it, the share of those who use it,
# and its users' mean satisfaction and importance (1–5). So the catalogue tells: portfolio
# reporting, the help desk and benefits tracking are valued; resource management is little
# known; methods and templates are used but disappoint; training and coaching is known but
# little used.
SERVICE_PROFILE = {
    "Portfolio reporting": (0.95, 0.8, 4.2, 4.5),
    "Project assurance": (0.85, 0.65, 3.8, 4.1),
    "Methods and templates": (0.95, 0.85, 2.2, 4.0),
    "Resource management": (0.25, 0.6, 3.6, 4.4),
    "Training and coaching": (0.9, 0.18, 3.4, 2.6),
    "Benefits tracking": (0.7, 0.7, 4.1, 4.7),
    "Help desk": (0.9, 0.75, 4.4, 3.9),
}


def _services(pmo: Pmo, memberships: list[Membership], segments: dict[str, Segment]) -> dict[str, Service]:
    """The PMO's catalogue, through the catalogue's one write path."""
    today = timezone.localdate()
    services = {}
    for name, description, served, elements, status, days, now, target, owner in SERVICES:
        values = {
            "name": name,
            "description": description,
            "owner": memberships[owner],
            "segments": [segments[segment] for segment in served],
            "elements": elements,
            "status": status,
            "launched_on": today - timedelta(days=days),
            "level_now": now,
            "level_target": target,
        }
        services[name] = catalogue.create_service(pmo, memberships[owner].user, values)
    return services


def _service_answers(survey, invitations, responses, rng: random.Random) -> list[ServiceAnswer]:
    """Each respondent's answers about the services the survey asked them about."""
    asked = list(survey.survey_services.all())
    answers = []
    for invitation, response in zip(invitations, responses, strict=True):
        for row in asked:
            if not row.serves_segment(invitation.segment_id):
                continue
            aware, uses, satisfaction, importance = SERVICE_PROFILE[row.name]
            if rng.random() >= aware:
                answers.append(ServiceAnswer(response=response, survey_service=row, usage=ServiceUsage.UNAWARE))
            elif rng.random() >= uses:
                answers.append(ServiceAnswer(response=response, survey_service=row, usage=ServiceUsage.KNOWS))
            else:
                answers.append(
                    ServiceAnswer(
                        response=response,
                        survey_service=row,
                        usage=ServiceUsage.USES,
                        satisfaction=None if rng.random() < 0.08 else _rating(rng, satisfaction),
                        importance=None if rng.random() < 0.05 else _rating(rng, importance),
                    )
                )
    return answers


# How the demo's stakeholders see the PMO: mean ratings per element, on 1–5.
PERFORMANCE_PROFILE = {"product": 3.7, "physical_evidence": 2.5, "price": 2.9, "people": 4.1, "process": 3.0}
IMPORTANCE_PROFILE = {"product": 4.4, "physical_evidence": 4.1, "price": 3.0, "people": 3.4, "process": 4.0}
# Segments that see the PMO better (+) or worse (−) than the average.
SEGMENT_TILT = {
    "Executive sponsors": -0.4,
    "Finance": -0.6,
    "IT": 0.2,
    "Operations": 0.0,
    "HR": 0.3,
    "Project managers": 0.5,
}
COMMENTS = [
    "The monthly portfolio report is thorough, but I can't see what it changed for my programme.",
    "The PMO team are helpful and know their stuff. The templates feel heavy for small projects.",
    "I'd like the PMO to tell us earlier when projects compete for the same people.",
    "Stage-gate reviews take too long to schedule; decisions wait on the calendar.",
    "Great support during the ERP go-live. More of that, please.",
    "I don't really know what the PMO does beyond collecting status reports.",
    "The benefits tracking is the most useful thing the PMO has started this year.",
    "One process for every project, whatever its size, costs us time.",
]


def _rating(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.9))))


def _closed_survey(
    pmo: Pmo,
    lead: User,
    rng: random.Random,
    title: str,
    days_ago: int,
    shift: dict,
    services: list[Service],
    service_rng: random.Random,
) -> None:
    """A survey that ran and closed in the past, so that a newcomer sees results at once."""
    now = timezone.now()
    launched = now - timedelta(days=days_ago)
    survey = surveys.create_survey(
        pmo=pmo, created_by=lead, title=title, closes_on=(launched + timedelta(days=21)).date(), services=services
    )
    surveys.snapshot_services(survey)  # what its launch copies
    survey.status = SurveyStatus.CLOSED
    survey.launched_at = launched
    survey.closed_at = launched + timedelta(days=22)
    survey.save()
    audience = list(pmo.stakeholders.filter(is_active=True).exclude(email="").select_related("segment"))
    survey.target_segments.set(pmo.segments.all())
    invitations = []
    for stakeholder in audience:
        invitation = SurveyInvitation.new(survey, stakeholder)
        invitation.send_status = SurveyInvitation.SendStatus.SENT
        invitation.sent_at = launched + timedelta(minutes=rng.randint(1, 30))
        invitations.append(invitation)
    SurveyInvitation.objects.bulk_create(invitations)

    questions = list(survey.questions.filter(kind__in=[QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE]))
    answers = []
    answered = []
    for invitation in invitations:
        if rng.random() > 0.72:
            # Did not answer, despite the one reminder.
            invitation.reminded_at = invitation.sent_at + timedelta(days=survey.reminder_delay_days, minutes=15)
            continue
        tilt = SEGMENT_TILT.get(invitation.stakeholder.segment.name, 0) if invitation.stakeholder.segment else 0
        submitted = invitation.sent_at + timedelta(days=rng.randint(0, 12), hours=rng.randint(1, 9))
        invitation.responded_at = submitted
        if submitted > invitation.sent_at + timedelta(days=survey.reminder_delay_days):
            invitation.reminded_at = invitation.sent_at + timedelta(days=survey.reminder_delay_days, minutes=15)
        mood = sum(PERFORMANCE_PROFILE.values()) / 5 + tilt
        nps = max(0, min(10, round(rng.gauss(mood * 2 + 0.8, 1.8))))
        response = Response.objects.create(
            invitation=invitation,
            survey=survey,
            segment_id=invitation.segment_id,
            nps=nps,
            comment=rng.choice(COMMENTS) if rng.random() < 0.35 else "",
            submitted_at=submitted,
            # Past answers: their alerts are history, not owed now (emails.ALERT_DUE).
            detractor_alerted_at=submitted if nps <= DETRACTOR_MAX else None,
        )
        answered.append((invitation, response))
        for question in questions:
            if question.kind == QuestionKind.PERFORMANCE:
                value = (
                    None
                    if rng.random() < 0.07
                    else _rating(rng, PERFORMANCE_PROFILE[question.element] + tilt + shift.get(question.element, 0))
                )
            else:
                value = _rating(rng, IMPORTANCE_PROFILE[question.element])
            answers.append(Answer(response=response, question=question, value=value))
    Answer.objects.bulk_create(answers)
    ServiceAnswer.objects.bulk_create(_service_answers(survey, *zip(*answered, strict=True), service_rng))
    store_perceptions(Response.objects.filter(survey=survey))
    # What closing keeps (stakeholders.surveys.lifecycle.close): the survey closed before its answers went in.
    keep_figures([survey.pk])
    SurveyInvitation.objects.bulk_update(invitations, ["responded_at", "reminded_at"])
    _follow_up_cases(survey, [response for _, response in answered])


def _follow_up_cases(survey, responses: list[Response]) -> None:
    """The survey's follow-up cases, opened as pmo5p opens them (stakeholders/cases/opening.py):
    a named detractor's with their alert, when they answered; an anonymous survey's groups
    when it closed. Past cases' escalations are history, not owed now (as the alerts are):
    each overdue one is stamped escalated the day after its due date, so that loading the demo
    sends the leads no e-mail."""
    if survey.anonymous:
        cases = opening.open_anonymous_cases(survey, now=survey.closed_at)
    else:
        cases = [opening.open_for_response(response, now=response.submitted_at) for response in responses]
    zone = zoneinfo.ZoneInfo(survey.pmo.time_zone)
    today = timezone.localdate(timezone=zone)
    for case in cases:
        if case is not None and case.due_on < today:
            escalated = datetime.combine(case.due_on + timedelta(days=1), time(7, 0), tzinfo=zone)
            FollowUpCase.objects.filter(pk=case.pk).update(escalated_at=escalated)


# What the PMO did with its cases: (days to the first contact, days more to the outcome,
# the outcome, the pulse's score after, or None for no pulse), in turn for each case.
FOLLOW_UPS = [
    (1, 6, CaseStatus.RESOLVED, 8),
    (3, 10, CaseStatus.RESOLVED, 7),
    (2, 4, CaseStatus.RESOLVED, None),
    (6, 12, CaseStatus.RESOLVED, 6),
    (4, 0, CaseStatus.CONTACTED, None),
    (2, 3, CaseStatus.CLOSED, None),
    (9, 14, CaseStatus.RESOLVED, 9),
    (None, 0, CaseStatus.OPEN, None),
]


def _follow_up_history(memberships) -> None:
    """The demo's cases followed up as a team would, through the cases' write path: the leads
    took those of stakeholders with no owner, most were contacted within days and resolved,
    some with a recovery pulse answered; a few of the spring survey's are still open. The
    write path stamps its moments now; the demo then sets them back to when they happened,
    as it does the surveys' (the same direct update the escalations get above)."""
    lead = memberships[0]
    rng = random.Random(14)
    for index, case in enumerate(FollowUpCase.objects.select_related("stakeholder", "pmo").order_by("opened_at", "pk")):
        if case.owner_id is None:
            cases.assign(case, lead)
        first, more, outcome, after = FOLLOW_UPS[index % len(FOLLOW_UPS)]
        if first is None:
            continue
        contacted = case.opened_at + timedelta(days=first, hours=rng.randint(0, 6))
        cases.record_contact(
            case,
            by=(case.owner or lead).user,
            date=timezone.localdate(contacted),
            kind="meeting",
            summary=f"Called {case.stakeholder.name} about their survey answer; agreed what the PMO will change.",
            elements=[case.root_element] if case.root_element else [],
        )
        ended = contacted + timedelta(days=more)
        # A case contacted by its due date was never escalated.
        on_time = timezone.localdate(contacted) <= case.due_on
        FollowUpCase.objects.filter(pk=case.pk).update(
            first_contact_at=contacted, **({"escalated_at": None} if on_time else {})
        )
        if outcome == CaseStatus.RESOLVED:
            cases.resolve(case, (case.owner or lead).user)
            FollowUpCase.objects.filter(pk=case.pk).update(resolved_at=ended)
        elif outcome == CaseStatus.CLOSED:
            cases.close_no_action(case, "They moved to another division before we could meet.")
            FollowUpCase.objects.filter(pk=case.pk).update(closed_at=ended)
        if after is not None and case.stakeholder.email:
            # Answered before the demo commits: the outbox finds its e-mail not needed.
            pulse = pulses.send_pulse(case, by=(case.owner or lead).user)
            pulses.answer_pulse(pulse, after, "Thank you for calling back." if after >= 7 else "")
            RecoveryPulse.objects.filter(pk=pulse.pk).update(
                created_at=ended + timedelta(days=1), answered_at=ended + timedelta(days=2)
            )


SELF_RATINGS = {
    "product": (4, "Service catalogue refreshed in March; project managers use the templates."),
    "physical_evidence": (4, "Monthly portfolio report goes to the executive committee."),
    "price": (3, "Stage-gate reviews are lighter for small projects since the summer."),
    "people": (4, "Two certified portfolio managers joined; coaching sessions are well attended."),
    "process": (3, "Tailoring guide drafted, not yet rolled out."),
}
INTERACTIONS = [
    ("meeting", ["product", "process"], 1, "Quarterly check-in on the portfolio's pipeline."),
    ("showcase", ["physical_evidence"], 2, "Benefits showcase of the claims programme."),
    ("escalation", ["process", "price"], -2, "Escalated the stage-gate delay on the pricing engine."),
    ("workshop", ["people", "process"], 1, "Planning workshop for next year's portfolio."),
    ("report", ["physical_evidence"], 0, "Sent the monthly portfolio report with a benefits summary."),
    ("meeting", ["price"], -1, "Discussed the cost of PMO reporting on small projects."),
]


def _assessments(pmo: Pmo, lead: User, member: User, rng: random.Random) -> None:
    """Self-assessments, maturity stages and interactions, so that the dashboard tells a story."""
    today = timezone.localdate()
    for months_ago, drift in ((9, 0), (1, 0)):
        SelfAssessment.objects.bulk_create(
            SelfAssessment(
                pmo=pmo,
                element=element,
                rating=max(1, rating - (1 if months_ago == 9 and element == "people" else drift)),
                evidence=evidence,
                assessed_on=today - timedelta(days=30 * months_ago),
                author=lead,
            )
            for element, (rating, evidence) in SELF_RATINGS.items()
        )
    stakeholders = list(pmo.stakeholders.filter(is_active=True).order_by("name"))
    records = []
    for index, stakeholder in enumerate(stakeholders):
        if index % 5 == 4:
            continue  # not assessed yet
        # Influential finance and sponsor stakeholders lag behind: the agenda's story.
        base = 2 if stakeholder.segment and stakeholder.segment.name in ("Finance", "Executive sponsors") else 3
        stage = max(1, min(5, base + rng.choice([0, 0, 1, -1])))
        records.append(
            MaturityRecord(
                pmo=pmo,
                stakeholder=stakeholder,
                stage=stage,
                rationale=rng.choice(
                    [
                        "Knows the PMO exists; rarely engages beyond status requests.",
                        "Uses the PMO's reports and asks for advice on planning.",
                        "Defends the PMO's guidance in steering committees.",
                        "Brings the PMO in early on new initiatives.",
                    ]
                ),
                recorded_on=today - timedelta(days=rng.randint(10, 200)),
                author=rng.choice([lead, member]),
            )
        )
    MaturityRecord.objects.bulk_create(records)
    for index, (kind, elements, sentiment, summary) in enumerate(INTERACTIONS * 3):
        interaction = Interaction.objects.create(
            pmo=pmo,
            kind=kind,
            elements=elements,
            sentiment=sentiment,
            summary=summary,
            occurred_on=today - timedelta(days=7 + index * 11),
            author=rng.choice([lead, member]),
        )
        interaction.stakeholders.set(rng.sample(stakeholders, k=rng.randint(1, 3)))


ACTIONS = [
    # title, element, problem, due in days (negative: past), status, the service it develops
    (
        "Show Finance the benefits the claims programme realised",
        "physical_evidence",
        "missed_opportunities",
        20,
        "in_progress",
        "Benefits tracking",
    ),
    (
        "Add a benefits summary to the monthly portfolio report",
        "physical_evidence",
        "missed_opportunities",
        -12,
        "planned",
        "Portfolio reporting",
    ),
    ("Tailor stage gates for projects under 50k", "process", "cost_and_delay", 45, "planned", "Project assurance"),
    ("Agree a five-day service level for PMO requests", "process", "performance", -3, "in_progress", "Help desk"),
    ("Pair each executive sponsor with a named PMO contact", "people", "performance", -30, "done", None),
    ("Review the service catalogue with project managers", "product", "information", 70, "planned", None),
    ("Publish the cost of PMO reporting per project size", "price", "cost_and_delay", 100, "planned", None),
    (
        "Cut the project templates to one page for small projects",
        "process",
        "cost_and_delay",
        30,
        "planned",
        "Methods and templates",
    ),
]
INCIDENTS = [
    ("Pricing engine re-planned after ignoring the PMO's dependency review", "cost_and_delay", 18, 42000, 15),
    ("Sponsor launched a vendor selection without the PMO", "missed_opportunities", 40, None, 8),
    ("Portfolio analyst vacancy unfilled for a quarter", "recruiting", 75, 18000, None),
    ("Two programmes built the same customer dashboard", "cost_and_delay", 130, 65000, 30),
]


def _agenda(pmo: Pmo, memberships: list[Membership], services: dict[str, Service]) -> None:
    """Actions, incidents and a monthly report schedule, so that the agenda has a story."""
    today = timezone.localdate()
    segments = {segment.name: segment for segment in pmo.segments.all()}
    for index, (title, element, problem, due_in, status, service) in enumerate(ACTIONS):
        action = Action.objects.create(
            pmo=pmo,
            title=title,
            element=element,
            problem=problem,
            due_on=today + timedelta(days=due_in),
            status=status,
            owner=memberships[index % 2],
            created_at=timezone.now() - timedelta(days=60),
            completed_at=timezone.now() - timedelta(days=25) if status == "done" else None,
            expected_effect="Stakeholders see the PMO's value where they rate it lowest.",
            service=services.get(service),
        )
        if "Finance" in title:
            action.target_segments.add(segments["Finance"])
    stakeholders = list(pmo.stakeholders.filter(influence__gte=4).order_by("name")[:4])
    for title, problem, days_ago, cost, days in INCIDENTS:
        incident = Incident.objects.create(
            pmo=pmo,
            title=title,
            problem=problem,
            occurred_on=today - timedelta(days=days_ago),
            estimated_cost=cost,
            days_lost=days,
            elements=["process", "physical_evidence"] if problem == "cost_and_delay" else ["people"],
        )
        incident.stakeholders.set(stakeholders[:2])
    schedule = ReportSchedule(pmo=pmo, frequency="monthly", day_of_month=1)
    reschedule(schedule)
    schedule.save()
    Membership.objects.filter(pk__in=[m.pk for m in memberships[:2]]).update(receives_reports=True)


def _touchpoints(pmo: Pmo, memberships: list[Membership], segments: dict[str, Segment]) -> None:
    """The communication plan: a monthly steering committee with the sponsors (its first date
    done, with its interaction; its second missed), a quarterly showcase, and a few one-offs.
    Written through the plan's own write path, as a member would."""
    today = timezone.localdate()
    lead, member = memberships[0], memberships[1]
    people = {s.name: s for s in pmo.stakeholders.select_related("segment").order_by("name")}
    by_segment = {name: [s for s in people.values() if s.segment_id == seg.pk] for name, seg in segments.items()}
    plan = {"at_time": time(9, 30), "duration_minutes": 60, "notes": "", "segment": None, "until": None}
    first = today - timedelta(days=50)
    steering = touchpoints.create_touchpoint(
        pmo,
        lead.user,
        plan
        | {
            "purpose": "Portfolio steering committee: benefits realised and decisions needed",
            "channel": "meeting",
            "element": "physical_evidence",
            "owner": lead,
            "stakeholders": [],
            "segment": segments["Executive sponsors"],
            "starts_on": first,
            "recurrence": Recurrence.MONTHLY,
            "until": first + relativedelta(years=1),
        },
    )
    done = steering.occurrences.order_by("on").first()
    answer = touchpoints.interaction_values(done, today)
    answer.update(
        sentiment=1,
        summary="Steering committee: the claims programme's benefits accepted; sponsors asked for a quarterly view.",
    )
    touchpoints.mark_done(pmo, lead.user, done, answer)
    # The second date has passed unrecorded: it shows as missed until it is done or cancelled.
    showcase_people = by_segment["Project managers"][:4] + by_segment["IT"][:2]
    touchpoints.create_touchpoint(
        pmo,
        member.user,
        plan
        | {
            "purpose": "Quarterly showcase: what the PMO delivered this quarter",
            "channel": "showcase",
            "element": "people",
            "owner": member,
            "stakeholders": showcase_people,
            "starts_on": today + timedelta(days=20),
            "at_time": time(14, 0),
            "duration_minutes": 90,
            "recurrence": Recurrence.QUARTERLY,
            "until": today + timedelta(days=20) + relativedelta(years=2),
        },
    )
    for days, channel, element, owner, whom, purpose in (
        (4, "meeting", "price", lead, by_segment["Finance"][:1], "One-to-one: the cost of the PMO's services"),
        (9, "workshop", "process", member, by_segment["Operations"][:3], "Workshop: tailoring reporting to Operations"),
        (30, "newsletter", "product", member, by_segment["HR"][:2], "Newsletter to HR: the new resourcing service"),
    ):
        touchpoints.create_touchpoint(
            pmo,
            owner.user,
            plan
            | {
                "purpose": purpose,
                "channel": channel,
                "element": element,
                "owner": owner,
                "stakeholders": whom,
                "starts_on": today + timedelta(days=days),
                "recurrence": Recurrence.ONCE,
            },
        )
    # Recent contact with two influential sponsors: their touch is not due, the others' is.
    sponsors = sorted(by_segment["Executive sponsors"], key=lambda s: (-s.influence, s.name))
    for days_ago, stakeholder in ((3, sponsors[0]), (12, sponsors[1])):
        register.create_interaction(
            pmo,
            lead.user,
            {
                "occurred_on": today - timedelta(days=days_ago),
                "kind": "meeting",
                "stakeholders": [stakeholder],
                "elements": ["people"],
                "sentiment": 1,
                "summary": f"Catch-up with {stakeholder.name} on the portfolio's priorities.",
            },
        )
    # Two stakeholders whose own target differs from their quadrant's, with the reason.
    for stakeholder, stage, reason in (
        (sponsors[-1], 5, "Sponsors the next programme: we need their trust before it starts."),
        (by_segment["HR"][0], 2, "Leaves the organisation in the spring: awareness is enough."),
    ):
        stakeholder.target_stage, stakeholder.target_reason = stage, reason
        stakeholder.save(update_fields=["target_stage", "target_reason"])


def _last_touched(pmo: Pmo) -> None:
    """Each stakeholder's last touch, from the interactions above, once: the demo writes most
    of them in bulk, past the register's write path that keeps it."""
    register.refresh_last_touched(pmo.stakeholders.values_list("pk", flat=True))
