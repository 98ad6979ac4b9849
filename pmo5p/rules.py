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

# The codes under which Django's form and model fields and DRF's serializer fields report
# the same three failures: nothing given, a value that is not one the field takes, too long.
FAILURE_CODES = {
    "required": ("required", "blank", "null", "empty"),
    "invalid": (
        "invalid",
        "invalid_choice",
        "invalid_list",
        "invalid_pk_value",
        "does_not_exist",
        "incorrect_type",
        "not_a_list",
        "datetime",
        "min_value",
        "max_value",
        "max_string_length",
    ),
    "max_length": ("max_length",),
}


class RuleViolation(ValidationError):
    """A write that breaks a rule: ``field`` is the input it is about (None: the whole write)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field

    def as_fields(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": self.messages}


def error_messages(words: dict[str, str]) -> dict[str, str]:
    """A field's messages, given per failure (required, invalid, max_length), under every code
    a form, model or serializer field uses for it: the page and the API then say the same.

    A message may use the parameters all three pass to a length error, e.g. %(show_value)d.
    """
    return {code: message for failure, message in words.items() for code in FAILURE_CODES[failure]}


def worded(error: ValidationError, words: dict[str, dict[str, str]]) -> ValidationError:
    """A model's validation errors (Model.clean_fields) in the words of `words` {field: failures}."""
    by_code = {field: error_messages(failures) for field, failures in words.items()}
    return ValidationError(
        {
            field: [
                ValidationError(by_code.get(field, {}).get(e.code, e.message), code=e.code, params=e.params)
                for e in errors
            ]
            for field, errors in error.error_dict.items()
        }
    )


def not_in_future(field: str, day: date | None, message: str) -> date | None:
    """Records of what has happened: a date after today (the PMO's day, see pmo_view) is refused."""
    if day and day > timezone.localdate():
        raise RuleViolation(field, message)
    return day
