from django import forms

from pmo5p.domain import Element
from pmo5p.widgets import DateInput
from stakeholders import register
from stakeholders.models import Interaction, Stakeholder


class StakeholderChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, stakeholder):
        return f"{stakeholder.name} ({stakeholder.segment.name})" if stakeholder.segment_id else stakeholder.name


class InteractionForm(forms.ModelForm):
    stakeholders = StakeholderChoices(
        queryset=Stakeholder.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Hold Ctrl (⌘ on a Mac) to pick several.",
        error_messages={
            "required": "Choose at least one stakeholder.",
            "invalid_choice": "Choose stakeholders of this PMO.",
            "invalid_pk_value": "Choose stakeholders of this PMO.",
        },
    )
    elements = forms.MultipleChoiceField(
        label="P elements it served",
        choices=Element.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose among the five P elements."},
    )

    class Meta:
        model = Interaction
        fields = ["occurred_on", "kind", "stakeholders", "elements", "sentiment", "summary"]
        widgets = {
            "occurred_on": DateInput(),
            "summary": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {
            "summary": {
                "required": "Summarise what happened, in a sentence or two.",
                "max_length": "Keep the summary to 2,000 characters (it has %(show_value)d).",
            },
            "sentiment": {"invalid_choice": "Choose a sentiment from −2 to +2."},
            "occurred_on": {"required": "Give the date it happened.", "invalid": "Enter a date, e.g. 2026-11-25."},
            "kind": {"invalid_choice": "Choose one of the kinds listed."},
        }

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        self.fields["stakeholders"].queryset = pmo.stakeholders.select_related("segment").order_by("name")

    def clean_occurred_on(self):
        return register.check_occurred_on(self.cleaned_data["occurred_on"])

    def clean_elements(self):
        # Each element once, in the model's order, whatever the request repeats.
        chosen = set(self.cleaned_data["elements"])
        return [value for value in Element.values if value in chosen]

    def clean_summary(self):
        summary = self.cleaned_data["summary"].strip()
        if not summary:
            raise forms.ValidationError("Summarise what happened, in a sentence or two.")
        return summary
