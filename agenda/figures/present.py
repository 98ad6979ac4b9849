"""How figures are shown: the one place that rounds them (docs/figures.md, "Rounding").

The figures layer computes unrounded numbers; the API and the stored report figures keep
them so. Each kind of figure has one number of decimals, here, used by every page, chart,
report and e-mail: the templates through the filters of agenda/templatetags/figures.py,
the charts' data through `rounded`, and text built in Python through `shown`.

Rounding is half up (62.25 → 62.3), as Django's floatformat does, so that a figure reads
the same wherever it is shown; a tie that floating point missed by a hair is still a tie.
"""

import enum
from decimal import ROUND_HALF_UP, Decimal


class Kind(enum.Enum):
    SCORE = "score"  # 0–100: perception, importance, self-assessment score
    CHANGE = "change"  # a difference of scores: gap, change since an earlier survey, a fall
    PRIORITY = "priority"  # importance × (100 − perception) / 100
    PERCENT = "percent"  # the response rate
    NPS = "nps"  # −100 to 100
    DAYS = "days"  # a time in days: the median time to first contact of follow-up cases
    RECOMMENDATION = "recommendation"  # a mean 0–10 recommendation score: recovery pulses' before and after
    CORRELATION = "correlation"  # −1 to 1: derived importance (agenda/figures/drivers.py) and its interval


DECIMALS = {
    Kind.SCORE: 1,
    Kind.CHANGE: 1,
    Kind.PRIORITY: 0,
    Kind.PERCENT: 0,
    Kind.NPS: 0,
    Kind.DAYS: 1,
    Kind.RECOMMENDATION: 1,
    Kind.CORRELATION: 2,
}
MINUS = "\u2212"  # a true minus sign, for signed changes
NONE = "—"


# Floating point lands a figure that is exactly a tie a hair off it: (1.15 − 1) / 4 × 100 is
# 3.749999999999998. Figures are ratios of small whole numbers, never that close to a tie
# unless they are one, so they are first taken to 9 decimals, then rounded half up.
NOISE = Decimal("1e-9")


def _decimal(value, kind: Kind) -> Decimal:
    places = Decimal(1).scaleb(-DECIMALS[kind])
    exact = Decimal(repr(float(value))).quantize(NOISE)
    rounded = exact.quantize(places, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded == 0 else rounded  # never "-0.0"


def rounded(value, kind: Kind) -> float | None:
    """The number as shown, for a chart's data: None stays None."""
    return None if value is None else float(_decimal(value, kind))


def shown(value, kind: Kind, *, none: str = NONE) -> str:
    """The figure as text: 62.5, 86%, −17; `none` when there is no figure."""
    if value is None:
        return none
    text = str(_decimal(value, kind))
    return f"{text}%" if kind is Kind.PERCENT else text


def signed(value, kind: Kind = Kind.CHANGE, *, none: str = NONE) -> str:
    """A change with its sign: +3.5, −2.0 (a true minus), 0.0."""
    if value is None:
        return none
    number = _decimal(value, kind)
    if number > 0:
        return f"+{number}"
    if number < 0:
        return f"{MINUS}{number.copy_abs()}"
    return str(number)


# Five bands of a 0–100 score for a heat map's colour (the number is always shown beside it):
# under 20, under 40, under 60, under 80, 80 and over.
BANDS = 5


def band(value) -> int | None:
    """The band, 1 to 5, of a score as shown (so that 79.96, shown 80.0, is in band 5)."""
    if value is None:
        return None
    return min(BANDS, int(_decimal(value, Kind.SCORE) // 20) + 1)
