from datetime import date

from django import template

register = template.Library()


@register.filter
def isodate(value):
    """A date stored as ISO text in a report's figures, back as a date."""
    return date.fromisoformat(value) if value else None


@register.filter
def bar_width(score, full=120):
    """Pixels for a 0–100 score on a bar of `full` pixels (e-mail clients have no CSS widths in %)."""
    return 0 if score is None else max(1, round(float(score) / 100 * full))
