"""API resources of the register and the surveys (see pmo5p/api.py for the common ground)."""

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import decorators, mixins, serializers, status, viewsets
from rest_framework.response import Response as ApiResponse

from pmo5p.api import (
    SLUG_PARAMETER,
    DateField,
    IdFilter,
    PmoScopedMixin,
    SinceFilter,
    StrictBooleanFilter,
    pmo_scoped,
)
from pmo5p.domain import Element
from pmo5p.rules import error_messages
from stakeholders import register, touchpoints
from stakeholders.engagement import with_engagement
from stakeholders.models import (
    LEVEL_CHOICES,
    CaseStatus,
    FollowUpCase,
    Interaction,
    RecoveryPulse,
    Segment,
    Stakeholder,
    Survey,
    SurveyStatus,
    Touchpoint,
    TouchpointOccurrence,
)
from stakeholders.selectors import search


class PmoRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key that only accepts rows of the request's PMO."""

    def __init__(self, **kwargs):
        self.related_name = kwargs.pop("related_name")
        # A whole number: without it, 1.5 would be taken as 1 and true as 1. Refused in the field's words.
        whole_number = serializers.IntegerField(min_value=1, error_messages=kwargs.get("error_messages"))
        kwargs.setdefault("pk_field", whole_number)
        super().__init__(**kwargs)

    def get_queryset(self):
        pmo = self.context.get("pmo")
        return getattr(pmo, self.related_name).all() if pmo else Segment.objects.none()


class MemberEmailField(serializers.EmailField):
    """A PMO member, given and shown by e-mail address."""

    default_error_messages = {"does_not_exist": "No member of this PMO has this e-mail address."}

    def to_representation(self, membership):
        return membership.user.email if membership else None

    def to_internal_value(self, data):
        if data in (None, ""):
            return None
        email = super().to_internal_value(data)
        super().run_validators(email)
        membership = self.context["pmo"].memberships.select_related("user").filter(user__email__iexact=email).first()
        if membership is None:
            self.fail("does_not_exist")
        return membership

    def run_validators(self, value):
        """The address was checked above: the value here is the membership it names."""


def _in_register_words(words: dict, fields: list[str]) -> dict:
    """extra_kwargs giving these fields the register's words for their refusals, as the web form does."""
    return {field: {"error_messages": register.messages(words, field)} for field in fields}


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", *register.SEGMENT_FIELDS]
        extra_kwargs = _in_register_words(register.SEGMENT_WORDS, register.SEGMENT_FIELDS)

    def validate_name(self, name):
        return register.check_segment_name_free(self.context["pmo"], name, self.instance)

    def create(self, validated_data):
        return register.create_segment(self.context["pmo"], validated_data)

    def update(self, instance, validated_data):
        return register.update_segment(instance, validated_data)


class StakeholderSerializer(serializers.ModelSerializer):
    segment = PmoRelatedField(
        related_name="segments",
        allow_null=True,
        required=False,
        error_messages=register.messages(register.STAKEHOLDER_WORDS, "segment"),
    )
    owner = MemberEmailField(
        allow_null=True,
        required=False,
        help_text="The e-mail address of the member who owns the relationship.",
        error_messages=register.messages(register.STAKEHOLDER_WORDS, "owner"),
    )

    # The engagement plan as stakeholders/engagement.py reads it (docs/engagement.md).
    target = serializers.IntegerField(
        read_only=True, help_text="The target maturity stage (1–5): their own, or their quadrant's default."
    )
    gap = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Target minus current stage: positive is below target; null when never assessed.",
    )
    touch_due_on = serializers.DateField(
        read_only=True, help_text="Last touched (or added to the register) plus the cadence."
    )

    class Meta:
        model = Stakeholder
        fields = [
            "id",
            *register.STAKEHOLDER_FIELDS,
            "last_touched_on",
            "target",
            "gap",
            "touch_due_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["last_touched_on", "created_at", "updated_at"]
        extra_kwargs = _in_register_words(register.STAKEHOLDER_WORDS, register.STAKEHOLDER_FIELDS)

    def validate_email(self, email):
        return register.check_email_free(self.context["pmo"], email, self.instance)

    def to_representation(self, instance):
        if not hasattr(instance, "gap"):
            # Just written: read it back with its engagement, as the list reads every row.
            instance = with_engagement(
                Stakeholder.objects.filter(pk=instance.pk).select_related("segment", "owner__user"),
                instance.pmo,
                timezone.localdate(),
            ).get()
        return super().to_representation(instance)

    def create(self, validated_data):
        return register.create_stakeholder(self.context["pmo"], validated_data)

    def update(self, instance, validated_data):
        stakeholder = register.update_stakeholder(instance, validated_data)
        # Its engagement was read before the change: to_representation reads it again.
        stakeholder.__dict__.pop("gap", None)
        return stakeholder


class UpsertSerializer(StakeholderSerializer):
    email = serializers.EmailField(
        help_text="The key of the upsert: matched ignoring case.",
        error_messages=error_messages({**register.STAKEHOLDER_WORDS["email"], "required": register.EMAIL_KEY_REQUIRED}),
    )

    def validate_email(self, email):
        return register.email_key(email)


class StakeholderFilter(django_filters.FilterSet):
    segment = IdFilter(field_name="segment_id", help_text="A segment's id.")
    influence = django_filters.TypedChoiceFilter(choices=LEVEL_CHOICES, coerce=int, help_text="1 to 5.")
    interest = django_filters.TypedChoiceFilter(choices=LEVEL_CHOICES, coerce=int, help_text="1 to 5.")
    active = StrictBooleanFilter(field_name="is_active", help_text="true: active only; false: inactive only.")
    updated_since = SinceFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Changed at or after this ISO 8601 date and time."
    )
    search = django_filters.CharFilter(
        method="filter_search", help_text="In the name, e-mail address, job title or business unit, as on the register."
    )

    class Meta:
        model = Stakeholder
        fields = []

    def filter_search(self, queryset, name, value):
        return search(queryset, value)


class PmoModelViewSet(PmoScopedMixin, viewsets.ModelViewSet):
    related_name = ""

    def scoped_queryset(self):
        return getattr(self.pmo, self.related_name).all()

    def perform_create(self, serializer):
        serializer.save(pmo=self.pmo)


class RegisterViewSet(PmoModelViewSet):
    """Writes through register.py: the serializer's create and update call it with the context's PMO."""

    def perform_create(self, serializer):
        serializer.save()


@pmo_scoped
class SegmentViewSet(RegisterViewSet):
    serializer_class = SegmentSerializer
    queryset = Segment.objects.none()
    related_name = "segments"


@pmo_scoped
class StakeholderViewSet(RegisterViewSet):
    """The register. Filter by segment, influence, interest, active, updated_since; search as on the register page."""

    serializer_class = StakeholderSerializer
    queryset = Stakeholder.objects.none()
    related_name = "stakeholders"
    filterset_class = StakeholderFilter

    def scoped_queryset(self):
        stakeholders = self.pmo.stakeholders.select_related("segment", "owner__user").order_by("name", "pk")
        return with_engagement(stakeholders, self.pmo, timezone.localdate())

    def perform_destroy(self, instance):
        register.delete_stakeholder(instance)

    @extend_schema(
        parameters=[SLUG_PARAMETER],
        request=UpsertSerializer,
        responses={200: StakeholderSerializer, 201: StakeholderSerializer},
        description="Create or update the stakeholder with this e-mail address (ignoring case): for sync jobs.",
    )
    @decorators.action(detail=False, methods=["post"])
    def upsert(self, request, slug=None):
        data = request.data
        # Look up only a valid address (a NUL byte would make PostgreSQL fail); with an invalid
        # one, the serializer below answers 400 with every field's errors.
        try:
            email = serializers.EmailField().run_validation(data.get("email")) if hasattr(data, "get") else ""
        except serializers.ValidationError:
            email = ""
        context = self.get_serializer_context()

        def save(existing):
            serializer = UpsertSerializer(existing, data=data, partial=existing is not None, context=context)
            serializer.is_valid(raise_exception=True)
            return serializer.save()

        stakeholder, created = register.upsert_by_email(self.pmo, email, save)
        out = StakeholderSerializer(stakeholder, context=context).data
        return ApiResponse(out, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ElementsField(serializers.MultipleChoiceField):
    """P elements, given and shown as a list: stored each once, in the model's order."""

    def to_representation(self, value):
        return list(value)


class InteractionSerializer(serializers.ModelSerializer):
    occurred_on = DateField(
        required=False,
        help_text="Today if not given.",
        error_messages=register.messages(register.INTERACTION_WORDS, "occurred_on"),
    )
    stakeholders = PmoRelatedField(
        related_name="stakeholders",
        many=True,
        allow_empty=False,
        error_messages=register.messages(register.INTERACTION_WORDS, "stakeholders"),
    )
    elements = ElementsField(
        choices=Element.choices,
        required=False,
        error_messages=register.messages(register.INTERACTION_WORDS, "elements"),
    )

    class Meta:
        model = Interaction
        fields = ["id", *register.INTERACTION_FIELDS, "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = _in_register_words(register.INTERACTION_WORDS, ["kind", "sentiment", "summary"])

    def validate_occurred_on(self, value):
        return register.check_occurred_on(value)

    def create(self, validated_data):
        return register.create_interaction(self.context["pmo"], self.context["request"].user, validated_data)

    def update(self, instance, validated_data):
        return register.update_interaction(instance, validated_data)


@pmo_scoped
class InteractionViewSet(RegisterViewSet):
    serializer_class = InteractionSerializer
    queryset = Interaction.objects.none()

    def scoped_queryset(self):
        return self.pmo.interactions.prefetch_related("stakeholders").order_by("-occurred_on", "-pk")

    def perform_destroy(self, instance):
        register.delete_interaction(instance)


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = ["id", "title", "status", "anonymous", "closes_on", "reminder_delay_days", "launched_at", "closed_at"]


@pmo_scoped
class SurveyViewSet(PmoScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Surveys (read). agenda/api.py adds their results, from the figures layer, and routes it."""

    serializer_class = SurveySerializer
    queryset = Survey.objects.none()

    def scoped_queryset(self):
        return self.pmo.surveys.exclude(status=SurveyStatus.DRAFT).order_by("-launched_at", "-pk")


# The communication plan (stakeholders/touchpoints.py): written through its one write path.


class TouchpointSerializer(serializers.ModelSerializer):
    starts_on = DateField(error_messages=error_messages(touchpoints.TOUCHPOINT_WORDS["starts_on"]))
    until = DateField(
        required=False,
        allow_null=True,
        help_text="The last date a recurrence may fall on: needed unless it happens once; at most five years on.",
        error_messages=error_messages(touchpoints.TOUCHPOINT_WORDS["until"]),
    )
    owner = MemberEmailField(
        required=False,
        help_text="The e-mail address of the member who owns it; the caller if not given.",
        error_messages={"invalid": touchpoints.NO_OWNER, "does_not_exist": touchpoints.NO_OWNER},
    )
    stakeholders = PmoRelatedField(
        related_name="stakeholders",
        many=True,
        required=False,
        help_text="Named stakeholders' ids; or give a segment instead.",
        error_messages={"does_not_exist": touchpoints.OTHER_PMO_STAKEHOLDERS},
    )
    segment = PmoRelatedField(
        related_name="segments",
        allow_null=True,
        required=False,
        help_text="Everyone active in the segment on each date; or name stakeholders instead.",
        error_messages={"does_not_exist": touchpoints.OTHER_PMO_SEGMENT},
    )

    class Meta:
        model = Touchpoint
        fields = ["id", *touchpoints.TOUCHPOINT_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            field: {"error_messages": error_messages(touchpoints.TOUCHPOINT_WORDS[field])}
            for field in ("purpose", "channel", "element", "at_time", "duration_minutes", "recurrence", "notes")
        }
        # The model's check constraints are the write path's rules, with its words.
        validators = []

    def create(self, validated_data):
        values = {"owner": self.context["view"].membership, **validated_data}
        return touchpoints.create_touchpoint(self.context["pmo"], self.context["request"].user, values)

    def update(self, instance, validated_data):
        return touchpoints.update_touchpoint(
            self.context["pmo"], self.context["request"].user, instance, validated_data
        )


class OccurrenceSerializer(serializers.ModelSerializer):
    starts_at = serializers.SerializerMethodField(
        help_text="The moment (UTC) it begins: its date at the touchpoint's time in the PMO's time zone; null all day."
    )

    class Meta:
        model = TouchpointOccurrence
        fields = ["id", "on", "starts_at", "status", "cancel_reason", "interaction", "closed_at"]

    def get_starts_at(self, occurrence) -> str | None:
        moment = touchpoints.occurrence_start(
            occurrence.on, occurrence.touchpoint.at_time, self.context["pmo"].time_zone
        )
        return moment.isoformat().replace("+00:00", "Z") if moment else None


@pmo_scoped
class TouchpointViewSet(PmoModelViewSet):
    """The communication plan: touchpoints, once or recurring. Creating one makes its dates;
    changing one keeps the dates done, cancelled or missed and replaces those to come."""

    serializer_class = TouchpointSerializer
    queryset = Touchpoint.objects.none()

    def scoped_queryset(self):
        return (
            self.pmo.touchpoints.select_related("owner__user")
            .prefetch_related("stakeholders")
            .order_by("starts_on", "pk")
        )

    def perform_create(self, serializer):
        serializer.save()

    def perform_destroy(self, instance):
        touchpoints.delete_touchpoint(self.pmo, self.request.user, instance)

    @extend_schema(
        parameters=[SLUG_PARAMETER],
        responses={200: OccurrenceSerializer(many=True)},
        description="Every date of the touchpoint, in order, and what became of it: planned, done (with the "
        "interaction it recorded) or cancelled (with its reason). A planned date before today is missed.",
    )
    @decorators.action(detail=True, methods=["get"])
    def occurrences(self, request, slug=None, pk=None):
        touchpoint = self.get_object()
        rows = self.paginate_queryset(touchpoint.occurrences.select_related("touchpoint").order_by("on", "pk"))
        return self.get_paginated_response(
            OccurrenceSerializer(rows, many=True, context=self.get_serializer_context()).data
        )


# Follow-up cases (docs/follow-up.md): read only. Their write path (stakeholders/cases/services.py)
# has its pages; the API offers no write, so that it cannot bypass the case's rules.


class PulseSerializer(serializers.ModelSerializer):
    """When the recovery pulse went and how it was answered. Never its token (its link is the
    key to answer it) nor the stakeholder's comment."""

    sent_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = RecoveryPulse
        fields = ["sent_at", "answered_at", "score"]
        read_only_fields = fields


class FollowUpCaseSerializer(serializers.ModelSerializer):
    """Ids only for what a case links to: an anonymous group's case has no stakeholder, and
    nothing here says who answered (no response, no comment)."""

    anonymous_group = serializers.BooleanField(
        source="is_anonymous", read_only=True, help_text="An anonymous survey's group case: no stakeholder, ever."
    )
    overdue = serializers.SerializerMethodField(
        help_text="Open, never contacted, and its due date is before today in the PMO's time zone."
    )
    interactions = serializers.SerializerMethodField(help_text="The ids of the interactions recorded as contacts.")
    actions = serializers.SerializerMethodField(help_text="The ids of the actions that answer the case.")
    # Blank ("") when no P could be suggested, and until the owner chooses one.
    root_element = serializers.ChoiceField(
        choices=Element.choices, allow_blank=True, read_only=True, help_text='The P at the root; "" if none yet.'
    )
    suggested_element = serializers.ChoiceField(
        choices=Element.choices, allow_blank=True, read_only=True, help_text='The P first suggested; "" if none.'
    )
    pulse = PulseSerializer(read_only=True, allow_null=True, help_text="The recovery pulse; null until one is sent.")

    class Meta:
        model = FollowUpCase
        fields = [
            "id",
            "survey",
            "stakeholder",
            "segment",
            "anonymous_group",
            "owner",
            "root_element",
            "suggested_element",
            "nps_before",
            "status",
            "opened_at",
            "due_on",
            "first_contact_at",
            "resolved_at",
            "closed_at",
            "closed_reason",
            "escalated_at",
            "overdue",
            "interactions",
            "actions",
            "pulse",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "owner": {"help_text": "The owning membership's id; null: the PMO's leads."},
            "segment": {"help_text": "The segment's id (the stakeholder's at launch, or the group's)."},
        }

    def get_overdue(self, case) -> bool:
        # The viewset's PmoScopedMixin makes the PMO's time zone the current one.
        return case.status == CaseStatus.OPEN and case.first_contact_at is None and case.due_on < timezone.localdate()

    def get_interactions(self, case) -> list[int]:
        return [interaction.pk for interaction in case.interactions.all()]

    def get_actions(self, case) -> list[int]:
        return [action.pk for action in case.actions.all()]


class FollowUpCaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, help_text="Any status if not given.")
    owner = IdFilter(field_name="owner_id", help_text="The owning membership's id.")
    element = django_filters.ChoiceFilter(
        field_name="root_element", choices=Element.choices, help_text="The P at the root."
    )
    segment = IdFilter(field_name="segment_id", help_text="A segment's id.")

    class Meta:
        model = FollowUpCase
        fields = []


@pmo_scoped
class FollowUpCaseViewSet(PmoScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Follow-up cases, to read: filter by status, owner, element (the P at the root) and segment.
    Changing a case is done on its pages."""

    serializer_class = FollowUpCaseSerializer
    queryset = FollowUpCase.objects.none()
    filterset_class = FollowUpCaseFilter

    def scoped_queryset(self):
        # A page in four queries whatever its size (the count, the cases with their pulses,
        # the interactions, the actions); in the order of the index case_pmo_status_due.
        return (
            self.pmo.follow_up_cases.select_related("pulse")
            .prefetch_related(
                Prefetch("interactions", queryset=Interaction.objects.only("pk")),
                # Actions are agenda's, a layer above: reached through the relation, not imported.
                Prefetch(
                    "actions", queryset=FollowUpCase.actions.rel.related_model.objects.only("pk", "follow_up_case")
                ),
            )
            .order_by("due_on", "pk")
        )
