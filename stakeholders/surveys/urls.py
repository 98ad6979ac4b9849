from django.urls import path

from stakeholders.surveys import views

urlpatterns = [
    path("", views.survey_list, name="survey_list"),
    path("new/", views.survey_create, name="survey_create"),
    path("<int:survey_id>/", views.survey_detail, name="survey_detail"),
    path("<int:survey_id>/edit/", views.survey_edit, name="survey_edit"),
    path("<int:survey_id>/questions/", views.survey_questions, name="survey_questions"),
    path("<int:survey_id>/preview/", views.survey_preview, name="survey_preview"),
    path("<int:survey_id>/audience/", views.survey_audience, name="survey_audience"),
    path("<int:survey_id>/launch/", views.survey_launch, name="survey_launch"),
    path("<int:survey_id>/close/", views.survey_close, name="survey_close"),
    path("<int:survey_id>/delete/", views.survey_delete, name="survey_delete"),
    path("<int:survey_id>/responses.csv", views.survey_export, name="survey_export"),
    path(
        "<int:survey_id>/invitations/<int:survey_invitation_id>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "<int:survey_id>/alerts/<int:email_id>/resend/",
        views.detractor_alert_resend,
        name="detractor_alert_resend",
    ),
]
