"""The demo PMO that `make run` loads: created once, and usable at once."""

import shutil
import subprocess
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


def test_load_demo_names_the_address_the_app_is_served_on(db, settings):
    settings.SITE_URL = "http://127.0.0.1:8300"
    assert "Sign in at http://127.0.0.1:8300/ with one of:" in load_demo()


def test_make_run_on_another_port_links_to_that_port():
    """`make run PORT=8300` serves on 8300, and the demo's sign-in address and the links in
    e-mails say 8300 too, unless PMO5P_SITE_URL says otherwise."""
    make = shutil.which("make")
    assert make, "make is needed to run the app"
    dry_run = subprocess.run(  # noqa: S603 - make, found on the PATH, with fixed arguments
        [make, "-n", "run", "PORT=8300"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    site_url = "PMO5P_SITE_URL=${PMO5P_SITE_URL:-http://127.0.0.1:8300}"
    assert f"{site_url} .venv/bin/python manage.py load_demo" in dry_run
    assert f"{site_url};" in dry_run  # exported for the server and the periodic tasks
    assert "manage.py runserver 127.0.0.1:8300" in dry_run
