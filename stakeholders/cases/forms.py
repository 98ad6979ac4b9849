"""The case pages' forms. They read the input only: the rules, and the words of their
refusals, are stakeholders/cases/services.py's (and the register's, for a contact)."""

from django import forms

from pmo5p.domain import ELEMENT_AIMS, Element
from pmo5p.models import Role
from pmo5p.widgets import DateInput
from stakeholders import register
from stakeholders.models import FollowUpCase, InteractionKind
from stakeholders.models.interactions import SENTIMENT_CHOICES


class OwnerChoice(forms.ModelChoiceField):
    def label_from_instance(self, membership):
        return f"{membership.user} ({membership.get_role_display().lower()})"


class AssignForm(forms.Form):
    owner = OwnerChoice(
        queryset=None,
        required=False,
        empty_label="The leads (no owner)",
        label="Owner",
        error_messages={"invalid_choice": "Choose a member of this PMO who may edit."},
    )

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        # Those who may edit: a viewer could not record the contact.
        self.fields["owner"].queryset = (
            pmo.memberships.filter(role__in=[Role.LEAD, Role.MEMBER]).select_related("user").order_by("user__name")
        )


class RootForm(forms.Form):
    root_element = forms.ChoiceField(
        label="P at the root",
        required=False,
        error_messages={"invalid_choice": "Choose one of the five P elements."},
    )

    def __init__(self, *args, case: FollowUpCase, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "Not known yet")]
        for element in Element:
            label = f"{element.label} — {ELEMENT_AIMS[element]}"
            if element == case.suggested_element:
                label += " (suggested)"
            choices.append((element.value, label))
        self.fields["root_element"].choices = choices


class NoteForm(forms.Form):
    # Its rules (not empty, at most 4,000 characters) are services.add_note's.
    text = forms.CharField(label="Note", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))


class ContactForm(forms.Form):
    occurred_on = forms.DateField(
        label="Date", widget=DateInput(), error_messages=register.messages(register.INTERACTION_WORDS, "occurred_on")
    )
    kind = forms.ChoiceField(
        choices=InteractionKind.choices,
        initial=InteractionKind.MEETING,
        error_messages=register.messages(register.INTERACTION_WORDS, "kind"),
    )
    elements = forms.MultipleChoiceField(
        label="P elements it served",
        choices=Element.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=register.messages(register.INTERACTION_WORDS, "elements"),
    )
    sentiment = forms.TypedChoiceField(
        choices=SENTIMENT_CHOICES,
        coerce=int,
        initial=0,
        help_text="How it went for the relationship, from −2 to +2.",
        error_messages=register.messages(register.INTERACTION_WORDS, "sentiment"),
    )
    # Its rules (not empty, at most 2,000 characters) are the register's.
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, anonymous: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if anonymous:
            # A group's contact is a note on the case: no interaction, so no sentiment or P's.
            del self.fields["elements"]
            del self.fields["sentiment"]


class CloseForm(forms.Form):
    reason = forms.CharField(
        label="Why close it with no action?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: the stakeholder left the organisation, or the concern was someone else's.",
    )
