"""The catalogue's forms: a service, and the PMO's words for the offering levels. Both check
their input by the rules of stakeholders/catalogue.py, which the views then write through."""

from django import forms

from pmo5p.domain import DEFAULT_OFFERING_LEVEL_DESCRIPTIONS, Element, OfferingLevel
from pmo5p.widgets import DateInput
from stakeholders import catalogue, register
from stakeholders.models import Service

CONFIRMS = {"level_target": "confirm_lower_target", "status": "confirm_retire"}


class ServiceForm(forms.ModelForm):
    elements = forms.MultipleChoiceField(
        label="The P's it mainly serves",
        choices=[(element.value, f"{element.label}: {element.aim}") for element in Element],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=register.messages(catalogue.SERVICE_WORDS, "elements"),
    )
    # Offered next to the field once the write path refused without it (catalogue.refusals).
    confirm_lower_target = forms.BooleanField(
        label="Yes, scale the service down to this target", required=False, widget=forms.HiddenInput
    )
    confirm_retire = forms.BooleanField(
        label="Yes, retire it while these actions are open", required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = Service
        fields = catalogue.SERVICE_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "segments": forms.CheckboxSelectMultiple,
            "launched_on": DateInput(),
        }
        labels = {"segments": "Whom it serves", "owner": "Owner"}
        help_texts = {
            "name": "For example: portfolio reporting, project assurance, a help desk. Unique within this PMO.",
            "segments": "The segments it is offered to; none ticked: every stakeholder. Surveys ask only them.",
            "launched_on": "When it started, or is to start.",
        }
        error_messages = {field: register.messages(catalogue.SERVICE_WORDS, field) for field in fields}

    def __init__(self, *args, pmo, **kwargs):
        self.pmo = pmo
        super().__init__(*args, **kwargs)
        self.instance.pmo = pmo
        owner = self.fields["owner"]
        owner.queryset = pmo.memberships.select_related("user").order_by("user__name")
        owner.label_from_instance = lambda membership: str(membership.user)
        owner.empty_label = "Nobody yet"
        self.fields["segments"].queryset = pmo.segments.all()
        words = pmo.offering_level_descriptions()
        for name in ("level_now", "level_target"):
            self.fields[name].choices = [(level.value, f"{level.label}: {words[level]}") for level in OfferingLevel]
        self.fields["level_now"].label = "Offering level now"
        self.fields["level_target"].label = "Target level"
        # A confirmation once ticked stays offered (and ticked) if the form comes back.
        for name in CONFIRMS.values():
            if self.data.get(name) in ("on", "true", "True", "1"):
                self.offer(name)

    def offer(self, name: str) -> None:
        self.fields[name].widget = forms.CheckboxInput()

    def offer_confirmations(self, refusal) -> None:
        """After the write path refused what a confirmation overrides, show its box."""
        for field in catalogue.refusals(refusal):
            self.offer(CONFIRMS[field])

    @property
    def confirmations(self) -> dict:
        return {name: self.cleaned_data.get(name, False) for name in CONFIRMS.values()}

    @property
    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in catalogue.SERVICE_FIELDS}

    def clean_name(self):
        return catalogue.check_service_name_free(self.pmo, self.cleaned_data["name"], self.instance)


class OfferingLevelsForm(forms.Form):
    """The PMO's own words for each offering level; an empty field reads the default words."""

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        own = pmo.offering_levels if isinstance(pmo.offering_levels, dict) else {}
        for level in OfferingLevel:
            default = DEFAULT_OFFERING_LEVEL_DESCRIPTIONS[level]
            self.fields[catalogue.level_field(level)] = forms.CharField(
                label=level.label,
                required=False,
                strip=False,  # the write path strips, and counts what is kept
                initial=own.get(str(level.value), ""),
                widget=forms.Textarea(attrs={"rows": 2, "placeholder": default}),
                help_text=f"Left empty: “{default}”",
            )

    @property
    def words(self) -> dict:
        return {level: self.cleaned_data[catalogue.level_field(level)] for level in OfferingLevel}
