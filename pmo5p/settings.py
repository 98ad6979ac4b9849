"""Settings for pmo5p, read from the environment (docs/operations.md, "Settings").

With nothing set, pmo5p runs embedded: SQLite in var/, Celery tasks run eagerly in
the web process, e-mail is printed to the console. DATABASE_URL, REDIS_URL and
EMAIL_URL switch each part to a real service.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from pmo5p.currency import CURRENCIES
from pmo5p.env import env_bool, env_int, env_list, env_rate

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PMO5P_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)


def _secret_key() -> str:
    key = environ.Env().str("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    # A development key kept in var/ so that sessions survive a restart of `make run`.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "pmo5p",
    "stakeholders",
    "agenda",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files keep their cache headers), above everything else
    # (it marks the responses of every other middleware too: CSRF failures, 429s, redirects).
    "pmo5p.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pmo5p.urls"
WSGI_APPLICATION = "pmo5p.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pmo5p.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": environ.Env.db_url_config(
        environ.Env().str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pmo5p.sqlite3'}")
    )
}
# Persistent connections: a new PostgreSQL connection costs a few milliseconds, more than a
# survey submit's own queries (docs/performance.md). Not in debug mode, where runserver's
# thread per request would leave a connection open behind each one.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 0 if DEBUG else 60, minimum=0)
# A connection that the database or the network dropped is replaced before a request uses it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The answers' index carries the response id as an INCLUDE column for PostgreSQL's index-only
# scans (docs/performance.md); SQLite, the no-setup default, builds it without that column.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "pmo5p.User"
AUTH_PASSWORD_VALIDATORS = [
    # The default attributes (username, first_name, last_name) do not exist on pmo5p's User.
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes refuses a locked-out client before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "pmo5p.sign_in.AccountBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Services -------------------------------------------------------------------

REDIS_URL = environ.Env().str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "pmo5p.cache.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://localhost/"
    # Embedded mode: no broker, so tasks run in the web process when enqueued.
    CELERY_TASK_ALWAYS_EAGER = True
# Embedded mode runs tasks in the request; a task's failure is recorded by the task
# (and its retries run at once) instead of breaking the page that enqueued it.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker survives a broker restart: it reconnects for as long as it takes. A task
# under way when the connection dropped runs to its end and records its outcome; its
# acknowledgement is lost, so the broker hands it out again, and run again it finds its
# work done (every task is idempotent; an e-mail's row says "sent"). Cancelling it
# instead could stop a send after the mail server took the message: a duplicate.
# Whatever a lost message was for, the outbox's sweeper finds its row (pmo5p/outbox.py).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# The outbox's sweeper: how often it sends the e-mails that are due (a retry whose time
# has come, a wake-up lost with the broker). The longest an e-mail waits for it.
OUTBOX_SWEEP_SECONDS = env_int("PMO5P_OUTBOX_SWEEP_SECONDS", 60, minimum=1, maximum=3600)
CELERY_BEAT_SCHEDULE = {
    # A sweep not started within its interval is dropped (the next one comes): sweeps
    # queued behind a busy worker would otherwise pile up and run one after another.
    "sweep-outbox": {
        "task": "pmo5p.tasks.sweep_outbox",
        "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": OUTBOX_SWEEP_SECONDS},
    },
    "send-due-survey-reminders": {"task": "stakeholders.tasks.send_due_reminders", "schedule": 15 * 60},
    "close-due-surveys": {"task": "stakeholders.tasks.close_due_surveys", "schedule": 15 * 60},
    # Anonymous surveys' detractor alerts come as a count at most hourly, never at an answer's time.
    "send-anonymous-detractor-alerts": {
        "task": "stakeholders.tasks.send_anonymous_detractor_alerts",
        "schedule": 60 * 60,
    },
    "dispatch-due-reports": {
        "task": "agenda.tasks.dispatch_due_reports",
        "schedule": env_int("PMO5P_REPORT_DISPATCH_SECONDS", 5 * 60, minimum=1),
    },
    # The members' weekly "My week" digests: each goes out within this long of its moment.
    "dispatch-due-digests": {
        "task": "agenda.tasks.dispatch_due_digests",
        "schedule": env_int("PMO5P_DIGEST_DISPATCH_SECONDS", 5 * 60, minimum=1),
    },
    # Follow-up cases still open past their due date, escalated once to the leads
    # (stakeholders/cases/escalation.py): each within this long of its PMO's midnight.
    "escalate-overdue-cases": {
        "task": "stakeholders.tasks.escalate_overdue_cases",
        "schedule": env_int("PMO5P_CASE_ESCALATION_SECONDS", 15 * 60, minimum=1),
    },
}
# An unacknowledged task (its worker died) goes back to the queue after this long.
# It must exceed the longest retry countdown; the tasks are idempotent either way.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("PMO5P_TASK_VISIBILITY_TIMEOUT", 3600, minimum=1)}

# EMAIL_URL gives EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, credentials and TLS flags.
_email = environ.Env.email_url_config(environ.Env().str("EMAIL_URL", default="consolemail://"))
_email["EMAIL_FILE_PATH"] = _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
globals().update(_email)
DEFAULT_FROM_EMAIL = environ.Env().str("DEFAULT_FROM_EMAIL", default="pmo5p <pmo5p@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
# A failed send is retried after 1, 2, 4, 8, 16 times this many seconds, then shown as failed.
EMAIL_RETRY_BASE_SECONDS = env_int("PMO5P_EMAIL_RETRY_BASE_SECONDS", 30, minimum=1)
# An e-mail "sending" for longer than this is taken as lost (its worker died mid-send)
# and sent again by the sweeper: it must exceed the time a send can take. EMAIL_TIMEOUT
# bounds each wait on the server (connect, the greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT,
# DATA, the end of data: about eight), not the send as a whole; hence ten times it.
OUTBOX_LEASE_SECONDS = env_int("PMO5P_OUTBOX_LEASE_SECONDS", 10 * 60, minimum=1)
if OUTBOX_LEASE_SECONDS <= 10 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        f"PMO5P_OUTBOX_LEASE_SECONDS={OUTBOX_LEASE_SECONDS} must exceed 10 × EMAIL_TIMEOUT={EMAIL_TIMEOUT} "
        f"({10 * EMAIL_TIMEOUT} s): EMAIL_TIMEOUT bounds each reply of the mail server, and one send waits "
        "for about eight, so a send still under way would be taken for lost and its e-mail sent twice."
    )

# Product settings -----------------------------------------------------------

# Self sign-up; off by default so that accounts come by invitation or createsuperuser.
SIGNUP_ENABLED = env_bool("PMO5P_SIGNUP_ENABLED", False)
# Any breakdown with fewer responses than this is hidden, to protect anonymity.
MIN_GROUP_SIZE = env_int("PMO5P_MIN_GROUP_SIZE", 3, minimum=1)
# The currency of a new PMO (each PMO sets its own: Pmo.currency), an ISO 4217 code of pmo5p/currency.py.
DEFAULT_CURRENCY = environ.Env().str("PMO5P_DEFAULT_CURRENCY", default="GBP").upper()
if DEFAULT_CURRENCY not in CURRENCIES:
    raise ImproperlyConfigured(f"PMO5P_DEFAULT_CURRENCY must be one of {', '.join(CURRENCIES)}.")
# Absolute links in e-mails (invitations, survey links, reports) start with this.
SITE_URL = environ.Env().str("PMO5P_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
MEMBER_INVITATION_DAYS = env_int("PMO5P_MEMBER_INVITATION_DAYS", 7, minimum=1)
STAKEHOLDERS_PER_PAGE = 25
# The agenda report's PDF is drawn in a child process within these limits (agenda/reports/pdf.py);
# a report over either fails to build, at once. The memory is the child's whole address
# space, of which Python, Django and WeasyPrint take about 150 MB before any drawing.
PDF_TIMEOUT_SECONDS = env_int("PMO5P_PDF_TIMEOUT_SECONDS", 120, minimum=1)
PDF_MEMORY_MB = env_int("PMO5P_PDF_MEMORY_MB", 1024, minimum=256)

# Stakeholder import: what an uploaded file may hold, checked as it is read and before
# anything is kept (docs/security.md, "Uploads: spreadsheet import"). 20,000 rows of the
# register's own 14-column XLSX export are 1.3 MB packed and 17 MB of sheet XML unpacked.
# Notes, the longest field, hold 5,000 characters: a cell up to twice that still gets the
# field's own message on its row in the preview, rather than refusing the whole file.
IMPORT_MAX_BYTES = env_int("PMO5P_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
IMPORT_MAX_ROWS = env_int("PMO5P_IMPORT_MAX_ROWS", 20_000, minimum=1)
IMPORT_MAX_COLUMNS = env_int("PMO5P_IMPORT_MAX_COLUMNS", 100, minimum=1)
IMPORT_MAX_CELL_CHARS = env_int("PMO5P_IMPORT_MAX_CELL_CHARS", 10_000, minimum=1)
IMPORT_MAX_XLSX_BYTES = env_int("PMO5P_IMPORT_MAX_XLSX_BYTES", 50 * 1024 * 1024, minimum=1024)
# One part is what openpyxl may hold in memory at once (the shared strings are read whole).
IMPORT_MAX_XLSX_PART_BYTES = env_int("PMO5P_IMPORT_MAX_XLSX_PART_BYTES", 32 * 1024 * 1024, minimum=1024)
IMPORT_MAX_XLSX_PARTS = env_int("PMO5P_IMPORT_MAX_XLSX_PARTS", 500, minimum=10)
# openpyxl reads a cell in some 10-20 µs, and holds every shared string (each distinct
# text) in memory, some 150 bytes apiece: 50 cells and 10 distinct texts a row over
# 20,000 rows, so that no workbook keeps a worker busy for more than seconds.
IMPORT_MAX_XLSX_CELLS = env_int("PMO5P_IMPORT_MAX_XLSX_CELLS", 1_000_000, minimum=1)
IMPORT_MAX_XLSX_STRINGS = env_int("PMO5P_IMPORT_MAX_XLSX_STRINGS", 200_000, minimum=1)

# The request body. Form fields are bounded by Django (DATA_UPLOAD_*), uploaded files are
# not: the first handler drops any file larger than IMPORT_MAX_BYTES as it streams in, so
# that the form can say so (pmo5p/uploads.py); the import is the only upload, one file.
# DRF reads a JSON or form body through request.body, which holds it to
# DATA_UPLOAD_MAX_MEMORY_SIZE too; the API answers 413 with its error body (api_support.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB, Django's default, spelt out
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # Django's default
DATA_UPLOAD_MAX_NUMBER_FILES = 1
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads wait in a temporary file, not in memory
FILE_UPLOAD_HANDLERS = [
    "pmo5p.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Survey links are an HMAC of a per-invitation random value under this key, so a copy
# of the database alone opens no link. Changing it invalidates every link sent.
SURVEY_TOKEN_KEY = environ.Env().str("PMO5P_SURVEY_TOKEN_KEY", default="") or f"survey-links:{SECRET_KEY}"
# Requests per client address to the public survey pages (django-ratelimit syntax).
SURVEY_RATE_LIMIT = env_rate("PMO5P_SURVEY_RATE_LIMIT", "120/m")
RATELIMIT_VIEW = "stakeholders.surveys.public_views.rate_limited"
# The "ip" key of every rate limit is the client address as pmo5p.client works it out
# (IPv6 addresses are grouped by /64, django-ratelimit's default).
RATELIMIT_IP_META_KEY = "pmo5p.client.client_address"

# Sign-in, password reset, sign-up and API tokens (docs/security.md) -----------

# django-axes counts failed sign-ins (the sign-in page, the admin's and the page that
# confirms an e-mail address) in the database. A client is locked out once one account
# has failed SIGN_IN_FAILURE_LIMIT times from its address, or its address has failed
# SIGN_IN_ADDRESS_FAILURE_LIMIT times over all accounts, until SIGN_IN_LOCKOUT_MINUTES
# have passed without a failure. The two limits are applied by pmo5p.sign_in.SignInLockout.
SIGN_IN_FAILURE_LIMIT = env_int("PMO5P_SIGN_IN_FAILURE_LIMIT", 5, minimum=1)
SIGN_IN_ADDRESS_FAILURE_LIMIT = env_int("PMO5P_SIGN_IN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
SIGN_IN_LOCKOUT_MINUTES = env_int("PMO5P_SIGN_IN_LOCKOUT_MINUTES", 15, minimum=1)
AXES_HANDLER = "pmo5p.sign_in.SignInLockout"
# In this order: SignInLockout reads the counts in it.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = SIGN_IN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
# The sign-in forms' field that carries the e-mail address (Django's AuthenticationForm
# names it "username" whatever USERNAME_FIELD is).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "pmo5p.sign_in.account_key"
AXES_CLIENT_IP_CALLABLE = "pmo5p.throttles.client_ip"
AXES_LOCKOUT_CALLABLE = "pmo5p.sign_in.lockout_response"

# E-mails that anyone may have the app send without signing in (password reset, the
# link that confirms an address, the notice of a sign-up for an address that has an
# account), counted by pmo5p.throttles per recipient and per client address. Past
# either limit nothing is sent, and the page says the same as ever.
ACCOUNT_EMAIL_RATE_LIMIT = env_rate("PMO5P_ACCOUNT_EMAIL_RATE_LIMIT", "3/h")
ACCOUNT_EMAIL_CLIENT_RATE_LIMIT = env_rate("PMO5P_ACCOUNT_EMAIL_CLIENT_RATE_LIMIT", "20/h")
# Requests with an unknown or revoked API token per client address; past it, 429.
API_TOKEN_FAILURE_RATE_LIMIT = env_rate("PMO5P_API_TOKEN_FAILURE_RATE_LIMIT", "20/m")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pmo5p.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "pmo5p.api_support.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pmo5p.api_support.error_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": environ.Env().str("PMO5P_API_RATE_LIMIT", default="3000/hour")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "pmo5p API",
    "DESCRIPTION": (
        "Stakeholders, surveys, assessments and the Relationship Marketing Agenda of the PMOs you belong to. "
        "Authenticate with a personal token from your profile page: `Authorization: Bearer pmo5p_…`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags the operations by resource (stakeholders, surveys, …) rather than all by "pmos".
    "SCHEMA_PATH_PREFIX": r"/api/v1(/pmos/\{slug\})?",
    "ENUM_NAME_OVERRIDES": {
        "ElementEnum": "pmo5p.domain.Element.choices",
        # An interaction's kind and a touchpoint's channel: one set of choices, one name.
        "InteractionKindEnum": "stakeholders.models.interactions.InteractionKind.choices",
        "LevelEnum": "stakeholders.models.register.LEVEL_CHOICES",
        "OfferingLevelEnum": "pmo5p.domain.OfferingLevel.choices",
        "MaturityStageEnum": "pmo5p.domain.MaturityStage.choices",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security -------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies in front of the app append to X-Forwarded-For: the client
# address is the entry this many places from the right (pmo5p/client.py).
TRUSTED_PROXY_COUNT = env_int("PMO5P_TRUSTED_PROXY_COUNT", 1, minimum=1)
if not BEHIND_TLS_PROXY and os.environ.get("PMO5P_TRUSTED_PROXY_COUNT", "").strip():
    raise ImproperlyConfigured(
        "PMO5P_TRUSTED_PROXY_COUNT is set but DJANGO_BEHIND_TLS_PROXY is off, so no proxy header is trusted: "
        "set DJANGO_BEHIND_TLS_PROXY=1 behind a reverse proxy, or remove PMO5P_TRUSTED_PROXY_COUNT."
    )

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws form controls (select arrows, check marks) with data: SVGs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": environ.Env().str("LOG_LEVEL", default="INFO")},
    # WeasyPrint narrates every layout step at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}
