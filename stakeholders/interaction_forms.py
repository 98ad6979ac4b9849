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
        error_messages=register.messages(register.INTERACTION_WORDS, "stakeholders"),
    )
    elements = forms.MultipleChoiceField(
        label="P elements it served",
        choices=Element.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=register.messages(register.INTERACTION_WORDS, "elements"),
    )

    class Meta:
        model = Interaction
        fields = register.INTERACTION_FIELDS
        widgets = {
            "occurred_on": DateInput(),
            "summary": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {field: register.messages(register.INTERACTION_WORDS, field) for field in fields}

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        self.fields["stakeholders"].queryset = pmo.stakeholders.select_related("segment").order_by("name")

    def clean_occurred_on(self):
        return register.check_occurred_on(self.cleaned_data["occurred_on"])
