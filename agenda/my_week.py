"""A member's "My week" (issue 13, docs/engagement.md): whom to see and what to do this week.

`my_week(membership, today)` makes the lists once, for the page and for the weekly digest
(agenda/digests.py): the member's relationships whose touch is overdue, their touchpoint dates
this week and the ones they missed, and their open actions due this week or before. Each list
is one query whatever the PMO's size (tests/test_my_week.py counts them at 5,000 stakeholders).
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.db.models import Count, Q, Window
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agenda.models import Action
from agenda.models.plan import OPEN_STATUSES
from pmo5p.forms import DigestForm, add_refusal
from pmo5p.models import Membership, Role
from pmo5p.rules import RuleViolation
from pmo5p.services import record_visit, set_digest
from pmo5p.tenancy import pmo_view
from stakeholders.engagement import Engagement, engagement_of, with_engagement
from stakeholders.models import (
    OPEN_CASE_STATUSES,
    FollowUpCase,
    OccurrenceStatus,
    Stakeholder,
    TouchpointOccurrence,
)
from stakeholders.touchpoints import occurrence_start

# The most overdue relationships listed; the rest are counted ("and N more"), so that a member
# who owns a thousand relationships gets a page, and an e-mail, that stays readable.
OVERDUE_SHOWN = 50
# Likewise for touchpoint dates missed long ago (a weekly meeting never marked for a year).
DATES_SHOWN = 100
# And for open follow-up cases (a lead sees the leads' too, which a large survey may fill).
CASES_SHOWN = 50


@dataclass(frozen=True)
class OverdueTouch:
    stakeholder: Stakeholder
    engagement: Engagement

    @property
    def why(self) -> str:
        return self.engagement.why_overdue()


@dataclass(frozen=True)
class TouchpointDate:
    occurrence: TouchpointOccurrence
    # The local moment it starts, in the PMO's time zone; None for an all-day touchpoint.
    starts_at: datetime | None
    missed: bool

    @property
    def local_time(self) -> str:
        """ "14:30" in the PMO's time zone, or "all day": text, so that an e-mail composed by a
        worker (whose active zone is not the PMO's) shows the same as the page."""
        return f"{self.starts_at:%H:%M}" if self.starts_at else "all day"

    @property
    def is_planned(self) -> bool:
        return self.occurrence.status == OccurrenceStatus.PLANNED


@dataclass
class MyWeek:
    membership: Membership
    today: date
    first_day: date  # the Monday of the week, or the digest's day
    last_day: date
    # Active relationships the member owns, and how many of them are overdue.
    owned_count: int = 0
    overdue_count: int = 0
    overdue: list[OverdueTouch] = field(default_factory=list)
    dates: list[TouchpointDate] = field(default_factory=list)
    dates_count: int = 0
    missed_count: int = 0
    actions: list[Action] = field(default_factory=list)
    # Open follow-up cases (issue 14): the member's, and for a lead the leads' (no owner);
    # the first contact due soonest first, so the overdue ones lead.
    cases: list[FollowUpCase] = field(default_factory=list)
    cases_count: int = 0

    @property
    def overdue_more(self) -> int:
        return self.overdue_count - len(self.overdue)

    @property
    def dates_more(self) -> int:
        return self.dates_count - len(self.dates)

    @property
    def cases_more(self) -> int:
        return self.cases_count - len(self.cases)

    @property
    def cases_overdue(self) -> int:
        """Of the cases shown, those whose first contact is late (still open, past due)."""
        return sum(1 for case in self.cases if case.status == "open" and case.due_on < self.today)

    @property
    def is_empty(self) -> bool:
        """Nothing to say: no overdue touch, no date, no action, no open case."""
        return not (self.overdue_count or self.dates_count or self.actions or self.cases_count)


def week_of(today: date) -> tuple[date, date]:
    """The Monday and the Sunday of the week that holds `today`."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def my_week(membership: Membership, today: date, *, next_seven_days: bool = False) -> MyWeek:
    """What `membership` has to do in the week of `today` (the PMO's today), Monday to Sunday,
    or in the seven days from today (the digest: one sent on a Sunday looks ahead, not back):
    five queries, seven when more than DATES_SHOWN dates wait."""
    pmo = membership.pmo
    first_day, last_day = (today, today + timedelta(days=6)) if next_seven_days else week_of(today)
    week = MyWeek(membership=membership, today=today, first_day=first_day, last_day=last_day)

    owned = with_engagement(Stakeholder.objects.filter(pmo=pmo, owner=membership, is_active=True), pmo, today)
    counts = owned.aggregate(owned=Count("pk"), overdue=Count("pk", filter=Q(touch_due_on__lt=today)))
    week.owned_count, week.overdue_count = counts["owned"], counts["overdue"]
    rows = owned.filter(touch_due_on__lt=today).order_by("touch_due_on", "-influence", "name", "pk")
    week.overdue = [OverdueTouch(s, engagement_of(s, today)) for s in rows[:OVERDUE_SHOWN]]

    # This week's dates (done ones too: the week as it went), and every planned date before today.
    dates = (
        TouchpointOccurrence.objects.filter(pmo=pmo, touchpoint__owner=membership)
        .filter(
            Q(on__gte=first_day, on__lte=last_day) & ~Q(status=OccurrenceStatus.CANCELLED)
            | Q(status=OccurrenceStatus.PLANNED, on__lt=today)
        )
        .select_related("touchpoint", "touchpoint__segment")
        .order_by("on", "touchpoint__at_time", "pk")
    )
    zone = zoneinfo.ZoneInfo(pmo.time_zone)
    for occurrence in dates[: DATES_SHOWN + 1]:
        start = occurrence_start(occurrence.on, occurrence.touchpoint.at_time, pmo.time_zone)
        missed = occurrence.status == OccurrenceStatus.PLANNED and occurrence.on < today
        week.dates.append(TouchpointDate(occurrence, start.astimezone(zone) if start else None, missed))
    if len(week.dates) > DATES_SHOWN:
        # Rare: more than DATES_SHOWN dates; only then are they counted.
        week.dates = week.dates[:DATES_SHOWN]
        week.dates_count = dates.count()
        week.missed_count = dates.filter(status=OccurrenceStatus.PLANNED, on__lt=today).count()
    else:
        week.dates_count = len(week.dates)
        week.missed_count = sum(d.missed for d in week.dates)

    week.actions = list(
        Action.objects.filter(pmo=pmo, owner=membership, status__in=OPEN_STATUSES, due_on__lte=last_day).order_by(
            "due_on", "pk"
        )
    )
    mine = Q(owner=membership) | Q(owner__isnull=True) if membership.is_lead else Q(owner=membership)
    # One query however many: the window counts them all before the LIMIT.
    cases = (
        FollowUpCase.objects.filter(mine, pmo=pmo, status__in=OPEN_CASE_STATUSES)
        .select_related("stakeholder", "segment", "survey")
        .annotate(total=Window(Count("pk")))
        .order_by("due_on", "pk")
    )
    week.cases = list(cases[:CASES_SHOWN])
    week.cases_count = week.cases[0].total if week.cases else 0
    return week


def _digest_form(membership, data=None) -> DigestForm:
    initial = {"weekday": membership.digest_weekday, "at": membership.digest_time}
    return DigestForm(data, initial=initial, pmo=membership.pmo)


def _page(request, pmo, form):
    membership = request.membership
    today = timezone.localdate()  # the PMO's: pmo_view activates its time zone
    context = {
        "pmo": pmo,
        "week": my_week(membership, today),
        "digest_form": form,
        "digest_on": membership.digest_weekday is not None,
    }
    return render(request, "agenda/my_week.html", context)


@pmo_view()
@require_GET
def my_week_page(request, pmo):
    """The member's home in the PMO: whom to see this week and why."""
    record_visit(request.membership)
    return _page(request, pmo, _digest_form(request.membership))


# Choosing one's own digest changes nobody else's data: every role may do it.
@pmo_view(role=Role.VIEWER, write_role=Role.VIEWER)
@require_POST
def my_week_digest(request, pmo):
    membership = request.membership
    form = _digest_form(membership, request.POST)
    if form.is_valid():
        try:
            set_digest(membership=membership, weekday=form.cleaned_data["weekday"], at=form.cleaned_data["at"])
        except RuleViolation as refusal:
            add_refusal(form, refusal)
        else:
            if membership.digest_weekday is None:
                messages.success(request, "You will get no weekly digest.")
            else:
                messages.success(
                    request,
                    f"Your weekly digest comes every {membership.get_digest_weekday_display()} at "
                    f"{membership.digest_time:%H:%M} ({pmo.time_zone}).",
                )
            return redirect("my_week", slug=pmo.slug)
    # Refused: the page again, with what they chose and why it was refused; nothing saved.
    return _page(request, pmo, form)
