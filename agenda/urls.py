from django.urls import path

from agenda import views

urlpatterns = [
    path("", views.dashboard, name="pmo_home"),
    path("assessments/", views.assessments_page, name="assessments"),
    path("assessments/self/new/", views.self_assessment_new, name="self_assessment_new"),
    path("assessments/maturity/<int:stakeholder_id>/new/", views.maturity_new, name="maturity_new"),
]
