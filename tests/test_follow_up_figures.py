"""The follow-up figures (agenda/figures/follow_up.py, docs/figures.md "Follow-up") against
figures worked out by hand, the dashboard's card and the report's section.

The PMO is in Auckland (UTC+13 in March): at 12:00 UTC on 15 March 2026 its today is
16 March. Cases, opened at midnight UTC (13:00 in Auckland, the same date):

    case  opened   segment   status     first contact   due     escalated  pulse (before → after)
    A     1 Mar    Finance   resolved   +1 day          6 Mar              3 → 8
    B     2 Mar    Finance   contacted  +3 days         3 Mar   yes
    C     3 Mar    Ops       resolved   +2 days         10 Mar             5 → 9
    D     4 Mar    —         resolved   +6 days         9 Mar              0 → sent, unanswered
    E     5 Mar    Ops       open       —               15 Mar  yes
    F     6 Mar    —         open       —               16 Mar
    G     7 Mar    Finance   closed     —  (an anonymous group's case)
    H     1 Nov 25 Ops       resolved   +10 days        8 Nov              6 → 10 (pulse 20 Nov)
    I     1 Oct 25 —         open       —               8 Oct
    and an open, overdue case with an answered pulse in the other PMO.

- open now: B, E, F, I = 4; overdue (open, no contact, due before 16 March): E (due 15 March,
  which is before today in Auckland though not yet in UTC) and I = 2; escalated: B, E = 2.
- opened in the last 90 days (17 December to 16 March): A to G = 7. First contacts: 1, 3, 2,
  6 days: median (2 + 3) / 2 = 2.5 (the mean would be 3.0); within the due date: A (2 Mar ≤
  6 Mar), C (5 Mar ≤ 10 Mar); not B (5 Mar > 3 Mar), D (10 Mar > 9 Mar): 2 of 4 = 50%.
  E, F, G had no contact and are left out.
- resolved A, C, D; closed with no action G: 3 / 4 = 75%.
- pulses sent in the period: A, C, D = 3; answered A, C = 2; before (3 + 5) / 2 = 4.0, after
  (8 + 9) / 2 = 8.5, change +4.5. H's pulse is older; the other PMO's is not counted.
- Finance only: open B = 1 (not overdue); median of 1 and 3 = 2.0, within 1 of 2; resolved
  A, closed G: 50%; pulses: A's, 3 → 8.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.figures import follow_up
from agenda.figures import survey as survey_figures
from agenda.models import AgendaReport
from agenda.reports import services as reports
from agenda.reports import snapshot as report_figures
from stakeholders.models import CaseStatus, FollowUpCase, RecoveryPulse, Segment
from tests.factories import ResponseFactory, SegmentFactory, StakeholderFactory, SurveyFactory
from tests.helpers import visible
from tests.test_report_figures import build_report, words
from tests.test_report_pdf_security import poppler

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
TODAY = date(2026, 3, 16)  # in Auckland


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_case(pmo, survey, opened, due, status=CaseStatus.OPEN, *, contact_days=None, segment=None, **fields):
    """A named case, with a response of its own (one per case), unless a `group_key` is given."""
    if "group_key" not in fields:
        stakeholder = StakeholderFactory(pmo=pmo, segment=segment)
        fields.update(response=ResponseFactory(survey=survey, stakeholder=stakeholder, nps=3), stakeholder=stakeholder)
    if status == CaseStatus.CLOSED:
        fields.setdefault("closed_reason", "Nothing to do")
        fields.setdefault("closed_at", opened + timedelta(days=7))
    if status == CaseStatus.RESOLVED:
        fields.setdefault("resolved_at", opened + timedelta(days=8))
    return FollowUpCase.objects.create(
        pmo=pmo,
        survey=survey,
        segment=segment,
        status=status,
        opened_at=opened,
        due_on=due,
        first_contact_at=opened + timedelta(days=contact_days) if contact_days is not None else None,
        **fields,
    )


def pulse(case, sent, score=None):
    made = RecoveryPulse.new(case, "someone@corp.example", created_at=sent)
    if score is not None:
        made.score, made.answered_at = score, sent + timedelta(days=1)
    made.save()
    return made


@pytest.fixture
def cases(world):
    pmo = world.pmo
    pmo.time_zone = "Pacific/Auckland"
    pmo.save()
    ops = SegmentFactory(pmo=pmo, name="Ops")
    fin = world.segment
    survey = SurveyFactory(pmo=pmo, closed=True, closed_at=utc(2025, 9, 1))
    made = {
        "A": make_case(pmo, survey, utc(2026, 3, 1), date(2026, 3, 6), CaseStatus.RESOLVED, contact_days=1, segment=fin, nps_before=3),
        "B": make_case(pmo, survey, utc(2026, 3, 2), date(2026, 3, 3), CaseStatus.CONTACTED, contact_days=3, segment=fin, escalated_at=utc(2026, 3, 4)),
        "C": make_case(pmo, survey, utc(2026, 3, 3), date(2026, 3, 10), CaseStatus.RESOLVED, contact_days=2, segment=ops, nps_before=5),
        "D": make_case(pmo, survey, utc(2026, 3, 4), date(2026, 3, 9), CaseStatus.RESOLVED, contact_days=6, nps_before=0),
        "E": make_case(pmo, survey, utc(2026, 3, 5), date(2026, 3, 15), segment=ops, escalated_at=utc(2026, 3, 14)),
        "F": make_case(pmo, survey, utc(2026, 3, 6), date(2026, 3, 16)),
        "G": make_case(pmo, survey, utc(2026, 3, 7), date(2026, 3, 14), CaseStatus.CLOSED, segment=fin, group_key=f"{fin.pk}:people"),
        "H": make_case(pmo, survey, utc(2025, 11, 1), date(2025, 11, 8), CaseStatus.RESOLVED, contact_days=10, segment=ops, nps_before=6),
        "I": make_case(pmo, survey, utc(2025, 10, 1), date(2025, 10, 8)),
    }  # fmt: skip
    pulse(made["A"], utc(2026, 3, 10), 8)
    pulse(made["C"], utc(2026, 3, 11), 9)
    pulse(made["D"], utc(2026, 3, 12))
    pulse(made["H"], utc(2025, 11, 20), 10)
    other_survey = SurveyFactory(pmo=world.other_pmo, closed=True, closed_at=utc(2025, 9, 1))
    elsewhere = make_case(
        world.other_pmo, other_survey, utc(2026, 3, 1), date(2026, 3, 2), contact_days=None, nps_before=1
    )
    pulse(elsewhere, utc(2026, 3, 10), 10)
    return made


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_figures_worked_out_by_hand(cases, world, now, django_assert_num_queries):
    with django_assert_num_queries(3):
        found = follow_up.follow_up_figures(world.pmo)
    assert found.today == TODAY  # Auckland's, not UTC's 15 March
    assert found.period == follow_up.Period(date(2025, 12, 17), date(2026, 3, 17))
    assert found.open == follow_up.OpenCases(open=4, overdue=2, escalated=2)
    assert found.first_contact.contacted == 4
    assert found.first_contact.median_days == pytest.approx(2.5)  # an even count: the two middle ones' mean
    assert (found.first_contact.within_due, found.first_contact.within_due_share) == (2, 50.0)
    assert found.outcomes == follow_up.Outcomes(opened=7, resolved=3, closed=1)
    assert found.outcomes.resolved_share == 75.0
    assert found.pulses == follow_up.Pulses(sent=3, answered=2, compared=2, before=4.0, after=8.5)
    assert found.pulses.change == pytest.approx(4.5)


def test_overdue_follows_the_pmos_day_not_utcs(cases, world, now):
    # The same instant in London is still 15 March: E is due today there, not overdue.
    world.pmo.time_zone = "Europe/London"
    world.pmo.save()
    assert follow_up.follow_up_figures(world.pmo).open.overdue == 1  # I only
    # A minute before midnight in Auckland (10:59 UTC on 15 March), still 15 March there.
    world.pmo.time_zone = "Pacific/Auckland"
    world.pmo.save()
    with time_machine.travel(utc(2026, 3, 15, 10, 59), tick=False):
        assert follow_up.follow_up_figures(world.pmo).open.overdue == 1
    with time_machine.travel(utc(2026, 3, 15, 11, 0), tick=False):  # midnight: 16 March in Auckland
        assert follow_up.follow_up_figures(world.pmo).open.overdue == 2


def test_a_segment_counts_its_own_cases(cases, world, now):
    found = follow_up.follow_up_figures(world.pmo, segment_id=world.segment.pk)
    assert found.open == follow_up.OpenCases(open=1, overdue=0, escalated=1)
    assert found.first_contact == follow_up.FirstContact(contacted=2, median_days=2.0, within_due=1)
    assert found.outcomes == follow_up.Outcomes(opened=3, resolved=1, closed=1)
    assert found.pulses == follow_up.Pulses(sent=1, answered=1, compared=1, before=3.0, after=8.0)


def test_another_pmos_cases_are_not_counted(cases, world, now):
    found = follow_up.follow_up_figures(world.other_pmo)
    assert found.open == follow_up.OpenCases(open=1, overdue=1, escalated=0)
    assert found.pulses == follow_up.Pulses(sent=1, answered=1, compared=1, before=1.0, after=10.0)


def test_the_median_of_the_fallback_takes_the_two_middle_values():
    days = [timedelta(days=n) for n in (6, 1, 3, 2)]
    assert follow_up._median(days) == timedelta(days=2.5)
    assert follow_up._median(days[:3]) == timedelta(days=3)
    assert follow_up._median([]) is None


def test_a_pmo_without_cases(world, now):
    found = follow_up.follow_up_figures(world.pmo)
    assert found.is_empty
    assert found.first_contact.median_days is None and found.first_contact.within_due_share is None
    assert found.outcomes.resolved_share is None and found.pulses.change is None


def test_pulses_never_enter_a_surveys_nps(cases, world, now):
    survey = cases["A"].survey
    before = survey_figures.nps(survey_figures.survey_responses(survey))
    RecoveryPulse.objects.update(score=10)
    after = survey_figures.nps(survey_figures.survey_responses(survey))
    assert before == after and before.answers == 8  # the named cases' responses, not the pulses


# The dashboard's card --------------------------------------------------------------------------


def home(client, world, **params):
    return client.get(reverse("pmo_home", kwargs={"slug": world.pmo.slug}), params)


def card(page) -> str:
    html = page.content.decode()
    found = re.search(r'<div class="card mb-4" id="follow-up">.*?</div></div>\n', html, re.S)
    assert found, "no follow-up card"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def test_the_dashboard_card(cases, world, client_for, now):
    page = home(client_for(world.viewer), world)
    text = card(page)
    assert "Open cases 4 2 overdue · 2 escalated" in text
    assert "Median time to first contact 2.5 days within 5 working days: 50% 4 cases contacted" in text
    assert "Resolved 75% 3 of 4 finished · 1 closed with no action" in text
    assert "before 4.0 → after 8.5 (n = 2) 3 sent · 2 answered" in text
    link = reverse("case_list", kwargs={"slug": world.pmo.slug}) + "?status=open"
    assert f'href="{link}" data-figure="follow-up-open"' in page.content.decode()


def test_the_dashboard_card_follows_the_segment_and_escapes_its_name(cases, world, client_for, now):
    Segment.objects.filter(pk=world.segment.pk).update(name="<script>alert('seg')</script>")
    page = home(client_for(world.viewer), world, segment=world.segment.pk)
    html = page.content.decode()
    assert "<script>alert('seg')" not in html
    assert "Follow-up · &lt;script&gt;alert(&#x27;seg&#x27;)&lt;/script&gt;" in html
    text = card(page)
    assert "Open cases 1 0 overdue · 1 escalated" in text
    assert "before 3.0 → after 8.0 (n = 1)" in text
    link = reverse("case_list", kwargs={"slug": world.pmo.slug}) + f"?status=open&amp;segment={world.segment.pk}"
    assert link in html


def test_the_dashboard_card_when_there_is_no_case(world, client_for, now):
    page = home(client_for(world.viewer), world)
    assert (
        "No detractor has answered in the last 90 days, and no follow-up case is open: each detractor opens one."
        in visible(page)
    )
    assert 'data-figure="follow-up-median"' not in page.content.decode()
    # A case opened before the 90 days, resolved: still nothing to show.
    survey = SurveyFactory(pmo=world.pmo, closed=True, closed_at=utc(2025, 9, 1))
    make_case(world.pmo, survey, utc(2025, 10, 1), date(2025, 10, 8), CaseStatus.RESOLVED, contact_days=1)
    assert "No detractor has answered in the last 90 days" in visible(home(client_for(world.viewer), world))
    # One open: the card shows its figures.
    make_case(world.pmo, survey, utc(2025, 10, 2), date(2025, 10, 9))
    page = home(client_for(world.viewer), world)
    assert "Open cases 1 1 overdue · 0 escalated" in card(page)


# The report's section ----------------------------------------------------------------------------


@pytest.fixture
def stub_pdf(monkeypatch):
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")


def test_the_report_section(cases, world, stub_pdf):
    report = build_report(world.pmo, date(2026, 3, 1), date(2026, 4, 1))
    c = report.figures["follow_up"]
    assert report.figures["schema_version"] == 5
    # As of 1 April: F (due 16 March) is overdue too.
    assert (c["as_of"], c["open"], c["overdue"], c["escalated"]) == ("2026-04-01", 4, 3, 2)
    assert (c["opened"], c["contacted"], c["within_due"], c["resolved"], c["closed"]) == (7, 4, 2, 3, 1)
    assert c["median_days"] == pytest.approx(2.5)
    assert (c["within_due_share"], c["resolved_share"], c["working_days"]) == (50.0, 75.0, 5)
    assert (c["pulses_sent"], c["pulses_answered"], c["before"], c["after"], c["change"]) == (3, 2, 4.0, 8.5, 4.5)
    page = words(report.html)
    assert (
        "Of the 7 cases opened this period, 4 had a first contact: median time to first contact 2.5 days , "
        "50% within the due date (5 working days)." in page
    )
    assert "Resolved: 75% of those finished (3 resolved, 1 closed with no action)." in page
    assert "On 1 April 2026: 4 cases open, 3 overdue for a first contact, 2 escalated to the leads." in page
    assert "recommendation before 4.0 → after 8.5 (n = 2, +4.5)" in page
    assert "FOLLOW-UP\nCases opened this period: 7; 4 had a first contact: median 2.5 days, 50% within" in report.text
    assert "Recovery pulses: 3 sent, 2 answered; before 4.0 -> after 8.5 (n = 2, +4.5)." in report.text
    # The report e-mail is the report's HTML and text: the section is in it.
    assert "Follow-up" in report.html


def test_the_pdf_draws_the_section(cases, world, tmp_path):
    report = build_report(world.pmo, date(2026, 3, 1), date(2026, 4, 1))  # the real renderer
    shown = " ".join(poppler("pdftotext", bytes(report.pdf), tmp_path, "-raw").split())
    assert "Follow-up How fast the PMO follows up its detractors." in shown
    assert "median time to first contact 2.5 days" in shown
    assert "before 4.0 → after 8.5 (n = 2, +4.5)" in shown


def test_a_report_stored_before_version_5_reads_not_measured_then(cases, world, stub_pdf):
    earlier = build_report(world.pmo, date(2026, 2, 1), date(2026, 3, 1))
    version_4 = dict(earlier.figures)
    version_4.pop("follow_up")
    version_4["schema_version"] = 4
    AgendaReport.objects.filter(pk=earlier.pk).update(figures=version_4)
    loaded = report_figures.load(version_4, currency="GBP")
    assert (loaded.schema_version, loaded.follow_up) == (5, None)
    assert loaded.engagement is not None  # what version 4 held is kept
    html, text_of = reports.render(AgendaReport.objects.select_related("pmo").get(pk=earlier.pk))
    assert "Follow-up Not measured then" in words(html)
    assert "FOLLOW-UP\nNot measured then." in text_of


def test_a_period_without_cases_reads_plainly(world, stub_pdf):
    report = build_report(world.pmo, date(2026, 2, 1), date(2026, 3, 1))
    page = words(report.html)
    assert "Of the 0 cases opened this period, 0 had a first contact." in page
    assert "None of them is resolved or closed yet." in page
    assert "Recovery pulses: 0 sent this period, 0 answered." in page


# Query counts -------------------------------------------------------------------------------------


def many_cases(pmo, count: int, now: datetime = NOW):
    """`count` cases (anonymous groups' rows, which need no response), opened over the 120 days
    before `now`, in every status, half of them with a pulse: bulk-created."""
    segment = SegmentFactory(pmo=pmo, name="Bulk")
    survey = SurveyFactory(pmo=pmo, closed=True, closed_at=utc(2025, 9, 1))
    statuses = list(CaseStatus)
    made = FollowUpCase.objects.bulk_create(
        FollowUpCase(
            pmo=pmo,
            survey=survey,
            segment=segment if n % 3 != 1 else None,
            group_key=f"bulk:{n}",
            status=statuses[n % 4],
            closed_reason="r" if statuses[n % 4] == CaseStatus.CLOSED else "",
            opened_at=now - timedelta(days=n % 120, hours=n % 24),
            due_on=(now - timedelta(days=n % 120)).date() + timedelta(days=7),
            first_contact_at=now - timedelta(days=n % 120) + timedelta(hours=n % 50) if n % 3 else None,
            nps_before=n % 7,
        )
        for n in range(count)
    )
    pulses = []
    for n, case in enumerate(made[::2]):
        made_pulse = RecoveryPulse.new(case, "x@corp.example", created_at=now - timedelta(days=n % 100))
        if n % 3:
            made_pulse.score, made_pulse.answered_at = n % 11, now
        pulses.append(made_pulse)
    RecoveryPulse.objects.bulk_create(pulses, batch_size=1000)


def test_the_figures_take_the_same_queries_at_10_and_2000_cases(world, now):
    counted = []
    for size in (10, 2000):
        pmo = world.pmo if size == 10 else world.other_pmo
        many_cases(pmo, size)
        segment = pmo.segments.get(name="Bulk")
        with CaptureQueriesContext(connection) as captured:
            found = follow_up.follow_up_figures(pmo)
            by_segment = follow_up.follow_up_figures(pmo, segment_id=segment.pk)
            report_found = follow_up.follow_up_figures(pmo, follow_up.Period(date(2026, 3, 8), date(2026, 3, 16)))
        counted.append(len(captured.captured_queries))
        assert found.open.open > 0 and found.first_contact.contacted > 0 and found.pulses.compared > 0
        assert by_segment.open.open < found.open.open
        assert 0 < report_found.outcomes.opened < found.outcomes.opened
    assert counted[0] == counted[1] == 9, counted
