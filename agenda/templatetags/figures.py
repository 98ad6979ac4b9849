"""The figures as pages, reports and e-mails show them: one filter per kind of figure, each
rounding as agenda/figures/present.py decides, and "—" where there is no figure.

    {% load figures %}
    {{ row.perception|score }}  62.5      {{ row.gap|change }}  −12.5 / +3.0
    {{ row.priority|priority }}  28       {{ rate|percent }}  86%       {{ nps.score|nps }}  -17
    {{ driver.r|correlation }}  0.52
    {{ index_change|points }}  +14 (percentage points)
    {{ median|days }}  2.5       {{ pulses.before|recommendation }}  4.2 (a mean 0–10 score)
"""

from django import template

from agenda.figures.present import Kind, band, shown, signed

register = template.Library()


def _shown_as(kind: Kind):
    def show(value):
        return shown(value, kind)

    return show


for _kind in (Kind.SCORE, Kind.PRIORITY, Kind.PERCENT, Kind.NPS, Kind.DAYS, Kind.RECOMMENDATION, Kind.CORRELATION):
    register.filter(_kind.value, _shown_as(_kind))


@register.filter
def change(value):
    return signed(value, Kind.CHANGE)


@register.filter
def points(value):
    """A change of a percentage, in whole percentage points with its sign: +14, −3, 0."""
    return signed(value, Kind.PERCENT)


@register.filter(name="band")
def score_band(value):
    """The heat band (1–5) of a score, for a cell's colour class; "none" without a score."""
    found = band(value)
    return "none" if found is None else found
