from django.contrib import admin

from stakeholders.models import (
    Answer,
    ImportJob,
    Interaction,
    Invitation,
    Question,
    Response,
    Segment,
    Stakeholder,
    Survey,
)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "pmo", "created_at"]
    list_filter = ["pmo"]
    search_fields = ["name"]
    list_select_related = ["pmo"]


@admin.register(Stakeholder)
class StakeholderAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "pmo", "segment", "influence", "interest", "is_active"]
    list_filter = ["pmo", "is_active", "influence", "interest"]
    search_fields = ["name", "email", "job_title", "business_unit"]
    list_select_related = ["pmo", "segment"]
    raw_id_fields = ["segment", "owner"]


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "pmo", "status", "anonymous", "closes_on", "launched_at"]
    list_filter = ["status", "anonymous", "pmo"]
    search_fields = ["title"]
    list_select_related = ["pmo"]
    filter_horizontal = ["target_segments", "target_stakeholders"]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "survey", "kind", "element", "position"]
    list_filter = ["kind", "element"]
    list_select_related = ["survey"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["stakeholder", "survey", "send_status", "sent_at", "reminded_at", "responded_at", "send_attempts"]
    list_filter = ["send_status"]
    search_fields = ["stakeholder__name", "email"]
    list_select_related = ["stakeholder", "survey"]
    readonly_fields = ["token_seed", "token_hash", "draft_answers"]
    raw_id_fields = ["survey", "stakeholder"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    raw_id_fields = ["question"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["survey", "submitted_at", "nps"]
    list_select_related = ["survey"]
    raw_id_fields = ["invitation", "segment"]
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["question", "value", "response"]
    raw_id_fields = ["response", "question"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_on", "kind", "sentiment", "pmo", "author"]
    list_filter = ["kind", "sentiment", "pmo"]
    search_fields = ["summary"]
    list_select_related = ["pmo", "author"]
    raw_id_fields = ["stakeholders"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "pmo", "created_by", "created_at", "confirmed_at"]
    list_filter = ["pmo"]
    search_fields = ["file_name"]
    list_select_related = ["pmo", "created_by"]
    readonly_fields = ["columns", "rows", "preview", "result", "checked_at", "confirmed_at", "confirmed_by"]
    raw_id_fields = ["created_by"]
