"""The profile's "Calendar feed" section: the profile page is pmo5p's, the feed agenda's, and
pmo5p does not import agenda (docs/architecture.md), so the page loads this tag instead."""

from django import template

from agenda.calendar import feed_address, live_feed

register = template.Library()


@register.inclusion_tag("agenda/calendar_feed_card.html", takes_context=True)
def calendar_feed_card(context):
    feed = live_feed(context["user"])
    return {"feed": feed, "address": feed_address(feed) if feed else "", "csrf_token": context.get("csrf_token")}
