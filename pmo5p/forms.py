from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm

from pmo5p import sign_in, throttles
from pmo5p.domain import MAX_CADENCE_DAYS, QUADRANT_DESCRIPTIONS, QUADRANT_LABELS, WEEKDAY_CHOICES
from pmo5p.models import MemberInvitation, Membership, Pmo, Role, User
from pmo5p.rules import error_messages
from pmo5p.services import DIGEST_TIME_WORDS, DIGEST_WEEKDAY_WORDS, ENGAGEMENT_DEFAULT_FIELDS, ENGAGEMENT_WORDS
from pmo5p.widgets import TimeInput


class SignInRules:
    """What every form that checks a password says besides Django's: that the client is
    locked out (django-axes flags the request), or that the account's address is not
    confirmed yet (then `unconfirmed_email` lets the page offer a new link)."""

    unconfirmed_email = None

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                raise forms.ValidationError(sign_in.lockout_message(), code="locked_out") from None
            raise

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.email_verified:
            self.unconfirmed_email = user.email
            raise forms.ValidationError(
                f"Confirm your e-mail address first: open the link we sent to {user.email} when you signed up.",
                code="unconfirmed",
            )


class EmailAuthenticationForm(SignInRules, AuthenticationForm):
    username = forms.EmailField(label="E-mail address", widget=forms.EmailInput(attrs={"autofocus": True}))
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "This e-mail address and password don't match an account. The password is case-sensitive.",
    }


class AdminEmailAuthenticationForm(SignInRules, AdminAuthenticationForm):
    pass


class ConfirmEmailForm(EmailAuthenticationForm):
    """The page of the link that confirms an address: the address is the link's, the
    password the one chosen at sign-up (checked by authenticate(), so counted by axes)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "This is not the password chosen when the account was created. Forgotten it? Choose a new one.",
    }

    def __init__(self, request, user: User, *args, **kwargs):
        super().__init__(request, *args, initial={"username": user.email}, **kwargs)
        self.fields["username"].disabled = True
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["password"].widget.attrs["autofocus"] = True
        self.account = user

    def confirm_login_allowed(self, user):
        # Confirming is for an account whose address is not confirmed: skip SignInRules' check.
        AuthenticationForm.confirm_login_allowed(self, user)
        if user.pk != self.account.pk:
            raise self.get_invalid_login_error()


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, with two differences. Past the limits of pmo5p.throttles it sends
    nothing; the page that follows is the same either way. And its links start with
    PMO5P_SITE_URL, like every other link pmo5p e-mails: Django's view builds them from
    the request's Host header otherwise, so anyone could ask for a reset of someone's
    account with a Host of their own and have the owner's valid token sent to their site.
    """

    def save(self, *, request=None, **kwargs):
        if not throttles.may_send_account_email(request, self.cleaned_data["email"]):
            return
        site = urlsplit(settings.SITE_URL)
        kwargs["domain_override"] = site.netloc
        kwargs["use_https"] = site.scheme == "https"
        kwargs["extra_email_context"] = {**(kwargs.get("extra_email_context") or {}), "site_url": settings.SITE_URL}
        super().save(request=request, **kwargs)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's, with the old password checked through authenticate() rather than
    check_password(): django-axes then counts a wrong one as a failed sign-in, so whoever
    holds someone's session cannot guess their password here without limit."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.email, password=old_password) is None:
            if getattr(self.request, "axes_locked_out", False):
                raise forms.ValidationError(sign_in.lockout_message(), code="locked_out")
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)


# Words that /pmo/<slug>/ would confuse with pages of pmo5p itself.
RESERVED_SLUGS = {"new", "admin", "api", "static"}


FOLLOW_UP_DAYS_WORDS = "Give a whole number of working days from 1 to 30 (Monday to Friday)."


class PmoForm(forms.ModelForm):
    class Meta:
        model = Pmo
        fields = [
            "name",
            "slug",
            "description",
            "time_zone",
            "currency",
            "survey_fatigue_days",
            "follow_up_working_days",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "follow_up_working_days": forms.NumberInput(attrs={"min": 1, "max": 30}),
        }
        help_texts = {"name": "For example: Group Transformation PMO."}
        error_messages = {
            "currency": {"invalid_choice": "Choose a currency from the list (an ISO 4217 code such as GBP or EUR)."},
            "follow_up_working_days": {
                "required": FOLLOW_UP_DAYS_WORDS,
                "invalid": FOLLOW_UP_DAYS_WORDS,
                "min_value": FOLLOW_UP_DAYS_WORDS,
                "max_value": FOLLOW_UP_DAYS_WORDS,
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["max_length"] = "Keep the name to 120 characters or fewer."
        if not self.instance.pk:
            # A new PMO starts with the default (5); its settings page changes it.
            del self.fields["follow_up_working_days"]
        if self.instance.pk:
            # The slug is in every link already shared (bookmarks, e-mails, reports): it stays.
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = "Fixed once the PMO exists, so that shared links keep working."

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the PMO a name.")
        return name

    def clean_slug(self):
        # Lower-case, as the help text says: "Finance" and "finance" must not be two PMOs.
        slug = self.cleaned_data["slug"].lower()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(f"“{slug}” is reserved by pmo5p. Choose a different slug.")
        return slug


class EngagementSettingsForm(forms.ModelForm):
    """The quadrant defaults of the engagement plan; services.update_engagement_defaults writes them."""

    class Meta:
        model = Pmo
        fields = ENGAGEMENT_DEFAULT_FIELDS
        error_messages = {name: error_messages(words) for name, words in ENGAGEMENT_WORDS.items()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ENGAGEMENT_DEFAULT_FIELDS:
            field = self.fields[name]
            if name.startswith("cadence"):
                field.widget.attrs.update({"min": 1, "max": MAX_CADENCE_DAYS})

    def rows(self):
        """(quadrant's label, its description, its target field, its cadence field), in the grid's order."""
        return [
            (label, QUADRANT_DESCRIPTIONS[quadrant], self[f"target_stage_{quadrant}"], self[f"cadence_days_{quadrant}"])
            for quadrant, label in QUADRANT_LABELS.items()
        ]


class InviteMemberForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(
        choices=Role.choices, initial=Role.MEMBER, help_text="Lead: everything. Member: edits. Viewer: reads only."
    )

    def __init__(self, *args, pmo: Pmo, **kwargs):
        self.pmo = pmo
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if Membership.objects.filter(pmo=self.pmo, user__email__iexact=email).exists():
            raise forms.ValidationError("This person is already a member of this PMO.")
        if MemberInvitation.objects.pending().filter(pmo=self.pmo, email__iexact=email).exists():
            raise forms.ValidationError(
                "An invitation to this address is already pending. Revoke it first to send a new one."
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class NewAccountForm(forms.Form):
    """Sets up the account of someone who joins by invitation or signs up."""

    name = forms.CharField(label="Full name", max_length=150)
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str | None = None, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Tell us your name.")
        return name

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            user = User(email=self.email or cleaned.get("email", ""), name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignUpForm(NewAccountForm):
    # No check that the address is free: saying so would tell anyone who has an account.
    # pmo5p.accounts.sign_up writes to the owner instead.
    email = forms.EmailField(label="E-mail address", max_length=254)
    field_order = ["name", "email", "password1", "password2"]

    def clean_email(self):
        return self.cleaned_data["email"].lower()


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name"]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What it is for, e.g. “HR sync” or “Power BI”.",
        error_messages={"required": "Name the token, so that you can tell it apart later."},
    )

    def __init__(self, *args, **kwargs):
        # It shares the profile page with ProfileForm, whose `name` field is id_name already:
        # one id for both sent the "Token name" label to the profile's name.
        kwargs.setdefault("auto_id", "id_token_%s")
        super().__init__(*args, **kwargs)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Name the token, so that you can tell it apart later.")
        return name


def save_form(form: forms.ModelForm, **on_create):
    """Save a model form with its many-to-many fields, setting `on_create` fields
    (such as who made the row) only when the form creates it."""
    instance = form.save(commit=False)
    if instance._state.adding:
        for name, value in on_create.items():
            setattr(instance, name, value)
    instance.save()
    form.save_m2m()
    return instance


def add_refusal(form: forms.Form, refusal: forms.ValidationError) -> None:
    """Show on its form a service function's refusal after the form was valid: next to the
    fields it names ({field: [messages]}, or a RuleViolation's field), else above the form."""
    form.add_error(getattr(refusal, "field", None), refusal)


class DigestForm(forms.Form):
    """A member's own weekly digest: a weekday or none, and a time in the PMO's time zone. The
    rules are pmo5p.services.set_digest's; this form only reads the input."""

    weekday = forms.TypedChoiceField(
        label="Send me a weekly digest on",
        choices=[("", "No digest"), *WEEKDAY_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": DIGEST_WEEKDAY_WORDS},
    )
    at = forms.TimeField(
        label="at",
        widget=TimeInput(),
        required=False,
        error_messages={"invalid": DIGEST_TIME_WORDS},
    )

    def __init__(self, *args, pmo, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weekday"].widget.attrs["class"] = "form-select"
        self.fields["at"].widget.attrs.update({"class": "form-control", "aria-describedby": "digest-zone"})

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-describedby"] = f"id_{name}-error"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("weekday") is not None and cleaned.get("at") is None and "at" not in self.errors:
            self.add_error("at", DIGEST_TIME_WORDS)
        return cleaned
