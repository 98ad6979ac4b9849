"""The date and time inputs of every form of the project.

A browser's `<input type="date">` takes its value only as yyyy-mm-dd and `type="time"` only
as hh:mm, whatever the page's language; anything else shows an empty field, which then
posts nothing. Django's own DateInput renders the value in the active locale's format
(26/11/2026 under LANGUAGE_CODE en-gb), so each form would have to remember the format.
These widgets fix both the input type and the format; tests/test_date_inputs.py checks that
every form uses them and that every rendered date or time input holds a value a browser takes.
"""

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")
