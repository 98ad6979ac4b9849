"""The forms of the PMO's self-assessment and of a stakeholder's maturity stage."""

from django import forms
from django.utils import timezone

from agenda.assessments import services as assessments
from agenda.models import SELF_RATING_CHOICES, MaturityRecord
from pmo5p.domain import Element
from pmo5p.widgets import DateInput


class SelfAssessmentForm(forms.Form):
    """One round of self-assessment: all five P's rated at once."""

    assessed_on = forms.DateField(
        label="Date of the assessment",
        initial=timezone.localdate,
        widget=DateInput(),
        error_messages={"required": "Give the date of the assessment.", "invalid": "Enter a date, e.g. 2026-11-25."},
    )

    def __init__(self, *args, previous=None, **kwargs):
        super().__init__(*args, **kwargs)
        previous = previous or {}
        for element in Element:
            before = previous.get(element)
            self.fields[f"rating_{element.value}"] = forms.TypedChoiceField(
                label=f"{element.label}: {element.aim}",
                choices=SELF_RATING_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                initial=before.rating if before else None,
                error_messages={
                    "required": f"Rate {element.label} from 1 (poor) to 5 (excellent).",
                    "invalid_choice": f"Rate {element.label} from 1 (poor) to 5 (excellent).",
                },
            )
            self.fields[f"evidence_{element.value}"] = forms.CharField(
                label=f"Evidence for {element.label}",
                required=False,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What shows it: feedback, outcomes, reports…"}),
                error_messages={"max_length": "Keep the evidence to 1,000 characters (it has %(show_value)d)."},
            )

    def clean_assessed_on(self):
        return assessments.check_assessed_on(self.cleaned_data["assessed_on"])

    def ratings(self) -> dict[Element, tuple[int, str]]:
        return {
            element: (
                self.cleaned_data[f"rating_{element.value}"],
                self.cleaned_data[f"evidence_{element.value}"].strip(),
            )
            for element in Element
        }

    def rows(self):
        return [(element, self[f"rating_{element.value}"], self[f"evidence_{element.value}"]) for element in Element]


class MaturityForm(forms.ModelForm):
    class Meta:
        model = MaturityRecord
        fields = ["stage", "rationale", "recorded_on"]
        widgets = {
            "stage": forms.RadioSelect,
            "rationale": forms.Textarea(attrs={"rows": 3}),
            "recorded_on": DateInput(),
        }
        labels = {"recorded_on": "Date"}
        error_messages = {
            "stage": {
                "required": "Choose a stage, from Unaware to Trust.",
                "invalid_choice": "Choose one of the five stages, from Unaware to Trust.",
            },
            "rationale": {
                "required": "Say why: what you have seen or heard that places them at this stage.",
                "max_length": "Keep the rationale to 2,000 characters (it has %(show_value)d).",
            },
            "recorded_on": {
                "required": "Give the date of this judgement.",
                "invalid": "Enter a date, e.g. 2026-11-25.",
            },
        }

    def clean_rationale(self):
        text = self.cleaned_data["rationale"].strip()
        if not text:
            raise forms.ValidationError("Say why: what you have seen or heard that places them at this stage.")
        return text

    def clean_recorded_on(self):
        return assessments.check_recorded_on(self.cleaned_data["recorded_on"])
