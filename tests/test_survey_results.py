"""Survey results and the CSV export, against figures worked out by hand from a fixed set
of answers (docs/figures.md): perception and importance on 0–100 with "Don't know"
left out, NPS, response rate, segments under MIN_GROUP_SIZE hidden, anonymity."""

import csv
import hashlib
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from agenda.results import COMMENTS_PER_PAGE, RESPONSES_PER_PAGE
from pmo5p.domain import Element
from stakeholders.models import QuestionKind, Stakeholder, SurveyInvitation
from tests.factories import ResponseFactory, SegmentFactory, StakeholderFactory, SurveyInvitationFactory
from tests.survey_helpers import open_survey, questions, survey_url

P, PE, PR, PEO, PRO = Element.PRODUCT, Element.PHYSICAL_EVIDENCE, Element.PRICE, Element.PEOPLE, Element.PROCESS
DK = None
HYPERLINK = '=HYPERLINK("http://evil.example","click")'
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)

# Who answered what. Process is never answered; Price only ever "Don't know".
ANSWERS = [
    # name, segment, product, physical evidence, people, importance (P, PE, PR), nps, comment
    ("Alice Able", "A", [5, 4], [4, 4], [5, 5], (5, 3, 1), 10, "Great service"),
    ("Ben Baker", "A", [4, DK], [4, 4], [3, 3], (4, 3, 1), 9, ""),
    ("+evil", "A", [3, 3], [4, 4], [3, 3], (3, 3, 1), 7, ""),
    ("Dora Dunn", "A", [DK, DK], [4, 4], [3, 3], (5, 3, 1), 3, HYPERLINK),
    ("Eve Early", "B", [1, 2], [2, 2], [3, 3], (2, 3, 1), 0, ""),
    ("Finn Fox", "B", [2, DK], [4, 4], [3, 3], (4, 3, 1), 9, ""),
]
NAMES = [row[0] for row in ANSWERS] + ["Nora Noreply", "Sam Silent", "Fay Failed"]

# Worked out by hand: score = (mean rating − 1) / 4 × 100.
EXPECTED = {
    # element: (perception, answers, don't know, importance, importance answers)
    P: (50.0, 8, 4, 70.8333, 6),  # (5+4+4+3+3+1+2+2)/8 = 3.0; importance 23/6 = 3.8333
    PE: (66.6667, 12, 0, 50.0, 6),  # 44/12 = 3.6667; importance all 3
    PR: (None, 0, 12, 0.0, 6),  # only "Don't know"; importance all 1
    PEO: (58.3333, 12, 0, None, 0),  # 40/12 = 3.3333; importance never asked
    PRO: (None, 0, 0, None, 0),  # nobody answered
}
PAGE = {P: ("50.0", "70.8"), PE: ("66.7", "50.0"), PR: ("—", "0.0"), PEO: ("58.3", "—"), PRO: ("—", "—")}


def build(world, *, anonymous):
    segments = {"A": world.segment, "B": SegmentFactory(pmo=world.pmo, name="IT")}
    people = {}
    for name, seg, *_ in ANSWERS:
        email = "evil@corp.example" if name == "+evil" else f"{name.split()[0].lower()}@corp.example"
        people[name] = StakeholderFactory(pmo=world.pmo, name=name, email=email, segment=segments[seg])
    silent = [StakeholderFactory(pmo=world.pmo, name=n, segment=segments["A"]) for n in NAMES[6:]]
    survey, invitations = open_survey(
        world.pmo, [*people.values(), *silent[:2]], anonymous=anonymous, title="Spring", sent_at=T0
    )
    SurveyInvitationFactory(
        survey=survey, stakeholder=silent[2], send_status=SurveyInvitation.SendStatus.FAILED, last_error="refused"
    )
    by_name = {i.stakeholder.name: i for i in invitations}
    for n, (name, _, product, evidence, people_, importance, nps, comment) in enumerate(ANSWERS):
        ResponseFactory(
            invitation=by_name[name],
            ratings={P: product, PE: evidence, PR: [DK, DK], PEO: people_},
            importance=dict(zip((P, PE, PR), importance, strict=True)),
            nps=nps,
            comment=comment,
            submitted_at=T0 + timedelta(hours=n + 1),
        )
    return survey


@pytest.fixture
def named(world):
    return build(world, anonymous=False)


@pytest.fixture
def anonymous(world):
    return build(world, anonymous=True)


def figure(page: str, name: str) -> str:
    (value,) = re.findall(rf'data-figure="{name}">([^<]*)<', page)
    return value.strip()


def element_figures(page: str) -> dict:
    found = {}
    for element, row in re.findall(r'<tr data-element="(\w+)">(.*?)</tr>', page, re.S):
        found[Element(element)] = (figure(row, "perception"), figure(row, "importance"))
    return found


def segment_rows(page: str) -> dict:
    rows = {}
    for name, row in re.findall(r'<tr data-segment="([^"]+)">(.*?)</tr>', page, re.S):
        rows[name] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return rows


# The results page ----------------------------------------------------------------------------


def test_the_figures_of_the_results_page(world, named, client_for):
    response = client_for(world.viewer).get(survey_url("survey_results", named))
    assert response.status_code == 200
    page = response.content.decode()

    participation = response.context["participation"]
    assert (participation.invited, participation.sent, participation.failed, participation.responses) == (9, 8, 1, 6)
    assert participation.response_rate == pytest.approx(75.0)
    assert figure(page, "response-rate") == "75%"
    assert "6 of 8 sent" in page

    for row in response.context["element_scores"]:
        perception, answers, dont_know, importance, importance_answers = EXPECTED[row.element]
        assert row.perception == (pytest.approx(perception, abs=1e-3) if perception is not None else None)
        assert row.importance == (pytest.approx(importance, abs=1e-3) if importance is not None else None)
        assert (row.perception_answers, row.dont_know, row.importance_answers) == (
            answers,
            dont_know,
            importance_answers,
        ), row.element
    assert element_figures(page) == PAGE
    assert "8 answers, 4 don't know" in page

    nps = response.context["nps"]
    assert (nps.answers, nps.promoters, nps.passives, nps.detractors) == (6, 3, 1, 2)
    assert nps.score == pytest.approx((3 - 2) / 6 * 100)
    assert (figure(page, "nps"), figure(page, "promoters"), figure(page, "passives"), figure(page, "detractors")) == (
        "17",
        "3",
        "1",
        "2",
    )
    chart = response.context["chart_data"]
    assert chart["perception"] == [50.0, 66.7, None, 58.3, None]
    assert chart["nps"] == [2, 1, 3]


def test_comments_are_listed(world, named, client_for):
    response = client_for(world.lead).get(survey_url("survey_results", named))
    assert response.context["comment_count"] == 2
    assert [text for text, _ in response.context["comments"]] == [HYPERLINK, "Great service"]
    page = response.content.decode()
    assert "Great service" in page
    assert "=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)" in page  # escaped, not markup


def test_segments_under_the_minimum_group_size_are_hidden(world, named, client_for):
    response = client_for(world.lead).get(survey_url("survey_results", named))
    rows = {row.name: row for row in response.context["segments"]}
    assert set(rows) == {"Finance", "IT"}
    finance, it = rows["Finance"], rows["IT"]
    assert (finance.responses, finance.hidden) == (4, False)
    assert it.hidden is True and it.perceptions == [None] * 5
    # Finance by hand: product 19/5 = 3.8 → 70; evidence 4 → 75; people 28/8 = 3.5 → 62.5.
    assert finance.perceptions == [pytest.approx(70.0), pytest.approx(75.0), None, pytest.approx(62.5), None]
    page_rows = segment_rows(response.content.decode())
    # Finance: 4 responses of 6 sent (Fay's invitation failed) = 66.7%.
    assert page_rows["Finance"] == ["4", "67%", "70.0", "75.0", "—", "62.5", "—"]
    assert page_rows["IT"] == ["fewer than 3", "hidden to protect anonymity"]


def test_the_named_survey_shows_a_row_per_stakeholder(world, named, client_for):
    response = client_for(world.lead).get(survey_url("survey_results", named))
    table = {row.name: (row.perceptions, row.nps) for row in response.context["per_stakeholder"]}
    assert sorted(table) == sorted(row[0] for row in ANSWERS)
    assert table["Alice Able"] == ([87.5, 75.0, None, 100.0, None], 10)
    assert table["Dora Dunn"] == ([None, 75.0, None, 50.0, None], 3)
    assert table["Eve Early"] == ([12.5, 25.0, None, 50.0, None], 0)
    page = response.content.decode()
    assert "Per stakeholder: perception" in page
    assert "Alice Able" in page and "Nora Noreply" not in page
    # Each name links to the stakeholder's page; the figures are shown as the score filter rounds them.
    alice = Stakeholder.objects.get(name="Alice Able")
    row = re.search(rf'<tr data-stakeholder="{alice.pk}">(.*?)</tr>', page, re.S).group(1)
    assert f'href="{reverse("stakeholder_detail", args=[world.pmo.slug, alice.pk])}"' in row
    assert re.findall(r'data-figure="response-perception">([^<]*)<', row) == ["87.5", "75.0", "—", "100.0", "—"]


def test_the_anonymous_survey_shows_nobody(world, anonymous, client_for):
    response = client_for(world.lead).get(survey_url("survey_results", anonymous))
    assert response.status_code == 200
    # (The comments' pages are in the context: the include of their links names them `page`.)
    assert "per_stakeholder" not in response.context and "page_query" not in response.context
    page = response.content.decode()
    assert "Per stakeholder" not in page
    # The page's own content: the header names the signed-in user, whose random name may be "Ben Bennett".
    content = page[page.index('<main id="main"') : page.index("</main>")]
    for name in NAMES:
        assert not re.search(rf"\b({re.escape(name)}|{re.escape(name.split()[0])})\b", content), name
    assert "@corp.example" not in page
    # Same figures as the named survey.
    assert element_figures(page) == PAGE
    assert figure(page, "nps") == "17" and figure(page, "response-rate") == "75%"
    # Comments without their date, which could point at who wrote them.
    assert "Great service" in page
    assert [when for _text, when in response.context["comments"]] == [None, None]
    assert "1 Apr 2026" not in page


def test_the_anonymous_detail_page_does_not_say_who_answered(world, anonymous, client_for):
    page = client_for(world.lead).get(survey_url("survey_detail", anonymous)).content.decode()
    assert page.count("hidden (anonymous)") == 9  # one per invitation: who was asked, not who answered
    assert '<span class="text-success">1 Apr</span>' not in page


def test_the_named_detail_page_dates_each_answer(world, named, client_for):
    page = client_for(world.lead).get(survey_url("survey_detail", named)).content.decode()
    assert "hidden (anonymous)" not in page
    assert page.count('<span class="text-success">1 Apr</span>') == 6


def test_an_element_with_no_answers_shows_a_dash(world, client_for):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    ResponseFactory(invitation=invitation, ratings={P: [4, 4]}, nps=8)
    page = client_for(world.lead).get(survey_url("survey_results", survey)).content.decode()
    figures = element_figures(page)
    assert figures[P] == ("75.0", "—")
    assert figures[PRO] == ("—", "—")


def test_results_before_any_response(world, client_for):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    response = client_for(world.lead).get(survey_url("survey_results", survey))
    page = response.content.decode()
    assert "No response yet" in page
    assert figure(page, "response-rate") == "0%" and figure(page, "nps") == "—"


# CSV export ---------------------------------------------------------------------------------


def export(client, survey):
    response = client.get(survey_url("survey_export", survey))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="survey-{survey.pk}-responses.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel, as every CSV export
    content = response.content.decode("utf-8-sig")
    return content, list(csv.reader(io.StringIO(content)))


def rated_headers(survey):
    rated = [q for q in questions(survey) if q.kind in (QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE)]
    return [f"{q.get_element_display()}: {q.text}" for q in rated]


def test_the_csv_export_of_a_named_survey(world, named, client_for):
    _, rows = export(client_for(world.viewer), named)
    header, *body = rows
    assert header == [
        "response",
        "submitted_at",
        "stakeholder",
        "email",
        "segment",
        *rated_headers(named),
        "nps",
        "comment",
    ]
    assert len(body) == 6
    by_name = {row[2]: dict(zip(header, row, strict=True)) for row in body}
    assert set(by_name) == {"Alice Able", "Ben Baker", "'+evil", "Dora Dunn", "Eve Early", "Finn Fox"}
    ben = by_name["Ben Baker"]
    product = [h for h in header if h.startswith("Product: ")]
    assert [ben[h] for h in product] == ["4", "don't know", "4"]  # two statements, then importance
    assert [ben[h] for h in header if h.startswith("Process: ")] == ["", "", ""]
    assert (ben["email"], ben["segment"], ben["nps"], ben["response"]) == ("ben@corp.example", "Finance", "9", "2")
    # In the PMO's time zone (Europe/London: summer time in April).
    assert ben["submitted_at"] == "2026-04-01T12:00:00+01:00"
    assert by_name["'+evil"]["email"] == "evil@corp.example"
    assert by_name["Dora Dunn"]["comment"] == "'" + HYPERLINK
    assert by_name["Eve Early"]["segment"] == "IT"


def test_the_csv_export_of_an_anonymous_survey_names_nobody(world, anonymous, client_for):
    content, rows = export(client_for(world.lead), anonymous)
    header, *body = rows
    # No time at all: not even the day, which could point at who answered.
    assert header == ["response", "segment", *rated_headers(anonymous), "nps", "comment"]
    assert len(body) == 6
    for name in NAMES:
        assert name not in content
    assert "@" not in content
    assert "2026" not in content
    assert [row[0] for row in body] == ["1", "2", "3", "4", "5", "6"]
    # IT has fewer than 3 responses: its segment is left out.
    assert sorted((row[1], row[-2]) for row in body) == [("", "0"), ("", "9")] + [
        ("Finance", nps) for nps in ("10", "3", "7", "9")
    ]
    assert sorted(row[-1] for row in body if row[-1]) == ["'" + HYPERLINK, "Great service"]


@pytest.mark.parametrize("dangerous", ["=1+1", "+evil", "-2", "@SUM(A1)", "\tTab", "\rCR"])
def test_cells_that_a_spreadsheet_would_run_are_neutralised(world, client_for, dangerous):
    shady = StakeholderFactory(pmo=world.pmo, name=dangerous, segment=SegmentFactory(pmo=world.pmo, name=dangerous))
    survey, (invitation,) = open_survey(world.pmo, [shady])
    ResponseFactory(invitation=invitation, ratings={P: [4, 4]}, nps=8, comment=dangerous)
    _, (header, row) = export(client_for(world.lead), survey)
    record = dict(zip(header, row, strict=True))
    assert record["stakeholder"] == record["segment"] == record["comment"] == "'" + dangerous


def test_the_export_of_another_pmos_survey_is_not_found(world, client_for):
    survey, _ = open_survey(world.other_pmo, [world.other_stakeholder])
    url = f"/pmo/{world.pmo.slug}/surveys/{survey.pk}/responses.csv"
    assert client_for(world.lead).get(url).status_code == 404


def test_responses_without_a_segment_form_a_group_of_their_own(world, client_for):
    loose = [StakeholderFactory(pmo=world.pmo, segment=None) for _ in range(3)]
    survey, invitations = open_survey(world.pmo, [*loose, world.stakeholder])
    for invitation, value in zip(invitations[:3], (2, 3, 4), strict=True):
        ResponseFactory(invitation=invitation, ratings={P: [value, value]}, nps=8)
    ResponseFactory(invitation=invitations[3], ratings={P: [5, 5]}, nps=8)
    response = client_for(world.lead).get(survey_url("survey_results", survey))
    rows = {row.name: row for row in response.context["segments"]}
    assert (rows["No segment"].responses, rows["No segment"].hidden) == (3, False)
    assert rows["No segment"].perceptions[0] == pytest.approx(50.0)
    assert rows["Finance"].hidden is True
    assert segment_rows(response.content.decode())["No segment"][:3] == ["3", "100%", "50.0"]


def test_segment_rows_are_those_of_the_audience_at_the_launch(world, client_for):
    """A row per segment of those invited, none answered included, as they were at the launch:
    moving someone afterwards, answered or not, changes no row; a segment deleted since
    counts as "No segment", its invitations and responses alike."""
    finance = [StakeholderFactory(pmo=world.pmo, segment=world.segment) for _ in range(3)]
    it_segment = SegmentFactory(pmo=world.pmo, name="IT")
    it = StakeholderFactory(pmo=world.pmo, segment=it_segment)
    survey, invitations = open_survey(world.pmo, [*finance, it])
    for invitation in invitations[:3]:
        ResponseFactory(invitation=invitation, ratings={P: [4, 4]}, nps=8)
    client = client_for(world.lead)
    rows = client.get(survey_url("survey_results", survey)).context["segments"]
    assert [(row.name, row.responses, row.hidden) for row in rows] == [("Finance", 3, False), ("IT", 0, True)]
    ops = SegmentFactory(pmo=world.pmo, name="Ops")
    Stakeholder.objects.filter(pk__in=[finance[0].pk, it.pk]).update(segment=ops)
    response = client.get(survey_url("survey_results", survey))
    rows = response.context["segments"]
    assert [(row.name, row.responses, row.hidden) for row in rows] == [("Finance", 3, False), ("IT", 0, True)]
    assert segment_rows(response.content.decode()) == {
        "Finance": ["3", "100%", "75.0", "—", "—", "—", "—"],
        "IT": ["fewer than 3", "hidden to protect anonymity"],
    }
    it_segment.delete()
    world.segment.delete()
    rows = client.get(survey_url("survey_results", survey)).context["segments"]
    assert [(row.name, row.responses, row.participation.sent) for row in rows] == [("No segment", 3, 4)]


# Pages of comments and of stakeholders ---------------------------------------------------------


def many_comments(world, count, *, anonymous):
    people = [StakeholderFactory(pmo=world.pmo, name=f"Person {i:02d}") for i in range(count)]
    survey, invitations = open_survey(world.pmo, people, anonymous=anonymous, title="Busy", sent_at=T0)
    for n, invitation in enumerate(invitations):
        ResponseFactory(invitation=invitation, nps=8, comment=f"Remark {n:02d}", submitted_at=T0 + timedelta(hours=n))
    return survey


def shown_comments(client, survey, query=""):
    response = client.get(survey_url("survey_results", survey) + query)
    assert response.status_code == 200
    return [text for text, _ in response.context["comments"]], response


def test_comments_come_a_page_at_a_time_the_latest_first(world, client_for, settings):
    survey = many_comments(world, COMMENTS_PER_PAGE + 5, anonymous=False)
    client = client_for(world.viewer)
    first, response = shown_comments(client, survey)
    latest = [f"Remark {n:02d}" for n in reversed(range(COMMENTS_PER_PAGE + 5))]
    assert first == latest[:COMMENTS_PER_PAGE]
    assert response.context["comment_count"] == COMMENTS_PER_PAGE + 5
    page = response.content.decode()
    # The comments' links name their own parameter, keep the stakeholders' page and land on the comments.
    assert 'href="?comments=2#comments"' in page
    second, _ = shown_comments(client, survey, "?comments=2")
    assert second == latest[COMMENTS_PER_PAGE:]
    # Pages of stakeholders and of comments are chosen apart, each link keeping the other.
    _, both = shown_comments(client, survey, "?page=1&comments=2")
    assert 'href="?page=1&amp;comments=1#comments"' in both.content.decode()
    # A page number that is not one is the first page, one past the end the last (Paginator.get_page).
    assert shown_comments(client, survey, "?comments=x")[0] == first
    assert shown_comments(client, survey, "?comments=-3")[0] == second
    assert shown_comments(client, survey, "?comments=99")[0] == second


def test_the_pages_of_an_anonymous_surveys_comments_keep_an_order_of_their_text(world, client_for):
    survey = many_comments(world, COMMENTS_PER_PAGE + 5, anonymous=True)
    client = client_for(world.viewer)
    first, response = shown_comments(client, survey)
    second, _ = shown_comments(client, survey, "?comments=2")
    expected = sorted(
        (f"Remark {n:02d}" for n in range(COMMENTS_PER_PAGE + 5)),
        key=lambda text: hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
    )
    assert first + second == expected
    assert [when for _, when in response.context["comments"]] == [None] * COMMENTS_PER_PAGE
    assert "1 Apr 2026" not in response.content.decode()


def test_stakeholders_come_a_page_at_a_time_by_name(world, client_for):
    survey = many_comments(world, RESPONSES_PER_PAGE + 3, anonymous=False)
    client = client_for(world.viewer)
    first = client.get(survey_url("survey_results", survey))
    names = [f"Person {i:02d}" for i in range(RESPONSES_PER_PAGE + 3)]
    assert [row.name for row in first.context["per_stakeholder"]] == names[:RESPONSES_PER_PAGE]
    assert 'href="?page=2#per-stakeholder"' in first.content.decode()
    second = client.get(survey_url("survey_results", survey) + "?page=2&comments=2")
    assert [row.name for row in second.context["per_stakeholder"]] == names[RESPONSES_PER_PAGE:]
    assert 'href="?comments=2&amp;page=1#per-stakeholder"' in second.content.decode()
    assert [
        row.name for row in client.get(survey_url("survey_results", survey) + "?page=zz").context["per_stakeholder"]
    ] == names[:RESPONSES_PER_PAGE]


def test_a_page_holds_25_stakeholders_and_namesakes_each_once(world, client_for):
    """25 rows a page (agenda/results.py says why); namesakes are ordered by stakeholder, so
    that the pages neither repeat nor skip one of them at a page's edge; a stakeholder who did
    not answer, or answered another survey, has no row; one who left since still has theirs."""
    people = [StakeholderFactory(pmo=world.pmo, name=f"Person {i:02d}") for i in range(24)]
    people += [StakeholderFactory(pmo=world.pmo, name="Person 24") for _ in range(3)]
    silent = StakeholderFactory(pmo=world.pmo, name="Person 00 silent")
    survey, invitations = open_survey(world.pmo, [*people, silent], title="Busy", sent_at=T0)
    for n, invitation in enumerate(invitations[:-1]):
        ResponseFactory(invitation=invitation, nps=8, submitted_at=T0 + timedelta(hours=-n))
    _other, (elsewhere,) = open_survey(world.pmo, [silent], title="Other", sent_at=T0)
    ResponseFactory(invitation=elsewhere, nps=1, submitted_at=T0)
    Stakeholder.objects.filter(pk=people[0].pk).update(is_active=False)
    client = client_for(world.viewer)
    pages = [client.get(survey_url("survey_results", survey) + f"?page={n}") for n in (1, 2)]
    rows = [[row.stakeholder_id for row in page.context["per_stakeholder"]] for page in pages]
    assert len(rows[0]) == 25 and len(rows[1]) == 2
    assert rows[0] + rows[1] == [p.pk for p in people]
    assert 'href="?page=2#per-stakeholder"' in pages[0].content.decode()
