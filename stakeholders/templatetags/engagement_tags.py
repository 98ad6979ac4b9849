"""The words and colours of a stakeholder's gap to target (docs/engagement.md): the register,
the grid and the stakeholder's page say it alike. A colour always comes with its words."""

from django import template

register = template.Library()


@register.filter
def gap_words(gap: int | None) -> str:
    """ "2 below", "At target", "1 above", "Not assessed"."""
    if gap is None:
        return "Not assessed"
    if gap == 0:
        return "At target"
    return f"{abs(gap)} below" if gap > 0 else f"{abs(gap)} above"


@register.filter
def gap_sentence(gap: int | None) -> str:
    """The gap for a screen reader: "2 stages below target"."""
    if gap is None:
        return "not assessed"
    if gap == 0:
        return "at target"
    stages = "stage" if abs(gap) == 1 else "stages"
    return f"{abs(gap)} {stages} {'below' if gap > 0 else 'above'} target"


@register.filter
def gap_mark(gap: int | None) -> str:
    """The grid's short mark: −2 (below), = (at), +1 (above), ? (not assessed)."""
    if gap is None:
        return "?"
    if gap == 0:
        return "="
    return f"−{gap}" if gap > 0 else f"+{-gap}"


@register.filter
def gap_colour(gap: int | None) -> str:
    """A Bootstrap colour: at or above target success, 1 below warning, 2 or more danger,
    not assessed secondary."""
    if gap is None:
        return "secondary"
    if gap <= 0:
        return "success"
    return "warning" if gap == 1 else "danger"
