"""The form of the report's schedule."""

from django import forms

from agenda.models import Frequency, ReportSchedule
from pmo5p.widgets import TimeInput


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
