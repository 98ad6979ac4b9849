from django.urls import path

from agenda.catalogue import views
from stakeholders import import_views

urlpatterns = [
    path("", views.service_list, name="service_list"),
    path("new/", views.service_create, name="service_create"),
    path("levels/", views.offering_levels, name="offering_levels"),
    # The catalogue's import: the stakeholder import's pages, with the catalogue's columns and rules.
    path("import/", import_views.import_upload, {"pages": import_views.SERVICE_PAGES}, name="service_import"),
    path(
        "import/<int:job_id>/",
        import_views.import_preview,
        {"pages": import_views.SERVICE_PAGES},
        name="service_import_preview",
    ),
    path("<int:service_id>/", views.service_detail, name="service_detail"),
    path("<int:service_id>/edit/", views.service_edit, name="service_edit"),
    path("<int:service_id>/delete/", views.service_delete, name="service_delete"),
]
