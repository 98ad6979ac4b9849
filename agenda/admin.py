from django.contrib import admin

from agenda.models import MaturityRecord, SelfAssessment


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
