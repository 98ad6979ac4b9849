"""Walks every URL of the project and proves the isolation rules (design.md, Tenancy).

URLs come from the URL resolver, so a new page is covered as soon as it is routed:
if it takes a URL argument this file does not know, the walk fails and says so.
"""

from datetime import date
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from agenda.models import Action, AgendaReport, Incident, ReportDelivery
from pmo5p.models import ApiToken, MemberInvitation, Membership, OutgoingEmail
from pmo5p.services import invite_member
from stakeholders import imports
from stakeholders.models import ImportJob, Interaction, Invitation, Survey
from stakeholders.surveys import create_survey

# Pages anybody may open without signing in.
PUBLIC = {
    "login",
    "logout",
    "signup",
    "confirm_email_sent",
    "confirm_email_resend",
    "confirm_email",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "accept_invitation",
    "survey_answer",
    "survey_save",
}


def _walk(patterns, prefix_kwargs=frozenset(), namespace=None):
    for entry in patterns:
        kwargs = prefix_kwargs | set(entry.pattern.converters)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, frozenset(kwargs), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, frozenset(kwargs)


ALL_ROUTES = sorted({(name, kwargs) for name, kwargs in _walk(get_resolver().url_patterns)})
# The admin has its own staff check; the JSON API answers 401/404 instead of redirecting,
# and tests/test_api_tenancy.py walks its routes the same way.
ROUTES = [(name, kwargs) for name, kwargs in ALL_ROUTES if not name.startswith(("admin:", "api-"))]
API_ROUTES = [(name, kwargs) for name, kwargs in ALL_ROUTES if name.startswith("api-")]
PMO_ROUTES = [(name, kwargs) for name, kwargs in ROUTES if "slug" in kwargs]
PRIVATE_ROUTES = [(name, kwargs) for name, kwargs in ROUTES if name not in PUBLIC]


def _ids(routes):
    return [name for name, _ in routes]


def _agenda_rows(pmo, stakeholder, user):
    """An action, an incident, and a report with one delivery."""
    Action.objects.create(pmo=pmo, title="Walk", element="product", due_on=date(2099, 1, 1), created_by=user)
    Incident.objects.create(pmo=pmo, title="Walk", problem="performance", occurred_on=date(2020, 1, 1))
    report = AgendaReport.objects.create(
        pmo=pmo,
        frequency="monthly",
        period_start=date(2020, 1, 1),
        period_end=date(2020, 2, 1),
        status="ready",
        pdf=b"%PDF",
    )
    ReportDelivery.objects.create(report=report, user=user, email=user.email)


def _import_job(pmo, user):
    """An import checked and waiting for its confirm step, as an upload leaves it."""
    parsed = imports.read_rows("walk.csv", b"name,email\nWalk Person,walk@corp.example\n")
    plan = imports.analyse(pmo, parsed.rows, parsed.columns, create_segments=False)
    ImportJob.objects.create(
        pmo=pmo, created_by=user, file_name="walk.csv", columns=parsed.columns, rows=parsed.rows, preview=plan.as_json()
    )


def _interaction(pmo, stakeholder, user):
    interaction = Interaction.objects.create(pmo=pmo, kind="meeting", summary="Walk", author=user)
    interaction.stakeholders.add(stakeholder)
    return interaction


def _draft_survey_with_invitation(pmo, stakeholder, user):
    """A draft survey (so that every draft-only page opens) holding one invitation row."""
    survey = create_survey(pmo=pmo, created_by=user, title="Walk", closes_on=date(2099, 1, 1))
    survey.target_stakeholders.add(stakeholder)
    Invitation.new(survey, stakeholder).save()
    return survey


@pytest.fixture
def invitation(world):
    _draft_survey_with_invitation(world.pmo, world.stakeholder, world.lead)
    _interaction(world.pmo, world.stakeholder, world.lead)
    _agenda_rows(world.pmo, world.stakeholder, world.lead)
    _import_job(world.pmo, world.lead)
    return invite_member(pmo=world.pmo, email="new@alpha.example", role="member", invited_by=world.lead)


@pytest.fixture
def other_invitation(world):
    _draft_survey_with_invitation(world.other_pmo, world.other_stakeholder, world.outsider)
    _interaction(world.other_pmo, world.other_stakeholder, world.outsider)
    _agenda_rows(world.other_pmo, world.other_stakeholder, world.outsider)
    _import_job(world.other_pmo, world.outsider)
    return invite_member(pmo=world.other_pmo, email="new@beta.example", role="member", invited_by=world.outsider)


def own_values(world, invitation):
    return {
        "slug": world.pmo.slug,
        "stakeholder_id": world.stakeholder.pk,
        "segment_id": world.segment.pk,
        "membership_id": world.membership(world.member).pk,
        "invitation_id": invitation.pk,
        "survey_id": Survey.objects.get(pmo=world.pmo).pk,
        "survey_invitation_id": Invitation.objects.get(survey__pmo=world.pmo).pk,
        "interaction_id": Interaction.objects.get(pmo=world.pmo).pk,
        **_agenda_ids(world.pmo),
        "token_id": ApiToken.issue(user=world.lead, name="walk")[0].pk,
        "job_id": ImportJob.objects.get(pmo=world.pmo).pk,
        "email_id": OutgoingEmail.objects.filter(pmo=world.pmo).first().pk,
    }


def other_values(world, other_invitation):
    """The ids of the other PMO's objects, to be tried under our own slug."""
    return {
        "slug": world.pmo.slug,
        "stakeholder_id": world.other_stakeholder.pk,
        "segment_id": world.other_segment.pk,
        "membership_id": Membership.objects.get(pmo=world.other_pmo, user=world.outsider).pk,
        "invitation_id": other_invitation.pk,
        "survey_id": Survey.objects.get(pmo=world.other_pmo).pk,
        "survey_invitation_id": Invitation.objects.get(survey__pmo=world.other_pmo).pk,
        "interaction_id": Interaction.objects.get(pmo=world.other_pmo).pk,
        **_agenda_ids(world.other_pmo),
        "token_id": ApiToken.issue(user=world.outsider, name="walk")[0].pk,
        "job_id": ImportJob.objects.get(pmo=world.other_pmo).pk,
        "email_id": OutgoingEmail.objects.filter(pmo=world.other_pmo).first().pk,
    }


def _agenda_ids(pmo):
    report = AgendaReport.objects.get(pmo=pmo)
    return {
        "action_id": Action.objects.get(pmo=pmo).pk,
        "incident_id": Incident.objects.get(pmo=pmo).pk,
        "report_id": report.pk,
        "delivery_id": report.deliveries.get().pk,
    }


def url_for(name, kwargs, values):
    missing = kwargs - values.keys()
    assert not missing, f"The tenancy walk has no value for {sorted(missing)} of URL '{name}': add one to this file."
    return reverse(name, kwargs={key: values[key] for key in kwargs})


def test_the_walk_sees_the_pages_of_every_app():
    names = _ids(ROUTES)
    for expected in (
        "pmo_home",
        "stakeholder_list",
        "grid",
        "members",
        "segment_list",
        "five_p_model",
        "survey_results",
    ):
        assert expected in names


@pytest.mark.parametrize(("name", "kwargs"), PRIVATE_ROUTES, ids=_ids(PRIVATE_ROUTES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitor_is_sent_to_sign_in(client, world, invitation, name, kwargs, method):
    url = url_for(name, kwargs, own_values(world, invitation))
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(url)}"


@pytest.mark.parametrize(("name", "kwargs"), PMO_ROUTES, ids=_ids(PMO_ROUTES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_member_of_another_pmo_gets_404(client, world, invitation, name, kwargs, method):
    client.force_login(world.outsider)
    before = _snapshot()
    response = getattr(client, method)(url_for(name, kwargs, own_values(world, invitation)))
    assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [r for r in PMO_ROUTES if r[1] != {"slug"}],
    ids=_ids([r for r in PMO_ROUTES if r[1] != {"slug"}]),
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_pmos_object_ids_under_own_slug_get_404(
    client, world, invitation, other_invitation, name, kwargs, method
):
    client.force_login(world.lead)
    before = _snapshot()
    response = getattr(client, method)(url_for(name, kwargs, other_values(world, other_invitation)))
    post_only = client.get(url_for(name, kwargs, own_values(world, invitation))).status_code == 405
    if (method == "get" and not post_only) or (method == "post" and post_only):
        assert response.status_code == 404
    else:
        # A method the URL never takes is refused before any lookup, which reveals nothing.
        assert response.status_code in (404, 405)
    assert _snapshot() == before


# A personal choice open to every role, the viewer's own row only (tested below).
SELF_SERVICE = {"report_subscription"}
VIEWER_ROUTES = [r for r in PMO_ROUTES if r[0] not in SELF_SERVICE]


@pytest.mark.parametrize(("name", "kwargs"), VIEWER_ROUTES, ids=_ids(VIEWER_ROUTES))
def test_viewer_reads_but_every_post_is_refused(client, world, invitation, name, kwargs):
    client.force_login(world.viewer)
    url = url_for(name, kwargs, own_values(world, invitation))
    assert client.get(url).status_code in (200, 403, 405)
    before = _snapshot()
    response = client.post(url, {"name": "Changed", "role": "lead", "active": "false", "email": "x@example.com"})
    assert response.status_code in (403, 405)
    assert _snapshot() == before


@pytest.mark.parametrize(("name", "kwargs"), PMO_ROUTES, ids=_ids(PMO_ROUTES))
def test_lead_opens_every_page(client, world, invitation, name, kwargs):
    client.force_login(world.lead)
    response = client.get(url_for(name, kwargs, own_values(world, invitation)))
    # 405: the URL only takes POST (a button on another page).
    assert response.status_code in (200, 405)


def _snapshot():
    """Everything a request could change, as comparable values."""
    from agenda.models import MaturityRecord, ReportSchedule, SelfAssessment
    from pmo5p.models import Pmo
    from stakeholders.models import Answer, Question, Response, Segment, Stakeholder

    return (
        list(Interaction.objects.values().order_by("id")),
        list(ImportJob.objects.values("id", "confirmed_at", "preview").order_by("id")),
        list(Action.objects.values().order_by("id")),
        list(Incident.objects.values().order_by("id")),
        list(AgendaReport.objects.values("id", "status", "figures").order_by("id")),
        list(ReportDelivery.objects.values().order_by("id")),
        list(ReportSchedule.objects.values().order_by("id")),
        list(MaturityRecord.objects.values().order_by("id")),
        list(SelfAssessment.objects.values().order_by("id")),
        list(Survey.objects.values().order_by("id")),
        list(Question.objects.values().order_by("id")),
        list(Invitation.objects.values().order_by("id")),
        list(Response.objects.values_list("id").order_by("id")),
        list(Answer.objects.values_list("id").order_by("id")),
        list(Pmo.objects.values_list("id", "name", "description", "time_zone").order_by("id")),
        list(Membership.objects.values_list("id", "role", "receives_reports").order_by("id")),
        list(MemberInvitation.objects.values_list("id", "email", "revoked_at", "accepted_at").order_by("id")),
        list(Segment.objects.values_list("id", "name", "description").order_by("id")),
        list(Stakeholder.objects.values().order_by("id")),
        list(OutgoingEmail.objects.values("id", "status", "next_attempt_at").order_by("id")),
    )


def test_a_viewer_may_only_unsubscribe_themselves(client, world):
    Membership.objects.filter(pmo=world.pmo).update(receives_reports=True)
    client.force_login(world.viewer)
    response = client.post(reverse("report_subscription", kwargs={"slug": world.pmo.slug}), {"subscribe": "false"})
    assert response.status_code == 302
    flags = dict(Membership.objects.filter(pmo=world.pmo).values_list("user__email", "receives_reports"))
    assert flags == {"lead@alpha.example": True, "member@alpha.example": True, "viewer@alpha.example": False}
