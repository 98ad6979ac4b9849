"""/api/v1/: the JSON API, its OpenAPI schema and its browsable documentation."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from agenda import api as agenda_api
from pmo5p.api import PmoViewSet, not_found
from stakeholders import api as stakeholders_api

PMO = "pmos/<slug:slug>"

# Path converters rather than regular expressions, so that the URL resolver knows each
# route's arguments (tests/test_api_tenancy.py walks them); no `.json` suffix routes:
# JSON is the only format.
router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False
router.register("pmos", PmoViewSet, basename="api-pmo")
router.register(f"{PMO}/segments", stakeholders_api.SegmentViewSet, basename="api-segment")
router.register(f"{PMO}/stakeholders", stakeholders_api.StakeholderViewSet, basename="api-stakeholder")
router.register(f"{PMO}/interactions", stakeholders_api.InteractionViewSet, basename="api-interaction")
router.register(f"{PMO}/touchpoints", stakeholders_api.TouchpointViewSet, basename="api-touchpoint")
router.register(f"{PMO}/follow-up-cases", stakeholders_api.FollowUpCaseViewSet, basename="api-follow-up-case")
# agenda's survey viewset: stakeholders' (the surveys) with their results (the figures layer).
router.register(f"{PMO}/surveys", agenda_api.SurveyViewSet, basename="api-survey")
router.register(f"{PMO}/self-assessments", agenda_api.SelfAssessmentViewSet, basename="api-self-assessment")
router.register(f"{PMO}/maturity", agenda_api.MaturityRecordViewSet, basename="api-maturity")
router.register(f"{PMO}/actions", agenda_api.ActionViewSet, basename="api-action")
router.register(f"{PMO}/reports", agenda_api.ReportViewSet, basename="api-report")
# The catalogue is agenda's resource: each service with its figures (the figures layer).
router.register(f"{PMO}/services", agenda_api.ServiceViewSet, basename="api-service")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, and the template has
    # no inline style: the Content-Security-Policy allows neither.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    # Any other address under /api/ (a malformed id, a typo) answers with the error body too;
    # [\s\S]: an id holding a line break (%0A) too, which "." would not match.
    re_path(r"^(?:[\s\S]*/)?$", not_found),
]
