"""Figures per PMO service (docs/services.md, "The figures"; docs/figures.md, "Per service"):
awareness, usage, satisfaction, importance, IPA quadrant and priority of each service a
survey asked about, with the number of answers behind each.

A survey asks about a service as it was at launch (SurveyService, its snapshot), and each
respondent asked answers once (ServiceAnswer): whether they use it, know it or did not know
it, and, only if they use it, satisfaction and importance on the 1–5 scale ("Don't know":
NULL). Every figure is one SQL aggregate over those answers, grouped by asked service (and
segment, or survey, as the caller asks), never a loop over answers in Python:

- answered: the respondents who said whether they know it; aware: use it or know it;
  users: use it; awareness and usage are those over answered, as percentages;
- satisfaction and importance: the users' mean rating as a score (survey.score), each with
  the ratings behind it, "Don't know" left out;
- quadrant and priority: elements.ipa_quadrant and elements.priority, with satisfaction in
  the place of perception.

Privacy (stakeholders/surveys/anonymity.py): a service's figures rest on the respondents who
answered about it, so they are a group, of the survey or of one segment, and a group with
fewer than the minimum has every figure hidden (`suppressed`), as a segment's P figures are.

Which survey: the catalogue, the dashboard, the report and the suggestions read each
service's figures from the survey that survey.default_survey would choose among those that
asked about it: the latest closed one, else the latest open one with answers about it.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Sum, When

from agenda.figures.elements import IpaQuadrant, ipa_quadrant, priority
from agenda.figures.kept import survey_element_figures
from agenda.figures.present import Kind, shown
from agenda.figures.survey import score
from pmo5p.domain import Element, OfferingLevel, ServiceUsage
from stakeholders.models import Service, ServiceAnswer, Survey, SurveyInvitation, SurveyService, SurveyStatus
from stakeholders.surveys import anonymity

NO_SEGMENT = "No segment"


@dataclass(frozen=True)
class ServiceFigures:
    name: str  # the SurveyService's name (the snapshot)
    survey_id: int
    answered: int = 0  # respondents asked who said whether they know it
    aware: int = 0  # uses + knows
    users: int = 0  # uses
    satisfaction: float | None = None  # users' mean rating as a 0–100 score; None: no rating
    satisfaction_n: int = 0  # ratings behind it ("Don't know" left out)
    importance: float | None = None
    importance_n: int = 0
    suppressed: bool = False  # a group below the minimum size: every figure above shows nothing

    @property
    def awareness(self) -> float | None:
        return 100 * self.aware / self.answered if self.answered and not self.suppressed else None

    @property
    def usage(self) -> float | None:
        return 100 * self.users / self.answered if self.answered and not self.suppressed else None

    @property
    def quadrant(self) -> IpaQuadrant | None:
        return ipa_quadrant(self.importance, self.satisfaction)

    @property
    def priority(self) -> float | None:
        return priority(self.importance, self.satisfaction)


# The one aggregation -----------------------------------------------------------------------

USER = Q(usage=ServiceUsage.USES)


def answer_rows(answers, *fields: str):
    """Per asked service and value of each of `fields` (a field of ServiceAnswer, such as
    "response__segment_id"), the counts and sums the figures are made of, in one query:
    rows {"survey_service_id", *fields, "answered", "aware", "users", "satisfaction_total",
    "satisfaction_n", "importance_total", "importance_n"}. Sums and counts, never means, so
    that rows add up exactly. Read from the answers' (survey_service, usage) index alone."""
    return (
        answers.values("survey_service_id", *fields)
        .annotate(
            answered=Count("usage"),
            aware=Count("usage", filter=Q(usage__in=[ServiceUsage.USES, ServiceUsage.KNOWS])),
            users=Count("usage", filter=USER),
            # Only a user rates (a constraint of ServiceAnswer); said again here, so that the
            # figures never rest on anything else.
            satisfaction_total=Sum("satisfaction", filter=USER),
            satisfaction_n=Count("satisfaction", filter=USER),
            importance_total=Sum("importance", filter=USER),
            importance_n=Count("importance", filter=USER),
        )
        .order_by()
    )


def figures_from_row(name: str, survey_id: int, row: dict | None) -> ServiceFigures:
    """An asked service's figures from its row of answer_rows (None: no answers), hidden if
    fewer than the minimum answered."""
    answered = row["answered"] if row else 0
    if not anonymity.group_is_shown(answered):
        return ServiceFigures(name, survey_id, suppressed=True)

    def mean(total, count):
        return score(total / count) if count else None

    return ServiceFigures(
        name=name,
        survey_id=survey_id,
        answered=answered,
        aware=row["aware"],
        users=row["users"],
        satisfaction=mean(row["satisfaction_total"], row["satisfaction_n"]),
        satisfaction_n=row["satisfaction_n"],
        importance=mean(row["importance_total"], row["importance_n"]),
        importance_n=row["importance_n"],
    )


def _rows_by(asked_ids, *fields: str, segment_id: int | None = None) -> dict:
    """answer_rows of these asked services, by (survey_service_id, *fields)."""
    if not asked_ids:
        return {}
    answers = ServiceAnswer.objects.filter(survey_service_id__in=list(asked_ids))
    if segment_id is not None:
        answers = answers.filter(response__segment_id=segment_id)
    return {tuple(row[f] for f in ("survey_service_id", *fields)): row for row in answer_rows(answers, *fields)}


# Per survey --------------------------------------------------------------------------------


def survey_service_figures(survey, segment_id: int | None = None) -> dict[int, ServiceFigures]:
    """Each service the survey asked about, by SurveyService id, in the order asked; with a
    segment, from the answers of the respondents counted in it. Two queries."""
    asked = list(SurveyService.objects.filter(survey=survey).values_list("pk", "name"))
    rows = _rows_by([pk for pk, _ in asked], segment_id=segment_id)
    return {pk: figures_from_row(name, survey.pk, rows.get((pk,))) for pk, name in asked}


def surveys_asking(pmo):
    """The PMO's launched surveys that asked about services, the latest launched first."""
    return (
        Survey.objects.filter(pmo=pmo, status__in=[SurveyStatus.OPEN, SurveyStatus.CLOSED])
        .filter(Exists(SurveyService.objects.filter(survey=OuterRef("pk"))))
        .order_by("-launched_at", "-pk")
    )


def default_service_survey(pmo) -> Survey | None:
    """The survey.default_survey rule among the surveys that asked about services: the latest
    closed one, else the latest open one with answers about a service. One query."""
    answered = ServiceAnswer.objects.filter(survey_service__survey=OuterRef("pk"))
    return (
        surveys_asking(pmo)
        .filter(Q(status=SurveyStatus.CLOSED) | Exists(answered))
        .annotate(open_=Case(When(status=SurveyStatus.CLOSED, then=0), default=1))
        .order_by("open_", F("closed_at").desc(nulls_last=True), "-launched_at", "-pk")
        .first()
    )


# The heat map: each service's satisfaction against the P's it serves -------------------------


@dataclass(frozen=True)
class HeatCell:
    element: Element
    served: bool  # whether the service mainly serves this P (its snapshot's elements)
    satisfaction: float | None  # the service's, where it serves the P and is shown
    perception: float | None  # the P's, in the same survey

    @property
    def difference(self) -> float | None:
        """Satisfaction with the service minus the perception of the P it serves."""
        if not self.served or self.satisfaction is None or self.perception is None:
            return None
        return self.satisfaction - self.perception


@dataclass(frozen=True)
class HeatRow:
    survey_service_id: int
    service_id: int | None  # None: deleted from the catalogue since (the snapshot stays)
    figures: ServiceFigures
    cells: list[HeatCell]


def heat_map(survey) -> tuple[list[HeatRow], dict]:
    """A row per service the survey asked about, in the order asked, with a cell per P: the
    service's satisfaction where it serves that P, beside the P's perception in the same
    survey; and the survey's figures per element ({Element: ElementFigures}). Three or four
    queries (the element figures: kept rows, or answers)."""
    asked = list(SurveyService.objects.filter(survey=survey).values("pk", "service_id", "name", "elements"))
    rows = _rows_by([row["pk"] for row in asked])
    per_element = survey_element_figures(survey)
    heat = []
    for row in asked:
        figures = figures_from_row(row["name"], survey.pk, rows.get((row["pk"],)))
        served = set(row["elements"])
        heat.append(
            HeatRow(
                row["pk"],
                row["service_id"],
                figures,
                [
                    HeatCell(
                        element,
                        element.value in served,
                        figures.satisfaction if element.value in served else None,
                        per_element[element].perception,
                    )
                    for element in Element
                ],
            )
        )
    return heat, per_element


# Per catalogue service ---------------------------------------------------------------------

ASKED_FIELDS = ("pk", "service_id", "name", "survey_id", "segment_ids", "survey__status")


def _asked_about(services):
    """The SurveyServices of these services (a queryset or list of Service) in launched
    surveys, oldest first: closed surveys by closing time, then open ones by launch (an open
    survey comes after every closed one, as in history.earlier_perceptions)."""
    return (
        SurveyService.objects.filter(service__in=services, survey__status__in=[SurveyStatus.OPEN, SurveyStatus.CLOSED])
        .order_by("survey__closed_at", "survey__launched_at", "survey_id")
        .values(*ASKED_FIELDS)
    )


def _latest(services) -> tuple[dict[int, dict], dict]:
    """For each of these services that a launched survey asked about, the SurveyService to
    read its figures from (the latest closed survey, else the latest open one with answers
    about it), and the answer_rows of those chosen, by (SurveyService id,). Two queries."""
    closed: dict[int, dict] = {}
    open_: dict[int, list[dict]] = defaultdict(list)
    for asked in _asked_about(services):
        # Oldest first: the last closed one kept is the latest.
        if asked["survey__status"] == SurveyStatus.CLOSED:
            closed[asked["service_id"]] = asked
        else:
            open_[asked["service_id"]].append(asked)
    candidates = list(closed.values()) + [
        asked for service_id, many in open_.items() if service_id not in closed for asked in many
    ]
    rows = _rows_by([asked["pk"] for asked in candidates])
    chosen = dict(closed)
    for service_id, many in open_.items():
        if service_id in closed:
            continue
        with_answers = [asked for asked in many if (asked["pk"],) in rows]
        if with_answers:
            chosen[service_id] = with_answers[-1]
    return chosen, rows


def catalogue_figures(pmo, services=None) -> dict[int, ServiceFigures]:
    """Each of the PMO's services (or only `services`, some of them: a page of the catalogue,
    one service), by Service id, with its figures in the survey chosen for it (the latest
    closed survey that asked about it, else the latest open one with answers about it); a
    service no survey asked about, or only open ones without answers, is absent. Two queries,
    whatever the number of services, surveys and respondents."""
    chosen, rows = _latest(pmo.services.all() if services is None else services)
    return {
        service_id: figures_from_row(asked["name"], asked["survey_id"], rows.get((asked["pk"],)))
        for service_id, asked in chosen.items()
    }


# What a service's figures call for (docs/services.md, "Suggestions"), on the figures as shown:
# awareness and usage in %, satisfaction and importance on the 0–100 score. The suggestions
# propose an action for each call; the services to work on say the first.
FEW_KNOW = 50  # awareness under this: publicise it
DISAPPOINTS = 50  # users' satisfaction under this: improve it
KNOWN = 50  # awareness at least this …
UNUSED = 25  # … and usage under this: retire or rethink it
IMPORTANT = 75  # users' importance at least this, and a level to rise to: raise its level,
# unless it disappoints or few know it: improving or publicising it comes first.


class ServiceCall(models.TextChoices):
    PUBLICISE = "publicise", "Few of those it serves know it: publicise it."
    IMPROVE = "improve", "Its users rate it poorly: improve it with them."
    RETHINK = "rethink", "Known but little used: retire or rethink it."
    RAISE = "raise", "Its users rate it highly on importance: raise its level."

    @property
    def short(self) -> str:
        """A few words for a badge (the catalogue)."""
        return CALL_BADGES[self]


CALL_BADGES = {
    ServiceCall.PUBLICISE: "Few know it",
    ServiceCall.IMPROVE: "Disappoints its users",
    ServiceCall.RETHINK: "Known, little used",
    ServiceCall.RAISE: "Ready to raise its level",
}


def calls_for(figures: ServiceFigures, level_now: int) -> list[ServiceCall]:
    """What the service's shown figures call for, in the order above; none if hidden."""
    if figures.suppressed or not figures.answered:
        return []
    awareness, usage, satisfaction, importance = (
        figures.awareness,
        figures.usage,
        figures.satisfaction,
        figures.importance,
    )
    calls = []
    if awareness < FEW_KNOW:
        calls.append(ServiceCall.PUBLICISE)
    if satisfaction is not None and satisfaction < DISAPPOINTS:
        calls.append(ServiceCall.IMPROVE)
    if awareness >= KNOWN and usage < UNUSED:
        calls.append(ServiceCall.RETHINK)
    comes_first = ServiceCall.PUBLICISE in calls or ServiceCall.IMPROVE in calls
    if importance is not None and importance >= IMPORTANT and not comes_first and level_now < OfferingLevel.STRATEGIC:
        calls.append(ServiceCall.RAISE)
    return calls


@dataclass(frozen=True)
class ServiceFocus:
    """A catalogue service to work on, and why."""

    service: Service
    figures: ServiceFigures
    rank: int

    @property
    def advice(self) -> str:
        """What to do first: the first thing its figures call for, else its quadrant's advice."""
        calls = calls_for(self.figures, self.service.level_now)
        return calls[0].label if calls else self.figures.quadrant.advice

    @property
    def why(self) -> str:
        f = self.figures
        return (
            f"{f.quadrant.label}: satisfaction {shown(f.satisfaction, Kind.SCORE)} from {f.satisfaction_n} "
            f"user{'s' if f.satisfaction_n != 1 else ''}, importance {shown(f.importance, Kind.SCORE)}, "
            f"priority {shown(f.priority, Kind.PRIORITY)}; known to {shown(f.awareness, Kind.PERCENT)} "
            f"and used by {shown(f.usage, Kind.PERCENT)} of {f.answered} asked."
        )


FOCUS = 3


def ranked_services(pmo, figures: dict[int, ServiceFigures] | None = None) -> list[ServiceFocus]:
    """The PMO's services with a priority (catalogue_figures), highest first, then by name:
    the services to work on, as elements.ranked_by_priority ranks the P's. Three queries (one,
    given the catalogue's figures)."""
    figures = catalogue_figures(pmo) if figures is None else figures
    with_priority = {pk: f for pk, f in figures.items() if f.priority is not None}
    services = Service.objects.filter(pmo=pmo, pk__in=list(with_priority)) if with_priority else []
    ordered = sorted(services, key=lambda s: (-with_priority[s.pk].priority, s.name.lower(), s.pk))
    return [ServiceFocus(service, with_priority[service.pk], rank) for rank, service in enumerate(ordered, start=1)]


def services_to_work_on(pmo, figures: dict[int, ServiceFigures] | None = None) -> list[ServiceFocus]:
    """The three services to work on first (the dashboard, the report)."""
    return ranked_services(pmo, figures)[:FOCUS]


def service_trend(service) -> list[ServiceFigures]:
    """The service's figures in each launched survey that asked about it, oldest first (closed
    surveys by closing time, then open ones). Two queries."""
    asked = list(_asked_about([service]))
    rows = _rows_by([row["pk"] for row in asked])
    return [figures_from_row(row["name"], row["survey_id"], rows.get((row["pk"],))) for row in asked]


def service_segment_figures(service) -> list[tuple[str, ServiceFigures]]:
    """The service's figures per segment in the survey chosen for it (as catalogue_figures),
    by segment name, "No segment" last: a row for each segment invited at launch that the
    service served then, and for any other group with answers about it (a segment deleted
    since: its respondents count under "No segment"). Each group below the minimum is hidden.
    Four queries; none but the first two if no survey asked about it."""
    chosen, _ = _latest([service])
    asked = chosen.get(service.pk)
    if asked is None:
        return []
    rows = _rows_by([asked["pk"]], "response__segment_id")
    invited = dict(
        SurveyInvitation.objects.filter(survey_id=asked["survey_id"])
        .values_list("segment_id", "segment__name")
        .distinct()
        .order_by()
    )
    served = set(asked["segment_ids"])
    groups = {segment_id for segment_id in invited if not served or segment_id in served}
    groups |= {segment_id for _, segment_id in rows}
    ordered = sorted(groups, key=lambda pk: (pk is None, invited.get(pk) or "", pk or 0))
    return [
        (
            invited.get(segment_id) or NO_SEGMENT,
            figures_from_row(asked["name"], asked["survey_id"], rows.get((asked["pk"], segment_id))),
        )
        for segment_id in ordered
    ]
