"""The recovery pulse (docs/follow-up.md, "Recovery pulse"): sending it once for a resolved
named case, its e-mail and link, the public page at /r/<token>/ (GET changes nothing, POST
stores once, bad scores, tampered links, the rate limit), the button on the case's page,
and the case fragment's before and after."""

import hashlib
import html
import re

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import OutgoingEmail
from stakeholders.cases import pulses
from stakeholders.cases.pulses import PulseError, answer_pulse, send_pulse
from stakeholders.models import Answer, CaseStatus, RecoveryPulse, Response
from tests.factories import StakeholderFactory, SurveyFactory
from tests.pulse_helpers import group_case, named_case

Kind, Status = OutgoingEmail.Kind, OutgoingEmail.Status
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def pulse_emails():
    return OutgoingEmail.objects.filter(kind=Kind.RECOVERY_PULSE)


@pytest.fixture
def case(world):
    return named_case(world.pmo, world.stakeholder, nps=3)


@pytest.fixture
def pulse(case, world):
    return send_pulse(case, by=world.member)


def link(pulse) -> str:
    return reverse("pulse_answer", kwargs={"token": pulse.token})


# Sending ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [CaseStatus.OPEN, CaseStatus.CONTACTED, CaseStatus.CLOSED])
def test_a_case_not_resolved_gets_no_pulse(world, status):
    case = named_case(world.pmo, world.stakeholder, status=status)
    with pytest.raises(PulseError, match="once the case is resolved"):
        send_pulse(case, by=world.member)
    assert not RecoveryPulse.objects.exists()
    assert not pulse_emails().exists()


def test_an_anonymous_group_case_gets_no_pulse(world):
    case = group_case(world.pmo, SurveyFactory(pmo=world.pmo, anonymous=True, closed=True))
    with pytest.raises(PulseError, match="anonymous group"):
        send_pulse(case, by=world.member)
    assert not RecoveryPulse.objects.exists()
    assert not pulse_emails().exists()


def test_a_stakeholder_without_an_address_gets_no_pulse(world):
    case = named_case(world.pmo, StakeholderFactory(pmo=world.pmo, name="Nora Nomail", email=""))
    with pytest.raises(PulseError, match="Nora Nomail has no e-mail address"):
        send_pulse(case, by=world.member)
    assert not RecoveryPulse.objects.exists()
    assert not pulse_emails().exists()


def test_a_second_pulse_for_one_case_is_refused(pulse, case, world):
    with pytest.raises(PulseError, match="already sent"):
        send_pulse(case, by=world.lead)
    assert RecoveryPulse.objects.get() == pulse
    assert pulse_emails().count() == 1


def test_a_pulse_sent_twice_at_once_is_refused_by_the_database(pulse, case, world, monkeypatch):
    # The second send passed its check before the first committed: the one-to-one decides.
    monkeypatch.setattr(pulses, "_refusal", lambda case: None)
    with pytest.raises(PulseError, match="already sent"):
        send_pulse(case, by=world.lead)
    assert RecoveryPulse.objects.get() == pulse
    assert pulse_emails().count() == 1


def test_sending_queues_one_email_with_the_link_and_the_0_to_10_links(pulse, world):
    (email,) = pulse_emails()
    assert email.to == ["fiona@corp.example"]
    assert email.pmo == world.pmo
    assert email.source == pulse
    assert "Alpha PMO" in email.subject
    url = f"http://testserver{link(pulse)}"
    for body in (email.text, email.html):
        assert "How likely are you now to recommend the PMO to a colleague?" in body
        assert url in body
        assert "Thank you" in body
        for value in range(11):
            assert f"{url}?score={value}" in body
    assert pulse.sent_by == world.member
    assert pulse.email == "fiona@corp.example"


def test_the_e_mail_s_links_start_with_the_site_url_never_the_request_s_host(client, case, world, settings):
    settings.SITE_URL, settings.ALLOWED_HOSTS = "https://pmo5p.example.com", ["*"]
    client.force_login(world.member)
    client.post(send_url(case), HTTP_HOST="attacker.example")
    (email,) = pulse_emails()
    links = re.findall(r"https?://[^\s\"<>]+", email.text + email.html)
    assert len(links) >= 12
    assert all(url.startswith("https://pmo5p.example.com/r/") for url in links), links


def test_the_link_s_token_is_not_stored_only_its_hash(pulse):
    token = pulse.token
    assert pulse.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = RecoveryPulse.objects.filter(pk=pulse.pk).values().get()
    assert token not in {str(value) for value in row.values()}


def test_a_pulse_e_mail_is_cancelled_once_the_pulse_is_answered(pulse):
    (email,) = pulse_emails()
    assert answer_pulse(pulse, 9, "")
    assert outbox.send(email.pk) == Status.CANCELLED
    assert mail.outbox == []


def test_an_unanswered_pulse_s_e_mail_is_sent(pulse):
    (email,) = pulse_emails()
    assert outbox.send(email.pk) == "sent"
    (message,) = mail.outbox
    assert message.to == ["fiona@corp.example"]


# Answering ---------------------------------------------------------------------------------


def test_answer_pulse_stores_once(pulse):
    assert answer_pulse(pulse, 8, "Much better")
    assert not answer_pulse(RecoveryPulse.objects.get(pk=pulse.pk), 2, "Changed my mind")
    stored = RecoveryPulse.objects.get(pk=pulse.pk)
    assert (stored.score, stored.comment) == (8, "Much better")
    assert stored.answered_at is not None


def test_get_changes_nothing_even_with_a_score(client, pulse):
    before = RecoveryPulse.objects.filter(pk=pulse.pk).values().get()
    response = client.get(f"{link(pulse)}?score=7")
    assert response.status_code == 200
    text = page_text(response)
    assert "How likely are you now to recommend the PMO to a colleague?" in text
    assert 'value="7" checked' in response.content.decode()
    assert RecoveryPulse.objects.filter(pk=pulse.pk).values().get() == before
    # A score out of range preselects nothing.
    assert "checked" not in client.get(f"{link(pulse)}?score=11").content.decode()


def test_post_stores_once_then_the_link_says_it_was_answered(client, pulse):
    response = client.post(link(pulse), {"score": "8", "comment": "Much better now"})
    assert response.status_code == 200
    assert "Thank you" in page_text(response)
    again = client.post(link(pulse), {"score": "1", "comment": "Overwrite"})
    assert again.status_code == 410
    assert "You have already answered, thank you" in page_text(again)
    assert client.get(link(pulse)).status_code == 410
    stored = RecoveryPulse.objects.get(pk=pulse.pk)
    assert (stored.score, stored.comment) == (8, "Much better now")


def test_a_pulse_writes_no_survey_response_or_answer(client, world):
    case = named_case(world.pmo, world.stakeholder, nps=3)
    responses, answers = Response.objects.count(), Answer.objects.count()
    pulse = send_pulse(case, by=world.member)
    client.post(link(pulse), {"score": "9"})
    assert RecoveryPulse.objects.get().score == 9
    assert (Response.objects.count(), Answer.objects.count()) == (responses, answers)
    assert Response.objects.get(pk=case.response_id).nps == 3


@pytest.mark.parametrize("score", [None, "11", "abc", "-1", "", "٣"])
def test_a_bad_score_shows_the_form_again_with_the_comment_kept(client, pulse, score):
    data = {"comment": f"Still slow {HOSTILE}"}
    if score is not None:
        data["score"] = score
    response = client.post(link(pulse), data)
    assert response.status_code == 400
    text = page_text(response)
    assert "Choose a number from 0 (not at all likely) to 10 (extremely likely)." in text
    assert f"Still slow {HOSTILE}" in text  # kept, and escaped:
    assert HOSTILE not in response.content.decode()
    assert RecoveryPulse.objects.get(pk=pulse.pk).answered_at is None


def test_a_comment_too_long_is_refused_and_kept(client, pulse):
    response = client.post(link(pulse), {"score": "5", "comment": "x" * 4001})
    assert response.status_code == 400
    assert "x" * 4001 in response.content.decode()
    assert RecoveryPulse.objects.get(pk=pulse.pk).answered_at is None


@pytest.mark.parametrize("tamper", ["last", "unknown", "long"])
def test_a_tampered_or_unknown_link_gets_a_clear_404(client, pulse, tamper):
    token = pulse.token
    bad = {
        "last": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "unknown": "nothing-like-a-token",
        "long": token * 3,
    }[tamper]
    for response in (client.get(f"/r/{bad}/"), client.post(f"/r/{bad}/", {"score": "9"})):
        assert response.status_code == 404
        assert "We don't recognise this link" in page_text(response)
    assert RecoveryPulse.objects.get(pk=pulse.pk).answered_at is None


@pytest.fixture
def low_rate(settings):
    settings.SURVEY_RATE_LIMIT = "3/m"
    with time_machine.travel(timezone.now(), tick=False):
        yield


def test_the_page_is_rate_limited_per_client_address_like_the_survey_link(client, pulse, low_rate):
    for _ in range(3):
        assert client.get(link(pulse), REMOTE_ADDR="198.51.100.7").status_code == 200
    limited = client.get(link(pulse), REMOTE_ADDR="198.51.100.7")
    assert limited.status_code == 429
    assert "Too many requests from your network" in page_text(limited)
    assert client.post(link(pulse), {"score": "9"}, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert RecoveryPulse.objects.get(pk=pulse.pk).answered_at is None
    # Unknown links count too, and another address is not held back.
    assert client.get("/r/unknown/", REMOTE_ADDR="198.51.100.7").status_code == 429
    assert client.post(link(pulse), {"score": "9"}, REMOTE_ADDR="203.0.113.9").status_code == 200
    assert RecoveryPulse.objects.get(pk=pulse.pk).score == 9


# The button on the case's page -------------------------------------------------------------


def send_url(case) -> str:
    return reverse("case_pulse_send", kwargs={"slug": case.pmo.slug, "case_id": case.pk})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_member_sends_the_pulse_and_returns_to_the_case(client, case, world):
    client.force_login(world.member)
    response = client.post(send_url(case))
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", kwargs={"slug": "alpha", "case_id": case.pk})
    assert messages_of(response) == ["Recovery pulse sent to fiona@corp.example."]
    assert RecoveryPulse.objects.get().case == case
    assert pulse_emails().count() == 1


def test_a_refusal_is_reported_on_the_case_and_changes_nothing(client, world):
    case = named_case(world.pmo, world.stakeholder, status=CaseStatus.CONTACTED)
    client.force_login(world.member)
    response = client.post(send_url(case))
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", kwargs={"slug": "alpha", "case_id": case.pk})
    assert messages_of(response) == ["A recovery pulse is sent once the case is resolved."]
    assert not RecoveryPulse.objects.exists()
    assert not pulse_emails().exists()


def test_another_pmo_s_case_answers_404_and_a_viewer_403(client, case, world):
    other = named_case(world.other_pmo, world.other_stakeholder)
    client.force_login(world.member)
    # Another PMO's case under our slug, and under its own (not ours to see).
    assert client.post(send_url(other).replace("/beta/", "/alpha/")).status_code == 404
    assert client.post(send_url(other)).status_code == 404
    client.force_login(world.viewer)
    assert client.post(send_url(case)).status_code == 403
    assert client.get(send_url(case)).status_code == 403
    client.force_login(world.member)
    assert client.get(send_url(case)).status_code == 405
    assert not RecoveryPulse.objects.exists()
    assert not pulse_emails().exists()


# The case's fragment -----------------------------------------------------------------------


def fragment(case, membership) -> str:
    case.refresh_from_db()
    return render_to_string("stakeholders/cases/_pulse.html", {"case": case, "current_membership": membership})


def test_a_resolved_case_offers_the_send_button_to_those_who_can_edit(case, world):
    shown = fragment(case, world.membership(world.member))
    assert "Score before" in shown and ">3<" in shown
    assert "No recovery pulse sent yet" in shown
    assert f'action="{send_url(case)}"' in shown
    assert "Send a recovery pulse" in shown
    assert "Send a recovery pulse" not in fragment(case, world.membership(world.viewer))


def test_no_button_before_resolution_nor_for_an_anonymous_group(world):
    member = world.membership(world.member)
    shown = fragment(named_case(world.pmo, world.stakeholder, status=CaseStatus.CONTACTED), member)
    assert "Send a recovery pulse" not in shown
    assert "Once the case is resolved" in shown
    group = group_case(world.pmo, SurveyFactory(pmo=world.pmo, anonymous=True, closed=True))
    shown = fragment(group, member)
    assert "Send a recovery pulse" not in shown
    assert "nobody to send a recovery pulse to" in shown


def test_a_sent_pulse_shows_not_answered_yet(pulse, case, world):
    shown = fragment(case, world.membership(world.member))
    assert f"Recovery pulse sent on {timezone.localdate():%-d %B %Y} to fiona@corp.example, not answered yet" in shown
    assert "Send a recovery pulse" not in shown


def test_an_answered_pulse_shows_before_after_and_the_comment_escaped(pulse, case, world):
    assert answer_pulse(pulse, 8, f"Better {HOSTILE}\nsecond line")
    shown = fragment(case, world.membership(world.lead))
    assert "3 → 8</span> (+5)" in shown
    assert HOSTILE not in shown
    assert html.escape(HOSTILE) in shown
    assert "second line" in shown
    assert "Send a recovery pulse" not in shown


@pytest.mark.parametrize(("after", "change"), [(1, "(−2)"), (3, "(±0)")])
def test_the_change_says_down_and_unchanged_too(pulse, case, world, after, change):
    assert answer_pulse(pulse, after, "")
    shown = fragment(case, world.membership(world.lead))
    assert f"3 → {after}</span> {change}" in shown
    assert "No comment." in shown
