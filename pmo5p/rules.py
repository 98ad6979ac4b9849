"""The one error type of a business rule, and the rules every app shares.

A rule lives once, in its app's service module (docs/architecture.md, "Where does X go"),
and raises RuleViolation. It is a Django ValidationError, so a form's clean_<field> and a
serializer's validate_<field> both turn it into that field's error with no adapter; raised
by a service function after validation, a view adds it to its form (``form.add_error``) and
the API's error handler gives it the API's error body.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone


class RuleViolation(ValidationError):
    """A write that breaks a rule: ``field`` is the input it is about (None: the whole write)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field

    def as_fields(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": self.messages}


def not_in_future(field: str, day: date | None, message: str) -> date | None:
    """Records of what has happened: a date after today (the PMO's day, see pmo_view) is refused."""
    if day and day > timezone.localdate():
        raise RuleViolation(field, message)
    return day
