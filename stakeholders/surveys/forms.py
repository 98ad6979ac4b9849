import re

from django import forms
from django.utils import timezone

from pmo5p.domain import Element, ServiceUsage
from pmo5p.widgets import DateInput
from stakeholders.models import Question, QuestionKind, Service, Stakeholder, Survey, SurveyService
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys.questionnaire import (
    IMPORTANCE_CHOICES,
    LIKERT_CHOICES,
    SATISFACTION_CHOICES,
    SERVICE_IMPORTANCE_QUESTION,
    SERVICE_SATISFACTION_QUESTION,
    SERVICE_USAGE_QUESTION,
)

DONT_KNOW = "dk"
QUESTION_FIELD = re.compile(r"^q_(\d+)$")
SERVICE_FIELD = re.compile(r"^s_(\d+)_(usage|satisfaction|importance)$")
COMMENT_MAX_LENGTH = 2000


class SurveyForm(forms.ModelForm):
    """The survey's settings and, while it is a draft, the catalogue's services it asks about."""

    # One checkbox per catalogue service, all on the form: choosing is a set across the whole
    # catalogue, which pages would split (a choice on another page lost or kept out of sight).
    # The list costs the same few queries whatever its length (the choices, whether there are
    # any, the draft's chosen ids); 1,000 services make a form of about 230 KiB rendered in about 0.3 s
    # (tests/test_service_queries.py), for a member's page opened a few times per survey.
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Services to ask about",
        help_text=(
            "Each respondent is asked about the services that serve their segment: whether they know "
            "and use it, then, if they use it, how satisfied they are and how much it matters."
        ),
        error_messages={"invalid_choice": "Choose services of this PMO's catalogue."},
    )

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.pmo = pmo
        self.fields["services"].queryset = pmo.services.order_by("name", "id")
        if self.instance.pk:
            self.fields["services"].initial = surveys.chosen_service_ids(self.instance)
        if not self.fields["services"].queryset.exists():
            self.fields["services"].help_text = "The PMO's catalogue has no services yet: add them to ask about them."

    def clean_services(self):
        return surveys.check_services(self.pmo.pk, self.cleaned_data["services"])

    def save(self, commit=True):
        survey = super().save(commit=commit)
        if commit:
            surveys.choose_services(survey, self.cleaned_data["services"])
        return survey

    class Meta:
        model = Survey
        fields = ["title", "intro", "closes_on", "reminder_delay_days", "anonymous"]
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 4}),
            "closes_on": DateInput(),
        }
        help_texts = {"intro": "Shown at the top of the survey and in the invitation e-mail."}
        error_messages = {
            "title": {
                "required": "Give the survey a title.",
                "max_length": "Keep the title to 150 characters or fewer.",
            },
            "closes_on": {
                "required": "Choose the last day stakeholders can answer.",
                "invalid": "Enter a date, e.g. 2026-12-31.",
            },
            "reminder_delay_days": {
                "min_value": "Remind after at least 1 day.",
                "max_value": "Remind within 60 days.",
                "invalid": "Enter a whole number of days.",
            },
        }

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the survey a title.")
        return title

    def clean_closes_on(self):
        closes_on = self.cleaned_data["closes_on"]
        if closes_on < timezone.localdate():
            raise forms.ValidationError("The close date is in the past: choose today or a later day.")
        return closes_on


class QuestionsForm(forms.Form):
    """Edits the wording of every question of a draft; adds or removes statements."""

    def __init__(self, *args, survey: Survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.questions = list(survey.questions.all())
        for question in self.questions:
            self.fields[f"text_{question.pk}"] = forms.CharField(
                label=question.get_kind_display(),
                initial=question.text,
                max_length=300,
                error_messages={"required": "A question needs its text.", "max_length": "Keep it to 300 characters."},
            )
            if question.kind == QuestionKind.PERFORMANCE:
                self.fields[f"remove_{question.pk}"] = forms.BooleanField(label="Remove", required=False)
        for element in Element:
            self.fields[f"new_{element.value}"] = forms.CharField(
                label=f"Add a {element.label} statement", required=False, max_length=300
            )

    def sections(self):
        """The bound fields grouped as the survey shows them: one section per element, then the rest."""
        by_element = {element: [] for element in Element}
        others = []
        for question in self.questions:
            row = (
                question,
                self[f"text_{question.pk}"],
                self[f"remove_{question.pk}"] if question.kind == QuestionKind.PERFORMANCE else None,
            )
            (by_element[Element(question.element)] if question.element else others).append(row)
        return [(element, rows, self[f"new_{element.value}"]) for element, rows in by_element.items()], others

    def _changes(self) -> dict:
        cleaned = self.cleaned_data
        return {
            "texts": {q.pk: cleaned[f"text_{q.pk}"] for q in self.questions if f"text_{q.pk}" in cleaned},
            "removed": {q.pk for q in self.questions if cleaned.get(f"remove_{q.pk}")},
            "added": {element: cleaned.get(f"new_{element.value}", "") for element in Element},
        }

    def clean(self):
        cleaned = super().clean()
        changes = self._changes()
        surveys.check_statements(self.questions, removed=changes["removed"], added=changes["added"])
        return cleaned

    def save(self) -> None:
        surveys.edit_questions(self.survey, **self._changes())


class StakeholderChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, stakeholder):
        extra = stakeholder.segment.name if stakeholder.segment_id else "no segment"
        return f"{stakeholder.name} ({extra})"


class AudienceForm(forms.ModelForm):
    target_stakeholders = StakeholderChoiceField(
        queryset=Stakeholder.objects.none(),
        required=False,
        label="Hand-picked stakeholders",
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="Hold Ctrl (⌘ on a Mac) to pick several.",
    )

    class Meta:
        model = Survey
        fields = ["target_segments", "target_stakeholders"]
        widgets = {"target_segments": forms.CheckboxSelectMultiple}
        labels = {"target_segments": "Whole segments"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pmo = self.instance.pmo
        self.fields["target_segments"].queryset = pmo.segments.all()
        self.fields["target_segments"].error_messages["invalid_choice"] = "Choose segments of this PMO."
        self.fields["target_stakeholders"].queryset = pmo.stakeholders.select_related("segment").order_by("name")
        self.fields["target_stakeholders"].error_messages["invalid_choice"] = "Choose stakeholders of this PMO."

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("target_segments") and not cleaned.get("target_stakeholders"):
            raise forms.ValidationError("Choose at least one segment or one stakeholder to ask.")
        return cleaned


# The public form's fields, built once per process for each questionnaire (ids, kinds and
# wording): 17 choice fields with their widgets cost more to build than the rest of an answer.
# They are shared by the forms of that questionnaire, and nothing here changes a field once
# built (errors and values live on the form). Bounded: past CACHED_QUESTIONNAIRES, it starts again.
CACHED_QUESTIONNAIRES = 256
_response_fields: dict[tuple, dict[str, forms.Field]] = {}


def response_fields(questions: list[Question]) -> dict[str, forms.Field]:
    key = tuple((q.pk, q.kind, q.text) for q in questions)
    fields = _response_fields.get(key)
    if fields is None:
        fields = _build_response_fields(questions)
        if len(_response_fields) >= CACHED_QUESTIONNAIRES:
            _response_fields.clear()
        _response_fields[key] = fields
    return fields


def _build_response_fields(questions: list[Question]) -> dict[str, forms.Field]:
    fields = {}
    for question in questions:
        if question.kind == QuestionKind.PERFORMANCE:
            fields[f"q_{question.pk}"] = forms.ChoiceField(
                label=question.text,
                choices=[(str(v), label) for v, label in LIKERT_CHOICES] + [(DONT_KNOW, "Don't know")],
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose an answer, or “Don't know”.",
                    "invalid_choice": "Choose one of the answers shown: 1 to 5, or “Don't know”.",
                },
            )
        elif question.kind == QuestionKind.IMPORTANCE:
            fields[f"q_{question.pk}"] = forms.ChoiceField(
                label=question.text,
                choices=[(str(v), label) for v, label in IMPORTANCE_CHOICES],
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose how important this is to you.",
                    "invalid_choice": "Choose one of the answers shown: 1 (not important) to 5 (essential).",
                },
            )
        elif question.kind == QuestionKind.NPS:
            fields["nps"] = forms.ChoiceField(
                label=question.text,
                choices=[(str(v), str(v)) for v in range(11)],
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose a number from 0 to 10.",
                    "invalid_choice": "Choose a number from 0 to 10.",
                },
            )
        elif question.kind == QuestionKind.COMMENT:
            fields["comment"] = forms.CharField(
                label=question.text,
                required=False,
                max_length=COMMENT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH}),
                error_messages={
                    "max_length": f"Keep your comment to {COMMENT_MAX_LENGTH} characters (it has %(show_value)d)."
                },
            )
    return fields


_service_fields: dict[tuple, dict[str, forms.Field]] = {}


def service_fields(services: list[SurveyService]) -> dict[str, forms.Field]:
    """The fields of the services asked, built once per process for each set, as the questions'."""
    key = tuple((s.pk, s.name) for s in services)
    fields = _service_fields.get(key)
    if fields is None:
        fields = {}
        for service in services:
            fields.update(_build_service_fields(service))
        if len(_service_fields) >= CACHED_QUESTIONNAIRES:
            _service_fields.clear()
        _service_fields[key] = fields
    return fields


def _build_service_fields(service: SurveyService) -> dict[str, forms.Field]:
    rating = "Choose a rating, or “Don't know”."
    return {
        f"s_{service.pk}_usage": forms.ChoiceField(
            label=SERVICE_USAGE_QUESTION,
            choices=ServiceUsage.choices,
            widget=forms.RadioSelect,
            error_messages={
                "required": "Say whether you use this service, know it, or didn't know it.",
                "invalid_choice": "Choose one of the answers shown.",
            },
        ),
        # Required of a user only (ResponseForm.clean); a non-user's are dropped.
        f"s_{service.pk}_satisfaction": forms.ChoiceField(
            label=SERVICE_SATISFACTION_QUESTION,
            required=False,
            choices=[(str(v), label) for v, label in SATISFACTION_CHOICES] + [(DONT_KNOW, "Don't know")],
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": rating},
        ),
        f"s_{service.pk}_importance": forms.ChoiceField(
            label=SERVICE_IMPORTANCE_QUESTION,
            required=False,
            choices=[(str(v), label) for v, label in IMPORTANCE_CHOICES] + [(DONT_KNOW, "Don't know")],
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": rating},
        ),
    }


class ResponseForm(forms.Form):
    """What a stakeholder answers: one field per statement, the services asked of them (whether
    they use each, and a user's ratings), the NPS and a comment."""

    def __init__(self, *args, survey: Survey, questions: list[Question], services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.questions = questions
        self.services = list(services)
        self.fields = dict(response_fields(questions))
        if self.services:
            self.fields.update(service_fields(self.services))

    def clean(self):
        cleaned = super().clean()
        own = {str(q.pk) for q in self.questions}
        foreign = sorted(
            m.group(1) for key in self.data for m in [QUESTION_FIELD.match(key)] if m and m.group(1) not in own
        )
        asked = {str(s.pk) for s in self.services}
        foreign += [
            m.group(1) for key in self.data for m in [SERVICE_FIELD.match(key)] if m and m.group(1) not in asked
        ]
        if foreign:
            raise forms.ValidationError(
                "The form held answers to questions that are not part of this survey. Nothing was saved: "
                "please check your answers and send them again."
            )
        for service in self.services:
            if cleaned.get(f"s_{service.pk}_usage") != ServiceUsage.USES:
                continue
            for name in ("satisfaction", "importance"):
                if not cleaned.get(f"s_{service.pk}_{name}") and f"s_{service.pk}_{name}" not in self.errors:
                    self.add_error(f"s_{service.pk}_{name}", "You use this service: choose a rating, or “Don't know”.")
        return cleaned

    def service_replies(self) -> dict[int, surveys.ServiceReply]:
        """The answers about the services asked, by SurveyService id; a non-user's ratings dropped."""
        replies = {}
        for service in self.services:
            usage = self.cleaned_data[f"s_{service.pk}_usage"]
            if usage != ServiceUsage.USES:
                replies[service.pk] = surveys.ServiceReply(usage)
                continue
            ratings = [self.cleaned_data[f"s_{service.pk}_{name}"] for name in ("satisfaction", "importance")]
            replies[service.pk] = surveys.ServiceReply(
                usage, *(None if value == DONT_KNOW else int(value) for value in ratings)
            )
        return replies

    def service_rows(self) -> list[dict]:
        """Each service asked, with its fields and whether it is answered (for the count of those left)."""
        if getattr(self, "_service_rows", None) is None:
            self._service_rows = self._build_service_rows()
        return self._service_rows

    def _build_service_rows(self) -> list[dict]:
        rows = []
        for service in self.services:
            usage, satisfaction, importance = (
                self[f"s_{service.pk}_{name}"] for name in ("usage", "satisfaction", "importance")
            )
            chosen = usage.value()
            errors = bool(usage.errors or satisfaction.errors or importance.errors)
            answered = (
                not errors
                and chosen in ServiceUsage.values
                and (chosen != ServiceUsage.USES or bool(satisfaction.value() and importance.value()))
            )
            rows.append(
                {
                    "service": service,
                    "usage": usage,
                    "satisfaction": satisfaction,
                    "importance": importance,
                    "answered": answered,
                    "errors": errors,
                }
            )
        return rows

    def services_left(self) -> int:
        return sum(not row["answered"] for row in self.service_rows())

    def values(self) -> dict[int, int | None]:
        return {
            q.pk: (None if self.cleaned_data[f"q_{q.pk}"] == DONT_KNOW else int(self.cleaned_data[f"q_{q.pk}"]))
            for q in self.questions
            if q.kind in (QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE)
        }

    def nps_value(self) -> int | None:
        value = self.cleaned_data.get("nps")
        return int(value) if value not in (None, "") else None

    def draft(self) -> dict[str, str]:
        """The valid answers given so far, kept for save and resume."""
        kept = {}
        for name, field in self.fields.items():
            value = self.data.get(name, "")
            if not value:
                continue
            try:
                field.clean(value)
            except forms.ValidationError:
                continue
            kept[name] = value
        return kept

    def sections(self):
        by_element = {element: [] for element in Element}
        for question in self.questions:
            if question.element:
                by_element[Element(question.element)].append((question, self[f"q_{question.pk}"]))
        return [(element, rows) for element, rows in by_element.items() if rows]
