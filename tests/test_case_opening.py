"""Opening follow-up cases (stakeholders/cases/opening.py, docs/follow-up.md "Which answers
open a case"): working days and the due date in the PMO's time zone; a named detractor's
case, opened once with their alert however often and however concurrently its task runs;
none for a passive, a promoter or an anonymous survey's answers; an anonymous survey's group
cases when it closes, for groups of MIN_GROUP_SIZE detractors or more, once; and the PMO's
setting on its settings page."""

import threading
from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.urls import reverse

from agenda.figures.segments import detractor_groups
from pmo5p import outbox
from pmo5p.domain import Element
from pmo5p.models import OutgoingEmail, Pmo, Role
from stakeholders import tasks
from stakeholders.cases.opening import due_on, open_anonymous_cases, open_for_response, working_days_after
from stakeholders.models import FollowUpCase, Response
from stakeholders.surveys import emails as survey_emails
from stakeholders.surveys import lifecycle as surveys
from tests.factories import MembershipFactory, ResponseFactory, SegmentFactory, StakeholderFactory, every
from tests.helpers import at_once
from tests.survey_helpers import html_text, open_survey, rated_questions

# Working days and the due date ---------------------------------------------------------------

FRI, SAT, SUN, MON = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (FRI, 5, date(2026, 12, 4)),  # Friday + 5: the next Friday
        (FRI, 1, MON),
        (SAT, 1, MON),  # a Saturday counts from Monday
        (SAT, 5, date(2026, 12, 4)),
        (SUN, 1, MON),
        (SUN, 5, date(2026, 12, 4)),
        (MON, 1, date(2026, 12, 1)),
        (MON, 5, date(2026, 12, 7)),
        (date(2026, 12, 2), 10, date(2026, 12, 16)),  # Wednesday + two weeks
        (date(2026, 12, 3), 2, date(2026, 12, 7)),  # Thursday + 2: over the weekend
        (FRI, 30, date(2027, 1, 8)),  # public holidays are working days
    ],
)
def test_working_days_after(start, days, due):
    assert working_days_after(start, days) == due


def test_the_due_date_counts_from_the_date_in_the_pmos_time_zone():
    # Tuesday 1 December 03:00 UTC is still Monday 30 November in Los Angeles.
    moment = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert due_on(Pmo(time_zone="America/Los_Angeles", follow_up_working_days=1), moment) == date(2026, 12, 1)
    assert due_on(Pmo(time_zone="Europe/London", follow_up_working_days=1), moment) == date(2026, 12, 2)
    # Friday 27 November 12:00 UTC is Saturday 01:00 in Auckland: counted from Monday.
    friday_noon = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert due_on(Pmo(time_zone="Pacific/Auckland", follow_up_working_days=1), friday_noon) == MON
    assert due_on(Pmo(time_zone="Europe/London", follow_up_working_days=1), friday_noon) == MON
    assert due_on(Pmo(time_zone="Europe/London", follow_up_working_days=3), friday_noon) == date(2026, 12, 2)


# A named detractor's case ----------------------------------------------------------------------


def detractor_values(survey, low=Element.PRICE, lower=None):
    """Every statement rated 4, the statements of `low` 2 (and of `lower` 1)."""
    values = {}
    for question in rated_questions(survey):
        values[question.pk] = 4
        if question.kind == "performance" and question.element == low:
            values[question.pk] = 2
        if question.kind == "performance" and question.element == lower:
            values[question.pk] = 1
    return values


@pytest.fixture
def owned(world):
    world.stakeholder.owner = world.membership(world.member)
    world.stakeholder.save()
    return open_survey(world.pmo, [world.stakeholder], title="Spring pulse")


def test_a_detractor_opens_one_case_with_their_alert_and_a_rerun_opens_none(
    world, owned, django_capture_on_commit_callbacks
):
    survey, (invitation,) = owned
    with django_capture_on_commit_callbacks(execute=True):
        response = surveys.submit(invitation, values=detractor_values(survey), nps=3, comment="")
    case = FollowUpCase.objects.get()
    owner = world.stakeholder.owner
    assert (case.pmo, case.survey, case.response, case.stakeholder) == (world.pmo, survey, response, world.stakeholder)
    assert (case.owner, case.segment, case.group_key) == (owner, world.segment, "")
    assert (case.root_element, case.suggested_element, case.nps_before) == ("price", "price", 3)
    assert (case.status, case.escalated_at, case.first_contact_at) == ("open", None, None)
    response.refresh_from_db()
    assert case.opened_at == response.detractor_alerted_at
    assert case.due_on == due_on(world.pmo, case.opened_at)

    # The task again (a redelivery), the sweep, the function itself: still one case.
    assert tasks.send_detractor_alert(response.pk) is False
    assert survey_emails.alert_overdue_detractors(10) == 0
    outbox.sweep()
    assert open_for_response(Response.objects.get(pk=response.pk)) == case
    assert FollowUpCase.objects.count() == 1

    # The alert says a case is open, when its first contact is due, and links it.
    (message,) = mail.outbox
    link = f"http://testserver/pmo/alpha/follow-up/{case.pk}/"
    assert link == "http://testserver" + reverse("case_detail", kwargs={"slug": "alpha", "case_id": case.pk})
    for part in (message.body, html_text(message.alternatives[0][0])):
        assert f"its first contact is due by {case.due_on:%A} {case.due_on.day} {case.due_on:%B %Y}" in part
    assert link in message.body and f'href="{link}"' in message.alternatives[0][0]


def test_without_an_owner_the_case_is_the_leads(world, django_capture_on_commit_callbacks):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    with django_capture_on_commit_callbacks(execute=True):
        surveys.submit(invitation, values=detractor_values(survey, lower=Element.PEOPLE), nps=0, comment="")
    case = FollowUpCase.objects.get()
    assert case.owner is None and case.root_element == "people"
    for message in mail.outbox:
        assert "A follow-up case is open for the leads" in message.body


def test_a_detractor_who_rated_nothing_has_a_case_with_no_suggested_p(world, django_capture_on_commit_callbacks):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    with django_capture_on_commit_callbacks(execute=True):
        surveys.submit(invitation, values={}, nps=6, comment="")
    case = FollowUpCase.objects.get()
    assert (case.root_element, case.suggested_element, case.nps_before) == ("", "", 6)


@pytest.mark.parametrize("nps", [7, 8, 9, 10, None])
def test_no_case_for_a_passive_a_promoter_or_no_score(world, owned, nps, django_capture_on_commit_callbacks):
    survey, (invitation,) = owned
    with django_capture_on_commit_callbacks(execute=True):
        response = surveys.submit(invitation, values=detractor_values(survey), nps=nps, comment="")
    outbox.sweep()
    assert open_for_response(response) is None
    assert not FollowUpCase.objects.exists()


def test_the_sweep_opens_the_case_whose_wake_up_was_lost(world, owned, django_capture_on_commit_callbacks):
    survey, (invitation,) = owned
    with django_capture_on_commit_callbacks():  # never run: the wake-up is lost
        response = surveys.submit(invitation, values=detractor_values(survey), nps=1, comment="")
    assert not FollowUpCase.objects.exists()
    outbox.sweep()
    outbox.sweep()
    case = FollowUpCase.objects.get()
    assert case.response == response
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT).count() == 1


@pytest.fixture
def anonymous(world):
    """An anonymous survey of Finance (4 people), IT (3) and no segment (3)."""
    it = SegmentFactory(pmo=world.pmo, name="IT")
    people = [world.stakeholder] + [StakeholderFactory(pmo=world.pmo, segment=world.segment) for _ in range(3)]
    people += [StakeholderFactory(pmo=world.pmo, segment=it) for _ in range(3)]
    people += [StakeholderFactory(pmo=world.pmo, segment=None) for _ in range(3)]
    survey, invitations = open_survey(world.pmo, people, anonymous=True, title="Quiet")
    return survey, invitations, it


def test_an_anonymous_surveys_answers_open_no_case_before_it_closes(
    world, anonymous, django_capture_on_commit_callbacks
):
    survey, invitations, _ = anonymous
    with django_capture_on_commit_callbacks(execute=True):
        for invitation in invitations:
            surveys.submit(invitation, values=detractor_values(survey), nps=0, comment="")
    surveys.alert_anonymous_detractors(survey.pk)
    outbox.sweep()
    assert survey_emails.alert_overdue_detractors(10) == 0
    assert all(open_for_response(response) is None for response in Response.objects.all())
    assert not FollowUpCase.objects.exists()
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT).count() == 0


def test_closing_an_anonymous_survey_opens_a_case_per_group_of_enough_detractors_once(world, anonymous):
    survey, invitations, it = anonymous
    finance, its, none = invitations[:4], invitations[4:7], invitations[7:]
    # Finance: 3 detractors, low on People (1) and Price (2), and a promoter low on Product.
    for invitation, nps in zip(finance[:3], (0, 4, 6), strict=True):
        ResponseFactory(invitation=invitation, nps=nps, ratings={**every(4), "people": (1, 1), "price": (2, 2)})
    ResponseFactory(invitation=finance[3], nps=10, ratings={**every(4), "product": (1, 1)})
    # IT: 2 detractors and a passive: under the minimum group size.
    for invitation, nps in zip(its, (1, 2, 7), strict=True):
        ResponseFactory(invitation=invitation, nps=nps, ratings=every(1))
    # No segment: 3 detractors, one of whom rated nothing; lowest on Process, with a tie on Product broken by
    # the order of the P's.
    ResponseFactory(invitation=none[0], nps=3, ratings={**every(3), "process": (2, 2), "product": (3, 3)})
    ResponseFactory(invitation=none[1], nps=5, ratings={**every(3), "process": (2, 2)})
    ResponseFactory(invitation=none[2], nps=5)
    now = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # Friday evening in London

    assert surveys.close(survey, now=now)
    cases = list(FollowUpCase.objects.order_by("group_key"))
    assert [(c.group_key, c.segment_id, c.root_element, c.suggested_element) for c in cases] == sorted(
        [
            (f"{world.segment.pk}:people", world.segment.pk, "people", "people"),
            ("-:process", None, "process", "process"),
        ]
    )
    for case in cases:
        assert (case.response, case.stakeholder, case.owner, case.nps_before) == (None, None, None, None)
        assert (case.pmo, case.survey, case.status, case.opened_at) == (world.pmo, survey, "open", now)
        assert case.due_on == date(2026, 12, 4)  # 5 working days from Friday
        assert case.is_anonymous
    assert not FollowUpCase.objects.filter(segment=it).exists()

    # Closing twice opens nothing more; nor does opening again.
    assert not surveys.close(survey, now=now)
    assert len(open_anonymous_cases(survey, now=now)) == 2
    assert FollowUpCase.objects.count() == 2


def test_the_detractor_groups_are_one_query_and_count_those_who_rated_nothing(
    world, anonymous, django_assert_num_queries
):
    survey, invitations, _ = anonymous
    ResponseFactory(invitation=invitations[0], nps=2, ratings={**every(4), "price": (1, None)})
    ResponseFactory(invitation=invitations[1], nps=2, ratings={**every(4), "price": (3, 3)})
    ResponseFactory(invitation=invitations[2], nps=2)
    ResponseFactory(invitation=invitations[3], nps=9, ratings=every(1))
    with django_assert_num_queries(1):
        groups = detractor_groups(survey)
    (group,) = groups.values()
    assert (group.segment_id, group.detractors) == (world.segment.pk, 3)
    # Price: ratings 1, 3, 3 ("Don't know" left out): mean 7/3, a score of 100/3.
    assert group.lowest[0] == (Element.PRICE, pytest.approx(100 / 3))
    assert [element for element, _ in group.lowest[1:]] == [e for e in Element if e != Element.PRICE]


def test_a_named_survey_opens_no_group_case_when_it_closes(world, owned):
    survey, (invitation,) = owned
    ResponseFactory(invitation=invitation, nps=1, ratings=every(2))
    surveys.close(survey)
    assert not FollowUpCase.objects.exists()  # its detractors' cases come with their alerts


# Concurrency (PostgreSQL) ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_open_one_case(world):
    """The wake-up's task and a sweep at the same moment: the second skips the row the first holds."""
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SKIP LOCKED, and SQLite serialises writers.")
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    response = ResponseFactory(invitation=invitation, nps=1, detractor_alerted_at=None, ratings=every(2))
    outcomes = []

    def second_run():
        try:
            outcomes.append(survey_emails.alert_detractor(response.pk))
            outcomes.append(survey_emails.alert_overdue_detractors(10))
        finally:
            connections.close_all()

    with transaction.atomic():
        assert survey_emails.alert_detractor(response.pk)  # holds the row until it commits
        thread = threading.Thread(target=second_run)
        thread.start()
        thread.join(timeout=30)
        assert outcomes == [None, 0]
    assert survey_emails.alert_detractor(response.pk) is None
    assert FollowUpCase.objects.filter(response=response).count() == 1


THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_many_tasks_at_once_open_one_case_per_detractor(world):
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL: SKIP LOCKED, and SQLite serialises writers.")
    MembershipFactory(pmo=world.pmo, role=Role.LEAD, user__email="lead2@alpha.example")
    people = [StakeholderFactory(pmo=world.pmo) for _ in range(3)]
    survey, invitations = open_survey(world.pmo, people)
    responses = [
        ResponseFactory(invitation=invitation, nps=nps, detractor_alerted_at=None, ratings=every(3))
        for invitation, nps in zip(invitations, (0, 5, 8), strict=True)
    ]

    def run(n):
        for response in responses if n % 2 else reversed(responses):
            tasks.send_detractor_alert(response.pk)
        survey_emails.alert_overdue_detractors(10)

    at_once(THREADS, run)
    assert sorted(FollowUpCase.objects.values_list("response_id", flat=True)) == [r.pk for r in responses[:2]]
    # And one alert per lead per detractor: the claim opened the case and queued the alert together.
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT).count() == 4


# The PMO's setting ---------------------------------------------------------------------------------


def settings_data(pmo, **changes):
    return {
        "name": pmo.name,
        "description": pmo.description,
        "time_zone": pmo.time_zone,
        "currency": pmo.currency,
        "survey_fatigue_days": pmo.survey_fatigue_days,
        "follow_up_working_days": pmo.follow_up_working_days,
        **changes,
    }


@pytest.mark.parametrize("days", ["0", "31", "", "two"])
def test_the_working_days_are_1_to_30_and_a_refusal_keeps_what_was_typed(world, client_for, days):
    url = reverse("pmo_settings", kwargs={"slug": world.pmo.slug})
    page = client_for(world.lead).post(url, settings_data(world.pmo, name="Renamed <PMO>", follow_up_working_days=days))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Give a whole number of working days from 1 to 30 (Monday to Friday)." in content
    assert 'value="Renamed &lt;PMO&gt;"' in content
    assert Pmo.objects.get(pk=world.pmo.pk).follow_up_working_days == 5


def test_a_lead_sets_the_working_days_and_new_cases_follow_them(world, client_for):
    url = reverse("pmo_settings", kwargs={"slug": world.pmo.slug})
    page = client_for(world.lead).post(url, settings_data(world.pmo, follow_up_working_days="30"))
    assert page.status_code == 302
    pmo = Pmo.objects.get(pk=world.pmo.pk)
    assert pmo.follow_up_working_days == 30
    assert due_on(pmo, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)) == date(2027, 1, 8)


def test_the_new_pmo_form_does_not_ask_for_working_days(world, client_for):
    page = client_for(world.lead).get(reverse("pmo_create"))
    assert "follow_up_working_days" not in page.content.decode()
