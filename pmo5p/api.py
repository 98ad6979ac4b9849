"""The JSON API's common ground: PMO scoping, roles, errors and pagination.

Every PMO resource lives under /api/v1/pmos/<slug>/…; the PMO is resolved through
the caller's memberships (404 for any other PMO, as on the web pages), and its
queryset starts from that PMO. Viewers read; writing needs a member.
"""

from datetime import UTC

import django_filters
from django import forms
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_filters.fields import IsoDateTimeField
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, viewsets

from pmo5p.models import Membership, Pmo, Role


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(help_text="For 400: the messages per field of the request.")


class ErrorBodySerializer(serializers.Serializer):
    error = ErrorSerializer()


class ApiSchema(AutoSchema):
    """Documents the errors each operation can answer, all with the one error body."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in self.error_responses().items():
            if "content" not in responses.get(str(code), {}):
                body = OpenApiResponse(ErrorBodySerializer, description=description)
                responses[str(code)] = self._get_response_for_code(body, str(code), direction=direction)
        return responses

    def error_responses(self) -> dict[int, str]:
        errors = {401: "No valid token or session: the token is unknown, revoked, or its owner deactivated."}
        if self.method in ("POST", "PUT", "PATCH"):
            errors[400] = "Some values are not valid: error.fields gives the messages per field."
            errors[413] = "The request body is larger than the API takes (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB)."
        elif self._is_list_view():
            errors[400] = "A filter's value is not valid: error.fields says which."
        if self.method not in permissions.SAFE_METHODS and isinstance(self.view, PmoScopedMixin):
            errors[403] = "Your role in this PMO does not allow this: viewers read only."
        errors[404] = "Not found: no such PMO among yours, no such object in it, or no such page."
        return errors


@csrf_exempt  # nothing here to protect; a POST must get this 404, not the CSRF page
def not_found(request):
    """Any address under /api/ that no route takes: the error body, not an HTML page."""
    error = {"status": 404, "code": "not_found", "message": "There is no API resource at this address.", "fields": {}}
    return JsonResponse({"error": error}, status=404)


class PmoRole(permissions.BasePermission):
    """Reading needs any role in the PMO; writing at least `write_role` (member by default)."""

    message = "Your role in this PMO does not allow this."

    def has_permission(self, request, view):
        membership = view.membership
        if request.method in permissions.SAFE_METHODS:
            return True
        return membership.has_role(getattr(view, "write_role", Role.MEMBER))


SLUG_PARAMETER = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The PMO's slug.")


class PmoScopedMixin:
    """For viewsets routed under pmos/<slug>/: sets self.pmo and self.membership first."""

    permission_classes = [permissions.IsAuthenticated, PmoRole]
    write_role = Role.MEMBER
    schema = ApiSchema()
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no PMO
            return self.queryset
        return self.scoped_queryset()

    def scoped_queryset(self):
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        # Authenticate first, so that an anonymous caller gets 401, not 404.
        self.perform_authentication(request)
        if request.user and request.user.is_authenticated:
            membership = (
                Membership.objects.select_related("pmo").filter(user=request.user, pmo__slug=kwargs.get("slug")).first()
            )
            if membership is None:
                raise Http404
            self.membership = membership
            self.pmo = membership.pmo
            # As on the web pages: "today" (a future date, a due date) is the PMO's day.
            self._time_zone = timezone.override(self.pmo.time_zone)
            self._time_zone.__enter__()
        super().initial(request, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if zone := getattr(self, "_time_zone", None):
                zone.__exit__(None, None, None)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["pmo"] = getattr(self, "pmo", None)
        return context


class DateField(serializers.DateField):
    """A date where "" is no date, as a form's empty date input is: refused as missing, not as a bad format."""

    def validate_empty_values(self, data):
        return super().validate_empty_values(None if data == "" else data)


# Query-string filters that refuse what they cannot use (400), rather than ignoring it
# (which would answer every row) or passing it on to the database (which would fail).

ID_MAX = 2**63 - 1  # ids are BigAutoField; a larger number overflows the database's integer


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ID_MAX})
class IdFilter(django_filters.Filter):
    """The id of a row: a whole number the database can hold (not 1.5, not 10**20)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=ID_MAX, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    widget = forms.TextInput  # NullBooleanSelect would turn an unknown value into "no filter" before this sees it

    def to_python(self, value):
        if value in (None, ""):
            return None
        result = super().to_python(value)
        if result is None:
            raise forms.ValidationError("Use true or false.", code="invalid")
        return result


class StrictBooleanFilter(django_filters.BooleanFilter):
    """true or false; anything else is an error, not "no filter"."""

    field_class = StrictBooleanField


class SinceField(IsoDateTimeField):
    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            try:
                result.astimezone(UTC)  # what the database is given; 0001-01-01T00:00+14:00 is before year 1
            except OverflowError:
                raise forms.ValidationError("This date and time is out of range.", code="invalid") from None
        return result


class SinceFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date and time, inclusive: rows at or after it."""

    field_class = SinceField


def pmo_scoped(viewset):
    """Document the slug path parameter on every operation of a PMO-scoped viewset."""
    actions = ("list", "retrieve", "create", "update", "partial_update", "destroy")
    return extend_schema_view(
        **{action: extend_schema(parameters=[SLUG_PARAMETER]) for action in actions if hasattr(viewset, action)}
    )(viewset)


class PmoSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Pmo
        fields = ["id", "name", "slug", "description", "time_zone", "currency", "survey_fatigue_days", "role"]

    def get_role(self, pmo) -> str:
        return self.context["roles"].get(pmo.pk, "")


@extend_schema_view(retrieve=extend_schema(operation_id="pmos_retrieve", tags=["pmos"]))
class PmoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The PMOs the caller belongs to, with their role in each."""

    schema = ApiSchema()
    serializer_class = PmoSerializer
    lookup_field = "slug"
    lookup_value_converter = "slug"
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Pmo.objects.filter(memberships__user=self.request.user).order_by("name")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user
        context["roles"] = (
            dict(Membership.objects.filter(user=user).values_list("pmo_id", "role")) if user.is_authenticated else {}
        )
        return context
