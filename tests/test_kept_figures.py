"""A closed survey keeps its figures (agenda/figures/kept.py): written when it closes, by the
figures layer's own aggregation, and written again in the transaction of every change to its
answers. The kept figures always equal a recomputation from the raw answers, whatever
changed: submits then the close, a stakeholder deleted (page, API, admin), a segment deleted
or renamed, an answer edited or a response deleted in the admin, a survey no longer closed
then closed again; and the pages read them instead of the answers."""

import random
from datetime import datetime
from importlib import import_module

import pytest
from django.apps import apps as current_apps
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.figures import kept
from agenda.figures.relationships import PERCEPTION_DROP, _perception_drop
from agenda.figures.responses import last_two_perceptions, perception_falls
from agenda.figures.segments import segment_figures
from agenda.models import KeptElementFigures, KeptPerception
from pmo5p.domain import Element
from pmo5p.models import ApiToken
from stakeholders import register
from stakeholders.models import Answer, QuestionKind, Response, Segment, Stakeholder, Survey, SurveyStatus
from stakeholders.surveys import lifecycle
from tests.factories import SegmentFactory, StakeholderFactory, SurveyInvitationFactory, UserFactory
from tests.survey_helpers import open_survey, questions, rated_questions

ALL = "all"


def recomputed(survey, segment_id=ALL) -> dict:
    """Per element, from the raw answers in plain Python: (perception, its answers, "Don't
    know", responses that rated, importance, its answers); with a segment, of the responses
    given in it (None: "No segment")."""
    answers = Answer.objects.filter(response__survey=survey).values_list(
        "response_id", "response__segment_id", "question__element", "question__kind", "value"
    )
    figures = {}
    for element in Element:
        picked = [a for a in answers if a[2] == element and (segment_id == ALL or a[1] == segment_id)]
        rated = [a for a in picked if a[3] == QuestionKind.PERFORMANCE and a[4] is not None]
        important = [a[4] for a in picked if a[3] == QuestionKind.IMPORTANCE and a[4] is not None]
        figures[element] = (
            sum((a[4] - 1) / 4 * 100 for a in rated) / len(rated) if rated else None,
            len(rated),
            sum(1 for a in picked if a[3] == QuestionKind.PERFORMANCE and a[4] is None),
            len({a[0] for a in rated}),
            sum((v - 1) / 4 * 100 for v in important) / len(important) if important else None,
            len(important),
        )
    return figures


def as_tuples(figures) -> dict:
    return {
        element: (
            entry.perception,
            entry.perception_answers,
            entry.dont_know,
            entry.perception_responses,
            entry.importance,
            entry.importance_answers,
        )
        for element, entry in figures.items()
    }


def assert_same(found: dict, expected: dict, where):
    for element in Element:
        got, want = found[element], expected[element]
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            if a is None or b is None:
                assert a == b, (where, element, index)
            else:
                assert a == pytest.approx(b, abs=1e-9), (where, element, index)


def assert_kept_equals_recomputed(survey):
    """The figures read (from the kept rows, which must exist) equal the raw answers', for the
    survey, for each of its segments and "No segment", and in the segment rows."""
    survey = Survey.objects.get(pk=survey.pk)
    assert survey.status == SurveyStatus.CLOSED
    rows = KeptElementFigures.objects.filter(survey=survey)
    assert rows.exists() == Answer.objects.filter(response__survey=survey).exists()
    # The kept rows are those a recomputation writes.
    stored = rows.values_list("segment_id", "element", "kind", "total", "answered", "dont_know", "rated_by")
    fresh = [
        tuple(row[k] for k in ("segment_id", "element", "kind", *kept.AGGREGATES))
        for row in kept.kept_rows([survey.pk])
    ]
    assert _merged(stored) == _merged(fresh)
    assert_same(as_tuples(kept.survey_element_figures(survey)), recomputed(survey), "survey")
    segment_ids = {*Segment.objects.filter(pmo=survey.pmo).values_list("pk", flat=True), None}
    by_segment = kept.element_figures_of([survey], by_segment=True)
    for segment_id in segment_ids:
        expected = recomputed(survey, segment_id)
        assert_same(as_tuples(by_segment.get((survey.pk, segment_id)) or _none()), expected, segment_id)
        if segment_id is not None:
            assert_same(as_tuples(kept.survey_element_figures(survey, segment_id)), expected, segment_id)
    for row in segment_figures(survey):
        if not row.hidden:
            assert_same(as_tuples(row.elements), recomputed(survey, row.segment_id), row.name)


def _merged(rows) -> dict:
    """Rows added up per (segment, element, kind): a deleted segment's rows join "No segment"'s."""
    merged = {}
    for segment_id, element, kind, *sums in rows:
        key = (segment_id, element, kind)
        merged[key] = [a + b for a, b in zip(merged.get(key, [0, 0, 0, 0]), sums, strict=True)]
    return merged


def _none():
    from agenda.figures.survey import no_figures

    return no_figures()


@pytest.fixture
def closed(world):
    """A survey answered through lifecycle.submit by people of two segments and none, with
    "Don't know" answers, then closed by lifecycle.close."""
    other = SegmentFactory(pmo=world.pmo, name="Operations")
    people = [
        world.stakeholder,
        *StakeholderFactory.create_batch(4, pmo=world.pmo, segment=world.segment),
        *StakeholderFactory.create_batch(4, pmo=world.pmo, segment=other),
        *StakeholderFactory.create_batch(3, pmo=world.pmo, segment=None),
    ]
    survey, invitations = open_survey(world.pmo, people, user=world.lead)
    rated = rated_questions(survey)
    performance = {q.pk for q in questions(survey, QuestionKind.PERFORMANCE)}
    rng = random.Random(11)
    for invitation in invitations[:-1]:  # one never answers
        values = {q.pk: (None if q.pk in performance and rng.random() < 0.2 else rng.randint(1, 5)) for q in rated}
        lifecycle.submit(invitation, values=values, nps=rng.randint(0, 10), comment="")
    assert lifecycle.close(survey)
    return survey


def test_closing_keeps_figures_equal_to_the_raw_answers(closed):
    assert KeptElementFigures.objects.filter(survey=closed).exists()
    assert_kept_equals_recomputed(closed)


def test_an_open_survey_keeps_nothing_and_is_computed_from_its_answers(world):
    survey, invitations = open_survey(world.pmo, [world.stakeholder])
    lifecycle.submit(invitations[0], values={q.pk: 4 for q in rated_questions(survey)}, nps=9, comment="")
    kept.keep_figures([survey.pk])
    assert not KeptElementFigures.objects.filter(survey=survey).exists()
    assert kept.survey_element_figures(survey)[Element.PRODUCT].perception == 75


def test_deleting_a_stakeholder_on_the_page_keeps_the_figures_true(closed, world, client_for):
    gone = Response.objects.filter(survey=closed, segment=world.segment).first().invitation.stakeholder
    address = reverse("stakeholder_delete", kwargs={"slug": world.pmo.slug, "stakeholder_id": gone.pk})
    assert client_for(world.member).post(address).status_code == 302
    assert not Stakeholder.objects.filter(pk=gone.pk).exists()
    assert_kept_equals_recomputed(closed)


def test_deleting_a_stakeholder_through_the_api_keeps_the_figures_true(closed, world):
    gone = Response.objects.filter(survey=closed, segment__isnull=True).first().invitation.stakeholder
    _token, key = ApiToken.issue(user=world.member, name="tests")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    address = reverse("api-stakeholder-detail", kwargs={"slug": world.pmo.slug, "pk": gone.pk})
    assert api.delete(address).status_code == 204
    assert_kept_equals_recomputed(closed)


def test_deleting_a_segment_moves_its_kept_figures_to_no_segment(closed, world, client_for):
    address = reverse("segment_delete", kwargs={"slug": world.pmo.slug, "segment_id": world.segment.pk})
    assert client_for(world.member).post(address).status_code == 302
    assert not Response.objects.filter(segment_id=world.segment.pk).exists()
    assert_kept_equals_recomputed(closed)


def test_renaming_a_segment_renames_its_row(closed, world, client_for):
    address = reverse("segment_edit", kwargs={"slug": world.pmo.slug, "segment_id": world.segment.pk})
    assert client_for(world.member).post(address, {"name": "Money", "description": ""}).status_code == 302
    assert "Money" in [row.name for row in segment_figures(closed)]
    assert_kept_equals_recomputed(closed)


# The Django admin -------------------------------------------------------------------------------


@pytest.fixture
def admin(db):
    user = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def form_data(page, **overrides) -> dict:
    """An admin change page's form as it stands (with its inlines), to post back changed."""
    data = {}

    def put(form):
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, datetime):  # the admin's split date and time inputs
                data[form.add_prefix(name) + "_0"], data[form.add_prefix(name) + "_1"] = (
                    str(value.date()),
                    str(value.time()),
                )
                continue
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = (
                "on" if value is True else [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
            )

    put(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for form in formset.forms:
            put(form)
    data.update(overrides)
    return data


def test_an_answer_edited_in_the_admin_keeps_the_figures_true(closed, admin):
    answer = Answer.objects.filter(response__survey=closed, question__kind=QuestionKind.PERFORMANCE).first()
    address = f"/admin/stakeholders/answer/{answer.pk}/change/"
    new = 1 if answer.value != 1 else 5
    assert admin.post(address, form_data(admin.get(address), value=str(new))).status_code == 302
    assert Answer.objects.get(pk=answer.pk).value == new
    # The response's own kept perception too: the mean of its performance ratings as they are now.
    ratings = [
        a.value
        for a in Answer.objects.filter(response=answer.response, question__kind=QuestionKind.PERFORMANCE)
        if a.value is not None
    ]
    assert Response.objects.get(pk=answer.response_id).perception_rating == pytest.approx(sum(ratings) / len(ratings))
    assert_kept_equals_recomputed(closed)


def test_an_answer_deleted_in_the_admin_leaves_its_responses_perception_true(closed, admin):
    response = Response.objects.filter(survey=closed, perception_rating__isnull=False).first()
    rated = Answer.objects.filter(response=response, question__kind=QuestionKind.PERFORMANCE, value__isnull=False)
    gone = rated.order_by("-value").first()
    assert admin.post(f"/admin/stakeholders/answer/{gone.pk}/delete/", {"post": "yes"}).status_code == 302
    left = [a.value for a in rated.exclude(pk=gone.pk)]
    expected = sum(left) / len(left) if left else None
    assert Response.objects.get(pk=response.pk).perception_rating == pytest.approx(expected)
    assert_kept_equals_recomputed(closed)


def test_a_response_deleted_in_the_admin_keeps_the_figures_true(closed, admin):
    response = Response.objects.filter(survey=closed).first()
    assert admin.post(f"/admin/stakeholders/response/{response.pk}/delete/", {"post": "yes"}).status_code == 302
    assert_kept_equals_recomputed(closed)
    # And several at once, from the list.
    picked = list(Response.objects.filter(survey=closed).values_list("pk", flat=True)[:2])
    data = {"action": "delete_selected", "_selected_action": [str(pk) for pk in picked], "post": "yes"}
    assert admin.post("/admin/stakeholders/response/", data).status_code == 302
    assert not Response.objects.filter(pk__in=picked).exists()
    assert_kept_equals_recomputed(closed)


def test_a_stakeholder_deleted_in_the_admin_keeps_the_figures_true(closed, admin):
    gone = Response.objects.filter(survey=closed).last().invitation.stakeholder
    assert admin.post(f"/admin/stakeholders/stakeholder/{gone.pk}/delete/", {"post": "yes"}).status_code == 302
    assert_kept_equals_recomputed(closed)


def test_a_survey_no_longer_closed_is_computed_from_its_answers_then_kept_again(closed, world):
    """Nothing in the app reopens a survey (the admin shows a launched survey's status
    read-only); a data migration that did would call keep_figures, which forgets its rows."""
    Survey.objects.filter(pk=closed.pk).update(status=SurveyStatus.OPEN)
    kept.keep_figures([closed.pk])
    assert not KeptElementFigures.objects.filter(survey=closed).exists()
    assert not KeptPerception.objects.filter(response__survey=closed).exists()
    reopened = Survey.objects.get(pk=closed.pk)
    late = StakeholderFactory(pmo=world.pmo, segment=world.segment)
    invitation = SurveyInvitationFactory(survey=reopened, stakeholder=late, sent=True)
    lifecycle.submit(invitation, values={q.pk: 1 for q in rated_questions(reopened)}, nps=0, comment="")
    assert_same(as_tuples(kept.survey_element_figures(reopened)), recomputed(reopened), "reopened")
    assert_perceptions_true(world.pmo)
    assert lifecycle.close(reopened)
    assert_kept_equals_recomputed(closed)
    assert_perceptions_true(world.pmo)


# The pages read the kept figures ---------------------------------------------------------------


def answer_queries(client, address) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "stakeholders_answer" in q["sql"]]


def test_the_pages_of_a_closed_survey_read_its_kept_figures_not_its_answers(closed, world, client_for):
    client = client_for(world.lead)
    home = reverse("pmo_home", kwargs={"slug": world.pmo.slug})
    assert answer_queries(client, home) == []
    assert answer_queries(client, f"{home}?segment={world.segment.pk}") == []
    results = reverse("survey_results", kwargs={"slug": world.pmo.slug, "survey_id": closed.pk})
    # Only the per-stakeholder table's page of responses reads answers, and the derived
    # importance, which needs each respondent's pair of rating and score that no kept row holds
    # (agenda/figures/drivers.py): one query, the correlations.
    per_response, correlations = sorted(answer_queries(client, results), key=lambda sql: "CORR(" in sql)
    assert '"stakeholders_answer"."response_id" IN' in per_response
    assert "CORR(" in correlations


# The migration ----------------------------------------------------------------------------------


def test_the_migration_keeps_the_surveys_closed_before_it(closed):
    KeptElementFigures.objects.all().delete()
    KeptPerception.objects.all().delete()
    from django.db.migrations.loader import MigrationLoader

    name = "0005_kept_element_figures"
    state = MigrationLoader(connection).project_state(("agenda", name))
    import_module(f"agenda.migrations.{name}").keep_closed_surveys(state.apps, None)
    assert_kept_equals_recomputed(closed)
    assert current_apps.get_model("agenda", "KeptElementFigures").objects.filter(survey=closed).exists()


# The at-risk rule's last two perceptions ------------------------------------------------------


def recomputed_perceptions(pmo) -> dict[int, list[float]]:
    """Each stakeholder's last two named perceptions, from the responses in plain Python."""
    found: dict[int, list] = {}
    responses = Response.objects.filter(survey__pmo=pmo, survey__anonymous=False, perception_rating__isnull=False)
    for response in responses.select_related("invitation"):
        found.setdefault(response.invitation.stakeholder_id, []).append(response)
    return {
        pk: [(r.perception_rating - 1) / 4 * 100 for r in sorted(mine, key=lambda r: (r.submitted_at, r.pk))[::-1][:2]]
        for pk, mine in found.items()
    }


def assert_perceptions_true(pmo):
    found = last_two_perceptions(Stakeholder.objects.filter(pmo=pmo))
    assert set(found) == set(recomputed_perceptions(pmo))
    for pk, values in recomputed_perceptions(pmo).items():
        assert found[pk] == pytest.approx(values), pk


@pytest.fixture
def three_surveys(world, closed):
    """`closed`, a later survey answered and closed, and an open one answered by some: each
    stakeholder's last two perceptions come from the kept and the open surveys."""
    people = list(Stakeholder.objects.filter(pmo=world.pmo, invitations__survey=closed))
    later, invitations = open_survey(world.pmo, people, user=world.lead)
    rng = random.Random(12)
    for invitation in invitations[::2]:
        values = {q.pk: rng.randint(1, 5) for q in rated_questions(later)}
        lifecycle.submit(invitation, values=values, nps=5, comment="")
    assert lifecycle.close(later)
    current, invitations = open_survey(world.pmo, people[::3], user=world.lead)
    for invitation in invitations:
        lifecycle.submit(invitation, values={q.pk: 1 for q in rated_questions(current)}, nps=0, comment="")
    return closed, later, current


def test_the_last_two_perceptions_come_from_the_kept_and_the_open_surveys(world, three_surveys):
    _closed, _later, current = three_surveys
    assert KeptPerception.objects.filter(pmo=world.pmo).exists()
    assert_perceptions_true(world.pmo)
    # Reads the open survey's responses, not every response of the kept surveys.
    with CaptureQueriesContext(connection) as queries:
        last_two_perceptions(Stakeholder.objects.filter(pmo=world.pmo))
    window = [q["sql"] for q in queries.captured_queries if "ROW_NUMBER" in q["sql"]]
    assert len(window) == 1 and f"IN ({current.pk})" in window[0]


def test_the_falls_found_in_postgresql_agree_with_the_kept_and_the_open_surveys(world, three_surveys):
    """perception_falls merges the kept perceptions and the open survey's responses in SQL
    as last_two_perceptions does in Python: the same stakeholders fell, with the same pairs."""
    everyone = Stakeholder.objects.filter(pmo=world.pmo)
    fell = {pk: v for pk, v in last_two_perceptions(everyone).items() if _perception_drop(v) is not None}
    assert fell, "the open survey's answers of 1 make some fall"
    with CaptureQueriesContext(connection) as queries:
        found = perception_falls(everyone, [world.pmo.pk], PERCEPTION_DROP)
    assert found == fell
    assert len(queries) == 2


def test_the_last_two_perceptions_stay_true_when_a_kept_response_goes(world, three_surveys, admin):
    closed, later, _current = three_surveys
    latest = Response.objects.filter(survey=later).first()
    assert admin.post(f"/admin/stakeholders/response/{latest.pk}/delete/", {"post": "yes"}).status_code == 302
    assert_perceptions_true(world.pmo)
    gone = Response.objects.filter(survey=closed).last().invitation.stakeholder
    address = reverse("stakeholder_delete", kwargs={"slug": world.pmo.slug, "stakeholder_id": gone.pk})
    member = Client()
    member.force_login(world.member)
    assert member.post(address).status_code == 302
    assert_perceptions_true(world.pmo)


def test_the_last_two_perceptions_stay_true_when_a_kept_survey_is_deleted(world, three_surveys):
    """Neither the app (drafts only) nor the admin (a launched survey's questions are
    read-only) deletes a closed survey; code that does gives keep_figures its PMO."""
    # A third closed survey, answered by all: each one's last two kept are its and `later`'s,
    # or `closed`'s for those who did not answer `later`.
    people = list(Stakeholder.objects.filter(pmo=world.pmo, invitations__survey=three_surveys[0]))
    latest, invitations = open_survey(world.pmo, people, user=world.lead)
    for invitation in invitations:
        lifecycle.submit(invitation, values={q.pk: 5 for q in rated_questions(latest)}, nps=9, comment="")
    assert lifecycle.close(latest)
    assert KeptPerception.objects.filter(response__survey=latest).exists()
    latest.delete()
    kept.keep_figures([latest.pk], [world.pmo.pk])
    # The answers to `closed` move up into the last two of those who answered `later`.
    assert_perceptions_true(world.pmo)


def test_kept_rows_deleted_in_the_admin_are_written_again(world, three_surveys, admin):
    closed = three_surveys[0]
    row = KeptElementFigures.objects.filter(survey=closed).first()
    assert admin.post(f"/admin/agenda/keptelementfigures/{row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert_kept_equals_recomputed(closed)
    picked = list(KeptPerception.objects.filter(pmo=world.pmo).values_list("pk", flat=True)[:3])
    data = {"action": "delete_selected", "_selected_action": [str(pk) for pk in picked], "post": "yes"}
    assert admin.post("/admin/agenda/keptperception/", data).status_code == 302
    assert_perceptions_true(world.pmo)


def test_staff_see_no_kept_figures_of_an_anonymous_survey(world, closed):
    Survey.objects.filter(pk=closed.pk).update(anonymous=True)
    staff = UserFactory(email="staff@example.com", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename="view_keptelementfigures"))
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/agenda/keptelementfigures/")
    assert page.status_code == 200 and list(page.context["cl"].result_list) == []
    assert KeptElementFigures.objects.filter(survey=closed).exists()


# A stakeholder deleted: their answers taken out of the kept sums ------------------------------


def test_deleting_stakeholders_one_by_one_takes_only_their_answers_out(world, three_surveys, monkeypatch):
    """Down to the last of a segment (its rows go, as a recomputation writes none), after the
    segment itself went (two "No segment" rows for a key, added up), and with the survey's
    other answers never read again: kept.kept_rows, which reads them, is not called."""
    closed, later, _current = three_surveys
    Segment.objects.filter(name="Operations").delete()
    others = {
        row.stakeholder_id: row.response_id
        for row in KeptPerception.objects.filter(pmo=world.pmo).exclude(
            stakeholder__in=Stakeholder.objects.filter(segment=world.segment)
        )
    }
    leaving = list(Stakeholder.objects.filter(segment=world.segment))
    assert leaving

    def no_recomputation(_survey_ids):
        raise AssertionError("A deletion must not recompute a survey's kept figures from all its answers.")

    for stakeholder in leaving:
        with monkeypatch.context() as patch:
            patch.setattr(kept, "kept_rows", no_recomputation)
            register.delete_stakeholder(stakeholder)
        for survey in (closed, later):
            assert_kept_equals_recomputed(survey)
    assert not KeptElementFigures.objects.filter(segment=world.segment).exists()
    # Nobody else's last two perceptions moved.
    assert {
        row.stakeholder_id: row.response_id for row in KeptPerception.objects.filter(stakeholder_id__in=others)
    } == others
    assert_perceptions_true(world.pmo)


def test_deleting_a_stakeholder_who_answered_no_kept_survey_keeps_every_row(world, closed):
    newcomer = StakeholderFactory(pmo=world.pmo, segment=world.segment)
    before = list(KeptElementFigures.objects.filter(survey=closed).order_by("pk").values_list("pk", "total"))
    register.delete_stakeholder(newcomer)
    assert list(KeptElementFigures.objects.filter(survey=closed).order_by("pk").values_list("pk", "total")) == before
