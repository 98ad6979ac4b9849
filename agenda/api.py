"""API resources of assessments, the agenda and its reports (see pmo5p/api.py)."""

import django_filters
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import decorators, mixins, serializers, viewsets
from rest_framework.response import Response as ApiResponse

from agenda.assessments import services as assessments
from agenda.figures import kept, segments
from agenda.figures import survey as survey_figures
from agenda.models import Action, AgendaReport, MaturityRecord, SelfAssessment
from agenda.models.plan import ActionStatus
from agenda.models.reports import ReportStatus
from agenda.plan import services as plan
from agenda.reports import services as reports
from agenda.reports import snapshot as report_figures
from pmo5p.api import SLUG_PARAMETER, IdFilter, PmoScopedMixin, pmo_scoped
from pmo5p.domain import Element
from stakeholders import api as stakeholders_api
from stakeholders.api import MemberEmailField, PmoModelViewSet, PmoRelatedField
from stakeholders.surveys import anonymity


class SelfAssessmentSerializer(serializers.ModelSerializer):
    author = serializers.EmailField(source="author.email", read_only=True, allow_null=True)

    class Meta:
        model = SelfAssessment
        fields = ["id", "element", "rating", "evidence", "assessed_on", "author", "created_at"]
        read_only_fields = ["created_at"]

    def validate_assessed_on(self, value):
        return assessments.check_assessed_on(value)


class MaturityRecordSerializer(serializers.ModelSerializer):
    stakeholder = PmoRelatedField(related_name="stakeholders")
    author = serializers.EmailField(source="author.email", read_only=True, allow_null=True)

    class Meta:
        model = MaturityRecord
        fields = ["id", "stakeholder", "stage", "rationale", "recorded_on", "author", "created_at"]
        read_only_fields = ["created_at"]

    def validate_recorded_on(self, value):
        return assessments.check_recorded_on(value)

    def validate_rationale(self, value):
        if not value.strip():
            raise serializers.ValidationError("Say why: what places them at this stage.")
        return value.strip()


class AuthoredViewSet(PmoModelViewSet):
    def perform_create(self, serializer):
        serializer.save(pmo=self.pmo, author=self.request.user)


@pmo_scoped
class SelfAssessmentViewSet(AuthoredViewSet):
    """The PMO's ratings of itself per P; the history is kept, the latest per element is current."""

    serializer_class = SelfAssessmentSerializer
    queryset = SelfAssessment.objects.none()

    def scoped_queryset(self):
        return self.pmo.self_assessments.select_related("author").order_by("-assessed_on", "-created_at", "-pk")


class MaturityRecordFilter(django_filters.FilterSet):
    stakeholder = IdFilter(field_name="stakeholder_id", help_text="A stakeholder's id: their history only.")

    class Meta:
        model = MaturityRecord
        fields = []


@pmo_scoped
class MaturityRecordViewSet(AuthoredViewSet):
    """Maturity stages of stakeholder relationships; a stakeholder's current stage is their latest."""

    serializer_class = MaturityRecordSerializer
    queryset = MaturityRecord.objects.none()
    filterset_class = MaturityRecordFilter

    def scoped_queryset(self):
        return self.pmo.maturity_records.select_related("author").order_by("-recorded_on", "-created_at", "-pk")


class ActionSerializer(serializers.ModelSerializer):
    owner = MemberEmailField(allow_null=True, required=False)
    target_segments = PmoRelatedField(related_name="segments", many=True, required=False)
    target_stakeholders = PmoRelatedField(related_name="stakeholders", many=True, required=False)
    # The catalogue's service the action develops (docs/services.md), of the PMO only.
    service = PmoRelatedField(
        related_name="services",
        allow_null=True,
        required=False,
        error_messages={"does_not_exist": "Choose one of this PMO's services."},
    )

    class Meta:
        model = Action
        fields = [
            "id",
            "title",
            "element",
            "problem",
            "target_segments",
            "target_stakeholders",
            "service",
            "owner",
            "due_on",
            "status",
            "expected_effect",
            "notes",
            "created_at",
            "completed_at",
        ]
        read_only_fields = ["created_at", "completed_at"]

    def validate_title(self, value):
        if not value.strip():
            raise serializers.ValidationError("An action needs a title.")
        return value.strip()

    def validate_due_on(self, value):
        return plan.check_due_on(self.instance, value)

    def _stamp(self, validated):
        status = validated.get("status", self.instance.status if self.instance else None)
        validated["completed_at"] = plan.completion_time(status, self.instance and self.instance.completed_at)
        return validated

    def create(self, validated_data):
        return super().create(self._stamp(validated_data))

    def update(self, instance, validated_data):
        return super().update(instance, self._stamp(validated_data))


class ActionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    element = django_filters.ChoiceFilter(choices=Element.choices)

    class Meta:
        model = Action
        fields = []


@pmo_scoped
class ActionViewSet(PmoModelViewSet):
    """The Relationship Marketing Agenda's actions; filter with ?status= and ?element=."""

    serializer_class = ActionSerializer
    queryset = Action.objects.none()
    filterset_class = ActionFilter

    def scoped_queryset(self):
        actions = self.pmo.actions.select_related("owner__user").prefetch_related(
            "target_segments", "target_stakeholders"
        )
        return actions.order_by("due_on", "pk")

    def perform_create(self, serializer):
        serializer.save(pmo=self.pmo, created_by=self.request.user)


class ReportSerializer(serializers.ModelSerializer):
    figures = serializers.SerializerMethodField(
        help_text="What the report says, in the current schema (agenda/reports/snapshot.py) whatever version it was "
        "stored in; numbers unrounded. Null until the report is built."
    )

    class Meta:
        model = AgendaReport
        fields = ["id", "kind", "frequency", "period_start", "period_end", "status", "built_at", "figures"]

    @extend_schema_field({"type": "object", "nullable": True, "additionalProperties": True})
    def get_figures(self, report) -> dict | None:
        if report.status != ReportStatus.READY:
            return None
        return report_figures.dump(reports.figures_of(report))


@pmo_scoped
class ReportViewSet(PmoScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The archive of agenda reports: their figures, and each one's PDF."""

    serializer_class = ReportSerializer
    queryset = AgendaReport.objects.none()

    def scoped_queryset(self):
        return (
            self.pmo.reports.select_related("pmo").defer("html", "text", "pdf").order_by("-period_end", "-created_at")
        )

    @extend_schema(
        parameters=[SLUG_PARAMETER],
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @decorators.action(detail=True)
    def pdf(self, request, slug=None, pk=None):
        report = self.pmo.reports.filter(pk=self.get_object().pk, status=ReportStatus.READY).exclude(pdf=b"").first()
        if report is None or not report.pdf:
            raise Http404
        response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="agenda-report-{slug}-{report.last_day.isoformat()}.pdf"'
        )
        return response


# Survey results ----------------------------------------------------------------------------


class ElementResultSerializer(serializers.Serializer):
    element = serializers.ChoiceField(choices=Element.choices)
    label = serializers.CharField(source="element.label")
    perception = serializers.FloatField(allow_null=True, help_text="0–100; null when nobody rated it.")
    perception_answers = serializers.IntegerField()
    importance = serializers.FloatField(allow_null=True)
    importance_answers = serializers.IntegerField()
    dont_know = serializers.IntegerField()


class NpsSerializer(serializers.Serializer):
    score = serializers.FloatField(allow_null=True, help_text="% promoters − % detractors, −100 to 100.")
    answers = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()


class SegmentResultSerializer(serializers.Serializer):
    segment = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    responses = serializers.IntegerField(allow_null=True, help_text="Null when the group is hidden.")
    hidden = serializers.BooleanField(help_text="Fewer responses than min_group_size: no figures are given.")
    perception = serializers.DictField(child=serializers.FloatField(allow_null=True))


def _segment_result(row: segments.SegmentFigures) -> dict:
    return {
        "segment": row.segment_id,
        "name": row.name,
        # A hidden group does not even say how small it is.
        "responses": None if row.hidden else row.responses,
        "hidden": row.hidden,
        "perception": {} if row.hidden else {e.value: v for e, v in zip(Element, row.perceptions, strict=True)},
    }


class SurveyResultsSerializer(serializers.Serializer):
    survey = stakeholders_api.SurveySerializer()
    invited = serializers.IntegerField(source="participation.invited")
    sent = serializers.IntegerField(source="participation.sent")
    responses = serializers.IntegerField(source="participation.responses")
    response_rate = serializers.FloatField(
        source="participation.response_rate",
        allow_null=True,
        help_text="Responses / invitations sent, as a percentage.",
    )
    nps = NpsSerializer()
    elements = ElementResultSerializer(many=True)
    segments = SegmentResultSerializer(many=True)
    min_group_size = serializers.IntegerField()


@pmo_scoped
class SurveyViewSet(stakeholders_api.SurveyViewSet):
    """Surveys (read), and their results as docs/figures.md defines them."""

    @extend_schema(parameters=[SLUG_PARAMETER], responses={200: SurveyResultsSerializer})
    @decorators.action(detail=True)
    def results(self, request, slug=None, pk=None):
        survey = self.get_object()
        results = {
            "survey": survey,
            "participation": survey_figures.participation(survey),
            "nps": survey_figures.nps(survey_figures.survey_responses(survey)),
            "elements": list(kept.survey_element_figures(survey).values()),
            "segments": [_segment_result(row) for row in segments.segment_figures(survey)],
            "min_group_size": anonymity.min_group_size(),
        }
        return ApiResponse(SurveyResultsSerializer(results).data)
