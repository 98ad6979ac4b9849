"""The one way a view reaches a PMO: through the requesting user's memberships.

Every PMO page lives under /pmo/<slug>/. `pmo_view` resolves the slug through the
user's own memberships, so a PMO the user does not belong to answers 404 (never
403: its existence is not revealed); then it enforces the role the view needs.
Viewers may read; any other method than GET/HEAD needs at least a member.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from pmo5p.models import Membership, Role

SAFE_METHODS = ("GET", "HEAD")


def get_membership(user, slug: str) -> Membership:
    membership = Membership.objects.select_related("pmo").filter(user=user, pmo__slug=slug).first()
    if membership is None:
        raise Http404("No PMO here.")
    return membership


def pmo_view(role: Role = Role.VIEWER, write_role: Role = Role.MEMBER):
    """Decorate a view taking (request, pmo, ...) and routed with a `slug` kwarg.

    `role` is needed to open the view at all; `write_role` to send it anything but
    GET or HEAD. The membership is left on request.membership for templates.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, slug, *args, **kwargs):
            membership = get_membership(request.user, slug)
            needed = role if request.method in SAFE_METHODS else max(role, write_role, key=lambda r: Role(r).rank)
            if not membership.has_role(needed):
                raise PermissionDenied("Your role in this PMO does not allow this.")
            request.membership = membership
            request.pmo = membership.pmo
            # override, not activate: the zone must not outlive this request in the thread.
            with timezone.override(membership.pmo.time_zone):
                return view(request, membership.pmo, *args, **kwargs)

        return wrapped

    return decorator
