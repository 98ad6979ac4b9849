"""Where each relationship should be and how often to touch it (issue 13, docs/engagement.md),
as database expressions: the one definition that the register, the grid, a stakeholder's page,
"My week", the digest, the at-risk rule and the engagement index all read.

- target: the stakeholder's own target stage, or their PMO's default for their quadrant;
- gap: target − current maturity stage, in stages; positive means below target; None when
  the relationship has never been assessed;
- cadence: the stakeholder's own days between touches, or their PMO's default for their quadrant;
- touch due: the day after last touch + cadence is reached; a stakeholder never touched counts
  from the day they were added to the register;
- overdue: touch due before today.

The current maturity stage is the agenda's (MaturityRecord, above this app): agenda/apps.py
registers its expression with `register_current_stage`, as it registers its timeline entries.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Func, Q, Value
from django.db.models.functions import Coalesce, TruncDate
from django.template.defaultfilters import pluralize

from pmo5p.domain import MaturityStage
from stakeholders.selectors import Quadrant, quadrant_cases, quadrant_expression

_current_stage: Callable[[], models.Expression] | None = None


def register_current_stage(expression: Callable[[], models.Expression]) -> None:
    """Set where a stakeholder's current maturity stage comes from: a callable that returns an
    expression, for .annotate(), of the stage of the stakeholder at OuterRef("pk")."""
    global _current_stage
    _current_stage = expression


def current_stage_expression() -> models.Expression:
    if _current_stage is None:
        raise RuntimeError("No source of the current maturity stage: agenda/apps.py registers it.")
    return _current_stage()


class AddDays(Func):
    """date + a whole number of days, as a date. Written here because Django's date arithmetic
    takes a DurationField, and a day count from a column is an integer; the SQL differs."""

    output_field = models.DateField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" + ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="date(%(expressions)s || ' days')",
            arg_joiner=", '+' || ",
            **extra_context,
        )


def _by_quadrant(default_of: Callable[[str], int]) -> Case:
    case = quadrant_cases(lambda quadrant: Value(default_of(quadrant.value)))
    case.output_field = models.PositiveSmallIntegerField()
    return case


def target_expression(pmo) -> models.Expression:
    return Coalesce(F("target_stage"), _by_quadrant(pmo.default_target_stage))


def cadence_expression(pmo) -> models.Expression:
    return Coalesce(F("cadence_days"), _by_quadrant(pmo.default_cadence_days))


def with_engagement(stakeholders, pmo, today: date):
    """The stakeholders of `pmo` annotated with quadrant, current_stage, target, gap, cadence,
    touch_due_on and touch_overdue (see the module's docstring). `today` is the PMO's today."""
    return (
        stakeholders.annotate(
            quadrant=quadrant_expression(),
            current_stage=current_stage_expression(),
            target=target_expression(pmo),
            cadence=cadence_expression(pmo),
        )
        .annotate(
            gap=ExpressionWrapper(F("target") - F("current_stage"), output_field=models.IntegerField()),
            touch_due_on=AddDays(Coalesce(F("last_touched_on"), TruncDate("created_at")), F("cadence")),
        )
        .annotate(
            touch_overdue=ExpressionWrapper(Q(touch_due_on__lt=today), output_field=models.BooleanField()),
        )
    )


@dataclass(frozen=True)
class Engagement:
    """One stakeholder's engagement, read from the annotations of with_engagement."""

    quadrant: Quadrant
    current_stage: MaturityStage | None
    target: MaturityStage
    target_is_default: bool
    gap: int | None
    cadence: int
    cadence_is_default: bool
    last_touched_on: date | None
    touch_due_on: date
    today: date

    @property
    def overdue_days(self) -> int:
        """Days past the due touch: 0 when not overdue."""
        return max(0, (self.today - self.touch_due_on).days)

    @property
    def days_since_touch(self) -> int | None:
        return (self.today - self.last_touched_on).days if self.last_touched_on else None

    def why_overdue(self, *, added_on: str = "") -> str:
        """Why the touch is overdue, in the words of My week, the digest and the at-risk list:
        how long since the last touch, or never touched (since `added_on`, when given)."""
        every = f"(every {self.cadence} day{pluralize(self.cadence)})"
        days = self.days_since_touch
        if days is None:
            return f"Never touched since added on {added_on} {every}" if added_on else f"Never touched {every}"
        return f"No touch for {days} day{pluralize(days)} {every}"

    @property
    def reached(self) -> bool:
        """At or above target: what the engagement index counts."""
        return self.gap is not None and self.gap <= 0


def engagement_of(stakeholder, today: date) -> Engagement:
    """The Engagement of a stakeholder loaded through with_engagement."""
    return Engagement(
        quadrant=Quadrant(stakeholder.quadrant),
        current_stage=MaturityStage(stakeholder.current_stage) if stakeholder.current_stage else None,
        target=MaturityStage(stakeholder.target),
        target_is_default=stakeholder.target_stage is None,
        gap=stakeholder.gap,
        cadence=stakeholder.cadence,
        cadence_is_default=stakeholder.cadence_days is None,
        last_touched_on=stakeholder.last_touched_on,
        touch_due_on=stakeholder.touch_due_on,
        today=today,
    )


__all__ = [
    "AddDays",
    "Engagement",
    "cadence_expression",
    "current_stage_expression",
    "engagement_of",
    "register_current_stage",
    "target_expression",
    "with_engagement",
]
