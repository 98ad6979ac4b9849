from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import transaction
from django.db.models import F, OrderBy
from django.db.models.constants import LOOKUP_SEP

from stakeholders import register
from stakeholders.cases import services as cases
from stakeholders.models import (
    Answer,
    CaseNote,
    FollowUpCase,
    ImportJob,
    Interaction,
    Question,
    RecoveryPulse,
    Response,
    Segment,
    Service,
    ServiceAnswer,
    ServiceEvent,
    Stakeholder,
    Survey,
    SurveyInvitation,
    SurveyService,
    SurveyUpdate,
    Touchpoint,
    TouchpointOccurrence,
)
from stakeholders.surveys import figure_source
from stakeholders.surveys.anonymity import ANSWER_STATE_FIELDS


class KeepsFigures:
    """An admin whose edits may change a closed survey's answers, or whether it is closed:
    the surveys touched have their kept figures written again (figure_source.keep_figures)
    in the admin's own transaction, from the answers as the edit leaves them."""

    # The paths from this admin's model to its surveys' id and to their PMO's.
    survey_path = "survey_id"
    pmo_path = "survey__pmo_id"
    # The path to the responses whose answers an edit changes (None: it changes none that
    # stays): their kept perception (Response.perception_rating) is written again first.
    response_path = None

    def _touched(self, objects) -> tuple[set[int], set[int]]:
        """The surveys of these objects, and their PMOs: a survey deleted with them leaves its
        PMO's stakeholders' kept perceptions to write again."""
        pks = objects.values("pk") if hasattr(objects, "values") else [obj.pk for obj in objects]
        rows = self.model.objects.filter(pk__in=pks).values_list(self.survey_path, self.pmo_path)
        return {survey for survey, _ in rows if survey}, {pmo for survey, pmo in rows if survey}

    def _keep(self, touched: tuple[set[int], set[int]]) -> None:
        figure_source.source().keep_figures(*touched)

    # False where an edit changes no answer, only a deletion does (a stakeholder's name).
    keeps_on_save = True

    def save_model(self, request, obj, form, change):
        # The surveys before the edit too: an answer moved to another response leaves one.
        request.surveys_before_edit = self._touched([obj]) if change else (set(), set())
        request.responses_before_edit = self._responses([obj]) if change else set()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not self.keeps_on_save:
            return
        before = getattr(request, "surveys_before_edit", (set(), set()))
        after = self._touched([form.instance])
        self._store_perceptions(self._responses([form.instance]) | getattr(request, "responses_before_edit", set()))
        self._keep((before[0] | after[0], before[1] | after[1]))

    def delete_model(self, request, obj):
        touched, responses = self._touched([obj]), self._responses([obj])
        super().delete_model(request, obj)
        self._store_perceptions(responses)
        self._keep(touched)

    def delete_queryset(self, request, queryset):
        touched, responses = self._touched(queryset), self._responses(queryset)
        super().delete_queryset(request, queryset)
        self._store_perceptions(responses)
        self._keep(touched)

    def _responses(self, objects) -> set[int]:
        if self.response_path is None:
            return set()
        pks = objects.values("pk") if hasattr(objects, "values") else [obj.pk for obj in objects]
        return set(self.model.objects.filter(pk__in=pks).values_list(self.response_path, flat=True)) - {None}

    @staticmethod
    def _store_perceptions(response_ids: set[int]) -> None:
        """Each response's perception from its performance answers as they now are."""
        if response_ids:
            figure_source.source().store_perceptions(Response.objects.filter(pk__in=response_ids))


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "pmo", "created_at"]
    list_filter = ["pmo"]
    search_fields = ["name"]
    list_select_related = ["pmo"]


@admin.register(Stakeholder)
class StakeholderAdmin(KeepsFigures, admin.ModelAdmin):
    survey_path = "invitations__response__survey_id"
    pmo_path = "pmo_id"
    keeps_on_save = False

    list_display = ["name", "email", "pmo", "segment", "influence", "interest", "is_active"]
    list_filter = ["pmo", "is_active", "influence", "interest"]
    search_fields = ["name", "email", "job_title", "business_unit"]
    list_select_related = ["pmo", "segment"]
    raw_id_fields = ["segment", "owner"]


# A launched survey's questions are read-only here as in the app (lifecycle.require_draft):
# its answers refer to them, and each web process keeps them once read
# (lifecycle.survey_questions). Its status changes through launch and close only, so that it
# cannot be set back to draft to edit them.


def _launched(survey: Survey | None) -> bool:
    return survey is not None and not survey.is_draft


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0

    def has_add_permission(self, request, obj=None):
        return not _launched(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _launched(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _launched(obj) and super().has_delete_permission(request, obj)


@admin.register(Survey)
class SurveyAdmin(KeepsFigures, admin.ModelAdmin):
    survey_path = "pk"
    pmo_path = "pmo_id"

    list_display = ["title", "pmo", "status", "anonymous", "closes_on", "launched_at"]
    list_filter = ["status", "anonymous", "pmo"]
    search_fields = ["title"]
    list_select_related = ["pmo"]
    filter_horizontal = ["target_segments", "target_stakeholders"]
    inlines = [QuestionInline]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "status"] if _launched(obj) else readonly


class QuestionAdminForm(forms.ModelForm):
    def clean_survey(self):
        survey = self.cleaned_data["survey"]
        if _launched(survey):
            raise forms.ValidationError("This survey is launched: its questions can no longer change.")
        return survey


@admin.register(Question)
class QuestionAdmin(KeepsFigures, admin.ModelAdmin):
    form = QuestionAdminForm
    list_display = ["text", "survey", "kind", "element", "position"]
    list_filter = ["kind", "element"]
    list_select_related = ["survey"]

    def has_change_permission(self, request, obj=None):
        return not (obj is not None and _launched(obj.survey)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and _launched(obj.survey)) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Deleting many at once would not ask each question's survey.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


# Staff who are not superusers may be given these pages. For an anonymous survey they
# show them, as the PMO's own pages do, nothing that says who answered: invitations
# without their answer state (stakeholders.surveys.anonymity), and no response or answer at all,
# whose ids, in every admin link, follow the order answers came in. Superusers run the
# site and can read the database anyway.
HIDDEN = "hidden (anonymous)"
# What a non-superuser may neither filter nor order invitations by. Refused for every
# survey, not only anonymous ones: one filter can span many surveys, and
# ?survey__id__exact=…&responded_at__isnull=False would list who answered.
ANSWER_REVEALING = (*ANSWER_STATE_FIELDS, "response")


def _reveals_answer(path: str) -> bool:
    return path.lstrip("-").split(LOOKUP_SEP)[0] in ANSWER_REVEALING


class InvitationChangeList(ChangeList):
    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if request.user.is_superuser:
            return ordering
        # Today no column a non-superuser sees sorts by answer state; this holds if one does.
        return [term for term in ordering if not _reveals_answer(_ordering_path(term))]


def _ordering_path(term) -> str:
    if isinstance(term, OrderBy):
        term = term.expression
    if isinstance(term, F):
        return term.name
    return term if isinstance(term, str) else ""


@admin.register(SurveyInvitation)
class InvitationAdmin(KeepsFigures, admin.ModelAdmin):
    list_display = ["stakeholder", "survey", "send_status", "sent_at", "reminded_at", "responded_at", "send_attempts"]
    list_filter = ["send_status"]
    search_fields = ["stakeholder__name", "email"]
    list_select_related = ["stakeholder", "survey"]
    readonly_fields = ["token_seed", "token_hash", "draft_answers"]
    raw_id_fields = ["survey", "stakeholder", "segment"]

    def lookup_allowed(self, lookup, value, request=None):
        # Refused, the changelist answers 400 (DisallowedModelAdminLookup).
        if _reveals_answer(lookup) and not (request is not None and request.user.is_superuser):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_changelist(self, request, **kwargs):
        return InvitationChangeList

    def get_list_display(self, request):
        if request.user.is_superuser:
            return self.list_display
        return [{"reminded_at": "reminded", "responded_at": "answered"}.get(f, f) for f in self.list_display]

    @admin.display(description="reminded at")
    def reminded(self, invitation):
        return HIDDEN if invitation.survey.anonymous else invitation.reminded_at

    @admin.display(description="responded at")
    def answered(self, invitation):
        return HIDDEN if invitation.survey.anonymous else invitation.responded_at

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or ())
        if obj is not None and obj.survey.anonymous and not request.user.is_superuser:
            excluded += ANSWER_STATE_FIELDS
        return excluded

    def get_readonly_fields(self, request, obj=None):
        excluded = self.get_exclude(request, obj)
        return [f for f in super().get_readonly_fields(request, obj) if f not in excluded]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    raw_id_fields = ["question"]


@admin.register(Response)
class ResponseAdmin(KeepsFigures, admin.ModelAdmin):
    response_path = "pk"  # its answers, edited inline
    list_display = ["survey", "submitted_at", "nps"]
    list_select_related = ["survey"]
    raw_id_fields = ["invitation", "segment"]
    inlines = [AnswerInline]

    def get_queryset(self, request):
        responses = super().get_queryset(request)
        return responses if request.user.is_superuser else responses.filter(survey__anonymous=False)


@admin.register(Answer)
class AnswerAdmin(KeepsFigures, admin.ModelAdmin):
    survey_path = "response__survey_id"
    pmo_path = "response__survey__pmo_id"
    response_path = "response_id"

    list_display = ["question", "value", "response"]
    raw_id_fields = ["response", "question"]

    def get_queryset(self, request):
        answers = super().get_queryset(request)
        return answers if request.user.is_superuser else answers.filter(response__survey__anonymous=False)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_on", "kind", "sentiment", "pmo", "author"]
    list_filter = ["kind", "sentiment", "pmo"]
    search_fields = ["summary"]
    list_select_related = ["pmo", "author"]
    raw_id_fields = ["stakeholders"]

    # The admin writes interactions itself, not through register.py: it keeps the involved
    # stakeholders' last touch (register.refresh_last_touched) as the register's writes do.
    def save_model(self, request, obj, form, change):
        obj._involved_before = list(obj.stakeholders.values_list("pk", flat=True)) if obj.pk else []
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        interaction = form.instance
        register.refresh_last_touched(
            [*getattr(interaction, "_involved_before", []), *interaction.stakeholders.values_list("pk", flat=True)]
        )

    def delete_model(self, request, obj):
        register.delete_interaction(obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            involved = list(
                Interaction.stakeholders.through.objects.filter(interaction__in=queryset).values_list(
                    "stakeholder_id", flat=True
                )
            )
            queryset.delete()
            register.refresh_last_touched(involved)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "pmo", "created_by", "created_at", "confirmed_at"]
    list_filter = ["pmo"]
    search_fields = ["file_name"]
    list_select_related = ["pmo", "created_by"]
    readonly_fields = ["columns", "rows", "preview", "result", "checked_at", "confirmed_at", "confirmed_by"]
    raw_id_fields = ["created_by"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here: the catalogue's writes go through stakeholders/catalogue.py
    (which keeps each service's history), and a survey's snapshot and its answers are written
    by the survey's launch and its submit only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    list_display = ["name", "pmo", "status", "level_now", "level_target"]
    list_filter = ["status", "pmo"]
    search_fields = ["name"]
    list_select_related = ["pmo"]


@admin.register(ServiceEvent)
class ServiceEventAdmin(ReadOnlyAdmin):
    list_display = ["service", "happened_at", "summary", "author"]
    list_select_related = ["service", "author"]


@admin.register(SurveyService)
class SurveyServiceAdmin(ReadOnlyAdmin):
    list_display = ["name", "survey", "position"]
    list_select_related = ["survey"]


@admin.register(ServiceAnswer)
class ServiceAnswerAdmin(ReadOnlyAdmin):
    list_display = ["survey_service", "usage", "satisfaction", "importance"]
    list_select_related = ["survey_service"]

    def get_queryset(self, request):
        # As the P answers (AnswerAdmin): an anonymous survey's only for a superuser.
        answers = super().get_queryset(request)
        return answers if request.user.is_superuser else answers.filter(response__survey__anonymous=False)


# The communication plan: written by stakeholders/touchpoints.py only, which keeps each
# touchpoint's dates in step with its rule and marks a date done with its interaction.
@admin.register(Touchpoint)
class TouchpointAdmin(ReadOnlyAdmin):
    list_display = ["purpose", "pmo", "starts_on", "recurrence", "until", "element", "owner"]
    list_filter = ["recurrence", "element", "pmo"]
    search_fields = ["purpose"]
    list_select_related = ["pmo", "owner__user"]


@admin.register(TouchpointOccurrence)
class TouchpointOccurrenceAdmin(ReadOnlyAdmin):
    list_display = ["touchpoint", "on", "status", "pmo", "closed_at"]
    list_filter = ["status", "pmo"]
    list_select_related = ["touchpoint", "pmo"]
    date_hierarchy = "on"


# Closing the loop (docs/follow-up.md): shown here, written by their write paths only — a case
# by stakeholders/cases/services.py (these pages' two actions call it), a pulse and an update by
# the code that sends them. A pulse's token seed and hash are never shown: either answers it.
def _each_case(modeladmin, request, queryset, change, done: str):
    changed = 0
    for case in queryset:
        try:
            change(case)
        except cases.CaseError as refusal:
            modeladmin.message_user(request, f"Case {case.pk}: {' '.join(refusal.messages)}", messages.WARNING)
        else:
            changed += 1
    modeladmin.message_user(request, f"{changed} case(s) {done}.")


@admin.action(description="Resolve the selected cases")
def resolve_cases(modeladmin, request, queryset):
    _each_case(modeladmin, request, queryset, lambda case: cases.resolve(case, request.user), "resolved")


@admin.action(description="Reopen the selected cases")
def reopen_cases(modeladmin, request, queryset):
    _each_case(modeladmin, request, queryset, cases.reopen, "reopened")


@admin.register(FollowUpCase)
class FollowUpCaseAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "pmo", "survey", "status", "owner", "due_on", "root_element", "escalated_at"]
    list_filter = ["status", "root_element", "pmo"]
    list_select_related = ["pmo", "survey", "stakeholder", "segment", "owner__user"]
    date_hierarchy = "due_on"
    actions = [resolve_cases, reopen_cases]


@admin.register(CaseNote)
class CaseNoteAdmin(ReadOnlyAdmin):
    list_display = ["case", "author", "created_at"]
    list_select_related = ["case__stakeholder", "case__segment", "author"]


@admin.register(RecoveryPulse)
class RecoveryPulseAdmin(ReadOnlyAdmin):
    exclude = ["token_seed", "token_hash"]
    list_display = ["case", "email", "created_at", "score", "answered_at"]
    list_select_related = ["case__stakeholder", "case__segment"]


@admin.register(SurveyUpdate)
class SurveyUpdateAdmin(ReadOnlyAdmin):
    list_display = ["subject", "survey", "pmo", "sent_at", "recipients", "unsubscribed"]
    list_filter = ["pmo"]
    list_select_related = ["survey", "pmo"]
