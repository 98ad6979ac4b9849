"""Reading values from query strings and form posts that are not part of a form."""


def whole_number(value: str | None) -> int | None:
    """The value as a non-negative whole number, or None.

    isascii: str.isdigit() is also true of "²", which int() refuses.
    """
    return int(value) if value and value.isascii() and value.isdigit() else None
