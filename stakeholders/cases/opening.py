"""Opening follow-up cases (docs/follow-up.md, "Which answers open a case") and their due dates.

- A named survey's detractor (0–6) opens one case, for their response, in the transaction
  that claims the detractor's alert (stakeholders/surveys/emails.alert_detractor, FOR
  UPDATE SKIP LOCKED): the claim lets one run through, and FollowUpCase.response, one to
  one, holds it whatever calls this. Owned by the stakeholder's relationship owner, else
  the leads'.
- An anonymous survey opens no case per person. When it closes (lifecycle.close, in the
  closing transaction), each segment whose detractors number at least the minimum group
  size opens one case on the P they scored lowest, with no response, no stakeholder and no
  owner. Its moment is the close's and its content a function of the
  answers alone (figure_source.detractor_groups), so nothing on it says who answered, or
  when. The unique (survey, group_key) opens each group once.

The due date of the first contact is the opening moment's date in the PMO's time zone plus
Pmo.follow_up_working_days working days (Monday to Friday; public holidays are not known).
"""

import zoneinfo
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from pmo5p.domain import DETRACTOR_MAX
from pmo5p.models import Pmo
from stakeholders.models import FollowUpCase, Response, Survey
from stakeholders.surveys import anonymity, figure_source

SATURDAY = 5


def working_days_after(start: date, days: int) -> date:
    """The `days`-th working day (Monday to Friday) after `start`. A start on a Saturday or a
    Sunday counts from Monday, its first working day: 5 working days after a Friday, a
    Saturday or a Sunday are all the next Friday; 0 days after a Saturday is the Saturday."""
    if days < 0:
        raise ValueError("A number of working days is 0 or more.")
    day = start
    while days:  # at most 30 (Pmo.follow_up_working_days): a loop reads plainer than arithmetic
        day += timedelta(days=1)
        if day.weekday() < SATURDAY:
            days -= 1
    return day


def local_date(pmo: Pmo, moment: datetime) -> date:
    return timezone.localdate(moment, timezone=zoneinfo.ZoneInfo(pmo.time_zone))


def due_on(pmo: Pmo, opened_at: datetime) -> date:
    """The last day for a case's first contact: the date it opened, in the PMO's time zone,
    plus the PMO's working days to first contact."""
    return working_days_after(local_date(pmo, opened_at), pmo.follow_up_working_days)


def opens_case(response: Response) -> bool:
    """A named survey's detractor opens a case of their own (an anonymous survey's, none)."""
    return response.nps is not None and response.nps <= DETRACTOR_MAX and not response.survey.anonymous


def open_for_response(response: Response, *, now: datetime | None = None, lowest=None) -> FollowUpCase | None:
    """Open a named detractor's case, once: the case already open for this response if there
    is one; None if the response opens none (not a detractor, or an anonymous survey's).

    Called in the transaction that claims the detractor's alert (emails.alert_detractor),
    which gives `lowest` (the response's lowest elements, figure_source.lowest_elements) when
    it has them already. The suggested P is the lowest; the owner is the stakeholder's
    relationship owner, else nobody: the leads'."""
    if not opens_case(response):
        return None
    now = now or timezone.now()
    pmo = response.survey.pmo
    stakeholder = response.invitation.stakeholder
    if lowest is None:
        lowest = figure_source.source().lowest_elements(response)
    element = lowest[0][0] if lowest else ""
    case = FollowUpCase(
        pmo=pmo,
        survey=response.survey,
        response=response,
        stakeholder=stakeholder,
        segment_id=response.segment_id,
        owner_id=stakeholder.owner_id,
        suggested_element=element,
        root_element=element,
        nps_before=response.nps,
        opened_at=now,
        due_on=due_on(pmo, now),
    )
    try:
        # A savepoint: a case already there (the response is one to one) leaves the caller's
        # transaction usable.
        with transaction.atomic():
            case.save(force_insert=True)
    except IntegrityError:
        existing = FollowUpCase.objects.filter(response=response).first()
        if existing is None:
            raise
        return existing
    return case


def group_key(segment_id: int | None, element: str) -> str:
    return f"{segment_id or '-'}:{element}"


def open_anonymous_cases(survey: Survey, *, now: datetime | None = None) -> list[FollowUpCase]:
    """Open an anonymous survey's group cases, once each; returns the survey's group cases.

    Called when it closes, in the closing transaction (lifecycle.close). Per segment (None,
    no segment, is a group of its own) whose detractors are a group shown (at least the
    minimum group size, anonymity.group_is_shown): one case on the P they scored lowest (blank if none of them rated any), owned by nobody (the
    leads'). Nothing on it is taken from a person: no response, no stakeholder, no score,
    the close's moment."""
    if not survey.anonymous:
        return []
    now = now or timezone.now()
    pmo = survey.pmo
    cases = []
    for segment_id, group in figure_source.source().detractor_groups(survey).items():
        if not anonymity.group_is_shown(group.detractors):
            continue
        element = group.lowest[0][0] if group.lowest else ""
        cases.append(
            FollowUpCase(
                pmo=pmo,
                survey=survey,
                segment_id=segment_id,
                group_key=group_key(segment_id, element),
                suggested_element=element,
                root_element=element,
                opened_at=now,
                due_on=due_on(pmo, now),
            )
        )
    # ON CONFLICT DO NOTHING: a group opened already (a second close) keeps its case.
    FollowUpCase.objects.bulk_create(cases, ignore_conflicts=True)
    return list(FollowUpCase.objects.filter(survey=survey, response__isnull=True).order_by("group_key"))
