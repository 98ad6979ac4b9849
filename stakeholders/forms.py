from django import forms

from stakeholders import register
from stakeholders.models import Segment, Stakeholder


def _required_text(value: str, message: str) -> str:
    value = value.strip()
    if not value:
        raise forms.ValidationError(message)
    return value


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = register.STAKEHOLDER_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
        error_messages = {
            "name": {
                "required": "Give the stakeholder's name.",
                "max_length": "Keep the name to 150 characters or fewer (it has %(show_value)d).",
            },
            **register.LEVEL_ERRORS,
            "owner": {"invalid_choice": "Choose a member of this PMO as the relationship owner."},
            "segment": {"invalid_choice": "Choose one of this PMO's segments."},
        }

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

    def clean_name(self):
        return _required_text(self.cleaned_data["name"], "Give the stakeholder's name.")

    def clean_email(self):
        return register.check_email_free(self.pmo, self.cleaned_data["email"], self.instance)


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "name": {
                "required": "Give the segment a name.",
                "max_length": "Keep the name to 80 characters or fewer (it has %(show_value)d).",
            }
        }
        help_texts = {"name": "For example: Finance, Sponsors, Project managers."}

    def __init__(self, *args, pmo, **kwargs):
        self.pmo = pmo
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo

    def clean_name(self):
        name = _required_text(self.cleaned_data["name"], "Give the segment a name.")
        return register.check_segment_name_free(self.pmo, name, self.instance)
