from django.contrib import admin

from stakeholders.models import Segment, Stakeholder


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
