"""The register's web forms: they read the page's input; register.py checks and writes it."""

from django import forms

from stakeholders import register
from stakeholders.models import Segment, Stakeholder


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = register.STAKEHOLDER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
        error_messages = {field: register.messages(register.STAKEHOLDER_WORDS, field) for field in fields}

    def __init__(self, *args, pmo, **kwargs):
        self.pmo = pmo
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        self.fields["segment"].queryset = pmo.segments.all()
        self.fields["segment"].empty_label = "No segment"
        self.fields["owner"].queryset = pmo.memberships.select_related("user").order_by("user__name")
        self.fields["owner"].label_from_instance = lambda membership: str(membership.user)
        self.fields["owner"].empty_label = "Nobody yet"
        self.fields["email"].help_text = "Needed to send surveys. Unique within this PMO."

    def clean_email(self):
        return register.check_email_free(self.pmo, self.cleaned_data["email"], self.instance)


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = register.SEGMENT_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {field: register.messages(register.SEGMENT_WORDS, field) for field in fields}
        help_texts = {"name": "For example: Finance, Sponsors, Project managers."}

    def __init__(self, *args, pmo, **kwargs):
        self.pmo = pmo
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo

    def clean_name(self):
        return register.check_segment_name_free(self.pmo, self.cleaned_data["name"], self.instance)
