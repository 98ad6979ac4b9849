"""/api/v1/: the JSON API, its OpenAPI schema and its browsable documentation."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from agenda import api as agenda_api
from pmo5p.api import PmoViewSet
from stakeholders import api as stakeholders_api

PMO = r"pmos/(?P<slug>[-a-zA-Z0-9_]+)"

router = DefaultRouter()
router.register("pmos", PmoViewSet, basename="api-pmo")
router.register(f"{PMO}/segments", stakeholders_api.SegmentViewSet, basename="api-segment")
router.register(f"{PMO}/stakeholders", stakeholders_api.StakeholderViewSet, basename="api-stakeholder")
router.register(f"{PMO}/interactions", stakeholders_api.InteractionViewSet, basename="api-interaction")
router.register(f"{PMO}/surveys", stakeholders_api.SurveyViewSet, basename="api-survey")
router.register(f"{PMO}/self-assessments", agenda_api.SelfAssessmentViewSet, basename="api-self-assessment")
router.register(f"{PMO}/maturity", agenda_api.MaturityRecordViewSet, basename="api-maturity")
router.register(f"{PMO}/actions", agenda_api.ActionViewSet, basename="api-action")
router.register(f"{PMO}/reports", agenda_api.ReportViewSet, basename="api-report")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
