"""API resources of assessments, the agenda and its reports (see pmo5p/api.py)."""

import django_filters
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import decorators, mixins, serializers, viewsets
from rest_framework.response import Response as ApiResponse

from agenda.assessments import services as assessments
from agenda.figures import kept, segments
from agenda.figures import services as service_figures
from agenda.figures import survey as survey_figures
from agenda.figures.elements import IpaQuadrant
from agenda.models import Action, AgendaReport, MaturityRecord, SelfAssessment
from agenda.models.plan import ActionStatus
from agenda.models.reports import ReportStatus
from agenda.plan import services as plan
from agenda.reports import services as reports
from agenda.reports import snapshot as report_figures
from pmo5p.api import SLUG_PARAMETER, DateField, IdFilter, PmoScopedMixin, pmo_scoped
from pmo5p.domain import Element
from pmo5p.rules import error_messages
from stakeholders import api as stakeholders_api
from stakeholders import catalogue
from stakeholders.api import ElementsField, MemberEmailField, PmoModelViewSet, PmoRelatedField
from stakeholders.models import Service, ServiceStatus
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


# The service catalogue ---------------------------------------------------------------------


class ServiceFiguresSerializer(serializers.Serializer):
    """One service's figures in one survey (agenda/figures/services.py; docs/services.md)."""

    survey = serializers.IntegerField(source="survey_id", help_text="The survey the figures come from.")
    name = serializers.CharField(help_text="The service's name as that survey asked about it (its snapshot).")
    hidden = serializers.BooleanField(
        source="suppressed",
        help_text="Fewer respondents answered about it than min_group_size: no figure is given, not even how many.",
    )
    answered = serializers.SerializerMethodField(help_text="Respondents who said whether they know it.")
    awareness = serializers.FloatField(allow_null=True, help_text="% of answered who use it or know it.")
    usage = serializers.FloatField(allow_null=True, help_text="% of answered who use it.")
    satisfaction = serializers.FloatField(allow_null=True, help_text="Its users' mean rating, 0–100.")
    satisfaction_answers = serializers.SerializerMethodField(help_text='Ratings behind it, "Don\'t know" left out.')
    importance = serializers.FloatField(allow_null=True, help_text="0–100, from its users' ratings.")
    importance_answers = serializers.SerializerMethodField()
    quadrant = serializers.ChoiceField(choices=IpaQuadrant.choices, allow_null=True)
    priority = serializers.FloatField(allow_null=True, help_text="importance × (100 − satisfaction) / 100.")

    def _count(self, figures, value):
        return None if figures.suppressed else value

    def get_answered(self, figures) -> int | None:
        return self._count(figures, figures.answered)

    def get_satisfaction_answers(self, figures) -> int | None:
        return self._count(figures, figures.satisfaction_n)

    def get_importance_answers(self, figures) -> int | None:
        return self._count(figures, figures.importance_n)


class ServiceSerializer(serializers.ModelSerializer):
    """A service of the catalogue; every write goes through stakeholders/catalogue.py."""

    owner = MemberEmailField(
        allow_null=True,
        required=False,
        help_text="The e-mail address of the member who answers for the service.",
        error_messages=error_messages(catalogue.SERVICE_WORDS["owner"]),
    )
    segments = PmoRelatedField(
        related_name="segments",
        many=True,
        required=False,
        help_text="The ids of the segments it serves; none: every stakeholder.",
        error_messages=error_messages(catalogue.SERVICE_WORDS["segments"]),
    )
    elements = ElementsField(
        choices=Element.choices,
        required=False,
        help_text="The P's it mainly serves.",
        error_messages=error_messages(catalogue.SERVICE_WORDS["elements"]),
    )
    launched_on = DateField(
        required=False, allow_null=True, error_messages=error_messages(catalogue.SERVICE_WORDS["launched_on"])
    )
    confirm_lower_target = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Write a target level below the level now (refused otherwise, with a 400 on level_target).",
    )
    confirm_retire = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Retire a service that open agenda actions develop (refused otherwise: the 400 on status names "
        "them).",
    )
    figures = serializers.SerializerMethodField(
        help_text="Its figures in the latest survey that asked about it (the catalogue's); null: never asked."
    )

    class Meta:
        model = Service
        fields = [
            "id",
            *catalogue.SERVICE_FIELDS,
            "confirm_lower_target",
            "confirm_retire",
            "created_at",
            "updated_at",
            "figures",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            name: {"error_messages": error_messages(catalogue.SERVICE_WORDS[name])}
            for name in ("name", "description", "status", "level_now", "level_target")
        }
        validators = []  # the catalogue's rules (catalogue.py), with its words, not the model's constraints

    @extend_schema_field(ServiceFiguresSerializer(allow_null=True))
    def get_figures(self, service) -> dict | None:
        if "figures" not in self.context:  # read once for the services shown (the page): two queries
            shown = self.parent.instance if self.parent is not None else [service]
            self.context["figures"] = service_figures.catalogue_figures(self.context["pmo"], shown)
        found = self.context["figures"].get(service.pk)
        return ServiceFiguresSerializer(found).data if found else None

    def _split(self, validated_data):
        confirm = {
            "confirm_lower_target": validated_data.pop("confirm_lower_target", False),
            "confirm_retire": validated_data.pop("confirm_retire", False),
        }
        if "elements" in validated_data:  # a set from the field: the catalogue keeps them in the model's order
            validated_data["elements"] = list(validated_data["elements"])
        return validated_data, confirm

    def create(self, validated_data):
        values, confirm = self._split(validated_data)
        return catalogue.create_service(
            self.context["pmo"],
            self.context["request"].user,
            values,
            confirm_lower_target=confirm["confirm_lower_target"],
        )

    def update(self, instance, validated_data):
        values, confirm = self._split(validated_data)
        return catalogue.update_service(instance, self.context["request"].user, values, **confirm)


class ServiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ServiceStatus.choices)
    element = django_filters.ChoiceFilter(
        choices=Element.choices, method="filter_element", help_text="Services that mainly serve this P."
    )

    class Meta:
        model = Service
        fields = []

    def filter_element(self, queryset, name, value):
        # The JSON list's text holds the value in quotes: no P's value is part of another's, and
        # SQLite (the embedded default) has no JSON containment.
        return queryset.filter(elements__icontains=f'"{value}"')


class SegmentServiceFiguresSerializer(serializers.Serializer):
    segment = serializers.CharField(help_text="The segment's name at the survey's launch, or \"No segment\".")
    figures = ServiceFiguresSerializer()


class ServiceAllFiguresSerializer(serializers.Serializer):
    latest = ServiceFiguresSerializer(allow_null=True, help_text="As on the catalogue; null: no survey asked yet.")
    trend = ServiceFiguresSerializer(many=True, help_text="One per launched survey that asked about it, oldest first.")
    segments = SegmentServiceFiguresSerializer(many=True, help_text="Per segment, in the latest survey.")
    min_group_size = serializers.IntegerField()


@pmo_scoped
class ServiceViewSet(PmoModelViewSet):
    """The PMO's service catalogue, each service with its latest figures; filter with ?status= and
    ?element=. Writes follow the catalogue's rules: a duplicate name, another PMO's segment or
    owner, a target below the level now (unless confirm_lower_target) and retiring a service
    that open actions develop (unless confirm_retire) are refused with a 400."""

    serializer_class = ServiceSerializer
    queryset = Service.objects.none()
    filterset_class = ServiceFilter

    def scoped_queryset(self):
        return self.pmo.services.select_related("owner__user").prefetch_related("segments").order_by("name", "pk")

    def perform_create(self, serializer):
        serializer.save()

    def perform_destroy(self, instance):
        catalogue.delete_service(instance)

    @extend_schema(parameters=[SLUG_PARAMETER], responses={200: ServiceAllFiguresSerializer})
    @decorators.action(detail=True)
    def figures(self, request, slug=None, pk=None):
        """The service's figures: the latest (as on the catalogue), its trend across surveys, and
        per segment in the latest survey; hidden where too few answered."""
        service = self.get_object()
        found = service_figures.catalogue_figures(self.pmo, [service]).get(service.pk)
        result = {
            "latest": ServiceFiguresSerializer(found).data if found else None,
            "trend": ServiceFiguresSerializer(service_figures.service_trend(service), many=True).data,
            "segments": [
                {"segment": name, "figures": ServiceFiguresSerializer(row).data}
                for name, row in service_figures.service_segment_figures(service)
            ],
            "min_group_size": anonymity.min_group_size(),
        }
        return ApiResponse(result)
