"""The stakeholder side's tables for spreadsheet exports: the register, interactions, the
service catalogue and survey responses. Each builder returns (headers, rows); a row is a list of cells, and
the writer (stakeholders.spreadsheets) neutralises every cell. Each builder costs a
fixed number of queries (per chunk of rows), whatever the size of the PMO.

The stakeholders and services tables use their import's column names, so a downloaded
register or catalogue can be edited and imported back.
"""

from collections import Counter
from itertools import groupby
from operator import attrgetter

from django.db.models import Prefetch
from django.utils import timezone

from pmo5p.domain import Element, ServiceUsage
from stakeholders.models import (
    Answer,
    Interaction,
    Question,
    QuestionKind,
    Response,
    Segment,
    Service,
    ServiceAnswer,
    Stakeholder,
    Survey,
    SurveyService,
)
from stakeholders.surveys import anonymity

CHUNK = 2000


def _local(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _person(user):
    return (user.name or user.email) if user else ""


def stakeholder_table(pmo):
    headers = [
        "ID",
        "Name",
        "E-mail",
        "Job title",
        "Business unit",
        "Segment",
        "Influence",
        "Interest",
        "Owner e-mail",
        "Owner name",
        "Notes",
        "Active",
        "Created",
        "Updated",
    ]
    stakeholders = Stakeholder.objects.filter(pmo=pmo).select_related("segment", "owner__user").order_by("name", "pk")

    def rows():
        for s in stakeholders.iterator(chunk_size=CHUNK):
            owner = s.owner.user if s.owner else None
            yield [
                s.pk,
                s.name,
                s.email,
                s.job_title,
                s.business_unit,
                s.segment.name if s.segment else "",
                s.influence,
                s.interest,
                owner.email if owner else "",
                _person(owner),
                s.notes,
                s.is_active,
                _local(s.created_at),
                _local(s.updated_at),
            ]

    return headers, rows()


def _labels(values):
    return "; ".join(Element(v).label for v in values if v in Element.values)


def interaction_table(pmo):
    headers = [
        "ID",
        "Date",
        "Kind",
        "P elements",
        "Sentiment",
        "Summary",
        "Stakeholders",
        "Stakeholder e-mails",
        "Logged by",
        "Logged at",
    ]
    interactions = (
        Interaction.objects.filter(pmo=pmo)
        .select_related("author")
        .prefetch_related(Prefetch("stakeholders", queryset=Stakeholder.objects.only("id", "name", "email")))
        .order_by("-occurred_on", "-created_at", "-pk")
    )

    def rows():
        for i in interactions.iterator(chunk_size=CHUNK):
            people = sorted(i.stakeholders.all(), key=lambda s: (s.name, s.pk))
            yield [
                i.pk,
                i.occurred_on,
                i.get_kind_display(),
                _labels(i.elements),
                i.sentiment,
                i.summary,
                "; ".join(s.name for s in people),
                "; ".join(s.email for s in people if s.email),
                _person(i.author),
                _local(i.created_at),
            ]

    return headers, rows()


SERVICE_HEADERS = [
    "ID",
    "Name",
    "Description",
    "Owner e-mail",
    "Owner name",
    "Segments",
    "P elements",
    "Status",
    "Launch date",
    "Level now",
    "Target level",
    "Created",
    "Updated",
]


def service_rows(pmo):
    """The catalogue, a row per service in SERVICE_HEADERS' order, and the services themselves:
    [(service, row), ...] in the catalogue's order. Segments are named by their names
    ("; " between them, as the import reads them); none: the service serves everyone."""
    services = (
        Service.objects.filter(pmo=pmo)
        .select_related("owner__user")
        .prefetch_related(Prefetch("segments", queryset=Segment.objects.only("id", "name")))
        .order_by("name", "pk")
    )
    for service in services.iterator(chunk_size=CHUNK):
        owner = service.owner.user if service.owner else None
        yield (
            service,
            [
                service.pk,
                service.name,
                service.description,
                owner.email if owner else "",
                _person(owner),
                "; ".join(sorted(s.name for s in service.segments.all())),
                _labels(service.elements),
                service.get_status_display(),
                service.launched_on,
                service.get_level_now_display(),
                service.get_level_target_display(),
                _local(service.created_at),
                _local(service.updated_at),
            ],
        )


# Survey responses -------------------------------------------------------------------------------

RATED = [QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE]


def response_table(pmo, survey=None):
    """One row per response with its answer to each rated question, to each service asked
    (use, satisfaction, importance), NPS and comment.

        For one survey, the columns are that survey's questions, and an anonymous survey's
        export has no identity column at all. For the whole PMO, questions with the same
        element and text share a column across surveys (the standard questionnaire gives
        one set of columns), and the rows of anonymous surveys leave the identity blank.
        Anonymous rows have no time either, come in an order of their content alone
        (stakeholders.surveys.anonymity), and leave out a segment whose group is too small to be
        shown (anonymity.hidden_groups): each could point at a person.
    """
    surveys = [survey] if survey is not None else list(Survey.objects.filter(pmo=pmo).order_by("created_at", "pk"))
    headers_of_questions, column_of_question = _question_columns(surveys)
    headers_of_services, column_of_service, for_some_segments = _service_columns(surveys)
    headers_of_questions = [*headers_of_questions, *headers_of_services]
    anonymous = {s.pk for s in surveys if s.anonymous}
    named = any(not s.anonymous for s in surveys)
    small_segments = anonymity.hidden_groups(Response.objects.filter(survey__in=surveys))
    if survey is not None:
        identity = ["submitted_at", "stakeholder", "email"] if named else []
        headers = ["response", *identity, "segment", *headers_of_questions, "nps", "comment"]
    else:
        headers = [
            "Survey ID",
            "Survey",
            "Anonymous",
            "Response",
            "Submitted",
            "Stakeholder",
            "E-mail",
            "Segment",
            *headers_of_questions,
            "NPS",
            "Comment",
        ]
    responses = (
        Response.objects.filter(survey__in=surveys)
        .select_related("invitation__stakeholder", "segment", "survey")
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.only("response_id", "question_id", "value")),
            Prefetch("service_answers", queryset=ServiceAnswer.objects.order_by()),
        )
        .order_by("survey__created_at", "survey_id", "submitted_at", "pk")
    )

    def cells(item):
        """(who and when, segment, answers with NPS and comment) of one response."""
        hidden = item.survey_id in anonymous and (item.survey_id, item.segment_id) in small_segments
        answers = _answer_cells(item, column_of_question, len(headers_of_questions) - len(headers_of_services))
        # A hidden segment's row leaves out the services asked of some segments only: which it
        # was asked about would tell its segment.
        left_out = for_some_segments if hidden else set()
        answers += _service_cells(item, column_of_service, len(headers_of_services), left_out)
        segment = item.segment.name if item.segment else ""
        if item.survey_id in anonymous:
            who = ["", "", ""]
            if hidden:
                segment = ""
        else:
            stakeholder = item.invitation.stakeholder
            who = [_local(item.submitted_at), stakeholder.name, stakeholder.email]
        return who, segment, [*answers, item.nps, item.comment]

    def rows():
        for survey_id, items in groupby(responses.iterator(chunk_size=500), key=attrgetter("survey_id")):
            built = ((item.survey, *cells(item)) for item in items)
            if survey_id in anonymous:
                # Held for one survey at a time, to be sorted by content, not by arrival.
                built = sorted(built, key=lambda row: anonymity.content_key(row[3][-1], [row[2], *row[3]]))
            for number, (of, who, segment, tail) in enumerate(built, start=1):
                if survey is not None:
                    yield [number, *(who if named else []), segment, *tail]
                else:
                    yield [of.pk, of.title, of.anonymous, number, *who, segment, *tail]

    return headers, rows()


def _question_columns(surveys) -> tuple[list[str], dict[int, int]]:
    """The rated questions' column headers, and each question's column.

    A question shares the column of the one with the same element and text in another
    survey (the nth such question of a survey, the nth such column).
    """
    questions = Question.objects.filter(survey__in=surveys, kind__in=RATED).order_by("survey_id", "position", "pk")
    columns: dict[tuple, int] = {}  # (header, nth time in its survey) → column
    column_of_question: dict[int, int] = {}
    headers = []
    seen_in_survey: Counter = Counter()
    for q in questions:
        header = f"{q.get_element_display()}: {q.text}"
        seen_in_survey[(q.survey_id, header)] += 1
        key = (header, seen_in_survey[(q.survey_id, header)])
        if key not in columns:
            columns[key] = len(headers)
            headers.append(header)
        column_of_question[q.pk] = columns[key]
    return headers, column_of_question


def _answer_cells(response, column_of_question: dict[int, int], width: int) -> list:
    """A response's answers in their columns: blank where it has none, "don't know" for Don't know."""
    cells = [""] * width
    for answer in response.answers.all():
        if answer.question_id in column_of_question:
            cells[column_of_question[answer.question_id]] = "don't know" if answer.value is None else answer.value
    return cells


def _service_columns(surveys) -> tuple[list[str], dict[int, int], set[int]]:
    """The services' column headers (three per service asked: use, satisfaction, importance),
    the first of each asked service's columns, and the asked services that serve some
    segments only. A service shares the columns of the one of the same name in another survey."""
    asked = SurveyService.objects.filter(survey__in=surveys).order_by("survey_id", "position", "pk")
    columns: dict[str, int] = {}
    column_of_service: dict[int, int] = {}
    headers: list[str] = []
    for_some_segments = set()
    for row in asked.only("id", "name", "segment_ids"):
        if row.segment_ids:
            for_some_segments.add(row.pk)
        key = row.name.casefold()
        if key not in columns:
            columns[key] = len(headers)
            headers += [f"{row.name}: use", f"{row.name}: satisfaction", f"{row.name}: importance"]
        column_of_service[row.pk] = columns[key]
    return headers, column_of_service, for_some_segments


def _service_cells(response, column_of_service: dict[int, int], width: int, left_out: set[int]) -> list:
    """A response's answers about services: the use in words; a user's ratings ("don't know"
    for Don't know), blank for a non-user, who was not asked them. Those in `left_out` blank."""
    cells = [""] * width
    for answer in response.service_answers.all():
        if answer.survey_service_id in left_out:
            continue
        column = column_of_service[answer.survey_service_id]
        cells[column] = answer.get_usage_display()
        if answer.usage == ServiceUsage.USES:
            for offset, value in ((1, answer.satisfaction), (2, answer.importance)):
                cells[column + offset] = "don't know" if value is None else value
    return cells
