"""The figures as pages, reports and e-mails show them: one filter per kind of figure, each
rounding as agenda/figures/present.py decides, and "—" where there is no figure.

    {% load figures %}
    {{ row.perception|score }}  62.5      {{ row.gap|change }}  −12.5 / +3.0
    {{ row.priority|priority }}  28       {{ rate|percent }}  86%       {{ nps.score|nps }}  -17
"""

from django import template

from agenda.figures.present import Kind, shown, signed

register = template.Library()


def _shown_as(kind: Kind):
    def show(value):
        return shown(value, kind)

    return show


for _kind in (Kind.SCORE, Kind.PRIORITY, Kind.PERCENT, Kind.NPS):
    register.filter(_kind.value, _shown_as(_kind))


@register.filter
def change(value):
    return signed(value, Kind.CHANGE)
