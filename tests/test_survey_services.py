"""A survey that asks about the PMO's services (issue 12, docs/services.md): a draft chooses
them, launch copies each into its snapshot, the public form asks each respondent about the
services serving their segment (whether they know and use it; only a user rates it), and the
submit stores the answers with the response, in the same one statement."""

import html
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmo5p.domain import ServiceUsage
from pmo5p.rules import RuleViolation
from stakeholders.exports import response_table
from stakeholders.models import Response, Service, ServiceAnswer, SurveyInvitation, SurveyService
from stakeholders.surveys import lifecycle as surveys
from tests.factories import SegmentFactory, StakeholderFactory, SurveyFactory
from tests.survey_helpers import answer_data, survey_url

USES, KNOWS, UNAWARE = ServiceUsage.USES, ServiceUsage.KNOWS, ServiceUsage.UNAWARE
FOREIGN = "The form held answers to questions that are not part of this survey."
RATE_IT = "You use this service: choose a rating, or “Don't know”."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def service(pmo, name, *, segments=(), **fields) -> Service:
    created = Service.objects.create(pmo=pmo, name=name, description=f"What {name} does.", **fields)
    created.segments.set(segments)
    return created


@pytest.fixture
def catalogue(world):
    """Reporting serves everyone, the help desk Finance only, coaching another segment only."""
    it = SegmentFactory(pmo=world.pmo, name="IT")
    return {
        "reporting": service(world.pmo, "Portfolio reporting", elements=["physical_evidence"]),
        "desk": service(world.pmo, "Help desk", segments=[world.segment], elements=["people", "process"]),
        "coaching": service(world.pmo, "Coaching", segments=[it]),
    }


def launched(world, services, stakeholders=None, **fields):
    survey = SurveyFactory(pmo=world.pmo, **fields)
    survey.target_stakeholders.set(stakeholders or [world.stakeholder])
    surveys.choose_services(survey, services)
    surveys.launch(survey)
    survey.refresh_from_db()
    return survey


def asked(survey) -> dict[str, SurveyService]:
    return {row.name: row for row in survey.survey_services.all()}


def invitation_of(survey, stakeholder=None) -> SurveyInvitation:
    return SurveyInvitation.objects.get(survey=survey, stakeholder=stakeholder or survey.pmo.stakeholders.first())


def link(invitation) -> str:
    return invitation.path


def service_data(rows: dict[SurveyService, tuple]) -> dict:
    """POST fields for the services: (usage, satisfaction, importance), None left out."""
    data = {}
    for row, (usage, satisfaction, importance) in rows.items():
        for name, value in (("usage", usage), ("satisfaction", satisfaction), ("importance", importance)):
            if value is not None:
                data[f"s_{row.pk}_{name}"] = str(value)
    return data


def page(response) -> str:
    return html.unescape(response.content.decode())


# Drafting and launch ---------------------------------------------------------------------------


def test_a_draft_chooses_its_services_from_the_pmos_catalogue_only(world, catalogue, client_for):
    survey = SurveyFactory(pmo=world.pmo)
    url = survey_url("survey_edit", survey)
    client = client_for(world.lead)
    form = client.get(url).context["form"]
    assert [s.name for s in form.fields["services"].queryset] == ["Coaching", "Help desk", "Portfolio reporting"]
    assert form.fields["services"].initial == []  # none unless chosen

    foreign = service(world.other_pmo, "Beta reporting")
    data = {"title": "Pulse", "intro": "", "closes_on": survey.closes_on.isoformat(), "reminder_delay_days": 7}
    refused = client.post(url, {**data, "title": "Changed", "services": [catalogue["desk"].pk, foreign.pk]})
    assert refused.status_code == 200
    assert "Choose services of this PMO's catalogue." in page(refused)
    survey.refresh_from_db()
    assert survey.title != "Changed" and not survey.survey_services.exists()
    # What they ticked is still ticked.
    assert re.search(rf'name="services" value="{catalogue["desk"].pk}"[^>]*checked', refused.content.decode())

    assert client.post(url, {**data, "services": [catalogue["desk"].pk, catalogue["reporting"].pk]}).status_code == 302
    assert sorted(surveys.chosen_service_ids(survey)) == sorted([catalogue["desk"].pk, catalogue["reporting"].pk])
    assert client.post(url, {**data, "services": [catalogue["reporting"].pk]}).status_code == 302
    assert surveys.chosen_service_ids(survey) == [catalogue["reporting"].pk]
    with pytest.raises(RuleViolation):
        surveys.choose_services(survey, [foreign])


def test_a_survey_asks_about_at_most_twelve_services(world, catalogue, client_for):
    """Each asked service is up to three questions on the public form: a thirteenth is refused,
    nothing is saved and what was ticked stays ticked."""
    survey = SurveyFactory(pmo=world.pmo)
    url = survey_url("survey_edit", survey)
    more = [service(world.pmo, f"Service {n:02d}") for n in range(10)]
    chosen = [*catalogue.values(), *more]
    assert len(chosen) == surveys.MAX_SERVICES_ASKED + 1 == 13
    data = {"title": "Changed", "intro": "", "closes_on": survey.closes_on.isoformat(), "reminder_delay_days": 7}
    client = client_for(world.lead)
    refused = client.post(url, {**data, "services": [s.pk for s in chosen]})
    assert refused.status_code == 200
    assert "Ask about 12 services or fewer (you chose 13)" in page(refused)
    survey.refresh_from_db()
    assert survey.title != "Changed" and not survey.survey_services.exists()
    assert len(re.findall(r'name="services" value="\d+"[^>]*checked', refused.content.decode())) == 13
    assert client.post(url, {**data, "services": [s.pk for s in chosen[:12]]}).status_code == 302
    assert len(surveys.chosen_service_ids(survey)) == 12
    with pytest.raises(RuleViolation):
        surveys.choose_services(survey, chosen)


def test_a_new_survey_asks_about_the_services_chosen_at_once(world, catalogue, client_for):
    client = client_for(world.lead)
    data = {"title": "Pulse", "intro": "Hi", "closes_on": "2099-01-01", "reminder_delay_days": 7}
    response = client.post(f"/pmo/{world.pmo.slug}/surveys/new/", {**data, "services": [catalogue["desk"].pk]})
    assert response.status_code == 302
    assert list(SurveyService.objects.values_list("name", "service")) == [("Help desk", catalogue["desk"].pk)]
    detail = client.get(response["Location"])
    assert "and the services Help desk, each asked of the segments it serves." in page(detail)


def test_launch_copies_each_service_and_the_survey_keeps_its_snapshot(world, catalogue):
    gone = service(world.pmo, "Gone before launch")
    draft = SurveyFactory(pmo=world.pmo)
    draft.target_stakeholders.set([world.stakeholder])
    surveys.choose_services(draft, [catalogue["desk"], catalogue["reporting"], gone])
    # The catalogue changes while the survey is a draft: launch copies the service as it is then.
    Service.objects.filter(pk=catalogue["desk"].pk).update(name="Service desk", description="Now bigger.")
    gone.delete()
    surveys.launch(draft)

    rows = list(draft.survey_services.all())
    assert [(r.name, r.description, r.segment_ids, r.elements) for r in rows] == [
        ("Portfolio reporting", "What Portfolio reporting does.", [], ["physical_evidence"]),
        ("Service desk", "Now bigger.", [world.segment.pk], ["people", "process"]),
    ]
    with pytest.raises(surveys.SurveyError):
        surveys.choose_services(draft, [catalogue["coaching"]])

    # After launch the catalogue changes again; the survey keeps what it asked about.
    desk = catalogue["desk"]
    desk.name, desk.description = "Renamed again", "Other words."
    desk.save()
    desk.segments.set([])
    assert [(r.name, r.segment_ids) for r in draft.survey_services.all()] == [
        ("Portfolio reporting", []),
        ("Service desk", [world.segment.pk]),
    ]


def test_a_service_deleted_after_launch_keeps_its_snapshot_and_answers(world, catalogue):
    survey = launched(world, [catalogue["desk"]])
    invitation = invitation_of(survey, world.stakeholder)
    (row,) = survey.survey_services.all()
    data = {**answer_data(survey), **service_data({row: (USES, 4, 5)})}
    assert Client().post(link(invitation), data).status_code == 200
    catalogue["desk"].delete()
    row.refresh_from_db()
    assert (row.service, row.name, row.segment_ids) == (None, "Help desk", [world.segment.pk])
    assert list(ServiceAnswer.objects.values_list("survey_service", "usage", "satisfaction", "importance")) == [
        (row.pk, USES, 4, 5)
    ]


# The public form -----------------------------------------------------------------------------------


def test_each_respondent_is_asked_about_the_services_serving_their_segment(world, catalogue):
    no_segment = StakeholderFactory(pmo=world.pmo, name="Nadia None", email="nadia@corp.example", segment=None)
    survey = launched(world, list(catalogue.values()), [world.stakeholder, no_segment])
    rows = asked(survey)

    finance = page(Client().get(link(invitation_of(survey, world.stakeholder))))
    assert "Help desk" in finance and "Portfolio reporting" in finance and "Coaching" not in finance
    assert "2 of 2 services left to answer." in finance
    assert finance.count("<details") == 2
    # Each service's three questions, the ratings with "Don't know".
    desk = rows["Help desk"].pk
    values = re.findall(rf'name="s_{desk}_usage"[^>]*value="([^"]+)"', finance)
    assert values == ["uses", "knows", "unaware"]
    for name in ("satisfaction", "importance"):
        assert re.findall(rf'name="s_{desk}_{name}"[^>]*value="([^"]+)"', finance) == ["1", "2", "3", "4", "5", "dk"]
    assert "7. Overall" in finance  # the five P's, the services, then the rest

    nobody = page(Client().get(link(invitation_of(survey, no_segment))))
    assert "Portfolio reporting" in nobody and "Help desk" not in nobody and "Coaching" not in nobody
    assert "1 of 1 service left to answer." in nobody


def test_a_survey_without_services_shows_no_services_section(world):
    survey = launched(world, [])
    shown = page(Client().get(link(invitation_of(survey))))
    assert "services left" not in shown and "<details" not in shown and "6. Overall" in shown


def test_only_a_users_ratings_are_kept(world, catalogue):
    other = StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Olga", email="olga@corp.example")
    survey = launched(world, [catalogue["desk"], catalogue["reporting"]], [world.stakeholder, other])
    rows = asked(survey)
    desk, reporting = rows["Help desk"], rows["Portfolio reporting"]
    # A user may say "Don't know"; a non-user's ratings (sent anyway, e.g. without the page's CSS) are dropped.
    data = {**answer_data(survey), **service_data({desk: (USES, 2, "dk"), reporting: (KNOWS, 5, 5)})}
    assert Client().post(link(invitation_of(survey, world.stakeholder)), data).status_code == 200
    data = {**answer_data(survey), **service_data({desk: (UNAWARE, 1, None), reporting: (USES, 5, 4)})}
    assert Client().post(link(invitation_of(survey, other)), data).status_code == 200
    stored = ServiceAnswer.objects.values_list(
        "response__invitation__stakeholder__name", "survey_service__name", "usage", "satisfaction", "importance"
    )
    assert sorted(stored) == [
        ("Fiona Finance", "Help desk", USES, 2, None),
        ("Fiona Finance", "Portfolio reporting", KNOWS, None, None),
        ("Olga", "Help desk", UNAWARE, None, None),
        ("Olga", "Portfolio reporting", USES, 5, 4),
    ]


@pytest.mark.parametrize(
    "answers, errors",
    [
        ({"desk": (None, None, None)}, ["Say whether you use this service, know it, or didn't know it."]),
        ({"desk": (USES, 3, None)}, [RATE_IT]),
        ({"desk": (USES, None, None)}, [RATE_IT, RATE_IT]),
        ({"desk": ("often", None, None)}, ["Choose one of the answers shown."]),
        ({"desk": (USES, 9, 4)}, ["Choose a rating, or “Don't know”."]),
    ],
    ids=["no-usage", "user-without-importance", "user-without-ratings", "unknown-usage", "rating-out-of-range"],
)
def test_bad_service_answers_save_nothing_and_keep_the_rest(world, catalogue, answers, errors):
    survey = launched(world, [catalogue["desk"], catalogue["reporting"]])
    rows = asked(survey)
    invitation = invitation_of(survey)
    given = {rows["Help desk"]: answers["desk"], rows["Portfolio reporting"]: (USES, 4, 5)}
    response = Client().post(link(invitation), {**answer_data(survey, comment="Mine"), **service_data(given)})
    assert response.status_code == 400
    shown = page(response)
    assert "Some answers need a look." in shown
    for error in errors:
        assert shown.count(error) >= errors.count(error)
    assert not Response.objects.exists() and not ServiceAnswer.objects.exists()
    # The service in error is open; what they gave is kept, on the page and in the draft.
    desk = rows["Help desk"].pk
    assert re.search(
        r'<details class="service-item mb-2 is-invalid" data-service open>\s*<summary[^>]*>'
        r'<span class="service-name">Help desk',
        response.content.decode(),
    )
    reporting = rows["Portfolio reporting"].pk
    assert re.search(rf'name="s_{reporting}_usage"[^>]*value="uses" checked', response.content.decode())
    invitation.refresh_from_db()
    assert invitation.draft_answers[f"s_{reporting}_satisfaction"] == "4"
    assert invitation.draft_answers["comment"] == "Mine"
    assert "1 of 2 services left to answer." in shown  # the help desk, in error
    assert invitation.draft_answers.get(f"s_{desk}_usage") == (USES if answers["desk"][0] == USES else None)


def test_answers_about_services_not_asked_of_them_are_refused(world, catalogue):
    survey = launched(world, list(catalogue.values()))
    rows = asked(survey)
    elsewhere = launched(world, [catalogue["reporting"]], title="Another survey")
    invitation = invitation_of(survey)
    given = {rows["Help desk"]: (USES, 4, 4), rows["Portfolio reporting"]: (KNOWS, None, None)}
    for foreign in (rows["Coaching"], asked(elsewhere)["Portfolio reporting"]):  # not their segment; not this survey
        data = {**answer_data(survey), **service_data({**given, foreign: (USES, 1, 1)})}
        response = Client().post(link(invitation), data)
        assert response.status_code == 400 and FOREIGN in page(response)
    assert not ServiceAnswer.objects.exists()


def test_saving_and_resuming_keeps_the_service_answers(world, catalogue):
    survey = launched(world, [catalogue["desk"], catalogue["reporting"]])
    rows = asked(survey)
    invitation = invitation_of(survey)
    client = Client()
    data = {"action": "save", **service_data({rows["Help desk"]: (USES, 5, None)})}
    saved = client.post(link(invitation), data)
    assert saved.status_code == 200 and "Your answers are saved." in page(saved)
    resumed = client.get(link(invitation)).content.decode()
    desk = rows["Help desk"].pk
    assert re.search(rf'name="s_{desk}_usage"[^>]*value="uses" checked', resumed)
    assert re.search(rf'name="s_{desk}_satisfaction"[^>]*value="5" checked', resumed)
    assert "2 of 2 services left to answer." in html.unescape(resumed)  # the help desk lacks its importance
    # The page's autosave keeps them too.
    autosaved = {**service_data({rows["Help desk"]: (USES, 5, 3), rows["Portfolio reporting"]: (UNAWARE, None, None)})}
    assert client.post(f"/s/{invitation.token}/save/", autosaved).json() == {"saved": True}
    assert "All 2 services answered." in page(client.get(link(invitation)))


def test_the_preview_shows_every_service_asked(world, catalogue, client_for):
    survey = SurveyFactory(pmo=world.pmo)
    surveys.choose_services(survey, [catalogue["coaching"], catalogue["desk"]])
    shown = page(client_for(world.viewer).get(survey_url("survey_preview", survey)))
    assert "Coaching" in shown and "Help desk" in shown and "Portfolio reporting" not in shown


# The submit -----------------------------------------------------------------------------------------


def submit_statements(world, services, stakeholder) -> list[str]:
    survey = launched(world, services, [stakeholder])
    invitation = invitation_of(survey, stakeholder)
    replies = {row: (USES, 4, 5) if n % 2 else (KNOWS, None, None) for n, row in enumerate(asked(survey).values())}
    data = {**answer_data(survey), **service_data(replies)}
    client = Client()
    assert client.get(link(invitation)).status_code == 200  # the form first: the questions and services read
    with CaptureQueriesContext(connection) as captured:
        assert client.post(link(invitation), data).status_code == 200
    assert ServiceAnswer.objects.filter(response__invitation=invitation).count() == len(replies)
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_submit_is_two_queries_whatever_the_number_of_services(world, catalogue):
    few = submit_statements(world, [catalogue["desk"]], world.stakeholder)
    more = [service(world.pmo, f"Service {n}") for n in range(12)]
    other = StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Olga", email="olga@corp.example")
    many = submit_statements(world, more, other)
    assert len(few) == len(many) == 2, many
    assert not any("stakeholders_surveyservice" in sql for sql in many)


def test_the_one_statement_writes_the_service_answers_the_orms_way_writes(world, catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("The one statement is PostgreSQL's.")
    other = StakeholderFactory(pmo=world.pmo, segment=world.segment, name="Olga", email="olga@corp.example")
    survey = launched(world, [catalogue["desk"], catalogue["reporting"]], [world.stakeholder, other])
    rows = asked(survey)
    replies = {
        rows["Help desk"].pk: surveys.ServiceReply(USES, 3, None),
        rows["Portfolio reporting"].pk: surveys.ServiceReply(KNOWS, 4, 4),  # a non-user's: dropped
    }
    values = {q.pk: 4 for q in survey.questions.filter(kind__in=["performance", "importance"])}
    one, orm = (SurveyInvitation.objects.get(survey=survey, stakeholder=s) for s in (world.stakeholder, other))
    surveys.submit(one, values=values, nps=9, comment="", services=replies)
    surveys._store(
        Response(
            invitation=orm, survey=survey, segment_id=orm.segment_id, nps=9, comment="", submitted_at=timezone.now()
        ),
        values,
        {pk: r if r.usage == USES else surveys.ServiceReply(r.usage) for pk, r in replies.items()},
        timezone.now(),
    )

    def stored(invitation):
        return sorted(
            ServiceAnswer.objects.filter(response__invitation=invitation).values_list(
                "survey_service", "usage", "satisfaction", "importance"
            )
        )

    assert (
        stored(one)
        == stored(orm)
        == sorted([(rows["Help desk"].pk, USES, 3, None), (rows["Portfolio reporting"].pk, KNOWS, None, None)])
    )


# The export ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_the_export_has_each_services_answers(world, catalogue, anonymous):
    people = [world.stakeholder] + [
        StakeholderFactory(pmo=world.pmo, segment=world.segment, name=f"P{i}", email=f"p{i}@corp.example")
        for i in range(3)
    ]
    survey = launched(world, [catalogue["desk"]], people, anonymous=anonymous)
    (row,) = survey.survey_services.all()
    answers = [(USES, 5, 4), (USES, "dk", 2), (KNOWS, None, None), (UNAWARE, None, None)]
    for person, given in zip(people, answers, strict=True):
        data = {**answer_data(survey), **service_data({row: given})}
        assert Client().post(link(invitation_of(survey, person)), data).status_code == 200
    headers, rows = response_table(world.pmo, survey)
    rows = list(rows)
    columns = ["Help desk: use", "Help desk: satisfaction", "Help desk: importance"]
    assert headers[-5:] == [*columns, "nps", "comment"]
    assert sorted((tuple(r[-5:-2]) for r in rows), key=repr) == sorted(
        [
            ("I use it", 5, 4),
            ("I use it", "don't know", 2),
            ("I know it but don't use it", "", ""),
            ("I didn't know it", "", ""),
        ],
        key=repr,
    )
    assert ("stakeholder" in headers) is not anonymous


def test_an_anonymous_exports_hidden_segment_does_not_show_the_services_asked_of_some_segments(world, catalogue):
    """Dan, alone in IT (under the minimum group size), was asked about coaching (IT's only):
    his row leaves his segment blank, and so his answer about coaching, which would name it."""
    finance = [world.stakeholder] + [
        StakeholderFactory(pmo=world.pmo, segment=world.segment, name=f"P{i}", email=f"p{i}@corp.example")
        for i in range(2)
    ]
    it = catalogue["coaching"].segments.get()
    dan = StakeholderFactory(pmo=world.pmo, segment=it, name="Dan", email="dan@corp.example")
    survey = launched(world, [catalogue["reporting"], catalogue["coaching"]], [*finance, dan], anonymous=True)
    rows = asked(survey)
    for person in finance:
        data = {**answer_data(survey), **service_data({rows["Portfolio reporting"]: (KNOWS, None, None)})}
        assert Client().post(link(invitation_of(survey, person)), data).status_code == 200
    data = {**answer_data(survey), **service_data({rows["Portfolio reporting"]: (UNAWARE, None, None)})}
    data.update(service_data({rows["Coaching"]: (USES, 2, 3)}))
    assert Client().post(link(invitation_of(survey, dan)), data).status_code == 200

    headers, table = response_table(world.pmo, survey)
    segment, reporting, coaching = (headers.index(h) for h in ("segment", "Portfolio reporting: use", "Coaching: use"))
    cells = sorted((r[segment], r[reporting], *r[coaching : coaching + 3]) for r in table)
    assert cells == [
        ("", "I didn't know it", "", "", ""),
        *[("Finance", "I know it but don't use it", "", "", "")] * 3,
    ]
