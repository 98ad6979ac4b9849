from django.urls import path

from stakeholders.cases import pulse_views, views

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("<int:case_id>/", views.case_detail, name="case_detail"),
    path("<int:case_id>/pulse/", pulse_views.send, name="case_pulse_send"),
    path("<int:case_id>/owner/", views.case_assign, name="case_assign"),
    path("<int:case_id>/root/", views.case_root, name="case_root"),
    path("<int:case_id>/notes/", views.case_note, name="case_note"),
    path("<int:case_id>/contact/", views.case_contact, name="case_contact"),
    path("<int:case_id>/resolve/", views.case_resolve, name="case_resolve"),
    path("<int:case_id>/close/", views.case_close, name="case_close"),
    path("<int:case_id>/reopen/", views.case_reopen, name="case_reopen"),
]
