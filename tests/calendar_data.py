"""Touchpoints and their dates straight into the database, for the calendar's and the feed's
tests (the communication plan's own write path is stakeholders/touchpoints.py's)."""

from datetime import date, time

from stakeholders.models import OccurrenceStatus, Recurrence, Touchpoint, TouchpointOccurrence


def touchpoint(
    pmo,
    dates: list[date],
    *,
    owner=None,
    purpose="Steering committee",
    element="product",
    channel="meeting",
    at_time: time | None = None,
    duration_minutes=60,
    segment=None,
    stakeholders=(),
    statuses: dict | None = None,
) -> Touchpoint:
    """A touchpoint with a row for each of `dates`; `statuses`: {date: "done" | "cancelled"}."""
    point = Touchpoint.objects.create(
        pmo=pmo,
        purpose=purpose,
        element=element,
        channel=channel,
        owner=owner,
        segment=segment,
        starts_on=dates[0],
        at_time=at_time,
        duration_minutes=duration_minutes,
        recurrence=Recurrence.ONCE if len(dates) == 1 else Recurrence.WEEKLY,
        until=None if len(dates) == 1 else dates[-1],
    )
    point.stakeholders.set(stakeholders)
    statuses = statuses or {}
    TouchpointOccurrence.objects.bulk_create(
        TouchpointOccurrence(
            touchpoint=point,
            pmo=pmo,
            on=day,
            status=statuses.get(day, OccurrenceStatus.PLANNED),
            cancel_reason="Moved" if statuses.get(day) == OccurrenceStatus.CANCELLED else "",
        )
        for day in dates
    )
    return point
