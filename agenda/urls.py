from django.urls import include, path

from agenda import calendar, dashboard, exports, heatmap, my_week, results, survey_updates
from agenda.assessments import views as assessment_views
from agenda.plan import views as plan_views
from agenda.reports import views as report_views
from stakeholders.spreadsheets import FORMATS

urlpatterns = [
    path("", dashboard.dashboard, name="pmo_home"),
    path("my-week/", my_week.my_week_page, name="my_week"),
    path("my-week/digest/", my_week.my_week_digest, name="my_week_digest"),
    # Among the survey engine's pages (stakeholders/surveys/urls.py), from the figures layer.
    path("surveys/<int:survey_id>/results/", results.survey_results, name="survey_results"),
    # "You said, we did": written from the figures and the agenda, sent through the survey engine.
    path("surveys/<int:survey_id>/update/", survey_updates.survey_update, name="survey_update"),
    path("surveys/<int:survey_id>/update/send/", survey_updates.survey_update_send, name="survey_update_send"),
    # Beside the service catalogue (agenda/catalogue/): each service's satisfaction against the P's.
    path("services/heat-map/", heatmap.service_heat_map, name="service_heat_map"),
    path("assessments/", assessment_views.assessments_page, name="assessments"),
    path("assessments/self/new/", assessment_views.self_assessment_new, name="self_assessment_new"),
    path("assessments/maturity/<int:stakeholder_id>/new/", assessment_views.maturity_new, name="maturity_new"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("agenda/", plan_views.action_list, name="action_list"),
    path("agenda/new/", plan_views.action_create, name="action_create"),
    path("agenda/<int:action_id>/edit/", plan_views.action_edit, name="action_edit"),
    path("agenda/<int:action_id>/status/", plan_views.action_set_status, name="action_set_status"),
    path("agenda/<int:action_id>/delete/", plan_views.action_delete, name="action_delete"),
    path("agenda/suggestions/", plan_views.suggestion_list, name="suggestion_list"),
    path("agenda/suggestions/adopt/", plan_views.suggestion_adopt, name="suggestion_adopt"),
    path("agenda/incidents/", plan_views.incident_list, name="incident_list"),
    path("agenda/incidents/new/", plan_views.incident_create, name="incident_create"),
    path("agenda/incidents/<int:incident_id>/edit/", plan_views.incident_edit, name="incident_edit"),
    path("agenda/incidents/<int:incident_id>/delete/", plan_views.incident_delete, name="incident_delete"),
    # The service catalogue (agenda/catalogue/).
    path("services/", include("agenda.catalogue.urls")),
    path("reports/", report_views.report_list, name="report_list"),
    path("reports/schedule/", report_views.report_schedule, name="report_schedule"),
    path("reports/subscription/", report_views.report_subscription, name="report_subscription"),
    path("reports/send-now/", report_views.report_send_now, name="report_send_now"),
    path("reports/<int:report_id>/", report_views.report_detail, name="report_detail"),
    path("reports/<int:report_id>/frame/", report_views.report_frame, name="report_frame"),
    path("reports/<int:report_id>/pdf/", report_views.report_pdf, name="report_pdf"),
    path(
        "reports/<int:report_id>/deliveries/<int:delivery_id>/resend/",
        report_views.delivery_resend,
        name="delivery_resend",
    ),
    path("exports/", exports.exports_page, name="exports"),
    path("exports/full.zip", exports.export_full, name="export_full"),
    # One route per dataset and format: the slug is the only argument a URL of a PMO takes here.
    *[
        path(
            f"exports/{dataset}.{fmt}",
            exports.export_dataset,
            {"dataset": dataset, "fmt": fmt},
            name=exports.url_name(dataset, fmt),
        )
        for dataset in exports.DATASETS
        for fmt in FORMATS
    ],
]
