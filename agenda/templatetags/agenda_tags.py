from datetime import date

from django import template

register = template.Library()


@register.filter
def isodate(value):
    """A date stored as ISO text in a report's figures, back as a date."""
    return date.fromisoformat(value) if value else None


@register.filter
def signed(value):
    """+3.5 / −2.0 / 0.0, with a true minus sign."""
    if value is None:
        return ""
    # Rounded first, so that −0.04 reads 0.0, not −0.0 (figures are stored unrounded).
    value = round(float(value), 1)
    return f"+{value:.1f}" if value > 0 else f"−{abs(value):.1f}" if value < 0 else "0.0"


@register.filter
def bar_width(score, full=120):
    """Pixels for a 0–100 score on a bar of `full` pixels (e-mail clients have no CSS widths in %)."""
    return 0 if score is None else max(1, round(float(score) / 100 * full))
