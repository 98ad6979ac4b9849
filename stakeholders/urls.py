from django.urls import path

from stakeholders import import_views, interaction_views, views

urlpatterns = [
    path("", views.stakeholder_list, name="stakeholder_list"),
    path("new/", views.stakeholder_create, name="stakeholder_create"),
    path("grid/", views.grid, name="grid"),
    path("import/", import_views.import_upload, name="stakeholder_import"),
    path("import/<int:job_id>/", import_views.import_preview, name="stakeholder_import_preview"),
    path("<int:stakeholder_id>/", views.stakeholder_detail, name="stakeholder_detail"),
    path("<int:stakeholder_id>/edit/", views.stakeholder_edit, name="stakeholder_edit"),
    path("<int:stakeholder_id>/active/", views.stakeholder_set_active, name="stakeholder_set_active"),
    path("<int:stakeholder_id>/delete/", views.stakeholder_delete, name="stakeholder_delete"),
    path("interactions/", interaction_views.interaction_list, name="interaction_list"),
    path("interactions/new/", interaction_views.interaction_create, name="interaction_create"),
    path("interactions/<int:interaction_id>/edit/", interaction_views.interaction_edit, name="interaction_edit"),
    path("interactions/<int:interaction_id>/delete/", interaction_views.interaction_delete, name="interaction_delete"),
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_create, name="segment_create"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/delete/", views.segment_delete, name="segment_delete"),
]
