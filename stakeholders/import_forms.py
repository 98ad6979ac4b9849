"""The form that checks one row of an imported file, with the rules of StakeholderForm."""

import re

from django import forms
from django.core.validators import validate_email

from stakeholders import register
from stakeholders.forms import StakeholderForm
from stakeholders.models import Segment, Stakeholder

LEVEL_WORDS = {"very low": 1, "low": 2, "medium": 3, "high": 4, "very high": 5}
YES = {"yes", "y", "true", "1", "active", "x", "oui", "ja"}
NO = {"no", "n", "false", "0", "inactive", "non", "nein"}


def _messages(name):
    return StakeholderForm.Meta.error_messages.get(name, {})


def _max_length(name):
    return Stakeholder._meta.get_field(name).max_length


class LevelField(forms.Field):
    """A level from 1 to 5, as a number ("4", "4.0") or a word ("High", "4 · High")."""

    def __init__(self, *, what, **kwargs):
        self.what = what
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return None
        # "4", "4.0" (a number cell), "4 · High" (the form's label), or "High".
        number = re.fullmatch(r"(\d+)(?:[.,]0+)?(?:\s*·.*)?", text)
        level = int(number.group(1)) if number else LEVEL_WORDS.get(" ".join(text.casefold().split()))
        if level is None or not 1 <= level <= 5:
            raise forms.ValidationError(
                f"“{text}” is not an {self.what} level: give a number from 1 (very low) to 5 (very high)."
            )
        return level


class StakeholderRowForm(forms.Form):
    """One row of the file: the rules of StakeholderForm, with the e-mail required (rows match on it)."""

    name = forms.CharField(max_length=_max_length("name"), error_messages=_messages("name"))
    email = forms.CharField(
        max_length=_max_length("email"),
        error_messages={
            "required": "Give an e-mail address: rows are matched to the register on it.",
            "max_length": "Keep the e-mail address to %(limit_value)d characters or fewer.",
        },
    )
    job_title = forms.CharField(
        max_length=_max_length("job_title"),
        required=False,
        error_messages={"max_length": "Keep the job title to %(limit_value)d characters or fewer."},
    )
    business_unit = forms.CharField(
        max_length=_max_length("business_unit"),
        required=False,
        error_messages={"max_length": "Keep the business unit to %(limit_value)d characters or fewer."},
    )
    segment = forms.CharField(
        max_length=Segment._meta.get_field("name").max_length,
        required=False,
        error_messages={"max_length": "A segment name has %(limit_value)d characters at most."},
    )
    influence = LevelField(what="influence")
    interest = LevelField(what="interest")
    owner = forms.CharField(required=False)
    notes = forms.CharField(
        max_length=Stakeholder._meta.get_field("notes").max_length,
        required=False,
        error_messages={"max_length": "Keep the notes to %(limit_value)d characters or fewer."},
    )
    is_active = forms.CharField(required=False)

    def check(self, values) -> bool:
        """Bind the form to another row and check it.

        One form serves every row: building a form deep-copies its fields, which costs
        more than the checks themselves over thousands of rows. Nothing else of a bound
        form depends on its data (BoundField.data reads form.data each time).
        """
        self.data, self._errors = values, None
        return self.is_valid()

    def clean_email(self):
        email = register.email_key(self.cleaned_data["email"])
        try:
            validate_email(email)
        except forms.ValidationError:
            raise forms.ValidationError(f"“{email}” is not a valid e-mail address.") from None
        return email

    def clean_owner(self):
        return self.cleaned_data["owner"].strip().lower()

    def clean_is_active(self):
        text = self.cleaned_data["is_active"].strip().casefold()
        if not text:
            return None
        if text in YES:
            return True
        if text in NO:
            return False
        raise forms.ValidationError(f"“{self.cleaned_data['is_active']}” is not yes or no.")
