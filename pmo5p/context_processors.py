from django.conf import settings

from pmo5p.models import Membership

# The spreadsheet exports (agenda/exports.py DATASETS), as their URL names spell them.
EXPORT_DATASETS = ("stakeholders", "interactions", "self_assessments", "maturity", "actions", "services", "responses")

# Which tab of the PMO navigation each page belongs to, by URL name.
NAV_SECTIONS = {
    "my_week": {"my_week", "my_week_digest"},
    "dashboard": {"pmo_home"},
    "stakeholders": {
        "stakeholder_list",
        "stakeholder_detail",
        "stakeholder_edit",
        "stakeholder_create",
        "stakeholder_delete",
        "segment_list",
        "segment_create",
        "segment_edit",
        "segment_delete",
        "interaction_list",
        "interaction_create",
        "interaction_edit",
        "interaction_delete",
        "stakeholder_import",
        "stakeholder_import_preview",
        # Import and export: the page, and the downloads it links to.
        "exports",
        "export_full",
        *(f"export_{dataset}_{fmt}" for dataset in EXPORT_DATASETS for fmt in ("csv", "xlsx")),
    },
    "grid": {"grid"},
    "services": {
        "service_list",
        "service_create",
        "service_detail",
        "service_edit",
        "service_delete",
        "offering_levels",
        "service_import",
        "service_import_preview",
        "service_heat_map",
    },
    "surveys": {
        "survey_list",
        "survey_create",
        "survey_detail",
        "survey_edit",
        "survey_questions",
        "survey_preview",
        "survey_audience",
        "survey_launch",
        "survey_delete",
        "survey_results",
        "survey_update",
        # The follow-up cases, the section's second tab (stakeholders/surveys/tabs.html).
        "case_list",
        "case_detail",
        "case_assign",
        "case_root",
        "case_note",
        "case_contact",
        "case_resolve",
        "case_close",
        "case_reopen",
    },
    "assessments": {"assessments", "self_assessment_new", "maturity_new"},
    "agenda": {
        "action_list",
        "action_create",
        "action_edit",
        "action_delete",
        "suggestion_list",
        "incident_list",
        "incident_create",
        "incident_edit",
        "incident_delete",
    },
    # The communication plan, beside the agenda: what the team does, and whom it sees when.
    "touchpoints": {
        "touchpoint_list",
        "touchpoint_create",
        "touchpoint_detail",
        "touchpoint_edit",
        "touchpoint_delete",
        "occurrence_done",
        "occurrence_cancel",
        # The plan's other view (stakeholders/touchpoints/plan_tabs.html).
        "calendar",
    },
    "reports": {"report_list", "report_schedule", "report_detail"},
    "model": {"five_p_model"},
    "members": {"members", "member_invite", "member_remove"},
    "settings": {"pmo_settings", "engagement_settings"},
}
SECTION_OF = {name: section for section, names in NAV_SECTIONS.items() for name in names}


def navigation(request):
    """The PMOs the user can switch between, and the PMO being viewed (if any)."""
    match = getattr(request, "resolver_match", None)
    context = {
        "signup_enabled": settings.SIGNUP_ENABLED,
        "nav_section": SECTION_OF.get(match.url_name if match else None),
    }
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        context.update(
            nav_memberships=Membership.objects.filter(user=request.user).select_related("pmo").order_by("pmo__name"),
            current_pmo=getattr(request, "pmo", None),
            current_membership=getattr(request, "membership", None),
        )
    return context
