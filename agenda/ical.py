"""A member's personal iCalendar feed (docs/engagement.md#calendar), made with the
`icalendar` library, which escapes text and folds lines as RFC 5545 says: a purpose holding
a line break and "BEGIN:VEVENT" stays the text of its SUMMARY.

The feed holds, in each PMO the user is a member of now, the touchpoint dates they own and
their open actions' due dates, from FEED_DAYS_BEFORE days ago to
FEED_DAYS_AFTER days ahead. Timed dates are in UTC, so no VTIMEZONE is needed: the moment of a
local time is worked out for each date (stakeholders/touchpoints.py, occurrence_start), which
follows the PMO's daylight saving. A removed member's memberships are gone, and with them
every item of that PMO. A cancelled date stays, with STATUS:CANCELLED and its reason: a
calendar that had it shows it called off, where a date left out would vanish unexplained.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from agenda.models import Action
from agenda.models.plan import OPEN_STATUSES
from pmo5p.domain import Element
from pmo5p.models import Membership
from stakeholders.models import OccurrenceStatus, TouchpointOccurrence
from stakeholders.touchpoints import occurrence_start

FEED_DAYS_BEFORE = 60
FEED_DAYS_AFTER = 400
PRODID = "-//pmo5p//Engagement calendar//EN"


def _uid(kind: str, pk: int) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "pmo5p"
    return f"{kind}-{pk}@{host}"


def _url(name: str, **kwargs) -> str:
    return settings.SITE_URL + reverse(name, kwargs=kwargs)


def _element_line(element: str) -> str:
    element = Element(element)
    return f"P: {element.label} ({element.aim})"


def feed_calendar(user, *, now: datetime) -> bytes:
    """The calendar of `user`'s own touchpoint dates and open actions, as iCalendar bytes."""
    memberships = {m.pmo_id: m for m in Membership.objects.filter(user=user).select_related("pmo")}
    today = now.date()
    start, end = today - timedelta(days=FEED_DAYS_BEFORE), today + timedelta(days=FEED_DAYS_AFTER)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"pmo5p: {user}")
    # Hints for calendar programs that honour them: look again within the hour.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")

    occurrences = (
        TouchpointOccurrence.objects.filter(
            pmo_id__in=memberships,
            on__gte=start,
            on__lte=end,
            # The owner's membership, of this PMO: the user's own, as it is now.
            touchpoint__owner__in=[m.pk for m in memberships.values()],
        )
        .select_related("touchpoint", "touchpoint__segment")
        .prefetch_related("touchpoint__stakeholders")
        .order_by("on", "pk")
    )
    for occurrence in occurrences:
        calendar.add_component(_occurrence_event(occurrence, memberships[occurrence.pmo_id].pmo, now))

    actions = Action.objects.filter(
        pmo_id__in=memberships,
        owner__in=[m.pk for m in memberships.values()],
        status__in=OPEN_STATUSES,
        due_on__gte=start,
        due_on__lte=end,
    ).order_by("due_on", "pk")
    for action in actions:
        calendar.add_component(_action_event(action, memberships[action.pmo_id].pmo, now))
    return calendar.to_ical()


def _occurrence_event(occurrence, pmo, now) -> Event:
    touchpoint = occurrence.touchpoint
    event = Event()
    event.add("uid", _uid("occurrence", occurrence.pk))
    event.add("dtstamp", now)
    moment = occurrence_start(occurrence.on, touchpoint.at_time, pmo.time_zone)
    if moment is None:
        event.add("dtstart", occurrence.on)
        event.add("dtend", occurrence.on + timedelta(days=1))
    else:
        event.add("dtstart", moment)
        event.add("dtend", moment + timedelta(minutes=touchpoint.duration_minutes))
    event.add("summary", f"{touchpoint.purpose} ({pmo.name})")
    people = ", ".join(s.name for s in touchpoint.stakeholders.all())
    lines = [f"Channel: {touchpoint.get_channel_display()}", _element_line(touchpoint.element)]
    if people:
        lines.append(f"With: {people}")
    if touchpoint.segment:
        lines.append(f"Segment: {touchpoint.segment.name}")
    if occurrence.status == OccurrenceStatus.DONE:
        lines.append("Done.")
    cancelled = occurrence.status == OccurrenceStatus.CANCELLED
    if cancelled:
        lines.append(f"Cancelled: {occurrence.cancel_reason}")
    event.add("description", "\n".join(lines))
    event.add("url", _url("touchpoint_detail", slug=pmo.slug, touchpoint_id=touchpoint.pk))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE" if moment else "TRANSPARENT")
    return event


def _action_event(action, pmo, now) -> Event:
    event = Event()
    event.add("uid", _uid("action", action.pk))
    event.add("dtstamp", now)
    event.add("dtstart", action.due_on)
    event.add("dtend", action.due_on + timedelta(days=1))
    event.add("summary", f"Action due: {action.title} ({pmo.name})")
    event.add("description", f"{_element_line(action.element)}\nStatus: {action.get_status_display()}")
    event.add("url", _url("action_list", slug=pmo.slug))
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    return event
