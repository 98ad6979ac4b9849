"""The JSON API's common ground: PMO scoping, roles, errors and pagination.

Every PMO resource lives under /api/v1/pmos/<slug>/…; the PMO is resolved through
the caller's memberships (404 for any other PMO, as on the web pages), and its
queryset starts from that PMO. Viewers read; writing needs a member.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets

from pmo5p.models import Membership, Role


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField()


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
    lookup_value_regex = r"[0-9]+"

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
        super().initial(request, *args, **kwargs)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["pmo"] = getattr(self, "pmo", None)
        return context


def pmo_scoped(viewset):
    """Document the slug path parameter on every operation of a PMO-scoped viewset."""
    actions = ("list", "retrieve", "create", "update", "partial_update", "destroy")
    return extend_schema_view(
        **{action: extend_schema(parameters=[SLUG_PARAMETER]) for action in actions if hasattr(viewset, action)}
    )(viewset)


class PmoSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        from pmo5p.models import Pmo

        model = Pmo
        fields = ["id", "name", "slug", "description", "time_zone", "survey_fatigue_days", "role"]

    def get_role(self, pmo) -> str:
        return self.context["roles"].get(pmo.pk, "")


class PmoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The PMOs the caller belongs to, with their role in each."""

    serializer_class = PmoSerializer
    lookup_field = "slug"
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        from pmo5p.models import Pmo

        return Pmo.objects.filter(memberships__user=self.request.user).order_by("name")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user
        context["roles"] = (
            dict(Membership.objects.filter(user=user).values_list("pmo_id", "role")) if user.is_authenticated else {}
        )
        return context
