"""/u/<token>/: a stakeholder stops the PMO's "you said, we did" updates, with no account.

GET only asks (mail scanners and link previews open every link in an e-mail); POST
unsubscribes: the button on the page, or the one-click POST a mail provider sends on
the stakeholder's behalf (RFC 8058, body "List-Unsubscribe=One-Click"). Rate limited per
client address as the survey's own links are (stakeholders/surveys/public_views.py).
"""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from stakeholders.surveys import updates
from stakeholders.surveys.public_views import rate


# No CSRF token: a mail provider's one-click POST (RFC 8058) has none and no cookie, and the
# signed token in the address is the credential. A forged cross-site POST could only do what
# the link's holder may do anyway: stop their own updates.
@csrf_exempt
@ratelimit(key="ip", rate=rate, block=True)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    stakeholder = updates.stakeholder_for_token(token)
    if stakeholder is None:
        return render(request, "stakeholders/public/unsubscribe.html", {"unknown": True}, status=404)
    context = {"stakeholder": stakeholder, "pmo": stakeholder.pmo}
    if request.method == "POST":
        updates.unsubscribe(stakeholder)
        stakeholder.refresh_from_db(fields=["updates_unsubscribed_at"])
        context["done"] = True
    return render(request, "stakeholders/public/unsubscribe.html", context)
