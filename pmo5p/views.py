from copy import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pmo5p import accounts, services, sign_in
from pmo5p.domain import Element, MaturityStage, Problem
from pmo5p.forms import (
    ApiTokenForm,
    ConfirmEmailForm,
    EngagementSettingsForm,
    InviteMemberForm,
    NewAccountForm,
    PasswordChangeForm,
    PmoForm,
    ProfileForm,
    ResendConfirmationForm,
    RoleForm,
    SignUpForm,
    add_refusal,
)
from pmo5p.models import ApiToken, MemberInvitation, Membership, Role, User
from pmo5p.tenancy import pmo_view


@login_required
@require_GET
def home(request):
    """Open "My week" in the PMO the user last worked in (whom to see and why: issue 13), or
    the list of their PMOs. The PMO's dashboard stays at its own address (pmo_home)."""
    membership = (
        Membership.objects.filter(user=request.user)
        .select_related("pmo")
        # NULLs last: PostgreSQL would otherwise put never-visited PMOs first.
        .order_by(F("last_visited_at").desc(nulls_last=True), "pmo__name")
        .first()
    )
    if membership is None:
        return redirect("pmo_list")
    return redirect("my_week", slug=membership.pmo.slug)


@login_required
@require_GET
def pmo_list(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("pmo")
        .annotate(member_count=Count("pmo__memberships"))
        .order_by("pmo__name")
    )
    return render(request, "pmo5p/pmo_list.html", {"memberships": memberships})


@login_required
def pmo_create(request):
    form = PmoForm(request.POST or None, initial={"time_zone": "Europe/London"})
    if request.method == "POST" and form.is_valid():
        pmo = services.create_pmo(user=request.user, **form.cleaned_data)
        messages.success(request, f"{pmo.name} is ready. Start by adding your stakeholders.")
        return redirect(pmo)
    return render(request, "pmo5p/pmo_form.html", {"form": form})


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
def pmo_settings(request, pmo):
    form = PmoForm(request.POST or None, instance=pmo)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "PMO settings saved.")
        return redirect("pmo_settings", slug=pmo.slug)
    return render(request, "pmo5p/pmo_settings.html", {"form": form, "pmo": pmo})


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
def engagement_settings(request, pmo):
    """The quadrant defaults of the engagement plan (docs/engagement.md#settings)."""
    # The form checks a copy: a refused value must not reach the page's PMO (menu, heading).
    form = EngagementSettingsForm(request.POST or None, instance=copy(pmo))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_engagement_defaults(pmo=copy(pmo), values=form.cleaned_data)
        except ValidationError as refusal:
            add_refusal(form, refusal)
        else:
            messages.success(request, "Engagement defaults saved: every stakeholder without their own follows them.")
            return redirect("engagement_settings", slug=pmo.slug)
    return render(request, "pmo5p/engagement_settings.html", {"form": form, "pmo": pmo, "stages": list(MaturityStage)})


@pmo_view()
@require_GET
def five_p_model(request, pmo):
    return render(
        request,
        "pmo5p/model.html",
        {"pmo": pmo, "elements": list(Element), "stages": list(MaturityStage), "problems": list(Problem)},
    )


# Members ----------------------------------------------------------------------


@pmo_view()
@require_GET
def members(request, pmo):
    memberships = pmo.memberships.select_related("user").order_by("user__name")
    invitations = list(pmo.member_invitations.pending().select_related("invited_by"))
    emails = services.invitation_emails(invitations)
    for invitation in invitations:
        invitation.outgoing = emails.get(invitation.pk)
    return render(
        request,
        "pmo5p/members.html",
        {
            "pmo": pmo,
            "memberships": memberships,
            "invitations": invitations,
            "roles": list(Role),
            "invite_form": InviteMemberForm(pmo=pmo),
        },
    )


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
def member_invite(request, pmo):
    form = InviteMemberForm(request.POST or None, pmo=pmo)
    if request.method == "POST" and form.is_valid():
        services.invite_member(pmo=pmo, invited_by=request.user, **form.cleaned_data)
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
        return redirect("members", slug=pmo.slug)
    return render(request, "pmo5p/member_invite.html", {"pmo": pmo, "form": form})


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
@require_POST
def member_role(request, pmo, membership_id):
    membership = get_object_or_404(pmo.memberships.select_related("user"), pk=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles: lead, member or viewer.")
    else:
        try:
            services.change_role(membership=membership, role=form.cleaned_data["role"])
            messages.success(request, f"{membership.user} is now {membership.get_role_display().lower()}.")
        except services.LastLeadError as error:
            messages.error(request, error.message)
    return redirect("members", slug=pmo.slug)


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
def member_remove(request, pmo, membership_id):
    membership = get_object_or_404(pmo.memberships.select_related("user"), pk=membership_id)
    if request.method == "POST":
        try:
            services.remove_member(membership=membership)
        except services.LastLeadError as error:
            messages.error(request, error.message)
            return redirect("members", slug=pmo.slug)
        messages.success(request, f"{membership.user} no longer belongs to {pmo.name}.")
        if membership.user_id == request.user.pk:
            return redirect("pmo_list")
        return redirect("members", slug=pmo.slug)
    return render(request, "pmo5p/member_remove.html", {"pmo": pmo, "membership": membership})


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
@require_POST
def invitation_revoke(request, pmo, invitation_id):
    invitation = get_object_or_404(pmo.member_invitations, pk=invitation_id)
    if services.revoke_invitation(invitation=invitation):
        messages.success(request, f"The invitation to {invitation.email} is revoked.")
    else:
        messages.error(
            request, f"The invitation to {invitation.email} was {invitation.status} already: nothing to revoke."
        )
    return redirect("members", slug=pmo.slug)


@pmo_view(role=Role.LEAD, write_role=Role.LEAD)
@require_POST
def member_invitation_resend(request, pmo, invitation_id):
    invitation = get_object_or_404(pmo.member_invitations.pending(), pk=invitation_id)
    if services.resend_invitation(invitation):
        messages.success(request, f"Sending the invitation to {invitation.email} again.")
    else:
        messages.info(request, f"The invitation to {invitation.email} went out, or is on its way: nothing to resend.")
    return redirect("members", slug=pmo.slug)


# Accounts -----------------------------------------------------------------------


def accept_invitation(request, token):
    invitation = MemberInvitation.find_by_token(token)
    if invitation is None:
        return render(request, "pmo5p/invitation_invalid.html", {"reason": "unknown"}, status=404)
    if invitation.status != "pending":
        return render(
            request,
            "pmo5p/invitation_invalid.html",
            {"reason": invitation.status, "invitation": invitation},
            status=410,
        )

    existing_user = User.objects.filter(email__iexact=invitation.email).first()
    context = {"invitation": invitation, "pmo": invitation.pmo}
    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email.lower():
            context["wrong_account"] = True
            return render(request, "pmo5p/invitation_accept.html", context, status=403)
        if request.method == "POST":
            return _join(request, invitation, request.user)
        return render(request, "pmo5p/invitation_accept.html", context)
    if existing_user is not None:
        context["login_url"] = f"{reverse('login')}?next={request.path}"
        return render(request, "pmo5p/invitation_accept.html", context)

    form = NewAccountForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        user = User.objects.create_user(
            email=invitation.email, password=form.cleaned_data["password1"], name=form.cleaned_data["name"]
        )
        login(request, user, backend=sign_in.BACKEND)
        return _join(request, invitation, user)
    context["form"] = form
    return render(request, "pmo5p/invitation_accept.html", context)


def _join(request, invitation, user):
    try:
        membership = services.accept_invitation(invitation=invitation, user=user)
    except ValueError:
        return render(
            request, "pmo5p/invitation_invalid.html", {"reason": "accepted", "invitation": invitation}, status=410
        )
    messages.success(request, f"Welcome to {membership.pmo.name}.")
    return redirect(membership.pmo)


def signup(request):
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is closed: ask a PMO lead for an invitation.")
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.sign_up(
            request,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        return redirect("confirm_email_sent")
    return render(request, "registration/signup.html", {"form": form})


@require_GET
def confirm_email_sent(request):
    return render(request, "registration/confirm_email_sent.html")


def confirm_email_resend(request):
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.resend_confirmation(request, form.cleaned_data["email"])
        return redirect("confirm_email_sent")
    return render(request, "registration/confirm_email_resend.html", {"form": form})


def _user_of_link(uidb64: str) -> User | None:
    try:
        return User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def confirm_email(request, uidb64, token):
    """The link sent at sign-up: with the password chosen then, it confirms the address and signs in.

    Opening it changes nothing (mail scanners open links too); a link that was tampered
    with, used already or is too old gets a page that says so."""
    user = _user_of_link(uidb64)
    if user is None or not accounts.confirmation_tokens.check_token(user, token):
        return render(request, "registration/confirm_email.html", {"validlink": False}, status=404)
    form = ConfirmEmailForm(request, user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        accounts.confirm_email(user)
        login(request, form.get_user(), backend=sign_in.BACKEND)
        messages.success(request, "Your e-mail address is confirmed. Create your PMO's workspace to begin.")
        return redirect("pmo_create")
    # A TemplateResponse, so that django-axes' lockout answer can be this page (sign_in.lockout_response).
    return TemplateResponse(request, "registration/confirm_email.html", {"validlink": True, "form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's, and a reset proves the address as well as the confirmation link does: an
    account whose address was not confirmed is confirmed by it (and so taken from whoever
    signed it up without owning the address)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        if not form.user.email_verified:
            accounts.confirm_email(form.user)
        return response


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return _profile_page(request, form=form)


def _profile_page(request, *, form=None, token_form=None, new_key=None, status=200):
    return render(
        request,
        "registration/profile.html",
        {
            "form": form or ProfileForm(instance=request.user),
            "token_form": token_form or ApiTokenForm(),
            "tokens": request.user.api_tokens.active(),
            "new_key": new_key,
        },
        status=status,
    )


@login_required
@require_POST
def api_token_create(request):
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, token_form=form, status=400)
    _token, key = ApiToken.issue(user=request.user, name=form.cleaned_data["name"])
    # Shown on this page only: the key itself is not stored, only its hash.
    return _profile_page(request, new_key=key)


@login_required
@require_POST
def api_token_revoke(request, token_id):
    token = get_object_or_404(request.user.api_tokens.active(), pk=token_id)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("profile")
