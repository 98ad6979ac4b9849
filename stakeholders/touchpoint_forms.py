"""The communication plan's forms: a touchpoint, and the interaction that marks a date done.

They only read the input; the rules are stakeholders/touchpoints.py's, which the views call.
"""

from django import forms
from django.db.models import Q

from pmo5p.domain import ELEMENT_AIMS, Element
from pmo5p.rules import error_messages
from pmo5p.widgets import DateInput, TimeInput
from stakeholders import register, touchpoints
from stakeholders.interaction_forms import InteractionForm
from stakeholders.models import InteractionKind, Recurrence, Stakeholder

# A register may hold thousands of stakeholders: the form lists those chosen and the matches
# of a search, never the whole register.
MATCHES_SHOWN = 20


def _words(field: str, **extra) -> dict:
    return error_messages(touchpoints.TOUCHPOINT_WORDS.get(field, {})) | extra


def stakeholder_label(stakeholder) -> str:
    return f"{stakeholder.name} ({stakeholder.segment.name})" if stakeholder.segment_id else stakeholder.name


class StakeholderPicker:
    """A searchable choice of stakeholders: ticked boxes for those chosen, and the matches of
    what was typed in "Find stakeholders" (the "Find" button posts the form back unsaved)."""

    def pick_from(self, queryset, find: str = ""):
        field = self.fields["stakeholders"]
        field.queryset = queryset
        if self.is_bound:
            raw = self.data.getlist(self.add_prefix("stakeholders")) if hasattr(self.data, "getlist") else []
        else:
            raw = self.initial.get("stakeholders") or []
        ids = {int(value) for value in raw if str(value).isdigit()}
        chosen = list(queryset.filter(pk__in=ids).select_related("segment").order_by("name")) if ids else []
        matches = []
        find = (find or "").strip()
        if find:
            matches = list(
                queryset.filter(Q(name__icontains=find) | Q(email__icontains=find))
                .exclude(pk__in=ids)
                .select_related("segment")
                .order_by("name")[:MATCHES_SHOWN]
            )
        self.stakeholder_matches = matches
        self.searched = find
        field.widget.choices = [(s.pk, stakeholder_label(s)) for s in chosen + matches]

    def show_unchecked(self):
        """After "Find": the form as typed, without errors (nothing was submitted yet)."""
        self._errors = forms.utils.ErrorDict()


class ElementChoice(forms.ChoiceField):
    def __init__(self, **kwargs):
        choices = [("", "Choose the P")] + [
            (element.value, f"{element.label} — {ELEMENT_AIMS[element]}") for element in Element
        ]
        super().__init__(choices=choices, **kwargs)


class MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, membership):
        return str(membership.user)


class TouchpointForm(StakeholderPicker, forms.Form):
    starts_on = forms.DateField(
        label="Date",
        widget=DateInput(),
        help_text="The first date, if it repeats.",
        error_messages=_words("starts_on"),
    )
    at_time = forms.TimeField(label="Time", required=False, widget=TimeInput(), error_messages=_words("at_time"))
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        initial=60,
        min_value=5,
        max_value=24 * 60,
        error_messages=_words("duration_minutes"),
    )
    channel = forms.ChoiceField(
        choices=InteractionKind.choices, initial=InteractionKind.MEETING, error_messages=_words("channel")
    )
    element = ElementChoice(label="P it serves", error_messages=_words("element"))
    owner = MemberChoice(
        queryset=None,
        empty_label="Choose a member",
        error_messages=_words("owner", required=touchpoints.NO_OWNER, invalid_choice=touchpoints.NO_OWNER),
    )
    stakeholders = forms.ModelMultipleChoiceField(
        queryset=Stakeholder.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Named stakeholders, or a segment below: not both.",
        error_messages={
            "invalid_choice": touchpoints.OTHER_PMO_STAKEHOLDERS,
            "invalid_pk_value": touchpoints.OTHER_PMO_STAKEHOLDERS,
        },
    )
    find = forms.CharField(
        label="Find stakeholders", required=False, max_length=100, help_text="A name or an e-mail address, then “Find”."
    )
    segment = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="No segment",
        help_text="Everyone active in the segment on each date.",
        error_messages={"invalid_choice": touchpoints.OTHER_PMO_SEGMENT},
    )
    recurrence = forms.ChoiceField(
        label="Repeats", choices=Recurrence.choices, initial=Recurrence.ONCE, error_messages=_words("recurrence")
    )
    until = forms.DateField(
        label="Repeats until",
        required=False,
        widget=DateInput(),
        help_text="The last date it may fall on: at most five years after the first. Leave empty if it happens once.",
        error_messages=_words("until"),
    )
    purpose = forms.CharField(
        max_length=200, help_text="What it is for, e.g. “Show the benefits realised”.", error_messages=_words("purpose")
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), error_messages=_words("notes")
    )

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = pmo.memberships.select_related("user").order_by("user__name", "user__email")
        self.fields["segment"].queryset = pmo.segments.order_by("name")
        self.fields["at_time"].help_text = f"{pmo.time_zone} time. Leave empty for all day."
        self.time_zone = pmo.time_zone
        find = self.data.get(self.add_prefix("find"), "") if self.is_bound else ""
        self.pick_from(pmo.stakeholders.filter(is_active=True), find)

    def values(self) -> dict:
        """The write path's values (touchpoints.TOUCHPOINT_FIELDS)."""
        return {field: self.cleaned_data[field] for field in touchpoints.TOUCHPOINT_FIELDS}

    @staticmethod
    def initial_of(touchpoint) -> dict:
        return {
            **{
                field: getattr(touchpoint, field)
                for field in touchpoints.TOUCHPOINT_FIELDS
                if field not in ("owner", "segment", "stakeholders")
            },
            "owner": touchpoint.owner_id,
            "segment": touchpoint.segment_id,
            "stakeholders": [s.pk for s in touchpoint.stakeholders.all()],
        }


class OccurrenceDoneForm(StakeholderPicker, InteractionForm):
    """The interaction a done date records, prefilled from its touchpoint."""

    stakeholders = forms.ModelMultipleChoiceField(
        queryset=Stakeholder.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick whoever was not there; find others below.",
        error_messages=InteractionForm.base_fields["stakeholders"].error_messages,
    )
    find = forms.CharField(
        label="Find stakeholders", required=False, max_length=100, help_text="A name or an e-mail address, then “Find”."
    )

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, pmo=pmo, **kwargs)
        find = self.data.get(self.add_prefix("find"), "") if self.is_bound else ""
        self.pick_from(pmo.stakeholders.all(), find)

    def values(self) -> dict:
        return {field: self.cleaned_data[field] for field in register.INTERACTION_FIELDS}
