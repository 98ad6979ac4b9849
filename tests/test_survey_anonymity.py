"""Anonymous surveys hold: nothing a member sees or does tells who answered.

Most tests build twins: two anonymous surveys that look alike to the PMO (same title,
people, counts and answers) but where different people answered, or answered in another
order. Whatever a page, an export, the API or "send again" shows must then be the same
for both, once survey ids and CSRF tokens are set aside. A named survey still shows it.
"""

import csv
import difflib
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from agenda.figures import segments
from pmo5p import outbox
from pmo5p.domain import Element
from pmo5p.models import ApiToken, OutgoingEmail
from stakeholders import tasks
from stakeholders.models import Response, Stakeholder, SurveyInvitation
from stakeholders.surveys import emails as survey_emails
from stakeholders.surveys import lifecycle as surveys
from stakeholders.timeline import timeline
from tests.factories import ResponseFactory, SegmentFactory, StakeholderFactory, SurveyFactory, UserFactory
from tests.helpers import messages_of
from tests.survey_helpers import open_survey, survey_url
from tests.test_exports import _plain, download, records, table

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=8)  # after the reminder delay (7 days)
COMMENTS = ["Slow approvals", "Great reports", "More training, please", "Clear roadmap", "Fewer templates"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


@pytest.fixture
def people(world):
    """Five stakeholders alike but for their name and e-mail address."""
    names = ["Ann Archer", "Ben Baxter", "Cat Cole", "Dan Drew", "Eve Ellis"]
    return [
        StakeholderFactory(
            pmo=world.pmo,
            segment=world.segment,
            name=name,
            email=f"{name.split()[0].lower()}@corp.example",
            job_title="",
        )
        for name in names
    ]


def same_looking(page: str, survey=None, people=()) -> str:
    """A page as it would read with the survey's id, CSRF tokens and people's names set aside."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', page)
    if survey is not None:
        page = page.replace(f"/surveys/{survey.pk}/", "/surveys/N/")
    page = re.sub(r"/(invitations|stakeholders)/\d+/", r"/\1/N/", page)
    for n, person in enumerate(people):
        page = page.replace(person.name, f"Person {n}").replace(person.email, f"person{n}@corp.example")
    return page


def rows_of(page: str) -> list[str]:
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return [" ".join(row.split()) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


# Send again ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [SurveyInvitation.SendStatus.FAILED, SurveyInvitation.SendStatus.SENT])
def test_send_again_answers_alike_whether_or_not_they_answered(
    world, people, client_for, django_capture_on_commit_callbacks, status
):
    """Ann's invitation is `status` in both twins; she answered the first, Ben the second."""
    ann, ben = people[:2]
    client = client_for(world.member)
    outcomes, mailed = [], []
    for answered_by in (ann, ben):
        survey, invitations = open_survey(world.pmo, [ann, ben], anonymous=True, title="Pulse", sent_at=T0)
        by_person = {i.stakeholder_id: i for i in invitations}
        if status == SurveyInvitation.SendStatus.FAILED:
            # Failed as far as pmo5p knows: the server may have taken it before the connection broke.
            email = survey_emails.queue_invitation(by_person[ann.pk])
            OutgoingEmail.objects.filter(pk=email.pk).update(
                status=OutgoingEmail.Status.FAILED, attempts=6, last_error="SMTPServerDisconnected: gone"
            )
            SurveyInvitation.objects.filter(pk=by_person[ann.pk].pk).update(
                send_status=status, sent_at=None, send_attempts=6, last_error="SMTPServerDisconnected: gone"
            )
        ResponseFactory(invitation=by_person[answered_by.pk], nps=5)
        with time_machine.travel(T1, tick=False), django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                survey_url("invitation_resend", survey, survey_invitation_id=by_person[ann.pk].pk), follow=True
            )
        outcomes.append(
            (
                response.status_code,
                [(same_looking(url, survey), code) for url, code in response.redirect_chain],
                messages_of(response),
                same_looking(response.content.decode(), survey),
            )
        )
        ann_invitation = SurveyInvitation.objects.get(pk=by_person[ann.pk].pk)
        outcomes[-1] += ((ann_invitation.send_status, ann_invitation.sent_at, ann_invitation.send_attempts),)
        mailed.append([(m.to, ann_invitation.path in m.body) for m in mail.outbox])
        mail.outbox.clear()

    (answered, unanswered) = outcomes
    assert answered[2] == unanswered[2]  # the messages
    assert answered == unanswered
    if status == SurveyInvitation.SendStatus.FAILED:
        assert answered[2] == ["The invitation to Ann Archer is being sent again."]
        assert answered[4] == (SurveyInvitation.SendStatus.SENT, T1, 7)
        # Only where she has not answered does she get the survey again.
        assert mailed == [[], [(["ann@corp.example"], True)]]
    else:
        assert answered[2] == [
            "The invitation to Ann Archer went out already; a reminder follows if they don't answer."
        ]
        assert mailed == [[], []]


def test_a_named_survey_still_says_who_answered_on_send_again(world, people, client_for):
    survey, (invitation,) = open_survey(world.pmo, people[:1], sent_at=T0)
    ResponseFactory(invitation=invitation, nps=5)
    response = client_for(world.member).post(
        survey_url("invitation_resend", survey, survey_invitation_id=invitation.pk)
    )
    assert messages_of(response) == ["Ann Archer has answered already."]


def test_an_invitation_queued_again_after_they_answered_ends_sent_like_the_others(world, people, client_for):
    """A send that reached them but was never recorded leaves the invitation queued: the
    outbox's sweep sends it again, and it must not stay "Queued" because they answered."""
    ann, ben = people[:2]
    survey, invitations = open_survey(world.pmo, [ann, ben], anonymous=True, title="Pulse", sent_at=T0)
    SurveyInvitation.objects.filter(survey=survey).update(send_status=SurveyInvitation.SendStatus.PENDING, sent_at=None)
    with time_machine.travel(T0, tick=False):
        for invitation in invitations:
            survey_emails.queue_invitation(invitation)
    ResponseFactory(invitation=invitations[0], nps=9)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        outbox.sweep()
    assert [m.to for m in mail.outbox] == [["ben@corp.example"]]
    states = {i.stakeholder_id: (i.send_status, i.sent_at, i.send_attempts) for i in survey.invitations.all()}
    assert states[ann.pk] == states[ben.pk] == (SurveyInvitation.SendStatus.SENT, T0 + timedelta(hours=1), 1)
    page = client_for(world.viewer).get(survey_url("survey_detail", survey)).content.decode()
    first, second = rows_of(same_looking(page, survey, [ann, ben]))
    assert first.replace("Person 0", "Person N").replace("person0", "personN") == second.replace(
        "Person 1", "Person N"
    ).replace("person1", "personN")


# Pages: the survey, the launch of the next one, the stakeholder ----------------------------------------


def answered_drafted_reminded(world, people, *, anonymous):
    """Ann answered, Ben saved a draft, Cat did nothing; then the reminders went out."""
    ann, ben, cat = people[:3]
    survey, invitations = open_survey(
        world.pmo, [ann, ben, cat], anonymous=anonymous, title="Pulse", sent_at=T0, reminder_delay_days=7
    )
    SurveyInvitation.objects.filter(survey=survey).update(send_attempts=1)
    ResponseFactory(
        invitation=invitations[0], ratings={Element.PRODUCT: [2, 2]}, nps=3, comment="Too slow", submitted_at=T0
    )
    surveys.save_draft(invitations[1], {"nps": "4"})
    with time_machine.travel(T1, tick=False):
        assert tasks.send_due_reminders() == 2
        assert outbox.sweep() == 2
    return survey


def person_rows(page, survey, people):
    """Each person's row, with their own name and e-mail written the same way."""
    rows = rows_of(same_looking(page, survey))
    result = []
    for person, row in zip(sorted(people, key=lambda p: p.name), rows, strict=True):
        result.append(row.replace(person.name, "NAME").replace(person.email, "EMAIL"))
    return result


@pytest.mark.parametrize("role", ["lead", "member", "viewer"])
def test_the_survey_page_shows_no_answer_state_of_an_anonymous_survey(world, people, client_for, role):
    survey = answered_drafted_reminded(world, people, anonymous=True)
    page = client_for(getattr(world, role)).get(survey_url("survey_detail", survey)).content.decode()
    answered, drafted, untouched = person_rows(page, survey, people[:3])
    assert answered == drafted == untouched
    assert "4 May" not in page.replace("4 May, 10:00", "") and "12 May" not in page  # sent at T0; no other date


def test_the_survey_page_of_a_named_survey_shows_who_answered_and_who_was_reminded(world, people, client_for):
    survey = answered_drafted_reminded(world, people, anonymous=False)
    page = client_for(world.viewer).get(survey_url("survey_detail", survey)).content.decode()
    answered, drafted, untouched = person_rows(page, survey, people[:3])
    assert drafted == untouched != answered
    assert '<span class="text-success">4 May</span>' in answered and "12 May" in drafted


def test_the_launch_of_the_next_survey_tells_nobody_apart(world, people, client_for):
    answered_drafted_reminded(world, people, anonymous=True)
    following = SurveyFactory(pmo=world.pmo, created_by=world.lead, title="Next")
    following.target_stakeholders.add(*people[:3])
    with time_machine.travel(T1 + timedelta(days=1), tick=False):
        page = client_for(world.member).get(survey_url("survey_launch", following)).content.decode()
    ann, ben, cat = people[:3]
    shown = {
        p.name: re.search(rf"{p.name}.*?</label>", page, re.S).group(0).replace(p.name, "NAME") for p in (ann, ben, cat)
    }
    assert shown[ann.name] == shown[ben.name] == shown[cat.name]


def test_the_stakeholder_page_and_timeline_show_no_anonymous_answer(world, people, client_for):
    answered_drafted_reminded(world, people, anonymous=True)
    ann, _, cat = people[:3]
    assert timeline(ann) == timeline(cat) == []
    client = client_for(world.lead)
    pages = []
    for person in (ann, cat):
        page = client.get(reverse("stakeholder_detail", kwargs={"slug": "alpha", "stakeholder_id": person.pk}))
        shown = same_looking(page.content.decode(), people=[person])
        pages.append(shown.replace(f"/{person.pk}/", "/N/").replace(f"stakeholder={person.pk}", "stakeholder=N"))
    assert "Pulse" not in pages[0]
    assert pages[0] == pages[1], "\n".join(
        difflib.unified_diff(pages[0].splitlines(), pages[1].splitlines(), lineterm="")
    )


def test_the_stakeholder_page_shows_a_named_answer(world, people, client_for):
    answered_drafted_reminded(world, people, anonymous=False)
    ann = people[0]
    page = client_for(world.viewer).get(
        reverse("stakeholder_detail", kwargs={"slug": "alpha", "stakeholder_id": ann.pk})
    )
    assert "Answered “Pulse”" in page.content.decode()
    assert [e.title for e in timeline(ann)] == ["Answered “Pulse”"]


# The order of answers: a function of the answers alone ----------------------------------------------


def twins_in_two_orders(world, people):
    """Two anonymous surveys with the same five answers, given in opposite orders."""
    answers = list(zip(people, COMMENTS, (0, 3, 7, 9, 10), strict=True))
    result = []
    for order in (answers, answers[::-1]):
        survey, invitations = open_survey(world.pmo, people, anonymous=True, title="Pulse", sent_at=T0)
        by_person = {i.stakeholder_id: i for i in invitations}
        for n, (person, comment, nps) in enumerate(order):
            ResponseFactory(
                invitation=by_person[person.pk],
                ratings={Element.PRODUCT: [1 + nps // 3, 5 - nps // 3]},
                nps=nps,
                comment=comment,
                submitted_at=T0 + timedelta(hours=n + 1),
            )
        result.append(survey)
    return result


def test_comments_of_an_anonymous_survey_come_in_an_order_of_their_text(world, people, client_for):
    first, second = twins_in_two_orders(world, people)
    client = client_for(world.viewer)
    shown = []
    for survey in (first, second):
        response = client.get(survey_url("survey_results", survey))
        page = response.content.decode()
        listed = [text for text, _ in response.context["comments"]]
        assert [c for c in re.findall(r'<p class="mb-0">([^<]*)</p>', page) if c in COMMENTS] == listed
        shown.append(listed)
    assert sorted(shown[0]) == sorted(COMMENTS)
    assert shown[0] == shown[1]
    # Neither the order they came in (first survey) nor its reverse (second survey).
    assert shown[0] not in (COMMENTS, COMMENTS[::-1])


def test_comments_of_a_named_survey_come_newest_first(world, people, client_for):
    survey, invitations = open_survey(world.pmo, people[:2], sent_at=T0)
    ResponseFactory(invitation=invitations[0], nps=9, comment="First", submitted_at=T0)
    ResponseFactory(invitation=invitations[1], nps=9, comment="Second", submitted_at=T0 + timedelta(hours=1))
    response = client_for(world.viewer).get(survey_url("survey_results", survey))
    assert [text for text, _ in response.context["comments"]] == ["Second", "First"]


def test_the_csv_of_an_anonymous_survey_is_the_same_whatever_the_order_of_answers(world, people, client_for):
    first, second = twins_in_two_orders(world, people)
    client = client_for(world.viewer)
    exported = [client.get(survey_url("survey_export", s)).content.decode("utf-8-sig") for s in (first, second)]
    assert exported[0] == exported[1]
    header, *rows = list(csv.reader(io.StringIO(exported[0])))
    assert header[:2] == ["response", "segment"]  # no time, no identity
    assert [row[-1] for row in rows] != COMMENTS and [row[-1] for row in rows] != COMMENTS[::-1]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_response_export_lists_anonymous_answers_in_an_order_of_their_content(world, people, client_for, fmt):
    first, second = twins_in_two_orders(world, people)
    rows = records(table(download(client_for(world.viewer), world.pmo, "responses", fmt), fmt))
    by_survey = {}
    for record in rows:
        assert [_plain(record[k]) for k in ("Submitted", "Stakeholder", "E-mail")] == ["", "", ""]
        by_survey.setdefault(_plain(record["Survey ID"]), []).append(
            [_plain(v) for k, v in record.items() if k != "Survey ID"]
        )
    assert list(by_survey) == [str(first.pk), str(second.pk)]
    assert by_survey[str(first.pk)] == by_survey[str(second.pk)]
    assert [row[-1] for row in by_survey[str(first.pk)]] not in (COMMENTS, COMMENTS[::-1])


def full_export(client):
    response = client.get(reverse("export_full", kwargs={"slug": "alpha"}))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {
        name.removeprefix("json/stakeholders.").removesuffix(".json"): json.loads(archive.read(name))
        for name in archive.namelist()
        if name.startswith("json/stakeholders.")
    }


def test_the_full_export_keeps_no_order_of_arrival_for_anonymous_answers(world, people, client_for):
    first, second = twins_in_two_orders(world, people)
    client = client_for(world.lead)
    exported = full_export(client)
    pks = set(Response.objects.values_list("pk", flat=True))
    for survey in (first, second):
        rows = [r for r in exported["response"] if r["survey_id"] == survey.pk]
        references = [r["id"] for r in rows]
        # Not the database's ids, which follow the order answers came in, nor anything in that order.
        assert not set(references) & pks and all(re.fullmatch(r"[0-9a-f]{32}", ref) for ref in references)
        assert references == sorted(references)
        assert {r["submitted_at"] for r in rows} == {None}
        answers = [a for a in exported["answer"] if a["response_id"] in set(references)]
        assert answers and {a["id"] for a in answers} == {None}
        assert [a["response_id"] for a in answers] == sorted(a["response_id"] for a in answers)
    # The references are drawn for each export: they cannot be worked back to the ids.
    again = full_export(client)
    assert {r["id"] for r in again["response"]}.isdisjoint({r["id"] for r in exported["response"]})


def test_the_full_export_tells_no_invitation_of_an_anonymous_survey_apart(world, people, client_for):
    survey = answered_drafted_reminded(world, people, anonymous=True)
    rows = [r for r in full_export(client_for(world.lead))["surveyinvitation"] if r["survey_id"] == survey.pk]
    assert len(rows) == 3
    for row in rows:
        for key in ("id", "stakeholder_id", "email", "created_at"):
            row.pop(key)
    assert rows[0] == rows[1] == rows[2]
    assert rows[0]["send_attempts"] == 1  # a reminder's attempts are not added to the invitation's


def test_the_full_export_of_a_named_survey_keeps_who_answered(world, people, client_for):
    survey = answered_drafted_reminded(world, people, anonymous=False)
    rows = {r["stakeholder_id"]: r for r in full_export(client_for(world.lead))["surveyinvitation"]}
    ann, ben, _ = people[:3]
    assert rows[ann.pk]["responded_at"] is not None and rows[ann.pk]["reminded_at"] is None
    assert rows[ben.pk]["responded_at"] is None and rows[ben.pk]["reminded_at"] is not None
    (response,) = [r for r in full_export(client_for(world.lead))["response"] if r["survey_id"] == survey.pk]
    assert response["invitation_id"] == SurveyInvitation.objects.get(survey=survey, stakeholder=ann).pk


# The API -------------------------------------------------------------------------------------------------


def test_the_api_says_the_same_of_anonymous_twins_and_has_no_invitations_or_responses(world, people):
    _token, key = ApiToken.issue(user=world.viewer, name="tests")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    first, second = twins_in_two_orders(world, people)
    bodies = []
    for survey in (first, second):
        detail = api.get(f"/api/v1/pmos/alpha/surveys/{survey.pk}/").json()
        results = api.get(f"/api/v1/pmos/alpha/surveys/{survey.pk}/results/").json()
        detail.pop("id")
        results["survey"].pop("id")
        bodies.append((detail, results))
    assert bodies[0] == bodies[1]
    text = json.dumps(bodies)
    assert not any(p.name in text or p.email in text for p in people)
    schema = json.loads(api.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).content)
    paths = " ".join(schema["paths"])
    assert "invitation" not in paths and "response" not in paths


# Segments: the rows are the audience's, whoever answered ------------------------------------------


def segment_table(page: str) -> list[str]:
    """The rows of the results page's segment table, as rendered, in order."""
    return [" ".join(row.split()) for row in re.findall(r'<tr data-segment="[^"]*">.*?</tr>', page, re.S)]


def test_the_segment_rows_do_not_change_when_the_one_member_of_a_segment_answers(world, people, client_for):
    board = StakeholderFactory(pmo=world.pmo, segment=SegmentFactory(pmo=world.pmo, name="Board"), name="Bo Board")
    loose = StakeholderFactory(pmo=world.pmo, segment=None, name="Lu Loose")
    survey, invitations = open_survey(world.pmo, [*people, board, loose], anonymous=True, title="Pulse", sent_at=T0)
    by_person = {i.stakeholder_id: i for i in invitations}
    for person in people[:3]:  # Finance reaches the minimum group size (3)
        ResponseFactory(invitation=by_person[person.pk], ratings={Element.PRODUCT: [4, 4]}, nps=8)
    client = client_for(world.viewer)
    _token, key = ApiToken.issue(user=world.viewer, name="tests")
    api = Client(headers={"Authorization": f"Bearer {key}"})

    def shown():
        page = client.get(survey_url("survey_results", survey)).content.decode()
        segments = api.get(f"/api/v1/pmos/alpha/surveys/{survey.pk}/results/").json()["segments"]
        exported = csv.DictReader(
            io.StringIO(client.get(survey_url("survey_export", survey)).content.decode("utf-8-sig"))
        )
        return segment_table(page), segments, {row["segment"] for row in exported} - {""}

    before = shown()
    page_rows, api_rows, csv_segments = before
    assert [re.sub(r"<[^>]+>", " ", row).split()[0] for row in page_rows] == ["Board", "Finance", "No"]
    assert sum("hidden to protect anonymity" in row for row in page_rows) == 2  # Board, No segment
    assert [(row["name"], row["hidden"], row["responses"]) for row in api_rows] == [
        ("Board", True, None),
        ("Finance", False, 3),
        ("No segment", True, None),
    ]
    assert csv_segments == {"Finance"}
    ResponseFactory(invitation=by_person[board.pk], ratings={Element.PRODUCT: [1, 1]}, nps=0)
    assert shown() == before
    ResponseFactory(invitation=by_person[loose.pk], ratings={Element.PRODUCT: [1, 1]}, nps=0)
    assert shown() == before
    assert survey.responses.count() == 5


def test_moving_someone_after_the_launch_says_nothing_of_whether_they_answered(world, people, client_for, monkeypatch):
    """Dan answered and Eve did not, both in Finance at the launch and alike but for their
    names. Whether Dan or Eve is then moved to IT, every page, the API and every export read
    the same: an invitation and its response count in the segment of the launch. (They used
    to follow an unanswered stakeholder to their new segment, and stay with an answered one.)"""
    it = SegmentFactory(pmo=world.pmo, name="IT")
    techs = [StakeholderFactory(pmo=world.pmo, segment=it, name=f"Tech {n}", job_title="") for n in range(3)]
    survey, invitations = open_survey(world.pmo, [*people, *techs], anonymous=True, title="Pulse", sent_at=T0)
    answering = [i for i in invitations if i.stakeholder.name != "Eve Ellis"]
    for n, invitation in enumerate(answering):
        ResponseFactory(
            invitation=invitation, ratings={Element.PRODUCT: [n % 5 + 1, 4]}, importance={Element.PRODUCT: 5}, nps=n
        )
    dan, eve = people[3], people[4]
    # The references of the full export's responses are drawn for each export: fixed here to compare two.
    monkeypatch.setattr("agenda.full_export.secrets.token_hex", lambda nbytes: "0" * 2 * nbytes)
    lead = client_for(world.lead)
    _token, key = ApiToken.issue(user=world.viewer, name="tests")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    home = reverse("pmo_home", kwargs={"slug": world.pmo.slug})

    def everything_shown() -> dict:
        cache.clear()
        shown = {
            "results": same_looking(lead.get(survey_url("survey_results", survey)).content.decode(), survey),
            "api": api.get(f"/api/v1/pmos/alpha/surveys/{survey.pk}/results/").json(),
            "survey csv": lead.get(survey_url("survey_export", survey)).content.decode("utf-8-sig"),
            "responses csv": download(lead, world.pmo, "responses", "csv").content.decode("utf-8-sig"),
            "dashboard": same_looking(lead.get(home).content.decode()),
        }
        for segment in world.pmo.segments.all():
            shown[f"dashboard {segment}"] = same_looking(lead.get(f"{home}?segment={segment.pk}").content.decode())
        # All but the register itself, where the member moved Dan or Eve.
        shown |= {name: rows for name, rows in full_export(lead).items() if name != "stakeholder"}
        return shown

    def moved(person) -> dict:
        Stakeholder.objects.filter(pk__in=[dan.pk, eve.pk]).update(segment=world.segment)
        Stakeholder.objects.filter(pk=person.pk).update(segment=it)
        return everything_shown()

    answered_moved, unanswered_moved = moved(dan), moved(eve)
    assert answered_moved.keys() == unanswered_moved.keys()
    for name, shown in answered_moved.items():
        assert shown == unanswered_moved[name], "".join(
            difflib.unified_diff(str(shown).splitlines(True), str(unanswered_moved[name]).splitlines(True))
        )
    # The figures are there to compare: Finance's 4 answers of 5 sent, IT's 3 of 3.
    rows = {row.name: (row.responses, row.participation.sent) for row in segments.segment_figures(survey)}
    assert rows == {"Finance": (4, 5), "IT": (3, 3)}
    finance_page = " ".join(re.sub(r"<[^>]+>", " ", answered_moved["dashboard Finance"]).split())
    assert "80%" in answered_moved["results"] and "4 responses of 5 sent" in finance_page


# The admin, for staff who are not superusers --------------------------------------------------------


def test_the_admin_shows_staff_no_answer_state_of_an_anonymous_survey(world, people):
    hidden = answered_drafted_reminded(world, people, anonymous=True)
    named = answered_drafted_reminded(
        world, [StakeholderFactory(pmo=world.pmo, name=f"N{n}") for n in range(3)], anonymous=False
    )
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_surveyinvitation", "view_response", "view_answer"])
    )
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/stakeholders/surveyinvitation/").content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    anonymous_rows = [r for r in rows if "Pulse" in r and any(p.name in r for p in people)]
    assert len(anonymous_rows) == 3
    dates = re.compile(r"\d+ May 2026")
    for row in anonymous_rows:
        assert row.count("hidden (anonymous)") == 2
        assert len(dates.findall(row)) == 1  # when it was sent, no more
    named_rows = [r for r in rows if "N0" in r or "N1" in r or "N2" in r]
    assert "hidden (anonymous)" not in " ".join(named_rows)
    listed = client.get("/admin/stakeholders/response/").context["cl"].result_list
    assert [r.survey_id for r in listed] == [named.pk]
    assert client.get(f"/admin/stakeholders/response/{hidden.responses.get().pk}/change/").status_code == 302
    answer_ids = {a.pk for a in client.get("/admin/stakeholders/answer/").context["cl"].result_list}
    assert answer_ids == set(named.responses.get().answers.values_list("pk", flat=True))

    # Nor can they ask the invitation list who answered, was reminded or saved a draft: a
    # filter on answer state is refused (400), for a named survey too, since one filter can
    # span surveys.
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_stakeholder", "view_survey", "view_segment"])
    )
    staff = type(staff).objects.get(pk=staff.pk)  # the permissions just added, not the cached ones
    client.force_login(staff)
    invitations = "/admin/stakeholders/surveyinvitation/"
    ann = people[0]
    for survey in (hidden, named):
        for query in [
            "responded_at__isnull=False",
            "responded_at__isnull=True",
            "responded_at__gte=2026-01-01",
            "reminded_at__isnull=True",
            "reminder_claimed_at__isnull=True",
            "response__isnull=False",
            "response__nps__lte=6",
            "response__submitted_at__gte=2026-01-01",
            "draft_saved_at__isnull=False",
            "draft_answers__has_key=nps",
        ]:
            assert client.get(f"{invitations}?survey__id__exact={survey.pk}&{query}").status_code == 400, query
    # Ordering by a hidden column sorts nothing: the order of an ordering that names no column.
    unsorted = client.get(f"{invitations}?survey__id__exact={hidden.pk}&o=99").context["cl"].result_list
    in_order = [i.pk for i in unsorted]
    assert len(in_order) == 3
    columns = len(client.get(invitations).context["cl"].list_display)
    for column in range(columns):
        for sign in ("", "-"):
            listed = client.get(f"{invitations}?survey__id__exact={hidden.pk}&o={sign}{column}").context["cl"]
            if listed.list_display[column] in ("reminded", "answered"):
                assert [i.pk for i in listed.result_list] == in_order, (sign, column)
    # The other admins that reach invitations or responses refuse it as well (Django lets
    # them filter across one relation only), and list no anonymous response.
    for url in [
        f"/admin/stakeholders/response/?invitation__stakeholder__id__exact={ann.pk}",
        f"/admin/stakeholders/stakeholder/?invitations__survey__id__exact={hidden.pk}&invitations__response__isnull=False",
        "/admin/stakeholders/stakeholder/?invitations__responded_at__isnull=False",
        f"/admin/stakeholders/survey/?responses__invitation__stakeholder__id__exact={ann.pk}",
        "/admin/stakeholders/segment/?stakeholders__invitations__responded_at__isnull=False",
    ]:
        assert client.get(url).status_code == 400, url
    listed = client.get(
        f"/admin/stakeholders/response/?invitation__id__exact={hidden.invitations.get(stakeholder=ann).pk}"
    )
    assert list(listed.context["cl"].result_list) == []
    # Superusers run the site and may filter.
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    answered = client.get(f"{invitations}?survey__id__exact={hidden.pk}&responded_at__isnull=False").context["cl"]
    assert [i.stakeholder for i in answered.result_list] == [ann]
