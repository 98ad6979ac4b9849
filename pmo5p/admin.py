from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from pmo5p.forms import AdminEmailAuthenticationForm
from pmo5p.models import ApiToken, MemberInvitation, Membership, OutgoingEmail, Pmo, User

# The admin's sign-in says "locked out" as the project's does (django-axes counts both).
admin.site.login_form = AdminEmailAuthenticationForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "email_verified", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "email_verified"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["name"]}),
        (
            "Permissions",
            {"fields": ["is_active", "email_verified", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Pmo)
class PmoAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "pmo", "role", "joined_at"]
    list_filter = ["role", "pmo"]
    search_fields = ["user__email", "user__name", "pmo__name"]
    list_select_related = ["user", "pmo"]


@admin.register(MemberInvitation)
class MemberInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "pmo", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "pmo"]
    search_fields = ["email"]
    readonly_fields = ["token_hash"]
    list_select_related = ["pmo"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["key_hash", "hint", "last_used_at", "revoked_at"]


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The outbox, to look at: the sweeper and "send again" on the pages change it. The bodies
    are left out, as they hold links that open a survey or a membership."""

    list_display = ["kind", "to", "subject", "status", "attempts", "next_attempt_at", "sent_at", "pmo"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "message_id"]
    exclude = ["text", "html"]
    readonly_fields = [
        "pmo",
        "kind",
        "to",
        "subject",
        "message_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "source_type",
        "source_id",
    ]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        # A reminder goes only to who has not answered: of an anonymous survey, it would say
        # who had not (docs/security.md). Staff who are not superusers see no reminders.
        emails = super().get_queryset(request)
        if request.user.is_superuser:
            return emails
        return emails.exclude(kind=OutgoingEmail.Kind.SURVEY_REMINDER)
