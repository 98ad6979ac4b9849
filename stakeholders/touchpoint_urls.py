from django.urls import path

from stakeholders import touchpoint_views as views

urlpatterns = [
    path("", views.touchpoint_list, name="touchpoint_list"),
    path("new/", views.touchpoint_create, name="touchpoint_create"),
    path("<int:touchpoint_id>/", views.touchpoint_detail, name="touchpoint_detail"),
    path("<int:touchpoint_id>/edit/", views.touchpoint_edit, name="touchpoint_edit"),
    path("<int:touchpoint_id>/delete/", views.touchpoint_delete, name="touchpoint_delete"),
    path("dates/<int:occurrence_id>/done/", views.occurrence_done, name="occurrence_done"),
    path("dates/<int:occurrence_id>/cancel/", views.occurrence_cancel, name="occurrence_cancel"),
]
