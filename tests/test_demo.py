"""The demo PMO that `make run` loads: created once, and usable at once."""

import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Max
from django.urls import reverse

from agenda.demo import DEMO_PASSWORD, DEMO_SLUG, DEMO_USERS
from pmo5p.models import Membership, Pmo, Role, User
from stakeholders.models import Segment, Stakeholder
from tests.factories import PASSWORD, UserFactory
from tests.helpers import text
from tests.test_settings import BASE_DIR, clean_env


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def database_state() -> dict:
    """The row count and the highest id of every table."""
    state = {}
    for model in apps.get_models():
        manager = model._base_manager
        state[model._meta.label] = (manager.count(), manager.aggregate(top=Max("pk"))["top"])
    return state


@pytest.fixture
def demo(db):
    output = load_demo()
    return Pmo.objects.get(slug=DEMO_SLUG), output


def test_load_demo_creates_the_demo_pmo(demo):
    pmo, output = demo
    assert pmo.slug == "demo"
    assert pmo.name
    assert "loaded" in output
    for email, _name, _role in DEMO_USERS:
        assert email in output
    assert DEMO_PASSWORD in output


def test_demo_users_have_their_roles(demo):
    pmo, _ = demo
    assert [role for _e, _n, role in DEMO_USERS] == [Role.LEAD, Role.MEMBER, Role.VIEWER]
    for email, name, role in DEMO_USERS:
        user = User.objects.get(email=email)
        assert user.name == name
        assert user.check_password(DEMO_PASSWORD)
        assert not user.is_staff
        assert Membership.objects.get(pmo=pmo, user=user).role == role
    assert pmo.memberships.count() == len(DEMO_USERS)


def test_demo_has_stakeholders_and_segments(demo):
    pmo, _ = demo
    stakeholders = Stakeholder.objects.filter(pmo=pmo)
    assert stakeholders.count() >= 20
    assert Segment.objects.filter(pmo=pmo).count() >= 3
    # Every stakeholder's segment and owner belong to the demo PMO itself.
    assert not stakeholders.exclude(segment__pmo=pmo).exists()
    assert not stakeholders.filter(owner__isnull=False).exclude(owner__pmo=pmo).exists()
    for value in stakeholders.values_list("influence", "interest"):
        assert all(1 <= level <= 5 for level in value)
    # Stakeholders' e-mail addresses are unique within the PMO (the database says so too).
    emails = [e.lower() for e in stakeholders.exclude(email="").values_list("email", flat=True)]
    assert len(emails) == len(set(emails))


def test_a_second_load_changes_nothing(demo):
    before = database_state()
    output = load_demo()
    assert database_state() == before
    assert "already there; nothing changed" in output


def test_load_demo_reuses_an_existing_account(db):
    """Someone who already has the demo lead's address keeps their account and password."""
    existing = UserFactory(email=DEMO_USERS[0][0], name="Already Here")
    load_demo()
    user = User.objects.get(email=DEMO_USERS[0][0])
    assert user.pk == existing.pk
    assert user.check_password(PASSWORD)
    assert Membership.objects.get(pmo__slug=DEMO_SLUG, user=user).role == Role.LEAD


def test_demo_lead_signs_in_and_sees_the_pmo_home(client, demo):
    pmo, _ = demo
    lead_email = DEMO_USERS[0][0]
    response = client.post(reverse("login"), {"username": lead_email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")

    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"/pmo/{DEMO_SLUG}/"

    response = client.get(response["Location"])
    assert response.status_code == 200
    page = text(response)
    assert pmo.name in page
    # The lead manages the PMO: the settings are offered.
    assert reverse("pmo_settings", kwargs={"slug": DEMO_SLUG}) in page


@pytest.mark.parametrize(("email", "_name", "role"), DEMO_USERS[1:], ids=[role.value for *_, role in DEMO_USERS[1:]])
def test_other_demo_users_sign_in_too(client, demo, email, _name, role):
    response = client.post(reverse("login"), {"username": email, "password": DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/pmo/{DEMO_SLUG}/"
    assert response.context["current_membership"].role == role


# The address it prints ------------------------------------------------------------------------


def test_load_demo_prints_the_site_url_to_sign_in_at(db, settings):
    settings.SITE_URL = "http://127.0.0.1:8300"
    assert "Sign in at http://127.0.0.1:8300/ with one of:" in load_demo()


def make(*args, tmp_path) -> subprocess.CompletedProcess:
    """`make` in the project with this interpreter's virtualenv (never installing anything)."""
    assert shutil.which("make"), "make is needed to run pmo5p"
    venv = tmp_path / "unused-venv"
    bin_dir = Path(sys.executable).parent
    command = ["make", "--no-print-directory", f"VENV={venv}", f"BIN={bin_dir}", "-o", f"{venv}/.runtime", *args]
    return subprocess.run(  # noqa: S603
        command, cwd=BASE_DIR, env=clean_env(tmp_path), capture_output=True, text=True, timeout=300, check=False
    )


def test_make_demo_prints_the_port_make_run_serves_on(tmp_path):
    """`make run PORT=8300` runs this target first: its sign-in address is the server's."""
    result = make("demo", "PORT=8300", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sign in at http://127.0.0.1:8300/ with one of:" in result.stdout
    assert "8000" not in result.stdout.split("load_demo", 1)[1]


def test_make_run_gives_the_server_and_its_e_mails_the_same_address(tmp_path):
    commands = make("-n", "run", "HOST=0.0.0.0", "PORT=8301", tmp_path=tmp_path).stdout
    assert "runserver 0.0.0.0:8301" in commands
    # Links in e-mails (and the sign-in address) point where this machine reaches the server.
    assert commands.count("PMO5P_SITE_URL=${PMO5P_SITE_URL:-http://127.0.0.1:8301}") == 2
