from django.urls import path

from stakeholders.cases import pulse_views, views

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("<int:case_id>/", views.case_detail, name="case_detail"),
    path("<int:case_id>/pulse/", pulse_views.send, name="case_pulse_send"),
]
