from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agenda import calendar
from pmo5p import views
from pmo5p.forms import EmailAuthenticationForm, PasswordResetForm
from stakeholders.cases import pulse_views
from stakeholders.surveys import public_views, update_views

accounts = [
    path("login/", auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm), name="login"),
    path("signup/", views.signup, name="signup"),
    path("confirm/sent/", views.confirm_email_sent, name="confirm_email_sent"),
    path("confirm/resend/", views.confirm_email_resend, name="confirm_email_resend"),
    path("confirm/<uidb64>/<token>/", views.confirm_email, name="confirm_email"),
    # Ahead of django.contrib.auth.urls, which has the same two names.
    path("password_reset/", auth_views.PasswordResetView.as_view(form_class=PasswordResetForm), name="password_reset"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.api_token_create, name="api_token_create"),
    path("profile/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    # The personal calendar feed's address: its model is agenda's, its place the profile's.
    path("profile/calendar/", calendar.calendar_feed_create, name="calendar_feed_create"),
    path("profile/calendar/revoke/", calendar.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("", include("django.contrib.auth.urls")),
]

pmo = [
    path("settings/", views.pmo_settings, name="pmo_settings"),
    path("settings/engagement/", views.engagement_settings, name="engagement_settings"),
    path("model/", views.five_p_model, name="five_p_model"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("members/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path(
        "members/invitations/<int:invitation_id>/resend/",
        views.member_invitation_resend,
        name="member_invitation_resend",
    ),
    path("stakeholders/", include("stakeholders.urls")),
    path("surveys/", include("stakeholders.surveys.urls")),
    path("touchpoints/", include("stakeholders.touchpoint_urls")),
    path("follow-up/", include("stakeholders.cases.urls")),
    path("", include("agenda.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include(accounts)),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("s/<str:token>/", public_views.answer, name="survey_answer"),
    path("s/<str:token>/save/", public_views.save, name="survey_save"),
    # A follow-up case's recovery pulse: one question, the survey link's guarantees.
    path("r/<str:token>/", pulse_views.answer, name="pulse_answer"),
    # A stakeholder's one click to stop the "you said, we did" updates (RFC 8058).
    path("u/<str:token>/", update_views.unsubscribe, name="survey_updates_unsubscribe"),
    # A calendar program's subscription: no account, the secret token is the key.
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("pmo/", views.pmo_list, name="pmo_list"),
    path("pmo/new/", views.pmo_create, name="pmo_create"),
    path("pmo/<slug:slug>/", include(pmo)),
    path("api/", include("pmo5p.api_urls")),
    path("admin/", admin.site.urls),
]
