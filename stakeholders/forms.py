"""The register's web forms: they read the page's input; register.py checks and writes it."""

from django import forms

from pmo5p.domain import MaturityStage
from stakeholders import register
from stakeholders.models import HIGH_LEVEL, Segment, Stakeholder
from stakeholders.selectors import Quadrant


def quadrant_of(influence: int, interest: int) -> Quadrant:
    """The quadrant of these levels, by the grid's rule (selectors.quadrant_cases is its SQL)."""
    high_influence, high_interest = influence >= HIGH_LEVEL, interest >= HIGH_LEVEL
    if high_influence and high_interest:
        return Quadrant.MANAGE_CLOSELY
    if high_influence:
        return Quadrant.KEEP_SATISFIED
    return Quadrant.KEEP_INFORMED if high_interest else Quadrant.MONITOR


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = register.STAKEHOLDER_FIELDS
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "target_reason": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {field: register.messages(register.STAKEHOLDER_WORDS, field) for field in fields}

    def __init__(self, *args, pmo, **kwargs):
        self.pmo = pmo
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        self._engagement_defaults()
        self.fields["segment"].queryset = pmo.segments.all()
        self.fields["segment"].empty_label = "No segment"
        self.fields["owner"].queryset = pmo.memberships.select_related("user").order_by("user__name")
        self.fields["owner"].label_from_instance = lambda membership: str(membership.user)
        self.fields["owner"].empty_label = "Nobody yet"
        self.fields["email"].help_text = "Needed to send surveys. Unique within this PMO."

    def _engagement_defaults(self):
        """Show what an empty target or cadence means for this stakeholder: their quadrant's
        default (as saved; a change of influence or interest moves it when saved)."""
        quadrant = quadrant_of(self.instance.influence, self.instance.interest)
        stage = MaturityStage(self.pmo.default_target_stage(quadrant.value))
        days = self.pmo.default_cadence_days(quadrant.value)
        target = self.fields["target_stage"]
        target.choices = [("", f"Default for {quadrant.label}: {stage.label}"), *MaturityStage.choices]
        target.help_text = (
            "Where this relationship should be. The defaults: "
            + "; ".join(f"{q.label}: {MaturityStage(self.pmo.default_target_stage(q.value)).label}" for q in Quadrant)
            + "."
        )
        self.fields["target_reason"].help_text = "Needed with a target of their own; cleared with the default."
        cadence = self.fields["cadence_days"]
        cadence.widget.attrs["placeholder"] = f"Default for {quadrant.label}: {days} days"
        cadence.help_text = f"Days between touches, 1 to 730. Empty: {days} days, the default for {quadrant.label}."

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
