"""The demo PMO that `make run` loads: created once, and usable at once."""

import shutil
import subprocess
import sys
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from agenda.demo import DEMO_PASSWORD, DEMO_SLUG, DEMO_USERS, SERVICES
from agenda.models import Action
from pmo5p import outbox
from pmo5p.domain import ServiceUsage
from pmo5p.models import Membership, OutgoingEmail, Pmo, Role, User
from stakeholders.cases.opening import due_on
from stakeholders.models import (
    CaseStatus,
    FollowUpCase,
    RecoveryPulse,
    Response,
    Segment,
    Service,
    ServiceAnswer,
    ServiceStatus,
    Stakeholder,
    Survey,
)
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
    assert response["Location"] == f"/pmo/{DEMO_SLUG}/my-week/"

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
    assert response.redirect_chain[-1][0] == f"/pmo/{DEMO_SLUG}/my-week/"
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


# The service catalogue (issue 12) ---------------------------------------------------------------


def service_story(survey) -> dict[str, tuple[float, float, float | None]]:
    """Each asked service's awareness and usage (% of those asked) and its users' mean
    satisfaction (1–5, "Don't know" left out), counted here from the stored answers."""
    story = {}
    for asked in survey.survey_services.all():
        usages = list(asked.answers.values_list("usage", flat=True))
        ratings = [r for r in asked.answers.values_list("satisfaction", flat=True) if r is not None]
        story[asked.name] = (
            100 * sum(u != ServiceUsage.UNAWARE for u in usages) / len(usages),
            100 * sum(u == ServiceUsage.USES for u in usages) / len(usages),
            sum(ratings) / len(ratings) if ratings else None,
        )
    return story


def test_demo_has_a_catalogue_of_services_in_the_pmo(demo):
    pmo, _ = demo
    services = {s.name: s for s in Service.objects.filter(pmo=pmo).prefetch_related("segments")}
    assert sorted(services) == sorted(name for name, *_ in SERVICES)
    assert 6 <= len(services) <= 8
    for service in services.values():
        assert service.owner.pmo == pmo
        assert all(segment.pmo == pmo for segment in service.segments.all())
        assert service.level_now <= service.level_target
        assert service.events.count() == 1  # its history starts at its creation
    assert {s.status for s in services.values()} == {ServiceStatus.LIVE, ServiceStatus.PILOT}
    # A few agenda actions develop a service, and only the PMO's own.
    linked = Action.objects.filter(pmo=pmo, service__isnull=False)
    assert linked.count() >= 4 and not linked.exclude(service__pmo=pmo).exists()
    assert set(linked.values_list("service__name", flat=True)) >= {"Methods and templates", "Help desk"}


def test_demo_surveys_asked_about_the_services_and_tell_the_catalogues_story(demo):
    pmo, _ = demo
    autumn, spring = Survey.objects.filter(pmo=pmo).order_by("launched_at")
    assert [s.name for s in autumn.survey_services.all()] == sorted(n for n, *_ in SERVICES if n != "Benefits tracking")
    assert len(spring.survey_services.all()) == len(SERVICES)

    answers = ServiceAnswer.objects.filter(response__survey__pmo=pmo).select_related("survey_service", "response")
    assert answers.count() > 100
    for answer in answers:
        # Asked only of those the service serves; rated only by its users.
        assert answer.survey_service.serves_segment(answer.response.segment_id)
        if answer.usage != ServiceUsage.USES:
            assert answer.satisfaction is None and answer.importance is None

    story = service_story(spring)
    awareness = {name: aware for name, (aware, _, _) in story.items()}
    satisfaction = {name: rating for name, (_, _, rating) in story.items()}
    # Valued: widely known and well rated.
    for name in ("Portfolio reporting", "Help desk"):
        assert awareness[name] >= 80 and satisfaction[name] >= 3.8, (name, story[name])
    # Little known: the least known of all.
    assert awareness["Resource management"] <= 40
    assert min(awareness, key=awareness.get) == "Resource management"
    # Used but disappointing: most use it, and it is rated lowest.
    aware, usage, rating = story["Methods and templates"]
    assert usage >= 60 and rating <= 2.8
    assert min((r, n) for n, r in satisfaction.items() if r is not None)[1] == "Methods and templates"
    # Known but unused.
    aware, usage, _ = story["Training and coaching"]
    assert aware >= 70 and usage <= 25


def test_every_named_detractor_of_the_demo_has_a_follow_up_case(demo):
    pmo, _ = demo
    detractors = Response.objects.filter(survey__pmo=pmo, survey__anonymous=False, nps__lte=6).select_related(
        "invitation__stakeholder"
    )
    assert detractors.count() >= 10
    cases = {case.response_id: case for case in FollowUpCase.objects.filter(pmo=pmo)}
    assert set(cases) == {response.pk for response in detractors}
    lead = pmo.memberships.get(role=Role.LEAD, user__email=DEMO_USERS[0][0])
    taken_by_the_lead = 0
    for response in detractors:
        case = cases[response.pk]
        stakeholder = response.invitation.stakeholder
        # Their relationship owner's, or, with none, the lead's, who took it from the leads.
        assert (case.stakeholder_id, case.owner_id, case.nps_before) == (
            stakeholder.pk,
            stakeholder.owner_id or lead.pk,
            response.nps,
        )
        taken_by_the_lead += stakeholder.owner_id is None
        assert (case.opened_at, case.due_on) == (response.submitted_at, due_on(pmo, response.submitted_at))
        assert case.root_element and case.root_element == case.suggested_element
        # Escalated (as history: loading the demo e-mails nobody) when its first contact came late or never.
        late = case.first_contact_at is None or timezone.localdate(case.first_contact_at) > case.due_on
        assert (case.escalated_at is not None) == late
    assert taken_by_the_lead > 0
    # Followed up as a team would: most contacted, some resolved with a pulse answered, a few still open.
    statuses = Counter(FollowUpCase.objects.filter(pmo=pmo).values_list("status", flat=True))
    assert statuses[CaseStatus.RESOLVED] > statuses[CaseStatus.OPEN] > 0
    assert statuses[CaseStatus.CONTACTED] > 0 and statuses[CaseStatus.CLOSED] > 0
    pulses = RecoveryPulse.objects.filter(case__pmo=pmo)
    assert pulses.count() > 0 and not pulses.filter(answered_at__isnull=True).exists()
    # Their e-mails are history too: answered already, the outbox finds them not needed.
    pulse_emails = OutgoingEmail.objects.filter(pmo=pmo, kind=OutgoingEmail.Kind.RECOVERY_PULSE)
    assert pulse_emails.count() == pulses.count()
    for email in pulse_emails:
        outbox.send(email.pk)
    assert set(pulse_emails.values_list("status", flat=True)) == {OutgoingEmail.Status.CANCELLED}


def test_demo_has_a_communication_plan_and_touches_that_are_due_and_not(demo):
    from django.utils import timezone

    from stakeholders.engagement import with_engagement
    from stakeholders.models import HIGH_LEVEL, OccurrenceStatus, Recurrence, Touchpoint, TouchpointOccurrence

    pmo, _ = demo
    today = timezone.localdate()
    plan = {t.recurrence: t for t in Touchpoint.objects.filter(pmo=pmo).exclude(recurrence=Recurrence.ONCE)}
    assert set(plan) == {Recurrence.MONTHLY, Recurrence.QUARTERLY}
    assert plan[Recurrence.MONTHLY].segment.name == "Executive sponsors"
    assert Touchpoint.objects.filter(pmo=pmo, recurrence=Recurrence.ONCE).count() >= 3
    dates = TouchpointOccurrence.objects.filter(pmo=pmo)
    assert dates.filter(status=OccurrenceStatus.PLANNED, on__lt=today).count() == 1  # one missed
    (done,) = dates.filter(status=OccurrenceStatus.DONE)
    assert done.interaction is not None and done.interaction.stakeholders.count() >= 2
    # Every date a row, each with its touchpoint's PMO.
    assert not dates.exclude(touchpoint__pmo=pmo).exists()
    # The last touch follows the interactions; some influential relationships are overdue, some not.
    influential = with_engagement(pmo.stakeholders.filter(is_active=True, influence__gte=HIGH_LEVEL), pmo, today)
    overdue = {s.name: s.touch_overdue for s in influential}
    assert any(overdue.values()) and not all(overdue.values()), overdue
    assert pmo.stakeholders.filter(last_touched_on__isnull=False).count() >= 10
    own = pmo.stakeholders.filter(target_stage__isnull=False)
    assert own.count() == 2 and all(s.target_reason for s in own)
