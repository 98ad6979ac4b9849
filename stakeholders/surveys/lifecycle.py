"""Writes on perception surveys: drafting, choosing the audience, launching,
answering, reminding and closing. Views and tasks call these; they hold the rules."""

import functools
import zoneinfo
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from pmo5p import outbox
from pmo5p.domain import DETRACTOR_MAX, Element, ServiceUsage
from pmo5p.models import OutgoingEmail
from pmo5p.rules import RuleViolation
from stakeholders.cases import opening
from stakeholders.models import (
    Answer,
    Question,
    QuestionKind,
    Response,
    Service,
    ServiceAnswer,
    Stakeholder,
    Survey,
    SurveyInvitation,
    SurveyService,
    SurveyStatus,
)
from stakeholders.surveys import anonymity, figure_source, questionnaire
from stakeholders.surveys import emails as survey_emails


class SurveyError(Exception):
    """A step the survey's state does not allow; the message is for the user."""


class AlreadyAnswered(Exception):
    pass


class SurveyClosed(Exception):
    """The survey closed between the form's check and the answer's write: nothing was stored."""


# Drafting ---------------------------------------------------------------------


@transaction.atomic
def create_survey(
    *, pmo, created_by, title, closes_on, anonymous=False, reminder_delay_days=7, intro=None, services=()
) -> Survey:
    survey = Survey.objects.create(
        pmo=pmo,
        created_by=created_by,
        title=title,
        closes_on=closes_on,
        anonymous=anonymous,
        reminder_delay_days=reminder_delay_days,
        intro=questionnaire.DEFAULT_INTRO if intro is None else intro,
    )
    Question.objects.bulk_create(standard_questions(survey))
    if services:
        choose_services(survey, services)
    return survey


def standard_questions(survey: Survey) -> list[Question]:
    questions = []
    for element in Element:
        for text in questionnaire.PERFORMANCE_STATEMENTS[element]:
            questions.append(Question(survey=survey, kind=QuestionKind.PERFORMANCE, element=element, text=text))
        questions.append(
            Question(
                survey=survey,
                kind=QuestionKind.IMPORTANCE,
                element=element,
                text=questionnaire.IMPORTANCE_QUESTIONS[element],
            )
        )
    questions.append(Question(survey=survey, kind=QuestionKind.NPS, text=questionnaire.NPS_QUESTION))
    questions.append(Question(survey=survey, kind=QuestionKind.COMMENT, text=questionnaire.COMMENT_QUESTION))
    for position, question in enumerate(questions, start=1):
        question.position = position * 10
    return questions


def require_draft(survey: Survey) -> None:
    if not survey.is_draft:
        raise SurveyError("This survey is launched already: its questions and audience can no longer change.")


# Services ------------------------------------------------------------------------


# Each asked service is up to three questions on the public form: beyond this many, the form
# is no longer short on a phone (a respondent is asked those serving their segment).
MAX_SERVICES_ASKED = 12


def check_services(pmo_id: int, services) -> list[Service]:
    """The services a draft may ask about: the PMO's own, each once, and no more than
    MAX_SERVICES_ASKED."""
    services = list(dict.fromkeys(services))
    if any(service.pmo_id != pmo_id for service in services):
        raise RuleViolation("services", "Choose services of this PMO's catalogue.")
    if len(services) > MAX_SERVICES_ASKED:
        raise RuleViolation(
            "services",
            f"Ask about {MAX_SERVICES_ASKED} services or fewer (you chose {len(services)}), so that the "
            "form stays short: each is up to three questions for every respondent it serves.",
        )
    return services


@transaction.atomic
def choose_services(survey: Survey, services) -> None:
    """The services a draft asks about, in the catalogue's order. A draft holds them as
    SurveyService rows with the names they have now; launch copies each service again, as it
    is then (snapshot_services)."""
    # Locked as launch locks it: a launch at the same moment copies these or refuses them.
    require_draft(Survey.objects.select_for_update().get(pk=survey.pk))
    services = sorted(check_services(survey.pmo_id, services), key=lambda s: (s.name.lower(), s.pk))
    chosen = {service.pk for service in services}
    survey.survey_services.exclude(service__in=chosen).delete()
    kept = set(survey.survey_services.values_list("service_id", flat=True))
    SurveyService.objects.bulk_create(
        SurveyService(survey=survey, service=service, name=service.name)
        for service in services
        if service.pk not in kept
    )
    _number(list(survey.survey_services.select_related(None).order_by("name", "id")))


def _number(rows: list[SurveyService]) -> None:
    for position, row in enumerate(rows, start=1):
        row.position = position * 10
    SurveyService.objects.bulk_update(rows, ["position"])


def chosen_service_ids(survey: Survey) -> list[int]:
    return list(survey.survey_services.filter(service__isnull=False).values_list("service_id", flat=True))


def snapshot_services(survey: Survey) -> list[SurveyService]:
    """At launch: each chosen service copied as it is now (name, description, the segments it
    serves, its P's), so that the launched survey keeps them whatever the catalogue does. A
    service deleted while the survey was a draft is no longer asked about."""
    survey.survey_services.filter(service__isnull=True).delete()
    rows = list(
        survey.survey_services.select_related("service").prefetch_related("service__segments").order_by("service__name")
    )
    for position, row in enumerate(rows, start=1):
        service = row.service
        row.name, row.description, row.elements = service.name, service.description, list(service.elements)
        row.segment_ids = sorted(segment.pk for segment in service.segments.all())
        row.position = position * 10
    SurveyService.objects.bulk_update(rows, ["name", "description", "segment_ids", "elements", "position"])
    return rows


# Questions ----------------------------------------------------------------------


def check_statements(questions: list[Question], *, removed: set[int], added: dict[Element, str]) -> None:
    """Each element keeps at least one performance statement: its score is their mean."""
    for element in Element:
        kept = [
            q for q in questions if q.element == element and q.kind == QuestionKind.PERFORMANCE and q.pk not in removed
        ]
        if not kept and not added.get(element, "").strip():
            raise RuleViolation(None, f"{element.label} needs at least one performance statement.")


@transaction.atomic
def edit_questions(survey: Survey, *, texts: dict[int, str], removed: set[int], added: dict[Element, str]) -> None:
    """Reword the draft's questions (by id), remove performance statements (by id) and add
    one statement per element, placed after the element's last statement."""
    require_draft(survey)
    questions = list(survey.questions.all())
    removed = {q.pk for q in questions if q.pk in removed and q.kind == QuestionKind.PERFORMANCE}
    check_statements(questions, removed=removed, added=added)
    Question.objects.filter(pk__in=removed).delete()
    changed = []
    for question in questions:
        text = texts.get(question.pk, question.text).strip()
        if question.pk not in removed and text != question.text:
            question.text = text
            changed.append(question)
    Question.objects.bulk_update(changed, ["text"])
    last = max((q.position for q in questions), default=0)
    for offset, element in enumerate(Element, start=1):
        text = added.get(element, "").strip()
        if text:
            # Before the element's importance question, which closes its section.
            importance = next(
                (q for q in questions if q.element == element and q.kind == QuestionKind.IMPORTANCE), None
            )
            position = importance.position - 1 if importance else last + offset
            Question.objects.create(
                survey=survey, kind=QuestionKind.PERFORMANCE, element=element, text=text, position=position
            )


# Audience -----------------------------------------------------------------------


@dataclass
class Audience:
    """Who a launch would invite, and who is left out and why."""

    invitable: list[Stakeholder] = field(default_factory=list)
    recently_surveyed: list[Stakeholder] = field(default_factory=list)  # each with .last_surveyed_at
    inactive: list[Stakeholder] = field(default_factory=list)
    without_email: list[Stakeholder] = field(default_factory=list)

    @property
    def chosen_count(self) -> int:
        return len(self.invitable) + len(self.recently_surveyed) + len(self.inactive) + len(self.without_email)


def audience(survey: Survey, *, now=None) -> Audience:
    """The chosen stakeholders (whole segments and hand-picked), sorted into who can be asked.

    Survey fatigue: whoever was sent another survey of this PMO within the PMO's
    fatigue window is set apart; the lead may include them on purpose.
    """
    now = now or timezone.now()
    window_start = now - timedelta(days=survey.pmo.survey_fatigue_days)
    chosen = (
        Stakeholder.objects.filter(pmo=survey.pmo)
        .filter(Q(segment__in=survey.target_segments.all()) | Q(pk__in=survey.target_stakeholders.all()))
        .annotate(
            last_surveyed_at=Max(
                "invitations__sent_at",
                filter=~Q(invitations__survey=survey) & Q(invitations__sent_at__gte=window_start),
            )
        )
        .select_related("segment")
        .order_by("name")
        .distinct()
    )
    result = Audience()
    for stakeholder in chosen:
        if not stakeholder.is_active:
            result.inactive.append(stakeholder)
        elif not stakeholder.email:
            result.without_email.append(stakeholder)
        elif stakeholder.last_surveyed_at is not None:
            result.recently_surveyed.append(stakeholder)
        else:
            result.invitable.append(stakeholder)
    return result


# Launching -------------------------------------------------------------------------


def launch(survey: Survey, *, include_recent_ids=(), now=None) -> list[SurveyInvitation]:
    """Open the survey and invite the audience; e-mails go out once the launch is committed."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        require_draft(survey)
        now = now or timezone.now()
        if survey.closes_on < timezone.localdate(now, timezone=_zone(survey.pmo.time_zone)):
            raise SurveyError("The close date has passed: choose a later one before launching.")
        plan = audience(survey, now=now)
        include_recent_ids = {int(i) for i in include_recent_ids}
        chosen = plan.invitable + [s for s in plan.recently_surveyed if s.pk in include_recent_ids]
        if not chosen:
            raise SurveyError(
                "Nobody would be asked: choose segments or stakeholders who are active and have an e-mail address."
            )
        invitations = SurveyInvitation.objects.bulk_create([SurveyInvitation.new(survey, s) for s in chosen])
        snapshot_services(survey)
        survey.status = SurveyStatus.OPEN
        survey.launched_at = now
        survey.save(update_fields=["status", "launched_at"])
        for invitation in invitations:
            survey_emails.queue_invitation(invitation)
    return invitations


def resend(invitation: SurveyInvitation) -> None:
    """Queue the invitation e-mail again, if it has not gone out.

    For an anonymous survey, whether the stakeholder answered is not looked at here:
    the answer to "send again" would tell. It is accepted alike, and the outbox e-mails
    only those who have not answered (see survey_emails).
    """
    if not invitation.survey.is_open:
        raise SurveyError("Only invitations of an open survey can be sent again.")
    if invitation.responded_at and not invitation.survey.anonymous:
        raise SurveyError(f"{invitation.stakeholder} has answered already.")
    if invitation.send_status == SurveyInvitation.SendStatus.SENT:
        raise SurveyError(
            f"The invitation to {invitation.stakeholder} went out already; a reminder follows if they don't answer."
        )
    email = survey_emails.invitation_email(invitation)
    if email is None:
        survey_emails.queue_invitation(invitation)
    elif not outbox.send_again(email):
        raise SurveyError(f"The invitation to {invitation.stakeholder} is queued already: it goes out in a moment.")


def claim_due_reminders(*, now=None) -> list[int]:
    """Claim the invitations due a reminder, queue each reminder, and return their ids.

    Rows are claimed under FOR UPDATE SKIP LOCKED and marked in the same transaction as
    their reminder is queued in the outbox, so two beats at once, or a retry, never claim
    an invitation twice, and a claimed reminder cannot be lost before it is sent: nobody
    gets a second reminder, and anybody who has answered gets none.
    """
    now = now or timezone.now()
    claimed: list[int] = []
    open_surveys = Survey.objects.filter(status=SurveyStatus.OPEN).select_related("pmo")
    for survey in open_surveys.only("id", "status", "closes_on", "reminder_delay_days", "pmo__time_zone"):
        if not is_answerable(survey, now=now):
            continue  # past its close date, about to be closed: a reminder would send to a dead link
        with transaction.atomic():
            # of=self: lock the invitations only, not their stakeholders joined for the e-mail.
            due = SurveyInvitation.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
                "stakeholder"
            )
            due = due.filter(
                survey=survey,
                sent_at__lte=now - timedelta(days=survey.reminder_delay_days),
                reminder_claimed_at__isnull=True,
                responded_at__isnull=True,
            )
            claimed_now = list(due)
            ids = [invitation.pk for invitation in claimed_now]
            SurveyInvitation.objects.filter(pk__in=ids).update(reminder_claimed_at=now)
            for invitation in claimed_now:
                invitation.survey = survey
                survey_emails.queue_reminder(invitation)
        claimed.extend(ids)
    return claimed


def anonymous_detractor_alerts_due() -> list[int]:
    """The anonymous surveys whose leads are owed a detractor alert.

    Those with detractor answers not counted in an alert yet, and enough responses in all
    for a group to be shown (anonymity.group_is_shown): below that, "a detractor answered"
    comes too close to saying who. A survey that closes below it sends none.
    """
    pending = Response.objects.filter(survey=OuterRef("pk"), nps__lte=DETRACTOR_MAX, detractor_alerted_at__isnull=True)
    return list(
        Survey.objects.filter(anonymous=True)
        .filter(Exists(pending))
        .annotate(response_count=Count("responses"))
        .filter(anonymity.enough_responses("response_count"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def alert_anonymous_detractors(survey_id: int) -> list[OutgoingEmail] | None:
    """Queue one alert (a row per lead) with the count of an anonymous survey's detractor
    answers not counted yet, and stamp them once for the batch, in one transaction: each
    answer is counted in one alert.

    The answers are locked: a second run at once (two beats, a redelivered task) waits
    for the first, then finds them stamped and queues nothing.
    """
    with transaction.atomic():
        survey = Survey.objects.select_related("pmo").filter(pk=survey_id, anonymous=True).first()
        if survey is None:
            return None
        pending = list(
            Response.objects.select_for_update()
            .filter(survey=survey, nps__lte=DETRACTOR_MAX, detractor_alerted_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not pending or not anonymity.group_is_shown(survey.responses.count()):
            return None
        Response.objects.filter(pk__in=pending).update(detractor_alerted_at=timezone.now())
        return survey_emails.queue_anonymous_detractor_alert(survey, len(pending))


# Closing -------------------------------------------------------------------------


@transaction.atomic
def close(survey: Survey, *, now=None) -> bool:
    """Close an open survey and keep its figures; returns False if it was not open.

    Its figures are kept in the same transaction, by the figures layer: from then on its
    pages read them instead of its answers, and no answer can arrive in between. An
    anonymous survey opens its group follow-up cases then, from those answers
    (stakeholders/cases/opening.py): at the close's moment, never an answer's."""
    now = now or timezone.now()
    # FOR UPDATE waits for the submits in flight, whose statement holds a key-share lock on
    # the survey until it commits: their answers are in the figures kept. A submit that comes
    # after waits for this transaction, then finds the survey closed (_submit_sql).
    Survey.objects.select_for_update().filter(pk=survey.pk).values_list("pk").first()
    closed = Survey.objects.filter(pk=survey.pk, status=SurveyStatus.OPEN).update(
        status=SurveyStatus.CLOSED, closed_at=now
    )
    if closed:
        figure_source.source().keep_figures([survey.pk])
        if survey.anonymous:
            opening.open_anonymous_cases(survey, now=now)
    return bool(closed)


def close_due_surveys(*, now=None) -> int:
    """Close the open surveys whose close date has ended in their PMO's time zone."""
    now = now or timezone.now()
    closed = 0
    # Every time zone's date is within a day of UTC's, so this narrows the candidates.
    utc_date = timezone.localdate(now, timezone=UTC)
    candidates = Survey.objects.filter(status=SurveyStatus.OPEN, closes_on__lte=utc_date).select_related("pmo")
    for survey in candidates:
        if survey.closes_on < timezone.localdate(now, timezone=_zone(survey.pmo.time_zone)):
            closed += close(survey, now=now)
    return closed


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


# Answering --------------------------------------------------------------------------


def is_answerable(survey: Survey, *, now=None) -> bool:
    now = now or timezone.now()
    return survey.is_open and survey.closes_on >= timezone.localdate(now, timezone=_zone(survey.pmo.time_zone))


# A launched survey's questions and services cannot change: edit_questions and choose_services
# require a draft, launch snapshots the services, and the admin shows them read-only
# (stakeholders/admin.py). So each process keeps them once read, and a submit or a form page
# does not read them again. A per-process dict, not the shared cache: nothing ever invalidates
# it, and a lookup costs no round trip. A draft's are read each time. Bounded: past
# CACHED_SURVEYS surveys, it starts again.
CACHED_SURVEYS = 256
_launched: dict[tuple[str, int], tuple] = {}


def _launched_rows(survey: Survey, related: str) -> list:
    """The survey's rows of `related` (its questions, its services), in their order; a
    launched survey's from this process's copy."""
    rows = getattr(survey, related).all()
    if survey.is_draft:
        return list(rows)
    kept = _launched.get((related, survey.pk))
    if kept is None:
        kept = tuple(rows)
        if len(_launched) >= 2 * CACHED_SURVEYS:
            _launched.clear()
        _launched[related, survey.pk] = kept
    return list(kept)


def survey_questions(survey: Survey) -> list[Question]:
    """The survey's questions, in their order."""
    return _launched_rows(survey, "questions")


def survey_services(survey: Survey) -> list[SurveyService]:
    """The services the survey asks about, in their order (a deleted service leaves its
    snapshot, service_id then None, which nothing here reads)."""
    return _launched_rows(survey, "survey_services")


def services_asked(survey: Survey, segment_id: int | None) -> list[SurveyService]:
    """The services a respondent of this segment (at launch) is asked about."""
    return [service for service in survey_services(survey) if service.serves_segment(segment_id)]


@dataclass(frozen=True)
class ServiceReply:
    """One respondent's answer about one asked service; ratings only from a user (None:
    "Don't know")."""

    usage: str
    satisfaction: int | None = None
    importance: int | None = None


def save_draft(invitation: SurveyInvitation, answers: dict) -> None:
    SurveyInvitation.objects.filter(pk=invitation.pk, responded_at__isnull=True).update(
        draft_answers=answers, draft_saved_at=timezone.now()
    )


def submit(
    invitation: SurveyInvitation,
    *,
    values: dict[int, int | None],
    nps: int | None,
    comment: str,
    questions: list[Question] | None = None,
    services: dict[int, ServiceReply] | None = None,
) -> Response:
    """Store the response and its answers, exactly once per invitation.

    `questions` are the survey's, if the caller has them loaded already (the public form).
    `services` are the answers about the services asked (by SurveyService id): the form
    checked that each is asked of this respondent, and only a user's ratings are stored.
    The unique constraint on Response.invitation decides between two submits racing
    each other: the loser's statement fails, nothing of it is stored, and it gets
    AlreadyAnswered.
    """
    now = timezone.now()
    survey = invitation.survey
    if questions is None:
        questions = survey_questions(survey)
    performance = {q.pk for q in questions if q.kind == QuestionKind.PERFORMANCE}
    response = Response(
        invitation=invitation,
        survey=survey,
        segment_id=invitation.segment_id,
        nps=nps,
        comment=comment,
        submitted_at=now,
        # By the figures layer's own formula, from the ratings stored with it, so that the
        # kept figure is the one it computes, without reading the answers back.
        perception_rating=figure_source.source().perception(
            value for qid, value in values.items() if qid in performance
        ),
    )
    services = {
        pk: reply if reply.usage == ServiceUsage.USES else ServiceReply(reply.usage)
        for pk, reply in (services or {}).items()
    }
    try:
        if connection.vendor == "postgresql":
            # A savepoint only inside a caller's transaction, so that a lost race leaves it usable.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                _store_in_one_statement(response, values, services, now)
        else:
            with transaction.atomic():
                _store(response, values, services, now)
    except IntegrityError as error:
        if Response.objects.filter(invitation=invitation).exists():
            raise AlreadyAnswered from error
        raise
    # A named detractor's alert is due from the response's row (survey_emails.ALERT_DUE): a
    # worker composes and queues it once this commits, and the outbox's sweep if this wake-up
    # is lost. An anonymous survey's are counted in batches (alert_anonymous_detractors): an
    # alert now would time this answer.
    if nps is not None and nps <= DETRACTOR_MAX and not survey.anonymous:
        from stakeholders.tasks import send_detractor_alert  # the tasks module imports this one

        send_detractor_alert.delay_on_commit(response.pk)
    return response


def _store(response: Response, values: dict[int, int | None], services: dict[int, ServiceReply], now) -> None:
    """The ORM's way, for SQLite (development): the same rows and the same check, in five
    statements. SQLite runs one writer at a time, so the check needs no lock."""
    if not Survey.objects.filter(pk=response.survey_id, status=SurveyStatus.OPEN).exists():
        raise SurveyClosed
    response.save(force_insert=True)
    Answer.objects.bulk_create([Answer(response=response, question_id=qid, value=v) for qid, v in values.items()])
    ServiceAnswer.objects.bulk_create(
        ServiceAnswer(
            response=response,
            survey_service_id=pk,
            usage=reply.usage,
            satisfaction=reply.satisfaction,
            importance=reply.importance,
        )
        for pk, reply in services.items()
    )
    SurveyInvitation.objects.filter(pk=response.invitation_id).update(responded_at=now, draft_answers={})


def _store_in_one_statement(
    response: Response, values: dict[int, int | None], services: dict[int, ServiceReply], now
) -> None:
    """The response, its answers, its answers about services and its invitation marked
    answered, in one PostgreSQL
    statement (data-modifying CTEs): atomic by itself, and one round trip instead of five
    (BEGIN, three statements, COMMIT), the largest part of a submit's time. The response's
    columns and values are the model's own, as Model.save() would write them."""
    fields = _response_fields()
    params = [response.survey_id, SurveyStatus.OPEN]
    params += [f.get_db_prep_save(f.pre_save(response, True), connection) for f in fields]
    params += [list(values), list(values.values())]
    replies = list(services.values())
    params += [list(services), [r.usage for r in replies], [r.satisfaction for r in replies]]
    params += [[r.importance for r in replies], now, response.invitation_id]
    with connection.cursor() as cursor:
        cursor.execute(_submit_sql(), params)
        row = cursor.fetchone()
    if row is None:
        raise SurveyClosed
    (response.pk,) = row
    response._state.adding = False
    response._state.db = connection.alias


@functools.cache
def _response_fields() -> list:
    return [f for f in Response._meta.local_concrete_fields if not f.primary_key]


@functools.cache
def _submit_sql() -> str:
    """Written once per process, from the models' metadata."""
    qn = connection.ops.quote_name
    fields = _response_fields()
    answer = {f.name: qn(f.column) for f in Answer._meta.local_concrete_fields}
    service_answer = {f.name: qn(f.column) for f in ServiceAnswer._meta.local_concrete_fields}
    invitation = {f.name: qn(f.column) for f in SurveyInvitation._meta.local_concrete_fields}
    # Names from the models' metadata, quoted; every value a parameter.
    survey = {f.name: qn(f.column) for f in Survey._meta.local_concrete_fields}
    # The survey still open, under the key-share lock its response's foreign key takes anyway:
    # a lock that close() waits for (FOR UPDATE), and that a submit arriving during a close
    # waits for and then re-reads, finding it closed. So no answer ever lands in a survey
    # after its kept figures were written (docs/figures.md, "Kept figures").
    # The values are cast to their columns' types: selected, not in VALUES, PostgreSQL
    # would not infer them.
    values = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields)
    return (
        f"WITH answerable AS (SELECT {survey['id']} FROM {qn(Survey._meta.db_table)} "  # noqa: S608
        f"WHERE {survey['id']} = %s AND {survey['status']} = %s FOR KEY SHARE), "
        f"response AS (INSERT INTO {qn(Response._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"SELECT {values} FROM answerable RETURNING {qn(Response._meta.pk.column)}), "
        f"answers AS (INSERT INTO {qn(Answer._meta.db_table)} "
        f"({answer['response']}, {answer['question']}, {answer['value']}) "
        f"SELECT response.{qn(Response._meta.pk.column)}, given.question, given.value "
        "FROM response, unnest(%s::bigint[], %s::smallint[]) AS given (question, value)), "
        f"service_answers AS (INSERT INTO {qn(ServiceAnswer._meta.db_table)} "
        f"({service_answer['response']}, {service_answer['survey_service']}, {service_answer['usage']}, "
        f"{service_answer['satisfaction']}, {service_answer['importance']}) "
        f"SELECT response.{qn(Response._meta.pk.column)}, given.asked, given.usage, given.satisfaction, "
        "given.importance FROM response, "
        "unnest(%s::bigint[], %s::varchar[], %s::smallint[], %s::smallint[]) "
        "AS given (asked, usage, satisfaction, importance)), "
        f"marked AS (UPDATE {qn(SurveyInvitation._meta.db_table)} SET {invitation['responded_at']} = %s, "
        f"{invitation['draft_answers']} = '{{}}'::jsonb WHERE {invitation['id']} = %s "
        "AND EXISTS (SELECT FROM response)) "
        "SELECT * FROM response"
    )
