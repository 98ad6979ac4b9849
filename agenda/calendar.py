"""The calendar (issue 13, docs/engagement.md#calendar): a PMO's touchpoint dates and open
actions' due dates by month or by week, and each member's personal iCalendar feed of their own.

The page reads one range of dates with two queries whatever the size of the plan: the
touchpoints' dates by the index (pmo, on), the actions by (pmo, status, due_on). The feed
(agenda/ical.py builds it) answers at a secret address with no account, found by the hash of
its token as survey links are; revoking it makes the address answer 404.
"""

import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from agenda import ical
from agenda.models import Action, CalendarFeed
from agenda.models.plan import OPEN_STATUSES
from pmo5p.domain import Element
from pmo5p.params import whole_number
from pmo5p.tenancy import pmo_view
from stakeholders.models import OccurrenceStatus, Stakeholder, Touchpoint, TouchpointOccurrence, hash_token
from stakeholders.touchpoints import occurrence_start

VIEWS = ("month", "week")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Item:
    """One line of a day: a touchpoint's date or an action's due date."""

    kind: str  # "touchpoint" or "action"
    day: date
    title: str
    element: Element
    owner: str
    status: str  # planned, missed, done, cancelled; for an action: open or overdue
    status_label: str
    starts_at: datetime | None = None  # local time in the PMO's time zone; None: all day
    ends_at: datetime | None = None
    channel: str = ""
    touchpoint_id: int | None = None
    occurrence_id: int | None = None
    action_id: int | None = None

    @property
    def to_do(self) -> bool:
        """A touchpoint's date still waiting to be done: planned, or missed."""
        return self.kind == "touchpoint" and self.status in ("planned", "missed")

    @property
    def sort_key(self):
        # All-day items first, then by time; touchpoints before actions on an equal footing.
        return (self.starts_at is not None, self.starts_at.time() if self.starts_at else time.min, self.kind)


@dataclass
class Day:
    day: date
    in_month: bool
    is_today: bool
    items: list[Item] = field(default_factory=list)


@dataclass
class Filters:
    owner: object = None  # a Membership of the PMO
    segment: object = None  # a Segment of the PMO
    element: Element | None = None

    @property
    def active(self) -> bool:
        return any((self.owner, self.segment, self.element))

    def params(self) -> dict:
        values = {
            "owner": self.owner.pk if self.owner else None,
            "segment": self.segment.pk if self.segment else None,
            "element": self.element.value if self.element else None,
        }
        return {key: value for key, value in values.items() if value is not None}


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _shift_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def date_range(view: str, anchor: date) -> tuple[date, date]:
    """The first and last day shown: the week of `anchor`, Monday to Sunday, or the whole
    weeks that hold `anchor`'s month."""
    if view == "week":
        start = _monday(anchor)
        return start, start + timedelta(days=6)
    first = anchor.replace(day=1)
    last = _shift_month(first, 1) - timedelta(days=1)
    return _monday(first), _monday(last) + timedelta(days=6)


def _filters(request, pmo, memberships, segments) -> Filters:
    """The filters asked for that name something of this PMO; anything else is left out."""
    owner_id = whole_number(request.GET.get("owner"))
    segment_id = whole_number(request.GET.get("segment"))
    element = request.GET.get("element")
    return Filters(
        owner=next((m for m in memberships if m.pk == owner_id), None),
        segment=next((s for s in segments if s.pk == segment_id), None),
        element=Element(element) if element in Element.values else None,
    )


def occurrences_between(pmo, start: date, end: date, filters: Filters):
    rows = TouchpointOccurrence.objects.filter(pmo=pmo, on__gte=start, on__lte=end).select_related(
        "touchpoint", "touchpoint__owner__user"
    )
    if filters.owner:
        rows = rows.filter(touchpoint__owner=filters.owner)
    if filters.element:
        rows = rows.filter(touchpoint__element=filters.element)
    if filters.segment:
        # For the segment, or for named stakeholders of it.
        named = Touchpoint.stakeholders.through.objects.filter(
            touchpoint_id=OuterRef("touchpoint_id"), stakeholder__segment=filters.segment
        )
        rows = rows.filter(Q(touchpoint__segment=filters.segment) | Exists(named))
    return rows.order_by("on", "pk")


def open_actions_between(pmo, start: date, end: date, filters: Filters):
    rows = Action.objects.filter(pmo=pmo, status__in=OPEN_STATUSES, due_on__gte=start, due_on__lte=end).select_related(
        "owner__user"
    )
    if filters.owner:
        rows = rows.filter(owner=filters.owner)
    if filters.element:
        rows = rows.filter(element=filters.element)
    if filters.segment:
        segments = Action.target_segments.through.objects.filter(
            action_id=OuterRef("pk"), segment_id=filters.segment.pk
        )
        people = Action.target_stakeholders.through.objects.filter(
            action_id=OuterRef("pk"),
            stakeholder__in=Stakeholder.objects.filter(segment=filters.segment),
        )
        rows = rows.filter(Exists(segments) | Exists(people))
    return rows.order_by("due_on", "pk")


def occurrence_status(occurrence, today: date) -> tuple[str, str]:
    if occurrence.status == OccurrenceStatus.PLANNED and occurrence.on < today:
        return "missed", "Missed"
    return occurrence.status, OccurrenceStatus(occurrence.status).label


def _items(pmo, start, end, filters, today) -> list[Item]:
    zone = timezone.get_current_timezone()
    items = []
    for occurrence in occurrences_between(pmo, start, end, filters):
        touchpoint = occurrence.touchpoint
        moment = occurrence_start(occurrence.on, touchpoint.at_time, pmo.time_zone)
        starts_at = timezone.localtime(moment, zone) if moment else None
        status, label = occurrence_status(occurrence, today)
        items.append(
            Item(
                kind="touchpoint",
                day=occurrence.on,
                title=touchpoint.purpose,
                element=Element(touchpoint.element),
                owner=str(touchpoint.owner.user) if touchpoint.owner else "",
                status=status,
                status_label=label,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=touchpoint.duration_minutes) if starts_at else None,
                channel=touchpoint.get_channel_display(),
                touchpoint_id=touchpoint.pk,
                occurrence_id=occurrence.pk,
            )
        )
    for action in open_actions_between(pmo, start, end, filters):
        overdue = action.due_on < today
        items.append(
            Item(
                kind="action",
                day=action.due_on,
                title=action.title,
                element=Element(action.element),
                owner=str(action.owner.user) if action.owner else "",
                status="overdue" if overdue else "open",
                status_label="Overdue" if overdue else "Due",
                action_id=action.pk,
            )
        )
    return items


def _days(start: date, end: date, anchor: date, view: str, today: date, items: list[Item]) -> list[Day]:
    by_day: dict[date, list[Item]] = {}
    for item in items:
        by_day.setdefault(item.day, []).append(item)
    days = []
    day = start
    while day <= end:
        in_month = view == "week" or day.month == anchor.month
        days.append(Day(day, in_month, day == today, sorted(by_day.get(day, []), key=lambda i: i.sort_key)))
        day += timedelta(days=1)
    return days


@pmo_view()
@require_GET
def calendar_page(request, pmo):
    today = timezone.localdate()
    view = request.GET.get("view")
    view = view if view in VIEWS else "month"
    anchor = _parse_date(request.GET.get("date")) or today
    memberships = list(pmo.memberships.select_related("user").order_by("user__name", "user__email"))
    segments = list(pmo.segments.order_by("name"))
    filters = _filters(request, pmo, memberships, segments)
    start, end = date_range(view, anchor)
    items = _items(pmo, start, end, filters, today)
    days = _days(start, end, anchor, view, today, items)

    if view == "week":
        previous, following = anchor - timedelta(days=7), anchor + timedelta(days=7)
        title = f"Week of {start:%-d %B %Y}"
    else:
        previous, following = _shift_month(anchor, -1), _shift_month(anchor, 1)
        title = f"{anchor:%B %Y}"

    def link(**changes) -> str:
        params = {"view": view, "date": anchor.isoformat(), **filters.params(), **changes}
        return "?" + urlencode(params)

    return render(
        request,
        "agenda/calendar.html",
        {
            "pmo": pmo,
            "view": view,
            "title": title,
            "anchor": anchor,
            "today": today,
            "days": days,
            "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
            "weekdays": WEEKDAYS,
            "item_count": len(items),
            "filters": filters,
            "memberships": memberships,
            "segments": segments,
            "elements": list(Element),
            "links": {
                "previous": link(date=previous.isoformat()),
                "next": link(date=following.isoformat()),
                "today": link(date=today.isoformat()),
                "month": link(view="month"),
                "week": link(view="week"),
            },
        },
    )


# The personal feed.


def live_feed(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def feed_address(feed: CalendarFeed) -> str:
    return settings.SITE_URL + reverse("calendar_feed", kwargs={"token": feed.token})


def create_feed(user) -> CalendarFeed:
    """The user's live feed: the one they have, or a new one."""
    if feed := live_feed(user):
        return feed
    try:
        with transaction.atomic():
            feed = CalendarFeed.new(user)
            feed.save()
            return feed
    except IntegrityError:
        # A second click that raced the first: the database kept one live feed.
        return live_feed(user)


def revoke_feed(user) -> bool:
    """Stamp the user's live feed revoked; False if they had none."""
    return bool(CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now()))


@login_required
@require_POST
def calendar_feed_create(request):
    create_feed(request.user)
    messages.success(request, "Your calendar address is ready: add it to Outlook or Google Calendar.")
    return redirect(reverse("profile") + "#calendar-feed")


@login_required
@require_POST
def calendar_feed_revoke(request):
    if revoke_feed(request.user):
        messages.success(request, "Your calendar address is revoked: calendars that use it get nothing more.")
    else:
        messages.info(request, "You had no calendar address to revoke.")
    return redirect(reverse("profile") + "#calendar-feed")


def _rate(group, request) -> str:
    return settings.SURVEY_RATE_LIMIT


# Calendar programs poll every few minutes to hours: the last use is written once an hour at
# most, not at every poll.
LAST_USED_EVERY = timedelta(hours=1)


def _find_feed(token: str) -> CalendarFeed | None:
    if len(token) > 64:
        return None
    digest = hash_token(token)
    feed = CalendarFeed.objects.filter(token_hash=digest, revoked_at__isnull=True).select_related("user").first()
    # The lookup is by hash; the constant-time comparison guards any future lookup that would
    # compare tokens themselves, as for survey links.
    if feed is None or not hmac.compare_digest(feed.token_hash, digest) or not feed.user.is_active:
        return None
    return feed


@ratelimit(key="ip", rate=_rate, block=True)
@require_GET
def calendar_feed(request, token):
    feed = _find_feed(token)
    if feed is None:
        # Plain: a calendar program shows the status, not a page.
        return HttpResponseNotFound("No calendar at this address.", content_type="text/plain; charset=utf-8")
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at >= LAST_USED_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    response = HttpResponse(ical.feed_calendar(feed.user, now=now), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="pmo5p-calendar.ics"'
    return response
