"""Configuration and hardening: strict environment variables, production settings, the
Content-Security-Policy, templates without inline scripts, and the admin."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from pmo5p.env import env_bool, env_int, env_list, env_rate
from tests.factories import UserFactory

BASE_DIR = Path(settings.BASE_DIR)
PROJECT_APPS = ["pmo5p", "stakeholders", "agenda"]

# Strict environment helpers ------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " yes "])
def test_env_bool_true(monkeypatch, raw):
    monkeypatch.setenv("PMO5P_TEST_FLAG", raw)
    assert env_bool("PMO5P_TEST_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "Off", ""])
def test_env_bool_false(monkeypatch, raw):
    monkeypatch.setenv("PMO5P_TEST_FLAG", raw)
    assert env_bool("PMO5P_TEST_FLAG", True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_unset_gives_the_default(monkeypatch, default):
    monkeypatch.delenv("PMO5P_TEST_FLAG", raising=False)
    assert env_bool("PMO5P_TEST_FLAG", default) is default


@pytest.mark.parametrize("raw", ["ture", "maybe", "2", "y", "enabled", "-1"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv("PMO5P_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="PMO5P_TEST_FLAG") as error:
        env_bool("PMO5P_TEST_FLAG", False)
    assert repr(raw) in str(error.value)
    assert "not a boolean" in str(error.value)


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), (" 7 ", 7), ("0", 0), ("", 5)])
def test_env_int_reads_whole_numbers(monkeypatch, raw, expected):
    monkeypatch.setenv("PMO5P_TEST_NUMBER", raw)
    assert env_int("PMO5P_TEST_NUMBER", 5) == expected


def test_env_int_unset_gives_the_default(monkeypatch):
    monkeypatch.delenv("PMO5P_TEST_NUMBER", raising=False)
    assert env_int("PMO5P_TEST_NUMBER", 42) == 42


@pytest.mark.parametrize("raw", ["abc", "1.5", "12s", "one", "0x10"])
def test_env_int_refuses_non_numbers(monkeypatch, raw):
    monkeypatch.setenv("PMO5P_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="PMO5P_TEST_NUMBER") as error:
        env_int("PMO5P_TEST_NUMBER", 5)
    assert "not a whole number" in str(error.value)


@pytest.mark.parametrize(("raw", "minimum", "maximum"), [("0", 1, None), ("-3", 0, None), ("11", 1, 10)])
def test_env_int_refuses_out_of_range(monkeypatch, raw, minimum, maximum):
    monkeypatch.setenv("PMO5P_TEST_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="PMO5P_TEST_NUMBER") as error:
        env_int("PMO5P_TEST_NUMBER", 5, minimum=minimum, maximum=maximum)
    assert "out of range" in str(error.value)


def test_env_int_accepts_the_bounds(monkeypatch):
    monkeypatch.setenv("PMO5P_TEST_NUMBER", "10")
    assert env_int("PMO5P_TEST_NUMBER", 5, minimum=1, maximum=10) == 10
    monkeypatch.setenv("PMO5P_TEST_NUMBER", "1")
    assert env_int("PMO5P_TEST_NUMBER", 5, minimum=1, maximum=10) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("a.example, b.example", ["a.example", "b.example"]), ("one", ["one"]), (" , ,x,, ", ["x"]), ("", [])],
)
def test_env_list(monkeypatch, raw, expected):
    monkeypatch.setenv("PMO5P_TEST_LIST", raw)
    assert env_list("PMO5P_TEST_LIST", ["default"]) == expected


def test_env_list_unset_gives_the_default(monkeypatch):
    monkeypatch.delenv("PMO5P_TEST_LIST", raising=False)
    assert env_list("PMO5P_TEST_LIST", ["default"]) == ["default"]


@pytest.mark.parametrize(("raw", "expected"), [("3/h", "3/h"), (" 120/m ", "120/m"), ("5/15m", "5/15m"), ("", "9/d")])
def test_env_rate_reads_django_ratelimits_rates(monkeypatch, raw, expected):
    monkeypatch.setenv("PMO5P_TEST_RATE", raw)
    assert env_rate("PMO5P_TEST_RATE", "9/d") == expected


@pytest.mark.parametrize("raw", ["3/hour", "3 per hour", "abc", "/h", "3/"])
def test_env_rate_refuses_what_is_not_a_rate(monkeypatch, raw):
    monkeypatch.setenv("PMO5P_TEST_RATE", raw)
    with pytest.raises(ImproperlyConfigured, match="PMO5P_TEST_RATE") as error:
        env_rate("PMO5P_TEST_RATE", "3/h")
    assert "is not a rate such as 120/m" in str(error.value)


# Production settings, in a fresh process ----------------------------------------------


def clean_env(tmp_path, **variables) -> dict:
    """The environment of a fresh process: none of the test run's own settings, var/ in tmp_path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PMO5P_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DEFAULT_FROM_EMAIL", "LOG_LEVEL", "PYTHONPATH"}
    }
    env["PMO5P_VAR_DIR"] = str(tmp_path / "var")
    env.update(variables)
    return env


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    result = run(["-c", "import pmo5p.settings"], clean_env(tmp_path, DJANGO_DEBUG="0"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off." in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_settings_without_debug_set_are_production_settings(tmp_path):
    """DEBUG defaults to off: forgetting DJANGO_DEBUG never starts a debug server."""
    result = run(["-c", "import pmo5p.settings"], clean_env(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_a_typo_in_django_debug_stops_the_process(tmp_path):
    result = run(["-c", "import pmo5p.settings"], clean_env(tmp_path, DJANGO_DEBUG="maybe", DJANGO_SECRET_KEY="x" * 50))
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_a_typo_in_a_number_stops_the_process(tmp_path):
    env = clean_env(tmp_path, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, DJANGO_HSTS_SECONDS="a year")
    result = run(["-c", "import pmo5p.settings"], env)
    assert result.returncode != 0
    assert "DJANGO_HSTS_SECONDS='a year' is not a whole number" in result.stderr


PRINT_LEASE = "import pmo5p.settings as s; print(s.OUTBOX_LEASE_SECONDS, s.EMAIL_TIMEOUT)"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [({}, "600 30"), ({"EMAIL_TIMEOUT": "30", "PMO5P_OUTBOX_LEASE_SECONDS": "301"}, "301 30")],
)
def test_the_outbox_lease_outlasts_a_send_waiting_on_every_reply(tmp_path, variables, expected):
    result = run(["-c", PRINT_LEASE], clean_env(tmp_path, DJANGO_DEBUG="1", **variables))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(("timeout", "lease"), [("30", "300"), ("30", "120"), ("60", "600")])
def test_a_lease_shorter_than_ten_email_timeouts_stops_the_process(tmp_path, timeout, lease):
    """EMAIL_TIMEOUT bounds each SMTP reply, and a send waits for about eight of them."""
    env = clean_env(tmp_path, DJANGO_DEBUG="1", EMAIL_TIMEOUT=timeout, PMO5P_OUTBOX_LEASE_SECONDS=lease)
    result = run(["-c", PRINT_LEASE], env)
    assert result.returncode != 0
    assert f"PMO5P_OUTBOX_LEASE_SECONDS={lease} must exceed 10 × EMAIL_TIMEOUT={timeout}" in result.stderr
    assert "EMAIL_TIMEOUT bounds each reply of the mail server" in result.stderr


PRINT_PROXY = "import pmo5p.settings as s; print(s.BEHIND_TLS_PROXY, s.TRUSTED_PROXY_COUNT)"


@pytest.mark.parametrize(("variables", "expected"), [({}, "True 1"), ({"PMO5P_TRUSTED_PROXY_COUNT": "2"}, "True 2")])
def test_behind_a_proxy_the_number_of_proxies_defaults_to_one(tmp_path, variables, expected):
    env = clean_env(tmp_path, DJANGO_DEBUG="1", DJANGO_BEHIND_TLS_PROXY="1", **variables)
    result = run(["-c", PRINT_PROXY], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("0", "PMO5P_TRUSTED_PROXY_COUNT=0 is out of range"), ("two", "PMO5P_TRUSTED_PROXY_COUNT='two' is not a whole")],
)
def test_a_bad_number_of_proxies_stops_the_process(tmp_path, raw, message):
    env = clean_env(tmp_path, DJANGO_DEBUG="1", DJANGO_BEHIND_TLS_PROXY="1", PMO5P_TRUSTED_PROXY_COUNT=raw)
    result = run(["-c", PRINT_PROXY], env)
    assert result.returncode != 0
    assert message in result.stderr


def test_a_number_of_proxies_without_proxy_mode_stops_the_process(tmp_path):
    """Setting the count does not turn proxy mode on; saying so beats trusting nothing in silence."""
    env = clean_env(tmp_path, DJANGO_DEBUG="1", PMO5P_TRUSTED_PROXY_COUNT="1")
    result = run(["-c", PRINT_PROXY], env)
    assert result.returncode != 0
    assert "PMO5P_TRUSTED_PROXY_COUNT is set but DJANGO_BEHIND_TLS_PROXY is off" in result.stderr


def test_debug_settings_keep_a_development_key_in_the_var_dir(tmp_path):
    env = clean_env(tmp_path, DJANGO_DEBUG="1")
    code = "import pmo5p.settings as s; print(s.SECRET_KEY); print(s.DEBUG)"
    first, second = run(["-c", code], env), run(["-c", code], env)
    assert first.returncode == 0, first.stderr
    key, debug = first.stdout.split()
    assert debug == "True"
    assert len(key) >= 50
    assert second.stdout.split()[0] == key  # sessions survive a restart
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o777 == 0o600


def production_env(tmp_path, **variables) -> dict:
    """A fresh process's environment with production settings: debug off, a strong key."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#%^&*(-_=+)"
    return clean_env(
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        DJANGO_ALLOWED_HOSTS="pmo5p.example.com",
        DJANGO_SETTINGS_MODULE="pmo5p.settings",
        **variables,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    env = production_env(tmp_path, PMO5P_SITE_URL="https://pmo5p.example.com")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_do_fail_on_an_insecure_setting(tmp_path):
    """The check above can fail: a weak secret key is reported."""
    env = clean_env(
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="short",
        DJANGO_ALLOWED_HOSTS="pmo5p.example.com",
        DJANGO_SETTINGS_MODULE="pmo5p.settings",
    )
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("site_url", "check"),
    [(None, "pmo5p.W001"), ("http://localhost:8000", "pmo5p.W001"), ("http://pmo5p.example.com", "pmo5p.W002")],
)
def test_the_deployment_checks_fail_on_a_site_url_that_e_mails_cannot_use(tmp_path, site_url, check):
    """Links in e-mails start with PMO5P_SITE_URL: left at the development default or on plain
    HTTP, reset and invitation links would be wrong in silence."""
    env = production_env(tmp_path, **({"PMO5P_SITE_URL": site_url} if site_url else {}))
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert check in result.stdout + result.stderr


# Content-Security-Policy -------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    assert "Content-Security-Policy" in response.headers, f"No CSP header on {response.request['PATH_INFO']}"
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


PAGES = [
    # (id, who signs in, url name or callable(world) -> url, expected status)
    ("login", None, lambda w: reverse("login"), 200),
    ("password-reset", None, lambda w: reverse("password_reset"), 200),
    ("signup-closed-404", None, lambda w: reverse("signup"), 404),
    ("unknown-invitation-404", None, lambda w: "/invitations/nope/", 404),
    ("anonymous-redirect", None, lambda w: reverse("pmo_list"), 302),
    ("home-redirect", "lead", lambda w: reverse("home"), 302),
    ("pmo-list", "lead", lambda w: reverse("pmo_list"), 200),
    ("pmo-create", "lead", lambda w: reverse("pmo_create"), 200),
    ("pmo-home", "lead", lambda w: w.pmo.get_absolute_url(), 200),
    ("members", "lead", lambda w: reverse("members", kwargs={"slug": w.pmo.slug}), 200),
    ("member-invite", "lead", lambda w: reverse("member_invite", kwargs={"slug": w.pmo.slug}), 200),
    ("pmo-settings", "lead", lambda w: reverse("pmo_settings", kwargs={"slug": w.pmo.slug}), 200),
    ("pmo-settings-403", "viewer", lambda w: reverse("pmo_settings", kwargs={"slug": w.pmo.slug}), 403),
    ("other-pmo-404", "lead", lambda w: w.other_pmo.get_absolute_url(), 404),
    ("five-p-model", "viewer", lambda w: reverse("five_p_model", kwargs={"slug": w.pmo.slug}), 200),
    ("stakeholders", "member", lambda w: reverse("stakeholder_list", kwargs={"slug": w.pmo.slug}), 200),
    ("profile", "member", lambda w: reverse("profile"), 200),
    ("password-change", "member", lambda w: reverse("password_change"), 200),
    ("admin-login", None, lambda w: reverse("admin:login"), 200),
    ("admin-index", "superuser", lambda w: reverse("admin:index"), 200),
]


@pytest.mark.parametrize(("who", "url", "status"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_every_page_carries_a_strict_content_security_policy(client, world, who, url, status):
    if who == "superuser":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    elif who:
        client.force_login(getattr(world, who))
    response = client.get(url(world))
    assert response.status_code == status

    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    header = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header
    assert "Content-Security-Policy-Report-Only" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _page_templates():
    roots = [BASE_DIR / "templates", *(BASE_DIR / app / "templates" for app in PROJECT_APPS)]
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.html")):
            relative = path.relative_to(root)
            if relative.parts[0] == "emails":
                continue  # e-mails are not served under the CSP
            yield path


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)


def test_the_template_walk_finds_the_templates():
    names = {path.name for path in _page_templates()}
    assert {"base.html", "login.html", "members.html", "pmo_list.html"} <= names
    assert not any(path.parent.name == "emails" for path in _page_templates())


def test_no_template_has_an_inline_script():
    offenders = []
    for path in _page_templates():
        source = path.read_text()
        for attributes, content in SCRIPT.findall(source):
            if not re.search(r"\bsrc\s*=", attributes) or content.strip():
                offenders.append(f"{path.relative_to(BASE_DIR)}: <script{attributes}>{content.strip()[:60]}")
        if re.search(r"<script\b", source, re.IGNORECASE) and len(SCRIPT.findall(source)) != len(
            re.findall(r"<script\b", source, re.IGNORECASE)
        ):
            offenders.append(f"{path.relative_to(BASE_DIR)}: a <script> tag without its closing tag")
    assert offenders == [], "Inline scripts break the CSP; load them from static/js:\n" + "\n".join(offenders)


def test_no_template_has_inline_event_handlers_or_javascript_urls():
    """The CSP blocks these as it blocks inline scripts."""
    offenders = []
    for path in _page_templates():
        source = path.read_text()
        for match in re.finditer(r"<[a-zA-Z][^>]*\son[a-z]+\s*=|javascript:", source):
            offenders.append(f"{path.relative_to(BASE_DIR)}: {match.group(0)[:80]}")
    assert offenders == []


def test_the_inline_script_check_catches_one():
    assert SCRIPT.findall('<script src="/static/js/app.js"></script>') == [(' src="/static/js/app.js"', "")]
    attributes, content = SCRIPT.findall("<script>\n alert(1)\n</script>")[0]
    assert "src" not in attributes and content.strip() == "alert(1)"


# The admin ---------------------------------------------------------------------------------


def project_models():
    return [model for label in PROJECT_APPS for model in apps.get_app_config(label).get_models()]


def test_every_model_is_registered_in_the_admin():
    models = project_models()
    assert {"User", "Pmo", "Membership", "MemberInvitation", "Segment", "Stakeholder"} <= {m.__name__ for m in models}
    missing = [f"{m._meta.app_label}.{m.__name__}" for m in models if not admin.site.is_registered(m)]
    assert missing == [], f"Not in the admin: {missing}"


@pytest.fixture
def superuser(db):
    return UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)


# Unregistered models fail test_every_model_is_registered_in_the_admin; here each registered one opens.
@pytest.mark.parametrize(
    "model",
    [model for model in project_models() if admin.site.is_registered(model)],
    ids=lambda m: f"{m._meta.app_label}.{m.__name__}",
)
def test_superuser_opens_each_admin_page(client, world, superuser, model):
    client.force_login(superuser)
    info = (model._meta.app_label, model._meta.model_name)

    response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert response.status_code == 200
    response = client.get(reverse("admin:{}_{}_changelist".format(*info)), {"q": "alpha"})
    assert response.status_code == 200

    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    response = client.get(reverse("admin:{}_{}_add".format(*info)))
    assert response.status_code == (200 if model_admin.has_add_permission(request) else 403)

    instance = model._default_manager.order_by("pk").first()
    if instance is not None:
        response = client.get(reverse("admin:{}_{}_change".format(*info), args=[instance.pk]))
        assert response.status_code == 200


def test_admin_adds_a_user_by_email(client, superuser):
    from pmo5p.models import User

    client.force_login(superuser)
    response = client.post(
        reverse("admin:pmo5p_user_add"),
        {
            "email": "added@example.com",
            "name": "Added By Admin",
            "password1": "an-admin-chosen-pass-9",
            "password2": "an-admin-chosen-pass-9",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(email="added@example.com")
    assert user.name == "Added By Admin"
    assert user.check_password("an-admin-chosen-pass-9")


@pytest.mark.parametrize("who", ["member", "lead"])
def test_non_staff_users_are_sent_to_the_admin_login(client, world, who):
    client.force_login(getattr(world, who))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next=/admin/"
    response = client.get(reverse("admin:pmo5p_pmo_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitor_is_sent_to_the_admin_login(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next=/admin/"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [({}, "60 True"), ({"DJANGO_CONN_MAX_AGE": "0"}, "0 True"), ({"DJANGO_CONN_MAX_AGE": "300"}, "300 True")],
)
def test_production_keeps_database_connections_with_health_checks(tmp_path, variables, expected):
    show = (
        "from pmo5p import settings as s; d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    result = run(["-c", show], production_env(tmp_path, **variables))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == expected


def test_debug_mode_opens_a_connection_per_request(tmp_path):
    show = "from pmo5p import settings as s; print(s.DATABASES['default']['CONN_MAX_AGE'])"
    result = run(["-c", show], clean_env(tmp_path, DJANGO_DEBUG="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "0"
