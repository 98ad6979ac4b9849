"""The recovery pulse on a case's page: the change from the score before to the score after."""

from django import template

register = template.Library()


@register.simple_tag
def score_change(before, after) -> str:
    """ "+5", "−2" (a minus sign, as printed), "±0"; empty when either score is missing."""
    if before is None or after is None or before == "" or after == "":
        return ""
    change = after - before
    if change > 0:
        return f"+{change}"
    if change < 0:
        return f"\u2212{-change}"
    return "\u00b10"
