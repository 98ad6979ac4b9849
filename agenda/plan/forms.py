"""The forms of the Relationship Marketing Agenda: actions and incidents."""

from django import forms

from agenda.models import Action, Incident
from agenda.plan import services as plan
from pmo5p.currency import CURRENCIES
from pmo5p.domain import Element
from pmo5p.widgets import DateInput


class MembershipChoice(forms.ModelChoiceField):
    def label_from_instance(self, membership):
        return str(membership.user)


class ActionForm(forms.ModelForm):
    owner = MembershipChoice(queryset=None, required=False, empty_label="Nobody yet")
    # The follow-up case the action answers ("Plan an action" on a case's page): kept as it
    # came, and only a case of this PMO.
    follow_up_case = forms.ModelChoiceField(
        queryset=None,
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "That follow-up case is not this PMO's."},
    )

    class Meta:
        model = Action
        fields = [
            "title",
            "element",
            "problem",
            "service",
            "owner",
            "due_on",
            "status",
            "target_segments",
            "target_stakeholders",
            "expected_effect",
            "notes",
            "follow_up_case",
        ]
        widgets = {
            "due_on": DateInput(),
            "target_segments": forms.CheckboxSelectMultiple,
            "target_stakeholders": forms.SelectMultiple(attrs={"size": 6}),
            "expected_effect": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "problem": "Which of the five problems that poor perception causes it addresses.",
            "service": "The catalogue's service this action develops, if any: it shows on the service's path.",
            "target_stakeholders": "Hold Ctrl (⌘ on a Mac) to pick several.",
        }
        error_messages = {
            "title": {"required": "Give the action a title.", "max_length": "Keep the title to 200 characters."},
            "due_on": {"required": "Give a due date.", "invalid": "Enter a date, e.g. 2026-12-31."},
            "element": {"invalid_choice": "Choose one of the five P elements."},
            "status": {"invalid_choice": "Choose planned, in progress, done or dropped."},
        }

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        self.fields["owner"].queryset = pmo.memberships.select_related("user").order_by("user__name")
        self.fields["owner"].error_messages["invalid_choice"] = "Choose a member of this PMO."
        self.fields["service"].queryset = pmo.services.all()
        self.fields["service"].empty_label = "None"
        self.fields["service"].error_messages["invalid_choice"] = "Choose one of this PMO's services."
        self.fields["target_segments"].queryset = pmo.segments.all()
        self.fields["target_segments"].error_messages["invalid_choice"] = "Choose segments of this PMO."
        self.fields["target_stakeholders"].queryset = pmo.stakeholders.order_by("name")
        self.fields["target_stakeholders"].error_messages["invalid_choice"] = "Choose stakeholders of this PMO."
        self.fields["follow_up_case"].queryset = pmo.follow_up_cases.all()

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the action a title.")
        return title

    def clean_due_on(self):
        return plan.check_due_on(self.instance, self.cleaned_data["due_on"])


class IncidentForm(forms.ModelForm):
    elements = forms.MultipleChoiceField(
        label="P elements involved",
        choices=Element.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose among the five P elements."},
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "problem",
            "occurred_on",
            "stakeholders",
            "elements",
            "estimated_cost",
            "days_lost",
            "description",
        ]
        widgets = {
            "occurred_on": DateInput(),
            "stakeholders": forms.SelectMultiple(attrs={"size": 6}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"estimated_cost": "Estimated cost", "days_lost": "Days lost"}
        help_texts = {
            "title": "For example: a project ignored PMO guidance and reworked its plan.",
            "stakeholders": "Hold Ctrl (⌘ on a Mac) to pick several.",
        }
        error_messages = {
            "title": {"required": "Say what happened, in a few words."},
            "problem": {"required": "Choose which problem it is an instance of."},
            "estimated_cost": {"min_value": "A cost cannot be negative.", "invalid": "Enter an amount, e.g. 12500."},
            "days_lost": {"min_value": "Days lost cannot be negative.", "invalid": "Enter a number of days, e.g. 3.5."},
        }

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        self.fields["stakeholders"].queryset = pmo.stakeholders.order_by("name")
        self.fields["stakeholders"].error_messages["invalid_choice"] = "Choose stakeholders of this PMO."
        self.fields["estimated_cost"].label = f"Estimated cost ({pmo.currency})"
        self.fields[
            "estimated_cost"
        ].help_text = f"In {pmo.currency} ({CURRENCIES[pmo.currency][0]}), the PMO's currency; leave empty if unknown."

    def clean_occurred_on(self):
        return plan.check_occurred_on(self.cleaned_data["occurred_on"])
