from django import template

from pmo5p.currency import format_money

register = template.Library()


@register.filter
def money(value, pmo_or_code):
    """{{ cost|money:pmo }} or {{ cost|money:f.currency }}: the one way a cost is shown."""
    code = getattr(pmo_or_code, "currency", pmo_or_code)
    return format_money(value, code or "")
