"""The engagement index and what is built on it (agenda/figures/engagement.py, docs/figures.md
"Engagement"), the overdue touch as an at-risk reason, against figures worked out by hand.

The PMO's defaults: Manage closely → Trust (5), Keep satisfied → Respect (4), Keep informed →
Understanding (3), Monitor → Aware (2); cadences 30, 60, 90, 180 days.

    who   quadrant         target          stage (latest)        gap   counts as
    Ann   manage closely   Trust           Trust                 0     reached
    Bea   manage closely   Trust           Respect               1     below
    Cal   keep satisfied   Respect         Respect               0     reached
    Dee   keep informed    Aware (own)     Aware                 0     reached
    Eve   monitor          Aware           Unaware               1     below
    Fay   monitor          Aware           —                     —     not assessed
    Gus   keep satisfied   Trust (own)     Understanding         2     below
    Hal   (inactive)       Trust           Trust                 —     not counted
    Bob Beta, of the other PMO: not counted.

So the index is 3 reached of 7 active: 42.857…%.
"""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from agenda.figures import engagement, relationships
from agenda.figures.present import Kind, shown
from agenda.models import AgendaReport, MaturityRecord
from agenda.plan import services as plan_services
from agenda.plan import suggestions
from agenda.reports import services as reports
from agenda.reports import snapshot as report_figures
from agenda.templatetags.figures import points
from pmo5p.domain import Element, MaturityStage
from stakeholders.models import Stakeholder
from tests.factories import ResponseFactory, SegmentFactory, StakeholderFactory, SurveyFactory, every
from tests.helpers import visible
from tests.test_report_figures import build_report, words

TODAY = date(2026, 3, 15)
U, A, UN, R, T = (
    MaturityStage.UNAWARE,
    MaturityStage.AWARE,
    MaturityStage.UNDERSTANDING,
    MaturityStage.RESPECT,
    MaturityStage.TRUST,
)


def record(stakeholder, stage, on):
    return MaturityRecord.objects.create(
        pmo=stakeholder.pmo, stakeholder=stakeholder, stage=stage, rationale="Seen", recorded_on=on
    )


@pytest.fixture
def seven(world):
    pmo = world.pmo
    ops = SegmentFactory(pmo=pmo, name="Operations")
    world.stakeholder.delete()  # Fiona: the fixture's own, left out of these counts

    def person(name, influence, interest, segment=None, **fields):
        return StakeholderFactory(pmo=pmo, name=name, influence=influence, interest=interest, segment=segment, **fields)

    people = {
        "Ann": person("Ann", 5, 5, world.segment),
        "Bea": person("Bea", 5, 5, world.segment),
        "Cal": person("Cal", 5, 2, ops),
        "Dee": person("Dee", 2, 5, ops, target_stage=A, target_reason="New to the portfolio"),
        "Eve": person("Eve", 1, 1, world.segment),
        "Fay": person("Fay", 1, 1),
        "Gus": person("Gus", 5, 2, target_stage=T, target_reason="Sponsor"),
        "Hal": person("Hal", 5, 5, world.segment, is_active=False),
    }
    # Each one's history: the trend reads the records as they stood at each month end.
    record(people["Ann"], U, date(2026, 1, 10))
    record(people["Ann"], T, date(2026, 2, 20))
    record(people["Bea"], T, date(2025, 12, 5))
    record(people["Bea"], R, date(2025, 12, 5))  # the same day, recorded later: the latest
    record(people["Cal"], R, date(2026, 3, 1))
    record(people["Dee"], A, date(2026, 1, 31))  # on a month end: counts there
    record(people["Eve"], U, date(2025, 6, 1))
    record(people["Gus"], UN, date(2026, 2, 28))
    record(people["Hal"], T, date(2025, 1, 1))
    record(world.other_stakeholder, T, date(2025, 1, 1))
    return people


def counts(reached, below, not_assessed, total):
    return engagement.EngagementCounts(reached, below, not_assessed, total)


def test_the_index_is_three_of_seven(seven, world, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = engagement.engagement_index(world.pmo, today=TODAY)
    assert found == counts(3, 3, 1, 7)
    assert found.index == pytest.approx(300 / 7)
    assert shown(found.index, Kind.PERCENT) == "43%"


def test_the_index_of_a_segment(seven, world):
    assert engagement.engagement_index(world.pmo, world.segment.pk, today=TODAY) == counts(1, 2, 0, 3)


def test_an_empty_pmo_has_no_index(world):
    world.stakeholder.delete()
    found = engagement.engagement_index(world.pmo, today=TODAY)
    assert found == counts(0, 0, 0, 0) and found.index is None


def test_by_segment_no_segment_last_and_they_add_up(seven, world, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = engagement.engagement_by_segment(world.pmo, today=TODAY)
    assert [(row.name, row.counts) for row in rows] == [
        ("Finance", counts(1, 2, 0, 3)),  # Ann reached; Bea, Eve below
        ("Operations", counts(2, 0, 0, 2)),  # Cal, Dee
        ("No segment", counts(0, 1, 1, 2)),  # Gus below, Fay not assessed
    ]
    assert engagement.total_of(rows) == engagement.engagement_index(world.pmo, today=TODAY)
    only = engagement.engagement_by_segment(world.pmo, world.segment.pk, today=TODAY)
    assert [(row.name, row.counts) for row in only] == [("Finance", counts(1, 2, 0, 3))]


def test_the_month_ends_of_the_trend():
    assert engagement.month_ends(TODAY, 3) == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]
    assert engagement.month_ends(date(2024, 3, 31), 2) == [date(2024, 1, 31), date(2024, 2, 29)]
    assert len(engagement.month_ends(TODAY)) == 12


def test_the_trend_reads_the_records_as_they_stood(seven, world, django_assert_num_queries):
    with django_assert_num_queries(1):
        trend = engagement.engagement_trend(world.pmo, today=TODAY)
    assert len(trend) == 13
    assert [point.day for point in trend[-4:]] == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28), TODAY]
    assert [point.is_today for point in trend[-2:]] == [False, True]
    assert [point.counts for point in trend[-4:]] == [
        counts(0, 2, 5, 7),  # Bea (Respect < Trust) and Eve below; nobody else assessed yet
        counts(1, 3, 3, 7),  # Dee reached on the 31st; Ann judged Unaware (below)
        counts(2, 3, 2, 7),  # Ann now Trust; Gus Understanding, below his own Trust
        counts(3, 3, 1, 7),  # Cal Respect: today's index
    ]
    # Before anyone was assessed but Eve (June 2025).
    assert trend[0].day == date(2025, 3, 31) and trend[0].counts == counts(0, 0, 7, 7)
    assert trend[-1].counts == engagement.engagement_index(world.pmo, today=TODAY)
    # A segment's trend: Finance's people only.
    finance = engagement.engagement_trend(world.pmo, world.segment.pk, today=TODAY, months=2)
    # 31 January: Ann Unaware, Bea and Eve below; 28 February and today: Ann at Trust.
    assert [point.counts for point in finance] == [counts(0, 3, 0, 3), counts(1, 2, 0, 3), counts(1, 2, 0, 3)]


def test_the_trend_takes_a_days_last_record_and_each_record_until_the_next(world):
    """Two records on one day: the one recorded later counts, from that day until the next
    record; a record dated after a month end does not count at it."""
    world.stakeholder.target_stage, world.stakeholder.target_reason = MaturityStage.RESPECT, "A sponsor"
    world.stakeholder.save()

    def record(stage, on, created):
        MaturityRecord.objects.create(
            pmo=world.pmo, stakeholder=world.stakeholder, stage=stage, rationale="-", recorded_on=on
        )
        MaturityRecord.objects.filter(stakeholder=world.stakeholder, recorded_on=on, stage=stage).update(
            created_at=created
        )

    record(MaturityStage.RESPECT, date(2026, 1, 10), datetime(2026, 1, 10, 9, tzinfo=UTC))
    record(MaturityStage.AWARE, date(2026, 1, 10), datetime(2026, 1, 10, 17, tzinfo=UTC))  # the day's last
    record(MaturityStage.TRUST, date(2026, 3, 1), datetime(2026, 3, 1, 9, tzinfo=UTC))
    trend = engagement.engagement_trend(world.pmo, today=TODAY, months=3)
    assert [(point.day, point.counts) for point in trend] == [
        (date(2025, 12, 31), counts(0, 0, 1, 1)),  # nothing recorded yet
        (date(2026, 1, 31), counts(0, 1, 0, 1)),  # Aware, the later of 10 January's two
        (date(2026, 2, 28), counts(0, 1, 0, 1)),  # still Aware: March's record is not yet
        (TODAY, counts(1, 0, 0, 1)),  # Trust ≥ Respect
    ]


def test_drifted_most_influential_and_largest_gap_first(seven, world, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = engagement.drifted(world.pmo, today=TODAY, limit=2)
    assert [(s.name, s.gap) for s in found.stakeholders] == [("Gus", 2), ("Bea", 1)]
    assert found.count == 3  # and Eve
    assert [s.name for s in engagement.drifted(world.pmo, today=TODAY).stakeholders] == ["Gus", "Bea", "Eve"]
    assert engagement.drifted(world.pmo, world.other_segment.pk, today=TODAY).count == 0


# The overdue touch as an at-risk reason ---------------------------------------------------------


def added_on(stakeholder, day: date):
    Stakeholder.objects.filter(pk=stakeholder.pk).update(
        created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    )


@pytest.fixture
def touches(world):
    world.stakeholder.delete()
    pmo = world.pmo
    # Manage closely: every 30 days by default.
    late = StakeholderFactory(pmo=pmo, name="Late", influence=4, interest=4, last_touched_on=TODAY - timedelta(45))
    on_time = StakeholderFactory(
        pmo=pmo, name="On time", influence=5, interest=5, last_touched_on=TODAY - timedelta(30)
    )
    # Their own cadence, 10 days: due on the 5th, overdue from the 6th.
    own = StakeholderFactory(
        pmo=pmo, name="Own cadence", influence=4, interest=1, cadence_days=10, last_touched_on=TODAY - timedelta(11)
    )
    never = StakeholderFactory(pmo=pmo, name="Never", influence=4, interest=5)
    added_on(never, date(2026, 1, 2))  # due 1 February
    quiet = StakeholderFactory(pmo=pmo, name="Quiet but minor", influence=3, interest=5)
    added_on(quiet, date(2025, 1, 2))
    gone = StakeholderFactory(pmo=pmo, name="Gone", influence=5, interest=5, is_active=False)
    added_on(gone, date(2025, 1, 2))
    for s in (late, on_time, own):
        added_on(s, date(2025, 6, 1))
    return late, on_time, own, never


def test_an_overdue_touch_puts_an_influential_stakeholder_at_risk(touches, world):
    found = {item.stakeholder.name: item.reasons for item in relationships.at_risk_stakeholders(world.pmo, today=TODAY)}
    assert found == {
        "Late": ["No touch for 45 days (every 30 days)"],  # 15 March − 45 days = 29 January
        "Own cadence": ["No touch for 11 days (every 10 days)"],
        "Never": ["Never touched since added on 2 January 2026 (every 30 days)"],
    }
    # On the day it falls due, not yet; the day after, it is.
    assert "On time" not in found
    tomorrow = {i.stakeholder.name for i in relationships.at_risk_stakeholders(world.pmo, today=TODAY + timedelta(1))}
    assert "On time" in tomorrow


def test_the_touch_reason_follows_the_other_reasons(touches, world):
    late, *_ = touches
    record(late, A, date(2026, 1, 1))
    [item] = [i for i in relationships.at_risk_stakeholders(world.pmo, today=TODAY) if i.stakeholder == late]
    assert item.reasons == ["Maturity only Aware", "No touch for 45 days (every 30 days)"]
    assert item.touch_overdue and not item.only_touch_overdue
    assert item.engagement.overdue_days == 15


def test_the_at_risk_page_keeps_one_count_with_the_touches(touches, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        shown_first, count = relationships.at_risk_page(world.pmo, limit=1, today=TODAY)
    assert count == 3 and [item.stakeholder.name for item in shown_first] == ["Late"]  # influence 4, then by name


# The dashboard's engagement card ---------------------------------------------------------------


@pytest.fixture
def stub_pdf(monkeypatch):
    monkeypatch.setattr(reports, "render_pdf", lambda report: b"%PDF-1.7 stub")


@pytest.fixture
def on_today():
    with time_machine.travel(datetime(2026, 3, 15, 12, tzinfo=UTC), tick=False):
        yield


def home(client, world, **params):
    return client.get(reverse("pmo_home", kwargs={"slug": world.pmo.slug}), params)


def test_the_dashboard_shows_the_index_its_trend_and_the_drifted(seven, world, client_for, on_today):
    seven["Gus"].name = "<script>alert('Gus')</script>"
    seven["Gus"].save()
    page = home(client_for(world.viewer), world)
    assert page.context["engagement"] == counts(3, 3, 1, 7)
    shown_text = visible(page)
    assert "43% 3 of 7 relationships at or above their target 3 below target · 1 not assessed" in shown_text
    assert "Finance 33% 1 of 3 0 Operations 100% 2 of 2 0 No segment 0% 0 of 2 1" in shown_text
    # The trend: a chart with its figures, and the same as a table.
    assert [point.counts for point in page.context["engagement_trend"][-4:]] == [
        counts(0, 2, 5, 7),
        counts(1, 3, 3, 7),
        counts(2, 3, 2, 7),
        counts(3, 3, 1, 7),
    ]
    chart = json.loads(re.search(r'id="engagement-data"[^>]*>(.*?)</script>', page.content.decode()).group(1))
    assert chart["labels"][-4:] == ["Dec 2025", "Jan 2026", "Feb 2026", "Today"]
    assert chart["index"][-4:] == [0.0, 14.0, 29.0, 43.0]
    assert 'id="engagement-chart"' in page.content.decode()
    assert "28 Feb 2026 29% 2 of 7 2 Today 43% 3 of 7 1" in shown_text
    # The drifted, most influential first, linked, their names escaped.
    drifted = page.context["drifted"]
    assert [s.pk for s in drifted.stakeholders] == [seven["Gus"].pk, seven["Bea"].pk, seven["Eve"].pk]
    html_text = page.content.decode()
    assert "<script>alert('Gus')" not in html_text
    assert "&lt;script&gt;alert(&#x27;Gus&#x27;)&lt;/script&gt;" in html_text
    assert reverse("stakeholder_detail", args=[world.pmo.slug, seven["Bea"].pk]) in html_text
    assert "Understanding, target Trust: 2 stages to go" in shown_text
    assert "Respect, target Trust: 1 stage to go" in shown_text


def test_the_dashboards_engagement_follows_its_segment(seven, world, client_for, on_today):
    page = home(client_for(world.viewer), world, segment=world.segment.pk)
    assert page.context["engagement"] == counts(1, 2, 0, 3)
    assert [row.name for row in page.context["engagement_by_segment"]] == ["Finance"]
    assert [s.name for s in page.context["drifted"].stakeholders] == ["Bea", "Eve"]
    assert page.context["engagement_trend"][-1].counts == counts(1, 2, 0, 3)
    assert "33% 1 of 3 relationships at or above their target" in visible(page)


def test_the_engagement_card_when_there_is_nothing_to_measure(world, client_for, on_today):
    client = client_for(world.viewer)
    page = home(client, world)  # Fiona, never assessed
    assert page.context["engagement"] == counts(0, 0, 1, 1)
    assert "Nobody has been assessed yet" in visible(page)
    assert 'id="engagement-chart"' not in page.content.decode()
    world.stakeholder.delete()
    page = home(client, world)
    assert "No active stakeholder yet. Add the people whose relationship" in visible(page)


# The report's engagement section ------------------------------------------------------------------


def test_the_report_shows_the_index_and_its_change_since_the_previous_report(seven, world, stub_pdf):
    seven["Bea"].name = "<b>Bea</b> & co"
    seven["Bea"].save()
    first = build_report(world.pmo, date(2026, 2, 1), date(2026, 3, 1))
    e = first.figures["engagement"]
    # Built on 1 March: Cal's Respect (1 March) counts; 3 of 7.
    assert (e["reached"], e["below"], e["not_assessed"], e["total"]) == (3, 3, 1, 7)
    assert e["index"] == pytest.approx(300 / 7)
    assert e["compared_with"] == "first" and e["change"] is None
    assert [(row["name"], row["reached"], row["total"]) for row in e["segments"]] == [
        ("Finance", 1, 3),
        ("Operations", 2, 2),
        ("No segment", 0, 2),
    ]
    assert [(row["name"], row["gap"]) for row in e["drifted"]] == [("Gus", 2), ("<b>Bea</b> & co", 1), ("Eve", 1)]
    page = words(first.html)
    assert "43% of relationships at or above their target maturity: 3 of 7 (3 below target, 1 not assessed)." in page
    assert "First report: no earlier index to compare with." in page
    assert "Finance 33% 1 of 3 0 Operations 100% 2 of 2 0 No segment 0% 0 of 2 1" in page
    assert "Gus (influence 5) : Understanding, target Trust, 2 stages to go" in page
    # The name is the stakeholder's own text: escaped in the HTML (and so in the PDF), as is in the text.
    assert "<b>Bea</b>" not in first.html and "&lt;b&gt;Bea&lt;/b&gt; &amp; co" in first.html
    assert "- <b>Bea</b> & co (influence 5): Respect, target Trust, 1 stage to go" in first.text

    # Bea reaches Trust during March: 4 of 7, +14 points (57.14 − 42.86 = 14.29).
    record(seven["Bea"], T, date(2026, 3, 20))
    second = build_report(world.pmo, date(2026, 3, 1), date(2026, 4, 1))
    e = second.figures["engagement"]
    assert (e["reached"], e["below"], e["total"]) == (4, 2, 7)
    assert e["compared_with"] == "report"
    assert e["previous_index"] == pytest.approx(300 / 7)
    assert e["change"] == pytest.approx(100 / 7)
    assert "Change since the previous report: +14 points (from 43%)." in words(second.html)
    assert "Change since the previous report: +14 points (from 43%)." in second.text


def test_a_report_stored_before_version_4_reads_not_measured_then(seven, world, stub_pdf):
    earlier = build_report(world.pmo, date(2026, 2, 1), date(2026, 3, 1))
    version_3 = dict(earlier.figures)
    version_3.pop("engagement")
    version_3["schema_version"] = 3
    AgendaReport.objects.filter(pk=earlier.pk).update(figures=version_3)
    loaded = report_figures.load(version_3, currency="GBP")
    assert (loaded.schema_version, loaded.engagement) == (5, None)
    html, text_of = reports.render(AgendaReport.objects.select_related("pmo").get(pk=earlier.pk))
    assert "Engagement Not measured then" in words(html)
    assert "ENGAGEMENT\nNot measured then." in text_of
    # The next report has nothing to compare with.
    later = build_report(world.pmo, date(2026, 3, 1), date(2026, 4, 1))
    assert later.figures["engagement"]["compared_with"] == "not_measured"
    assert later.figures["engagement"]["change"] is None
    assert "The previous report did not measure engagement (not measured then)." in words(later.html)


# The suggestion to get back in touch -----------------------------------------------------------


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_get_back_in_touch_on_the_p_their_latest_answers_score_lowest(touches, world, on_today):
    late, _on_time, own, never = touches
    pmo = world.pmo
    # January, closed: Late rated Price lowest and everything essential; the PMO's top priority is Price.
    january = SurveyFactory(pmo=pmo, title="January", closed=True, closed_at=at(date(2026, 1, 20)))
    ResponseFactory(
        survey=january,
        stakeholder=late,
        submitted_at=at(date(2026, 1, 10)),
        ratings=every(4) | {Element.PRICE: (1, 1)},
        importance=dict.fromkeys(Element, 5),
    )
    # February, open: his latest named answers score Process lowest, (3 + 2) / 2 → 37.5.
    february = SurveyFactory(pmo=pmo, title="February", open=True)
    ResponseFactory(
        survey=february,
        stakeholder=late,
        submitted_at=at(date(2026, 2, 10)),
        ratings=every(4) | {Element.PROCESS: (3, 2)},
    )
    # An anonymous survey's answers are never tied to him.
    anonymous = SurveyFactory(pmo=pmo, title="Anonymous", open=True, anonymous=True)
    ResponseFactory(
        survey=anonymous,
        stakeholder=late,
        submitted_at=at(date(2026, 3, 1)),
        ratings=every(5) | {Element.PRODUCT: (1, 1)},
    )

    proposed = {s.stakeholder_id: s for s in suggestions.suggestions(pmo) if s.key.startswith("touch:")}
    assert set(proposed) == {late.pk, own.pk, never.pk}
    s = proposed[late.pk]
    assert s.title == "Get back in touch with Late"
    assert s.why == (
        "Late: no touch for 45 days (every 30 days). "
        "Their latest answers score Process lowest (37.5): talk about personalising the service."
    )
    assert s.element == Element.PROCESS
    assert s.key == f"touch:stakeholder-{late.pk}:2026-02-28"  # 29 January + 30 days
    s = proposed[never.pk]
    assert s.why == (
        "Never: never touched since added on 2 January 2026 (every 30 days). "
        "No answers of theirs yet: talk about Price, the PMO's top priority (increasing perceived value)."
    )
    assert s.element == Element.PRICE and s.key == f"touch:stakeholder-{never.pk}:2026-02-01"
    # At risk only for the touch: this suggestion, not a meeting besides.
    assert not [s for s in suggestions.suggestions(pmo) if s.title.startswith("Meet ")]

    # Adopted, it is not proposed again while the touch stays overdue.
    action = plan_services.adopt_suggestion(pmo, world.membership(world.member), proposed[late.pk].key)
    assert action.title == "Get back in touch with Late"
    assert late.pk not in {s.stakeholder_id for s in suggestions.suggestions(pmo) if s.key.startswith("touch:")}


def test_get_back_in_touch_without_any_answers(touches, world, on_today):
    _late, _on_time, own, _never = touches
    [s] = [s for s in suggestions.suggestions(world.pmo) if s.stakeholder_id == own.pk]
    assert s.why == "Own cadence: no touch for 11 days (every 10 days). No answers yet: ask them in the next survey."
    assert s.element == Element.PEOPLE


def test_a_change_of_the_index_is_shown_in_whole_points_with_its_sign():
    assert points(100 / 7) == "+14"
    assert points(-100 / 7) == "\u221214"  # a true minus
    assert points(0.4) == "0"
    assert points(None) == "—"
