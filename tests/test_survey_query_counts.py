"""The survey pages answer in a fixed number of queries, whatever the number of responses.

Each page gets one ceiling, the same for 10 and for 2,000 responses: a page that loads a
row per response or per answer (an N+1 query) breaks it at once.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agenda.results import RESPONSES_PER_PAGE
from pmo5p.domain import Element
from stakeholders.models import Answer, Question, QuestionKind, Response, Stakeholder, Survey, SurveyInvitation
from tests.factories import SegmentFactory, SurveyFactory
from tests.survey_helpers import answer_data, open_survey, survey_url

SIZES = [10, 2000]

# One ceiling per page: the count measured, plus one.
# Every signed-in page: session, user, membership, and the PMO menu's memberships (4).
MAX_QUERIES = {
    # survey, element scores, NPS, participation per segment (the survey's is their sum),
    # segment names, segment means, comment count and page, the page of stakeholders (the
    # participation counted them), per-stakeholder perceptions, the derived importance's
    # correlations (agenda/figures/drivers.py): 11
    "results": 15 + 1,
    "results_anonymous": 13 + 1,  # the same without the per-stakeholder page (2 fewer)
    "detail": 9 + 1,  # survey, participation, question count, invitation count and page
    # survey, participation, question count, the PMO, the audience in one query, the services asked
    "detail_draft": 10 + 1,
    "list": 6 + 1,  # the surveys, then their counts in one query
}


def populate(world, count, *, anonymous=False, title="Big"):
    segments = [world.segment, SegmentFactory(pmo=world.pmo, name=f"IT {title}"), None]
    stakeholders = Stakeholder.objects.bulk_create(
        Stakeholder(
            pmo=world.pmo,
            name=f"{title} stakeholder {i:04d}",
            email=f"{title.lower()}{i}@corp.example",
            segment=segments[i % 3],
        )
        for i in range(count + 5)
    )
    survey, _ = open_survey(world.pmo, [], anonymous=anonymous, title=title)
    now = timezone.now()
    invitations = []
    for stakeholder in stakeholders:
        invitation = SurveyInvitation.new(survey, stakeholder)
        invitation.sent_at, invitation.send_status = now, SurveyInvitation.SendStatus.SENT
        invitations.append(invitation)
    invitations = SurveyInvitation.objects.bulk_create(invitations)
    responses = Response.objects.bulk_create(
        Response(
            invitation=invitation,
            survey=survey,
            segment_id=invitation.segment_id,
            nps=i % 11,
            comment=f"Comment {i}" if i % 4 == 0 else "",
            submitted_at=now,
        )
        for i, invitation in enumerate(invitations[:count])
    )
    rated = list(survey.questions.filter(kind__in=[QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE]))
    Answer.objects.bulk_create(
        (
            Answer(response=response, question=question, value=None if (i + j) % 7 == 0 else 1 + (i + j) % 5)
            for i, response in enumerate(responses)
            for j, question in enumerate(rated)
        ),
        batch_size=5000,
    )
    SurveyInvitation.objects.filter(pk__in=[r.invitation_id for r in responses]).update(responded_at=now)
    return survey


@pytest.fixture
def populated(world, request):
    count = request.param
    named = populate(world, count, title="Named")
    anonymous = populate(world, count, anonymous=True, title="Anon")
    draft = SurveyFactory(pmo=world.pmo, title="Draft")
    draft.target_segments.add(world.segment)
    draft.target_stakeholders.add(*Stakeholder.objects.filter(pmo=world.pmo)[:20])
    # Another PMO's survey must neither show nor cost a query here.
    open_survey(world.other_pmo, [world.other_stakeholder])
    assert Response.objects.filter(survey=named).count() == count
    assert Answer.objects.filter(response__survey=named).count() == count * 15
    return {"results": named, "results_anonymous": anonymous, "detail": named, "detail_draft": draft}


def page_url(world, populated, page_name):
    if page_name == "list":
        return reverse("survey_list", kwargs={"slug": world.pmo.slug})
    return survey_url("survey_detail" if page_name.startswith("detail") else "survey_results", populated[page_name])


@pytest.mark.parametrize("populated", SIZES, indirect=True, ids=[f"{n}-responses" for n in SIZES])
def test_survey_page_query_counts_do_not_grow(world, client, populated, django_assert_max_num_queries):
    """One build per size (2,000 responses take a few seconds), then every page against its ceiling."""
    client.force_login(world.viewer)
    for page_name, ceiling in MAX_QUERIES.items():
        with django_assert_max_num_queries(ceiling):
            response = client.get(page_url(world, populated, page_name))
        assert response.status_code == 200, page_name
        check_the_page_did_its_work(page_name, response.context)


def check_the_page_did_its_work(page_name, context):
    """The ceiling is measured on a page that showed real rows."""
    if page_name.startswith("results"):
        assert context["participation"].responses in SIZES
        assert context["nps"].answers in SIZES
        assert context["element_scores"][0].perception_answers > 0
    if page_name == "results":
        assert len(context["per_stakeholder"]) == min(RESPONSES_PER_PAGE, context["participation"].responses)
    if page_name == "detail":
        assert len(context["page"].object_list) == min(50, context["participation"].invited)
    if page_name == "detail_draft":
        assert len(context["audience"].invitable) > 0
    if page_name == "list":
        assert len(context["surveys"]) == 3
        counts = {s.title: (p.invited, p.sent, p.responses) for s, p in context["surveys"]}
        size = context["surveys"][0][1].responses or context["surveys"][1][1].responses
        assert counts == {"Named": (size + 5, size + 5, size), "Anon": (size + 5, size + 5, size), "Draft": (0, 0, 0)}
        assert Survey.objects.count() == 4 and Question.objects.count() == 4 * 17


@pytest.mark.parametrize("populated", [10], indirect=True, ids=["10-responses"])
def test_the_list_counts_without_multiplying_rows(world, client, populated):
    """Counting invitations and responses over two joins side by side makes invitations ×
    responses rows per survey (4 million for 2,000 answers) and needs DISTINCT to hide it: the
    list counts the invitations, each joined to its one response."""
    client.force_login(world.viewer)
    with CaptureQueriesContext(connection) as queries:
        client.get(page_url(world, populated, "list"))
    (counting,) = [q["sql"] for q in queries.captured_queries if 'FROM "stakeholders_invitation"' in q["sql"]]
    assert "COUNT(" in counting and "GROUP BY" in counting
    assert "DISTINCT" not in counting
    # Its one response, named by survey too so that PostgreSQL reads that survey's responses by index.
    assert (
        'JOIN "stakeholders_response" answer ON ("stakeholders_invitation"."id" = answer."invitation_id"'
        ' AND (answer."survey_id" = ("stakeholders_invitation"."survey_id")))' in counting
    )
    assert '"stakeholders_survey"."id" = "stakeholders_response"."survey_id"' not in counting


# A submit, whatever the number of questions and the NPS: the invitation with its survey, PMO
# and stakeholder, then the response, its answers and the invitation marked answered in one
# statement (2), the perception written in it, not read back. The questions are read once per
# process (the form page before it has read them here), and a named detractor's alert is
# composed by a worker after the commit: no leads, lowest elements or outbox row in the request.
MAX_SUBMIT_QUERIES = {"promoter": 2, "detractor": 2}


def submit_queries(world, *, extra_statements: int, nps: str) -> list[str]:
    stakeholder = Stakeholder.objects.create(
        pmo=world.pmo, name=f"Asked {extra_statements} {nps}", email=f"asked{extra_statements}@corp.example"
    )
    survey, (invitation,) = open_survey(world.pmo, [stakeholder])
    for n in range(extra_statements):
        Question.objects.create(
            survey=survey, kind=QuestionKind.PERFORMANCE, element=Element.PRODUCT, text=f"Extra {n}", position=n
        )
    data = answer_data(survey, rating="4", nps=nps)
    client = Client()
    assert client.get(invitation.path).status_code == 200  # the stakeholder opens the form first
    with CaptureQueriesContext(connection) as captured:
        assert client.post(invitation.path, data).status_code == 200
    assert Response.objects.filter(invitation=invitation).count() == 1
    # The savepoints are the test's transaction around submit's; in production it is BEGIN/COMMIT.
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.parametrize("kind, nps", [("promoter", "9"), ("detractor", "3")])
def test_a_submit_makes_few_queries_whatever_the_number_of_questions(world, kind, nps):
    few = submit_queries(world, extra_statements=0, nps=nps)
    many = submit_queries(world, extra_statements=20, nps=nps)

    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= MAX_SUBMIT_QUERIES[kind], [sql[:70] for sql in many]
    assert not any("stakeholders_question" in sql or "pmo5p_outgoingemail" in sql for sql in many)
    assert not any(sql.startswith("UPDATE") and "perception_rating" in sql for sql in many)
