"""What a submit costs, and what makes its shortcuts safe: a launched survey's questions are
read once per process, because nothing can change them (the app requires a draft, and the
admin shows them read-only); the response, its answers and the invitation are written in
one statement on PostgreSQL, the same rows as the ORM's way on SQLite."""

import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pmo5p.domain import Element
from stakeholders.models import Answer, Question, QuestionKind, Response, SurveyInvitation
from stakeholders.surveys import lifecycle as surveys
from tests.factories import SurveyFactory, UserFactory
from tests.survey_helpers import answer_data, open_survey, rated_questions


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _question_reads(queries) -> int:
    return sum('FROM "stakeholders_question"' in q["sql"] for q in queries.captured_queries)


def test_a_launched_surveys_questions_are_read_once_per_process(world):
    survey, invitations = open_survey(world.pmo, [world.stakeholder, world.other_stakeholder])
    client, data = Client(), answer_data(survey)
    with CaptureQueriesContext(connection) as first:
        assert client.get(invitations[0].path).status_code == 200
    with CaptureQueriesContext(connection) as then:
        assert client.get(invitations[1].path).status_code == 200
        assert client.post(invitations[1].path, data).status_code == 200
    assert _question_reads(first) <= 1  # none if another test of this process read them
    assert _question_reads(then) == 0
    assert Answer.objects.filter(response__invitation=invitations[1]).count() == len(rated_questions(survey))


def test_a_drafts_questions_are_read_each_time(world):
    draft = SurveyFactory(pmo=world.pmo)
    before = surveys.survey_questions(draft)
    Question.objects.filter(pk=before[0].pk).update(text="Reworded in the draft")
    assert surveys.survey_questions(draft)[0].text == "Reworded in the draft"


def test_the_admin_shows_a_launched_surveys_questions_read_only(world, superuser_client):
    survey, _ = open_survey(world.pmo, [world.stakeholder])
    question = survey.questions.order_by("position").first()
    page = superuser_client.get(f"/admin/stakeholders/survey/{survey.pk}/change/")
    assert page.status_code == 200
    inline = page.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission
    assert "status" in page.context["adminform"].readonly_fields  # not back to draft to edit them

    # The question's own page: shown, not changed, not deleted.
    url = f"/admin/stakeholders/question/{question.pk}/change/"
    assert superuser_client.get(url).context["has_change_permission"] is False
    data = {"survey": survey.pk, "kind": question.kind, "element": question.element or "", "text": "Changed"}
    data["position"] = question.position
    superuser_client.post(url, data)
    assert (
        superuser_client.post(f"/admin/stakeholders/question/{question.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    question.refresh_from_db()
    assert question.text != "Changed"
    # Nor added to it, nor deleted in bulk.
    data["text"] = "An extra statement"
    page = superuser_client.post("/admin/stakeholders/question/add/", data)
    assert "This survey is launched" in page.content.decode()
    assert not survey.questions.filter(text="An extra statement").exists()
    changelist = superuser_client.get("/admin/stakeholders/question/")
    assert changelist.context["action_form"] is None  # no "delete selected"

    # A draft's questions are still edited there.
    draft = SurveyFactory(pmo=world.pmo)
    question = draft.questions.filter(kind=QuestionKind.PERFORMANCE).first()
    data = {"survey": draft.pk, "kind": question.kind, "element": question.element, "position": question.position}
    response = superuser_client.post(f"/admin/stakeholders/question/{question.pk}/change/", {**data, "text": "Better"})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.text == "Better"
    page = superuser_client.get(f"/admin/stakeholders/survey/{draft.pk}/change/")
    assert "status" not in page.context["adminform"].readonly_fields


def _rows(invitation) -> tuple:
    response = Response.objects.get(invitation=invitation)
    answers = sorted(Answer.objects.filter(response=response).values_list("question__position", "value"))
    invitation = SurveyInvitation.objects.get(pk=invitation.pk)
    return (
        (response.survey_id, response.segment_id, response.nps, response.comment, response.perception_rating),
        response.submitted_at == invitation.responded_at,
        response.detractor_alerted_at,
        invitation.draft_answers,
        answers,
    )


def test_the_one_statement_writes_what_the_orms_way_writes(world, monkeypatch):
    """PostgreSQL's one statement and SQLite's three write the same rows."""
    if connection.vendor != "postgresql":
        pytest.skip("The one statement is PostgreSQL's.")
    other = world.stakeholder.__class__.objects.create(pmo=world.pmo, name="Olga", segment=world.segment)
    survey, (one, three) = open_survey(world.pmo, [world.stakeholder, other])
    SurveyInvitation.objects.filter(survey=survey).update(draft_answers={"nps": "3"})
    rated = rated_questions(survey)
    values = {q.pk: (None if n % 4 == 0 else 1 + n % 5) for n, q in enumerate(rated)}
    product = {q.pk for q in rated if q.element == Element.PRODUCT}
    assert product

    surveys.submit(one, values=values, nps=3, comment="Same")
    with monkeypatch.context() as patch:
        patch.setattr(connection, "vendor", "sqlite")
        with CaptureQueriesContext(connection) as orm:
            surveys.submit(three, values=values, nps=3, comment="Same")
    assert any(q["sql"].startswith('INSERT INTO "stakeholders_answer"') for q in orm.captured_queries)
    assert _rows(one) == _rows(three)
    assert _rows(one)[0][4] is not None and _rows(one)[2] is None and _rows(one)[3] == {}

    # The unique response per invitation still decides: a second submit writes nothing.
    one.refresh_from_db()
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.submit(one, values=dict.fromkeys(values, 1), nps=10, comment="again")
    assert Response.objects.filter(invitation=one).count() == 1
    assert _rows(one)[0][2:4] == (3, "Same")


def test_the_public_lookup_reads_what_select_related_reads(world):
    """The invitation's lookup, written once per process, loads the same four rows, converted
    as the ORM converts them (the draft's JSON)."""
    from stakeholders.surveys.public_views import _find_invitation, _lookup_sql

    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    surveys.save_draft(invitation, {"nps": "7", "comment": "Half done ✓"})
    expected = SurveyInvitation.objects.select_related("survey__pmo", "stakeholder").get(pk=invitation.pk)
    with CaptureQueriesContext(connection) as queries:
        found = _find_invitation(invitation.token)
        # Everything the public pages read is there, with no further query.
        objects = [(found, expected), (found.survey, expected.survey), (found.survey.pmo, expected.survey.pmo)]
        objects.append((found.stakeholder, expected.stakeholder))
        for got, want in objects:
            for field in type(want)._meta.concrete_fields:
                assert getattr(got, field.attname) == getattr(want, field.attname), field
    assert [q["sql"] for q in queries] == [_lookup_sql().replace("%s", f"'{invitation.token_hash}'")]
    assert found.draft_answers == {"nps": "7", "comment": "Half done ✓"}
    assert _find_invitation(invitation.token[:-1] + "x") is None
    assert _find_invitation("x" * 65) is None


def _wait_for_a_lock_wait(timeout: float = 10) -> None:
    """Until another connection of this database waits for a lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("Nothing waited for a lock.")


@pytest.mark.django_db(transaction=True)
def test_an_answer_sent_while_its_survey_closes_is_refused_not_left_out_of_the_kept_figures(world):
    """close() keeps the survey's figures in its transaction; a submit that reached the write
    while it ran waits for it, then finds the survey closed: nothing stored, the link unused."""
    if connection.vendor != "postgresql":
        pytest.skip("The lock is PostgreSQL's.")
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    values = {q.pk: 4 for q in rated_questions(survey)}
    closed, release, outcome = threading.Event(), threading.Event(), {}

    def close_and_hold():
        try:
            with transaction.atomic():
                surveys.close(survey)
                closed.set()
                release.wait(10)  # the figures are kept; not committed yet
        finally:
            connections.close_all()

    def answer():
        try:
            surveys.submit(invitation, values=values, nps=8, comment="Late")
            outcome["result"] = "stored"
        except surveys.SurveyClosed:
            outcome["result"] = "refused"
        finally:
            connections.close_all()

    closing = threading.Thread(target=close_and_hold)
    closing.start()
    assert closed.wait(10)
    answering = threading.Thread(target=answer)
    answering.start()
    try:
        _wait_for_a_lock_wait()
    finally:
        release.set()
        closing.join(10)
        answering.join(10)
    assert outcome == {"result": "refused"}
    assert not Response.objects.filter(invitation=invitation).exists()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_the_public_form_says_closed_when_the_survey_closed_before_the_answer_was_stored(world, monkeypatch):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder])
    client = Client()
    assert client.get(invitation.path).status_code == 200
    # The form's checks pass (the survey is open when the page reads it); it closes before the write.
    real_submit = surveys.submit

    def close_first(*args, **kwargs):
        surveys.close(survey)
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(surveys, "submit", close_first)
    page = client.post(invitation.path, answer_data(survey))
    assert page.status_code == 410
    assert "closed" in page.content.decode()
    assert not Response.objects.filter(invitation=invitation).exists()
