"""Escalating overdue follow-up cases (stakeholders/cases/escalation.py, docs/follow-up.md
"Escalation"): once per case, to each lead, only once its due date has passed in its PMO's
time zone, never for a case contacted, cancelled if it is contacted before the e-mail's turn;
the e-mail escapes what users typed; beat's entry and run_periodic_tasks run it."""

import io
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import OutgoingEmail, Role
from stakeholders import tasks
from stakeholders.cases import escalation
from stakeholders.cases.opening import open_anonymous_cases, open_for_response
from stakeholders.models import FollowUpCase
from stakeholders.surveys import lifecycle as surveys
from tests.factories import MembershipFactory, ResponseFactory, StakeholderFactory, UserFactory, every
from tests.helpers import at_once
from tests.outbox_helpers import settle
from tests.survey_helpers import html_text, open_survey

Kind, Status = OutgoingEmail.Kind, OutgoingEmail.Status

# Opened on Friday 20 November 2026 in New York, due 5 working days later: Friday 27 November.
OPENED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DUE = date(2026, 11, 27)


def new_york(*args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture
def pmo(world):
    world.pmo.time_zone = "America/New_York"
    world.pmo.save()
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="lead2@alpha.example", user__name="Lee Two")
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="gone@alpha.example", user__is_active=False)
    return world.pmo


def named_case(world, *, name=None, owner=True, opened=OPENED) -> FollowUpCase:
    stakeholder = world.stakeholder
    if name:
        stakeholder.name = name
    stakeholder.owner = world.membership(world.member) if owner else None
    stakeholder.save()
    survey, (invitation,) = open_survey(world.pmo, [stakeholder], title="Spring <pulse>")
    response = ResponseFactory(invitation=invitation, nps=2, ratings={**every(4), "price": (1, 2)})
    return open_for_response(response, now=opened)


def test_a_case_is_escalated_once_its_due_date_has_passed_in_the_pmos_time_zone(world, pmo):
    case = named_case(world)
    assert case.due_on == DUE
    # Saturday 04:30 UTC is still Friday 23:30 in New York: not yet.
    assert escalation.escalate_overdue_cases(now=new_york(2026, 11, 27, 23, 30)) == 0
    assert escalation.escalate_overdue_cases(now=datetime(2026, 11, 28, 4, 30, tzinfo=UTC)) == 0
    assert not OutgoingEmail.objects.exists()
    # Saturday 00:05 in New York: overdue.
    now = new_york(2026, 11, 28, 0, 5)
    assert escalation.escalate_overdue_cases(now=now) == 1
    assert escalation.escalate_overdue_cases(now=now) == 0  # run twice: once
    assert tasks.escalate_overdue_cases() == 0  # and beat's task, later
    case.refresh_from_db()
    assert (case.escalated_at, case.status) == (now, "open")

    rows = OutgoingEmail.objects.filter(kind=Kind.CASE_ESCALATION)
    # One row per active lead, and never to the case's owner as such (a member here).
    assert sorted(row.to[0] for row in rows) == ["lead2@alpha.example", "lead@alpha.example"]
    assert {row.source for row in rows} == {case}
    settle()
    assert sorted(m.to[0] for m in mail.outbox) == ["lead2@alpha.example", "lead@alpha.example"]
    message = mail.outbox[0]
    assert message.subject == "Overdue follow-up: Fiona Finance (Alpha PMO)"
    link = f"http://testserver/pmo/alpha/follow-up/{case.pk}/"
    for part in (message.body, html_text(message.alternatives[0][0])):
        assert "The follow-up case of Fiona Finance" in part and "who gave Alpha PMO 2/10" in part
        assert "was due its first contact by Friday 27 November 2026" in part
        assert f"Owner: {world.member.get_full_name()}" in part
        assert "Spring <pulse>" in part
    assert link in message.body and f'href="{link}"' in message.alternatives[0][0]


def test_no_escalation_for_a_case_contacted_resolved_or_closed(world, pmo):
    case = named_case(world)
    for status in ("contacted", "resolved", "closed"):
        FollowUpCase.objects.filter(pk=case.pk).update(status=status, closed_reason="Spoke to her")
        assert escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30)) == 0
    assert not OutgoingEmail.objects.exists()
    assert FollowUpCase.objects.get(pk=case.pk).escalated_at is None


def test_an_escalation_is_cancelled_if_the_case_is_contacted_before_it_is_sent(
    world, pmo, django_capture_on_commit_callbacks
):
    case = named_case(world)
    with django_capture_on_commit_callbacks():  # the wake-ups are not run yet
        assert escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30)) == 1
    FollowUpCase.objects.filter(pk=case.pk).update(status="contacted", first_contact_at=timezone.now())
    outbox.sweep()
    assert mail.outbox == []
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {Status.CANCELLED}


def test_an_unowned_case_says_so(world, pmo):
    named_case(world, owner=False)
    escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30))
    settle()
    assert "Owner: nobody: the PMO's leads" in mail.outbox[0].body


def test_hostile_text_is_escaped_and_the_subject_is_one_line(world, pmo):
    hostile = "<script>alert(1)</script>\nBcc: x@evil.example"
    named_case(world, name=hostile)
    escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30))
    settle()
    message = mail.outbox[0]
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject == "Overdue follow-up: <script>alert(1)</script> Bcc: x@evil.example (Alpha PMO)"
    assert message.message()["Bcc"] is None
    html = message.alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Spring &lt;pulse&gt;" in html
    assert hostile in message.body  # the text part is plain text, not HTML


def test_an_anonymous_groups_escalation_names_its_segment_and_p_only(world, pmo):
    people = [world.stakeholder] + [
        StakeholderFactory(pmo=world.pmo, segment=world.segment, name=f"Secret {n}") for n in range(3)
    ]
    for person in people:
        person.owner = world.membership(world.member)
        person.save()
    survey, invitations = open_survey(world.pmo, people, anonymous=True, title="Quiet")
    for invitation in invitations:
        ResponseFactory(invitation=invitation, nps=3, ratings={**every(4), "process": (1, 1)}, comment="Too slow")
    surveys.close(survey, now=OPENED)
    (case,) = open_anonymous_cases(survey)
    assert escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30)) == 1
    settle()
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.subject == "Overdue follow-up: Finance on Process (Alpha PMO)"
    for part in (message.subject, message.body, html_text(message.alternatives[0][0])):
        for secret in ("Fiona", "Secret", "Too slow", "member@alpha.example", "/10"):
            assert secret not in part
    assert 'the anonymous survey "Quiet" in Finance, on Process,' in message.body
    assert "Owner: nobody: the PMO's leads" in message.body


def test_a_case_that_cannot_be_escalated_leaves_the_others_to_go(world, pmo, monkeypatch):
    first = named_case(world)
    other = StakeholderFactory(pmo=world.pmo, name="Otto Other")
    survey, (invitation,) = open_survey(world.pmo, [other])
    second = open_for_response(ResponseFactory(invitation=invitation, nps=0), now=OPENED)
    real = escalation.queue_escalation

    def fails_for_first(case):
        if case.pk == first.pk:
            raise RuntimeError("boom")
        return real(case)

    monkeypatch.setattr(escalation, "queue_escalation", fails_for_first)
    assert escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30)) == 1
    assert FollowUpCase.objects.get(pk=first.pk).escalated_at is None  # tried again next run
    assert FollowUpCase.objects.get(pk=second.pk).escalated_at is not None
    monkeypatch.setattr(escalation, "queue_escalation", real)
    assert escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30)) == 1


def test_the_claim_reads_the_partial_index(world, pmo):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL's EXPLAIN.")
    candidates = FollowUpCase.objects.filter(**escalation.OPEN_NOT_ESCALATED, due_on__lte=date(2026, 11, 28))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = candidates.explain()
    assert "case_escalation_due" in plan


def test_beat_and_run_periodic_tasks_escalate(world, pmo):
    entry = settings.CELERY_BEAT_SCHEDULE["escalate-overdue-cases"]
    assert entry["task"] == "stakeholders.tasks.escalate_overdue_cases"
    assert entry["schedule"] == 15 * 60
    named_case(world, opened=timezone.now() - timedelta(days=30))
    call_command("run_periodic_tasks", "--once", stdout=io.StringIO())
    assert FollowUpCase.objects.get().escalated_at is not None
    assert sorted(m.to[0] for m in mail.outbox if "Overdue follow-up" in m.subject) == [
        "lead2@alpha.example",
        "lead@alpha.example",
    ]


# Concurrency (PostgreSQL) ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_skips_the_case_another_run_holds(world, pmo):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SKIP LOCKED, and SQLite serialises writers.")
    case = named_case(world)
    now = OPENED + timedelta(days=30)
    outcomes = []

    def second_run():
        try:
            outcomes.append(escalation.escalate_overdue_cases(now=now))
        finally:
            connections.close_all()

    with transaction.atomic():
        assert escalation._escalate(case.pk, now)  # holds the case until it commits
        thread = threading.Thread(target=second_run)
        thread.start()
        thread.join(timeout=30)
        assert outcomes == [0]  # skipped at once, not waiting for the lock
    assert escalation.escalate_overdue_cases(now=now) == 0
    assert OutgoingEmail.objects.filter(kind=Kind.CASE_ESCALATION).count() == 2


THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_many_runs_at_once_escalate_each_case_once(world, pmo):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SKIP LOCKED, and SQLite serialises writers.")
    people = [StakeholderFactory(pmo=world.pmo) for _ in range(5)]
    survey, invitations = open_survey(world.pmo, people)
    for invitation in invitations:
        open_for_response(ResponseFactory(invitation=invitation, nps=1), now=OPENED)
    now = OPENED + timedelta(days=30)
    counts = at_once(THREADS, lambda n: escalation.escalate_overdue_cases(now=now))
    assert sum(counts) == 5
    assert not FollowUpCase.objects.filter(escalated_at__isnull=True).exists()
    rows = OutgoingEmail.objects.filter(kind=Kind.CASE_ESCALATION)
    assert rows.count() == 5 * 2  # one per case and active lead
    assert len({(row.source_id, row.to[0]) for row in rows}) == 10


def test_a_lead_without_an_address_is_left_out(world, pmo):
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user=UserFactory(email=""))
    named_case(world)
    escalation.escalate_overdue_cases(now=OPENED + timedelta(days=30))
    assert OutgoingEmail.objects.filter(kind=Kind.CASE_ESCALATION).count() == 2
