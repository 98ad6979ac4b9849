"""The stakeholder's page /s/<token>/: no account, one response per invitation, save and
resume, the refusals (unknown, draft, answered, closed, bad input), rate limits and tokens."""

import base64
import hashlib
import html
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from pmo5p.domain import Element
from stakeholders.models import Answer, QuestionKind, Response, Survey, SurveyInvitation, SurveyStatus, make_token
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys.forms import COMMENT_MAX_LENGTH
from tests.factories import StakeholderFactory, SurveyFactory, SurveyInvitationFactory
from tests.survey_helpers import answer_data, checked_values, open_survey, questions, rated_questions

ANSWER_REQUIRED = "Choose an answer, or “Don't know”."
STATEMENT_RANGE = "Choose one of the answers shown: 1 to 5, or “Don't know”."
IMPORTANCE_REQUIRED = "Choose how important this is to you."
NPS_RANGE = "Choose a number from 0 to 10."
FOREIGN = "The form held answers to questions that are not part of this survey."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The rate limiter counts in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def link(world):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], intro="Tell us straight.", title="Pulse")
    return survey, invitation


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def fieldset(response, name: str) -> str:
    """The <fieldset> (or comment block) of one question on the page, entities decoded."""
    page = response.content.decode()
    marker = page.find(f'name="{name}"')
    assert marker != -1, f"The page has no field {name!r}."
    start = max(page.rfind("<fieldset", 0, marker), page.rfind('<div class="mt-3">', 0, marker))
    end = page.find("</fieldset>", marker)
    end = page.find("</div>\n", page.find(f'id="id_{name}-error"', marker)) if end == -1 else end
    return html.unescape(page[start:end])


def nothing_saved(invitation, draft_before=None):
    assert not Response.objects.exists()
    assert not Answer.objects.exists()
    invitation = SurveyInvitation.objects.get(pk=invitation.pk)
    assert invitation.responded_at is None
    if draft_before is not None:
        assert invitation.draft_answers == draft_before


# The page ---------------------------------------------------------------------------------


def test_the_page_needs_no_account_and_shows_every_section(link, client):
    survey, invitation = link
    response = client.get(invitation.path)
    assert response.status_code == 200
    page = page_text(response)
    assert "Alpha PMO" in page and "Pulse" in page and "Tell us straight." in page
    headings = re.findall(r'<h2 class="h5 mb-0" id="section-(\w+)">\d+\. ([^<]+)</h2>', page)
    assert headings == [(e.value, e.label) for e in Element]
    for element in Element:
        assert f'<p class="element-aim small">{element.aim.capitalize()}</p>' in page
    for question in questions(survey, QuestionKind.PERFORMANCE):
        assert re.findall(rf'name="q_{question.pk}"[^>]*value="([^"]+)"', page) == ["1", "2", "3", "4", "5", "dk"]
        assert question.text in page
    for question in questions(survey, QuestionKind.IMPORTANCE):
        assert re.findall(rf'name="q_{question.pk}"[^>]*value="([^"]+)"', page) == ["1", "2", "3", "4", "5"]
    assert re.findall(r'name="nps"[^>]*value="([^"]+)"', page) == [str(n) for n in range(11)]
    assert 'name="comment"' in page and 'maxlength="2000"' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "Fiona" not in page  # the link does not show who it belongs to


def test_a_complete_answer_is_stored_once_with_dont_know_as_null(world, link, client):
    survey, invitation = link
    statements = questions(survey, QuestionKind.PERFORMANCE)
    data = answer_data(survey, rating="4", nps="9", comment="  Keep going.  ")
    data[f"q_{statements[0].pk}"] = "dk"
    data[f"q_{statements[1].pk}"] = "1"
    response = client.post(invitation.path, data)
    assert response.status_code == 200
    assert "Thank you" in page_text(response)
    stored = Response.objects.get()
    assert (stored.invitation, stored.survey, stored.segment, stored.nps, stored.comment) == (
        invitation,
        survey,
        world.segment,
        9,
        "Keep going.",
    )
    values = dict(Answer.objects.filter(response=stored).values_list("question_id", "value"))
    assert set(values) == {q.pk for q in rated_questions(survey)}
    assert values[statements[0].pk] is None
    assert values[statements[1].pk] == 1
    assert all(v == 4 for q, v in values.items() if q not in (statements[0].pk, statements[1].pk))
    invitation.refresh_from_db()
    assert invitation.responded_at == stored.submitted_at and invitation.draft_answers == {}


def test_opening_the_link_again_says_it_was_answered(link, client):
    survey, invitation = link
    client.post(invitation.path, answer_data(survey))
    again = client.get(invitation.path)
    assert again.status_code == 410
    assert "You have already answered this survey" in page_text(again)
    resend = client.post(invitation.path, answer_data(survey, rating="1", nps="0"))
    assert resend.status_code == 410
    assert Response.objects.count() == 1 and Response.objects.get().nps == 8
    assert not Answer.objects.filter(value=1).exists()


def test_the_comment_is_optional(link, client):
    survey, invitation = link
    response = client.post(invitation.path, answer_data(survey, comment=None))
    assert response.status_code == 200
    assert Response.objects.get().comment == ""


# Save and resume --------------------------------------------------------------------------------


def partial_answers(survey):
    first, second = questions(survey, QuestionKind.PERFORMANCE)[:2]
    return first, second, {f"q_{first.pk}": "2", f"q_{second.pk}": "dk", "nps": "7", "comment": "So far so good"}


def test_autosave_keeps_a_draft_that_the_link_resumes(link, client):
    survey, invitation = link
    first, second, data = partial_answers(survey)
    saved = client.post(reverse("survey_save", kwargs={"token": invitation.token}), data)
    assert saved.status_code == 200 and saved.json() == {"saved": True}
    invitation.refresh_from_db()
    assert invitation.draft_answers == data and invitation.draft_saved_at is not None
    assert not Response.objects.exists()

    page = client.get(invitation.path)
    assert page.status_code == 200
    content = page.content.decode()
    assert checked_values(content, f"q_{first.pk}") == ["2"]
    assert checked_values(content, f"q_{second.pk}") == ["dk"]
    assert checked_values(content, "nps") == ["7"]
    assert ">So far so good</textarea>" in content
    assert "Welcome back" in page_text(page)
    nothing_saved(invitation)


def test_save_and_finish_later_keeps_a_draft(link, client):
    survey, invitation = link
    first, second, data = partial_answers(survey)
    response = client.post(invitation.path, {**data, "action": "save"})
    assert response.status_code == 200
    assert "Your answers are saved" in page_text(response)
    assert checked_values(response.content.decode(), f"q_{first.pk}") == ["2"]
    assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == data
    assert checked_values(client.get(invitation.path).content.decode(), "nps") == ["7"]
    nothing_saved(invitation)


def test_a_draft_keeps_only_valid_answers(link, client):
    survey, invitation = link
    first, second, data = partial_answers(survey)
    data.update({f"q_{first.pk}": "9", "nps": "11", "q_999999": "3"})
    client.post(reverse("survey_save", kwargs={"token": invitation.token}), data)
    assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == {
        f"q_{second.pk}": "dk",
        "comment": "So far so good",
    }


def test_the_nps_of_the_email_link_wins_over_the_draft(link, client):
    survey, invitation = link
    SurveyInvitation.objects.filter(pk=invitation.pk).update(draft_answers={"nps": "3"})
    page = client.get(f"{invitation.path}?nps=10")
    assert checked_values(page.content.decode(), "nps") == ["10"]
    assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == {"nps": "3"}


def test_the_draft_is_cleared_by_the_response(link, client):
    survey, invitation = link
    client.post(reverse("survey_save", kwargs={"token": invitation.token}), {"nps": "7"})
    client.post(invitation.path, answer_data(survey))
    assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == {}
    # A late autosave (another tab) cannot bring a draft back.
    late = client.post(reverse("survey_save", kwargs={"token": invitation.token}), {"nps": "2"})
    assert late.status_code == 410 and late.json() == {"saved": False}
    assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == {}


# Links that cannot be answered -------------------------------------------------------------------


def unavailable_cases(world):
    """(name, path, expected status, expected heading, invitation or None)"""
    draft = SurveyFactory(pmo=world.pmo, title="Not yet")
    draft_invitation = SurveyInvitationFactory(survey=draft, stakeholder=world.stakeholder)
    closed, (closed_invitation,) = open_survey(world.pmo, [StakeholderFactory(pmo=world.pmo)], title="Closed")
    surveys.close(closed)
    expired, (expired_invitation,) = open_survey(world.pmo, [StakeholderFactory(pmo=world.pmo)], title="Expired")
    Survey.objects.filter(pk=expired.pk).update(closes_on=timezone.localdate() - timedelta(days=2))
    return [
        ("unknown", "/s/no-such-token-at-all/", 404, "We don't recognise this survey link", None),
        ("too long", f"/s/{'x' * 80}/", 404, "We don't recognise this survey link", None),
        ("draft", draft_invitation.path, 404, "This survey is not open yet", draft_invitation),
        ("closed", closed_invitation.path, 410, "This survey is closed", closed_invitation),
        ("past close date", expired_invitation.path, 410, "This survey is closed", expired_invitation),
    ]


def test_links_that_cannot_be_answered_get_a_clear_page_and_change_nothing(world, client):
    for name, path, status, heading, invitation in unavailable_cases(world):
        survey = invitation.survey if invitation else Survey.objects.first()
        before = list(SurveyInvitation.objects.values())
        get = client.get(path)
        assert get.status_code == status, name
        assert heading in page_text(get), name
        assert 'name="nps"' not in page_text(get), name
        post = client.post(path, answer_data(survey))
        assert post.status_code == status, name
        assert heading in page_text(post), name
        save = client.post(path + "save/", {"nps": "5"})
        assert save.status_code == status and save.json() == {"saved": False}, name
        assert list(SurveyInvitation.objects.values()) == before, name
    assert not Response.objects.exists() and not Answer.objects.exists()


def test_the_closed_page_says_when_and_whose_survey_it_was(world, client):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], closes_on=date(2099, 4, 1))
    surveys.close(survey)
    page = page_text(client.get(invitation.path))
    assert "closed on 1 April 2099" in page
    assert '<span class="fw-semibold">Alpha PMO</span>' in page and "Sent by Alpha PMO" in page


def test_the_last_day_still_takes_answers(world, client):
    today = timezone.localdate(timezone=ZoneInfo(world.pmo.time_zone))  # the PMO's today
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], closes_on=today)
    assert client.post(invitation.path, answer_data(survey)).status_code == 200
    assert Response.objects.count() == 1


# Bad input ----------------------------------------------------------------------------------


def first_statement(survey):
    return questions(survey, QuestionKind.PERFORMANCE)[0]


@pytest.mark.parametrize(
    ("target", "value", "message"),
    [
        ("statement", "6", STATEMENT_RANGE),
        ("statement", "0", STATEMENT_RANGE),
        ("statement", "abc", STATEMENT_RANGE),
        ("statement", "", ANSWER_REQUIRED),
        ("statement", None, ANSWER_REQUIRED),
        ("importance", "dk", "Choose one of the answers shown: 1 (not important) to 5 (essential)."),
        ("importance", None, IMPORTANCE_REQUIRED),
        ("nps", "11", NPS_RANGE),
        ("nps", "-1", NPS_RANGE),
        ("nps", "7.5", NPS_RANGE),
        ("nps", None, NPS_RANGE),
        ("comment", "x" * (COMMENT_MAX_LENGTH + 1), "Keep your comment to 2000 characters (it has 2001)."),
    ],
)
def test_bad_answers_are_refused_next_to_the_question_and_nothing_is_saved(link, client, target, value, message):
    survey, invitation = link
    if target == "statement":
        name = f"q_{first_statement(survey).pk}"
    elif target == "importance":
        name = f"q_{questions(survey, QuestionKind.IMPORTANCE, Element.PEOPLE)[0].pk}"
    else:
        name = target
    data = answer_data(survey, rating="4", nps="8", comment="Fine")
    data[name] = value
    data = {k: v for k, v in data.items() if v is not None}

    response = client.post(invitation.path, data)
    assert response.status_code == 400
    block = fieldset(response, name)
    assert message in block, block
    assert "invalid-feedback" in block
    assert "Some answers need a look." in page_text(response)
    # Every other answer is still filled in.
    content = response.content.decode()
    for question in rated_questions(survey):
        if f"q_{question.pk}" != name:
            assert checked_values(content, f"q_{question.pk}") == ["4"], question
    if name != "nps":
        assert checked_values(content, "nps") == ["8"]
    if name != "comment":
        assert ">Fine</textarea>" in content
    nothing_saved(invitation)
    # What was wrong is not kept in the draft either.
    assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers.get(name) in (None, "")


def test_an_answer_to_another_surveys_question_is_refused_for_the_whole_form(world, link, client):
    survey, invitation = link
    other, _ = open_survey(world.other_pmo, [world.other_stakeholder])
    foreign = first_statement(other)
    data = {**answer_data(survey), f"q_{foreign.pk}": "5"}
    response = client.post(invitation.path, data)
    assert response.status_code == 400
    errors = page_text(response)
    alert = errors[errors.find('id="form-errors"') : errors.find("</div>", errors.find('id="form-errors"'))]
    assert FOREIGN in alert
    assert checked_values(response.content.decode(), f"q_{first_statement(survey).pk}") == ["4"]
    nothing_saved(invitation)
    assert not Answer.objects.filter(question=foreign).exists()


def test_the_submit_service_refuses_a_second_response(link):
    survey, invitation = link
    values = {q.pk: 3 for q in rated_questions(survey)}
    surveys.submit(invitation, values=values, nps=8, comment="first")
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.submit(invitation, values={q.pk: 1 for q in rated_questions(survey)}, nps=0, comment="second")
    assert list(Response.objects.values_list("nps", "comment")) == [(8, "first")]
    assert set(Answer.objects.values_list("value", flat=True)) == {3}


def test_the_database_holds_one_response_per_invitation(link):
    survey, invitation = link
    Response.objects.create(invitation=invitation, survey=survey, nps=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(invitation=invitation, survey=survey, nps=6)
    assert Response.objects.count() == 1


def test_the_database_refuses_values_out_of_range(link):
    survey, invitation = link
    response = Response.objects.create(invitation=invitation, survey=survey, nps=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Answer.objects.create(response=response, question=first_statement(survey), value=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.filter(pk=response.pk).update(nps=11)
    assert not Answer.objects.exists()


# Rate limits -------------------------------------------------------------------------------------


@pytest.fixture
def low_rate(settings):
    settings.SURVEY_RATE_LIMIT = "3/m"
    with time_machine.travel(timezone.now(), tick=False):
        yield


def test_the_page_is_rate_limited_per_client_address(link, client, low_rate):
    survey, invitation = link
    for _ in range(3):
        assert client.get(invitation.path, REMOTE_ADDR="198.51.100.7").status_code == 200
    limited = client.get(invitation.path, REMOTE_ADDR="198.51.100.7")
    assert limited.status_code == 429
    assert "Too many requests from your network" in page_text(limited)
    post = client.post(invitation.path, answer_data(survey), REMOTE_ADDR="198.51.100.7")
    assert post.status_code == 429
    assert not Response.objects.exists()
    # Another address is not held back.
    assert client.get(invitation.path, REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.post(invitation.path, answer_data(survey), REMOTE_ADDR="203.0.113.9").status_code == 200
    assert Response.objects.count() == 1


def test_posts_and_autosaves_are_rate_limited_too(link, client, low_rate):
    survey, invitation = link
    save_url = reverse("survey_save", kwargs={"token": invitation.token})
    for _ in range(3):
        assert client.post(save_url, {"nps": "4"}, REMOTE_ADDR="198.51.100.8").status_code == 200
    assert client.post(save_url, {"nps": "5"}, REMOTE_ADDR="198.51.100.8").status_code == 429
    assert SurveyInvitation.objects.get(pk=invitation.pk).draft_answers == {"nps": "4"}
    for _ in range(3):
        assert (
            client.post(invitation.path, {"action": "save", "nps": "6"}, REMOTE_ADDR="198.51.100.8").status_code == 200
        )
    assert client.post(invitation.path, answer_data(survey), REMOTE_ADDR="198.51.100.8").status_code == 429
    assert not Response.objects.exists()


def test_guessing_tokens_is_rate_limited(world, client, low_rate):
    for n in range(3):
        assert client.get(f"/s/guess-{n}/", REMOTE_ADDR="198.51.100.9").status_code == 404
    assert client.get("/s/guess-4/", REMOTE_ADDR="198.51.100.9").status_code == 429


# The client address behind a proxy ----------------------------------------------------------------

PROXY = "10.0.0.2"  # the trusted proxy: every request reaches the app from it


@pytest.fixture
def behind_proxy(settings, low_rate):
    settings.BEHIND_TLS_PROXY = True
    settings.TRUSTED_PROXY_COUNT = 1
    return settings


def test_behind_a_proxy_rotating_client_written_headers_does_not_bypass_the_limit(link, client, behind_proxy):
    """The client writes the left of X-Forwarded-For and X-Real-IP; only what the proxy appended counts."""
    survey, invitation = link

    def request(n, client_ip="198.51.100.7"):
        return client.get(
            invitation.path,
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, {client_ip}",
            HTTP_X_REAL_IP=f"192.0.2.{n}",
        )

    for n in range(3):
        assert request(n).status_code == 200
    assert request(3).status_code == 429
    assert request(4).status_code == 429
    post = client.post(invitation.path, answer_data(survey), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert post.status_code == 429
    assert not Response.objects.exists()
    # Another client behind the same proxy is counted apart: the proxy's own address is not the key.
    assert request(5, client_ip="198.51.100.99").status_code == 200


def test_behind_two_proxies_the_address_the_outer_proxy_appended_counts(link, client, behind_proxy):
    behind_proxy.TRUSTED_PROXY_COUNT = 2
    survey, invitation = link

    def request(n, client_ip):
        # The client's own entry, the client as the outer proxy saw it, the outer proxy as the inner one saw it.
        forwarded = f"203.0.113.{n}, {client_ip}, 10.0.0.{n + 10}"
        return client.get(
            invitation.path, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded, HTTP_X_REAL_IP=f"192.0.2.{n}"
        )

    for n in range(3):
        assert request(n, "198.51.100.7").status_code == 200
    assert request(3, "198.51.100.7").status_code == 429
    assert request(4, "198.51.100.8").status_code == 200


def test_without_proxy_mode_forwarding_headers_are_ignored(link, client, low_rate, settings):
    settings.BEHIND_TLS_PROXY = False
    survey, invitation = link
    for n in range(3):
        response = client.get(
            invitation.path,
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            HTTP_X_REAL_IP=f"192.0.2.{n}",
        )
        assert response.status_code == 200
    assert (
        client.get(invitation.path, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.50").status_code == 429
    )


def test_addresses_of_one_ipv6_network_share_a_limit(link, client, low_rate):
    """A /64 is one subscriber's: rotating addresses inside it is not another client."""
    survey, invitation = link
    for n in range(1, 4):
        assert client.get(invitation.path, REMOTE_ADDR=f"2001:db8:1:2::{n}").status_code == 200
    assert client.get(invitation.path, REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert client.get(invitation.path, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


# Tokens ------------------------------------------------------------------------------------------


def test_the_token_has_enough_randomness_and_the_database_cannot_rebuild_it(world, link, settings):
    survey, invitation = link
    token = invitation.token
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128
    assert len(bytes.fromhex(invitation.token_seed)) * 8 >= 128  # the random part, from secrets
    row = SurveyInvitation.objects.filter(pk=invitation.pk).values().get()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in row.values())
    assert make_token(row["token_seed"]) == token
    settings.SURVEY_TOKEN_KEY = "another key"
    assert make_token(row["token_seed"]) != token


def test_a_link_made_under_another_key_opens_nothing(link, client, settings):
    survey, invitation = link
    settings.SURVEY_TOKEN_KEY = "another key"
    forged = make_token(invitation.token_seed)
    assert client.get(f"/s/{forged}/").status_code == 404
    assert client.get(f"/s/{invitation.token_seed}/").status_code == 404
    assert client.get(f"/s/{invitation.token_hash}/").status_code == 404


def test_every_invitation_gets_a_token_of_its_own(world):
    people = StakeholderFactory.create_batch(50, pmo=world.pmo)
    _, invitations = open_survey(world.pmo, people)
    assert len({i.token for i in invitations}) == 50
    assert len({i.token_seed for i in invitations}) == 50


def test_the_invitation_status_of_a_survey_in_progress(world, link):
    survey, invitation = link
    assert survey.status == SurveyStatus.OPEN
    assert SurveyInvitation.objects.get(pk=invitation.pk).token == invitation.token
