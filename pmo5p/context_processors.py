from django.conf import settings

from pmo5p.models import Membership


def navigation(request):
    """The PMOs the user can switch between, and the PMO being viewed (if any)."""
    context = {"signup_enabled": settings.SIGNUP_ENABLED}
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        context.update(
            nav_memberships=Membership.objects.filter(user=request.user).select_related("pmo").order_by("pmo__name"),
            current_pmo=getattr(request, "pmo", None),
            current_membership=getattr(request, "membership", None),
        )
    return context
