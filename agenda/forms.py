from django import forms
from django.utils import timezone

from agenda import assessments, plan
from agenda.models import SELF_RATING_CHOICES, Action, Frequency, Incident, MaturityRecord, ReportSchedule
from pmo5p.currency import CURRENCIES
from pmo5p.domain import Element
from pmo5p.widgets import DateInput, TimeInput


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


class MembershipChoice(forms.ModelChoiceField):
    def label_from_instance(self, membership):
        return str(membership.user)


class ActionForm(forms.ModelForm):
    owner = MembershipChoice(queryset=None, required=False, empty_label="Nobody yet")

    class Meta:
        model = Action
        fields = [
            "title",
            "element",
            "problem",
            "owner",
            "due_on",
            "status",
            "target_segments",
            "target_stakeholders",
            "expected_effect",
            "notes",
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
        self.fields["target_segments"].queryset = pmo.segments.all()
        self.fields["target_segments"].error_messages["invalid_choice"] = "Choose segments of this PMO."
        self.fields["target_stakeholders"].queryset = pmo.stakeholders.order_by("name")
        self.fields["target_stakeholders"].error_messages["invalid_choice"] = "Choose stakeholders of this PMO."

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


class ScheduleForm(forms.ModelForm):
    recipients = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one recipient: a report nobody receives is never read."},
    )

    class Meta:
        model = ReportSchedule
        fields = ["frequency", "weekday", "day_of_month", "send_at", "is_active"]
        widgets = {"send_at": TimeInput()}
        error_messages = {
            "day_of_month": {"min_value": "Choose a day from 1 to 31.", "max_value": "Choose a day from 1 to 31."},
            "send_at": {"invalid": "Enter a time, e.g. 08:00."},
        }

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        members = pmo.memberships.select_related("user").order_by("user__name")
        self.fields["recipients"].queryset = members
        self.fields["recipients"].label_from_instance = lambda m: f"{m.user} ({m.user.email})"
        self.fields["recipients"].initial = [m.pk for m in members if m.receives_reports]
        self.fields["send_at"].help_text = f"In the PMO's time zone, {pmo.time_zone}."

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("day_of_month")
        if cleaned.get("frequency") in (Frequency.MONTHLY, Frequency.QUARTERLY) and day and day > 28:
            self.day_note = f"Months shorter than {day} days get their report on their last day."
        return cleaned
