from django.contrib import admin

from agenda.figures import kept
from agenda.models import (
    Action,
    AgendaReport,
    CalendarFeed,
    Incident,
    KeptElementFigures,
    KeptPerception,
    MaturityRecord,
    ReportDelivery,
    ReportSchedule,
    SelfAssessment,
)


@admin.register(SelfAssessment)
class SelfAssessmentAdmin(admin.ModelAdmin):
    list_display = ["pmo", "element", "rating", "assessed_on", "author"]
    list_filter = ["element", "pmo"]
    list_select_related = ["pmo", "author"]


@admin.register(MaturityRecord)
class MaturityRecordAdmin(admin.ModelAdmin):
    list_display = ["stakeholder", "stage", "recorded_on", "author", "pmo"]
    list_filter = ["stage", "pmo"]
    search_fields = ["stakeholder__name", "rationale"]
    list_select_related = ["stakeholder", "author", "pmo"]
    raw_id_fields = ["stakeholder"]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["title", "pmo", "element", "status", "due_on", "owner"]
    list_filter = ["status", "element", "pmo"]
    search_fields = ["title"]
    list_select_related = ["pmo", "owner__user"]
    raw_id_fields = ["target_stakeholders", "owner"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "pmo", "problem", "occurred_on", "estimated_cost", "days_lost"]
    list_filter = ["problem", "pmo"]
    search_fields = ["title"]
    list_select_related = ["pmo"]
    raw_id_fields = ["stakeholders"]


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    list_display = ["pmo", "frequency", "send_at", "is_active", "next_run_at", "failure_count"]
    list_select_related = ["pmo"]


class ReportDeliveryInline(admin.TabularInline):
    model = ReportDelivery
    extra = 0
    readonly_fields = ["message_id", "status", "attempts", "last_error", "sent_at"]


@admin.register(AgendaReport)
class AgendaReportAdmin(admin.ModelAdmin):
    list_display = ["pmo", "kind", "period_start", "period_end", "status", "built_at"]
    list_filter = ["kind", "status", "pmo"]
    list_select_related = ["pmo"]
    exclude = ["pdf"]
    readonly_fields = ["figures", "build_error"]
    inlines = [ReportDeliveryInline]


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ["email", "report", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_select_related = ["report__pmo"]
    readonly_fields = ["message_id"]


class KeptAdmin(admin.ModelAdmin):
    """Figures the figures layer keeps from the answers (agenda/figures/kept.py): shown, never
    added or edited here. Deleting them is allowed, since deleting a response deletes its
    kept perception (CASCADE) and the admin asks for that permission; rows deleted here are
    written again from the answers at once."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        if self.model is KeptElementFigures:
            surveys, pmos = set(queryset.values_list("survey_id", flat=True)), set()
        else:
            surveys, pmos = set(), set(queryset.values_list("pmo_id", flat=True))
        super().delete_queryset(request, queryset)
        kept.keep_figures(surveys, pmos)


@admin.register(KeptElementFigures)
class KeptElementFiguresAdmin(KeptAdmin):
    list_display = ["survey", "segment", "element", "kind", "total", "answered", "dont_know", "rated_by"]
    list_select_related = ["survey", "segment"]

    def get_queryset(self, request):
        # An anonymous survey's sums per segment would show its groups under the minimum
        # size: staff who are not superusers see none of them, as with its responses.
        kept = super().get_queryset(request)
        return kept if request.user.is_superuser else kept.filter(survey__anonymous=False)


@admin.register(KeptPerception)
class KeptPerceptionAdmin(KeptAdmin):
    list_display = ["stakeholder", "response", "submitted_at", "perception_rating", "pmo"]
    list_select_related = ["stakeholder", "pmo"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Members' calendar addresses, to look at: made and revoked by their owners on the profile.
    The seed stays out of sight, since the address is made from it."""

    list_display = ["user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = ["user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
