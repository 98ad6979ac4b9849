"""Walks every URL of the project and proves the isolation and role rules
(docs/architecture.md, "The request path").

ROUTE_ROLES below says, for every route, which role each method needs; the walk opens
every page as each kind of visitor, with GET and with POST (tests/test_api_tenancy.py
does the same for the API with each of its methods), and checks that exactly the declared
roles get through and that a refused request changes nothing. URLs come from the URL
resolver, so a new page is covered as soon as it is routed: a route missing from the
table, or a URL argument this file has no value for, fails the walk and says so.
"""

from dataclasses import astuple, dataclass
from datetime import date
from urllib.parse import quote

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from agenda import exports
from agenda.models import Action, AgendaReport, CalendarFeed, Incident, ReportDelivery
from pmo5p import accounts
from pmo5p.models import ApiToken, MemberInvitation, Membership, OutgoingEmail, Role, User
from pmo5p.services import invite_member
from stakeholders import catalogue, catalogue_import, imports
from stakeholders.models import (
    FollowUpCase,
    ImportJob,
    Interaction,
    RecoveryPulse,
    Service,
    ServiceEvent,
    Survey,
    SurveyInvitation,
    SurveyUpdate,
    Touchpoint,
    TouchpointOccurrence,
)
from stakeholders.spreadsheets import FORMATS
from stakeholders.surveys import lifecycle as surveys
from stakeholders.surveys import updates
from tests.factories import SurveyFactory, SurveyInvitationFactory
from tests.pulse_helpers import group_case

# Who may use a route, lowest first: anybody, anybody signed in, then the roles in the PMO.
ANYONE, USER = "anyone", "signed-in user"
VIEWER, MEMBER, LEAD = Role.VIEWER, Role.MEMBER, Role.LEAD
LADDER = [ANYONE, USER, VIEWER, MEMBER, LEAD]
# A member invitation's link: whoever holds it while signed out, or the invited address's own
# account; anybody else signed in is refused (none of the walk's users is the invitee).
INVITEE = "the invitee"

# The visitors of the walk and the rung each stands on. The outsider leads another PMO: a
# signed-in user with no role in ours, to whom our PMO's routes answer 404, never 403.
VISITORS = {"anonymous": ANYONE, "outsider": USER, "viewer": VIEWER, "member": MEMBER, "lead": LEAD}


@dataclass(frozen=True)
class Need:
    """The rung each method needs; None: the route does not take that method."""

    get: str | None = None
    post: str | None = None
    put: str | None = None
    patch: str | None = None
    delete: str | None = None

    def of(self, method: str) -> str | None:
        return getattr(self, method)

    @property
    def methods(self) -> set[str]:
        return {method for method in ("get", "post", "put", "patch", "delete") if self.of(method)}

    @property
    def public(self) -> bool:
        return all(level in (ANYONE, INVITEE) for level in astuple(self) if level)


def expected(need: Need, method: str, visitor: str, *, pmo_route: bool, opens: str | None):
    """What the table says `visitor` gets: "allowed", "sign in", or a refusal's status.

    `opens`: the role a PMO route checks before the method (pmo_view's `role`; VIEWER for
    the API's PMO-scoped views), None where the method is checked first. Where the role
    comes first, a method the route never takes tells an outsider no more than a 404, and
    one below the role no more than a 403; anything but GET needs at least a member there.
    """
    level = need.of(method)
    if visitor == "anonymous" and not need.public:
        return "sign in"
    if visitor == "outsider" and pmo_route:
        return 404 if level or opens else 405
    rank = LADDER.index(VISITORS[visitor])
    if level is None:
        if opens is None:
            return 405
        guard = opens if method == "get" else max(opens, MEMBER, key=LADDER.index)
        return 405 if rank >= LADDER.index(guard) else 403
    if level == INVITEE:
        return "allowed" if visitor == "anonymous" else 403
    return "allowed" if rank >= LADDER.index(level) else 403


ANYONE_GET = Need(get=ANYONE)
ANYONE_FORM = Need(get=ANYONE, post=ANYONE)
USER_FORM = Need(get=USER, post=USER)
READ = Need(get=VIEWER)  # a page every role in the PMO opens; it takes no POST
EDIT = Need(get=MEMBER, post=MEMBER)  # a form of a member's, and its confirm pages
BUTTON = Need(post=MEMBER)  # a button on another page: POST only
LEAD_FORM = Need(get=LEAD, post=LEAD)

ROUTE_ROLES = {
    # Signing in and out, links from e-mails, the survey's answer pages.
    "login": ANYONE_FORM,
    "logout": Need(post=ANYONE),
    "signup": ANYONE_FORM,
    "confirm_email_sent": ANYONE_GET,
    "confirm_email_resend": ANYONE_FORM,
    "confirm_email": ANYONE_FORM,
    "password_reset": ANYONE_FORM,
    "password_reset_done": ANYONE_GET,
    "password_reset_confirm": ANYONE_FORM,
    "password_reset_complete": ANYONE_GET,
    "accept_invitation": Need(get=INVITEE, post=INVITEE),
    "survey_answer": ANYONE_FORM,
    "survey_save": Need(post=ANYONE),
    # A follow-up case's recovery pulse: its link is the key, as a survey link's is.
    "pulse_answer": ANYONE_FORM,
    # A stakeholder's unsubscribe from "you said, we did": the signed link is the key.
    "survey_updates_unsubscribe": ANYONE_FORM,
    # One's own account and PMOs.
    "home": Need(get=USER),
    "pmo_list": Need(get=USER),
    "pmo_create": USER_FORM,
    "profile": USER_FORM,
    "password_change": USER_FORM,
    "password_change_done": Need(get=USER),
    "api_token_create": Need(post=USER),
    "api_token_revoke": Need(post=USER),  # one's own token: the walk revokes the visitor's
    # The personal calendar feed: its secret address is the key, as a survey link's is; the
    # buttons on the profile make and revoke the visitor's own.
    "calendar_feed": ANYONE_GET,
    "calendar_feed_create": Need(post=USER),
    "calendar_feed_revoke": Need(post=USER),
    # The PMO: settings and members.
    "pmo_settings": LEAD_FORM,
    "engagement_settings": LEAD_FORM,
    "five_p_model": READ,
    "members": READ,
    "member_invite": LEAD_FORM,
    "member_role": Need(post=LEAD),
    "member_remove": LEAD_FORM,
    "invitation_revoke": Need(post=LEAD),
    "member_invitation_resend": Need(post=LEAD),
    # Stakeholders, segments, interactions, imports.
    "stakeholder_list": READ,
    "stakeholder_detail": READ,
    "grid": READ,
    "stakeholder_create": EDIT,
    "stakeholder_edit": EDIT,
    "stakeholder_set_active": BUTTON,
    "stakeholder_delete": EDIT,
    "stakeholder_import": EDIT,
    "stakeholder_import_preview": EDIT,
    "service_import": EDIT,
    "service_import_preview": EDIT,
    "segment_list": READ,
    "segment_create": EDIT,
    "segment_edit": EDIT,
    "segment_delete": EDIT,
    "interaction_list": READ,
    "interaction_create": EDIT,
    "interaction_edit": EDIT,
    "interaction_delete": EDIT,
    # The communication plan: every role reads it; members plan and record.
    "touchpoint_list": READ,
    "touchpoint_detail": READ,
    "touchpoint_create": EDIT,
    "touchpoint_edit": EDIT,
    "touchpoint_delete": EDIT,
    "occurrence_done": EDIT,
    "occurrence_cancel": EDIT,
    # Surveys.
    "survey_list": READ,
    "survey_detail": READ,
    "survey_preview": READ,
    "survey_results": READ,
    "survey_export": READ,
    "survey_create": EDIT,
    "survey_edit": EDIT,
    "survey_questions": EDIT,
    "survey_audience": EDIT,
    "survey_launch": EDIT,
    "survey_delete": EDIT,
    "survey_close": BUTTON,
    "invitation_resend": BUTTON,
    "detractor_alert_resend": Need(post=LEAD),
    # Follow-up cases: the recovery pulse's button on a resolved case.
    "case_pulse_send": BUTTON,
    "survey_update": LEAD_FORM,
    "survey_update_send": Need(post=LEAD),
    # Follow-up cases (issue 14): every role reads them; members change them.
    "case_list": READ,
    "case_detail": READ,
    "case_contact": EDIT,
    "case_close": EDIT,
    "case_assign": BUTTON,
    "case_root": BUTTON,
    "case_note": BUTTON,
    "case_resolve": BUTTON,
    "case_reopen": BUTTON,
    # Dashboard, My week, assessments, agenda.
    "pmo_home": READ,
    "calendar": READ,
    "my_week": READ,
    # Everyone chooses their own weekly digest: the visitor's own membership only (tests/test_my_week.py).
    "my_week_digest": Need(post=VIEWER),
    "assessments": READ,
    "self_assessment_new": EDIT,
    "maturity_new": EDIT,
    "action_list": READ,
    "action_create": EDIT,
    "action_edit": EDIT,
    "action_set_status": BUTTON,
    "action_delete": EDIT,
    "suggestion_list": READ,
    # The service catalogue (issue 12).
    "service_heat_map": READ,
    "suggestion_adopt": BUTTON,
    "incident_list": READ,
    "incident_create": EDIT,
    "incident_edit": EDIT,
    "incident_delete": EDIT,
    # The service catalogue: every role reads it; members add, change and word the levels.
    "service_list": READ,
    "service_detail": READ,
    "service_create": EDIT,
    "service_edit": EDIT,
    "service_delete": EDIT,
    "offering_levels": EDIT,
    # Reports: every role reads them and chooses whether to receive them; the lead schedules.
    "report_list": READ,
    "report_detail": READ,
    "report_frame": READ,
    "report_pdf": READ,
    "report_schedule": Need(get=VIEWER, post=LEAD),
    "report_subscription": Need(post=VIEWER),  # the visitor's own row only (tested below)
    "report_send_now": BUTTON,
    "delivery_resend": BUTTON,
    # Exports: every dataset to every role; the whole PMO in one archive to the lead.
    "exports": READ,
    "export_full": Need(get=LEAD),
    **{exports.url_name(dataset, fmt): READ for dataset in exports.DATASETS for fmt in FORMATS},
    # The JSON API (tests/test_api_tenancy.py walks it): its description is public; the
    # rest reads to every role and writes to members and leads, as the pages do.
    "api-schema": ANYONE_GET,
    "api-docs": ANYONE_GET,
    "api-root": Need(get=USER),
    "api-pmo-list": Need(get=USER),
    "api-pmo-detail": READ,
    **{
        route: need
        for resource in ("segment", "stakeholder", "interaction", "self-assessment", "maturity", "action", "service")
        for route, need in (
            (f"api-{resource}-list", Need(get=VIEWER, post=MEMBER)),
            (f"api-{resource}-detail", Need(get=VIEWER, put=MEMBER, patch=MEMBER, delete=MEMBER)),
        )
    },
    "api-stakeholder-upsert": BUTTON,
    "api-touchpoint-list": Need(get=VIEWER, post=MEMBER),
    "api-touchpoint-detail": Need(get=VIEWER, put=MEMBER, patch=MEMBER, delete=MEMBER),
    "api-touchpoint-occurrences": READ,
    "api-survey-list": READ,
    "api-survey-detail": READ,
    "api-survey-results": READ,
    "api-report-list": READ,
    "api-report-detail": READ,
    "api-report-pdf": READ,
    "api-service-figures": READ,
    # Follow-up cases: read only, to every role; they change on their pages.
    "api-follow-up-case-list": READ,
    "api-follow-up-case-detail": READ,
}
PUBLIC = {name for name, need in ROUTE_ROLES.items() if need.public}


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


def _ids(routes):
    return [name for name, _ in routes]


def _agenda_rows(pmo, stakeholder, user):
    """A service, an action for it, an incident, and a report with one delivery."""
    service = catalogue.create_service(pmo, user, {"name": "Walk service"})
    Action.objects.create(
        pmo=pmo, title="Walk", element="product", due_on=date(2099, 1, 1), created_by=user, service=service
    )
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
    """An import of each kind checked and waiting for its confirm step, as an upload leaves it."""
    for importer, content in (
        (imports.STAKEHOLDERS, b"name,email\nWalk Person,walk@corp.example\n"),
        (catalogue_import.SERVICES, b"name,description\nWalk imported service,Walk\n"),
    ):
        parsed = imports.read_rows("walk.csv", content, importer)
        plan = importer.analyse(pmo, parsed.rows, parsed.columns, create_segments=False)
        ImportJob.objects.create(
            pmo=pmo,
            kind=importer.kind,
            created_by=user,
            file_name="walk.csv",
            columns=parsed.columns,
            rows=parsed.rows,
            preview=plan.as_json(),
        )


def _interaction(pmo, stakeholder, user):
    interaction = Interaction.objects.create(pmo=pmo, kind="meeting", summary="Walk", author=user)
    interaction.stakeholders.add(stakeholder)
    return interaction


def _touchpoint(pmo, stakeholder, user):
    """A one-off touchpoint with its one planned date, which done and cancel open."""
    touchpoint = Touchpoint.objects.create(
        pmo=pmo, purpose="Walk", element="people", starts_on=date(2020, 1, 1), created_by=user
    )
    touchpoint.stakeholders.add(stakeholder)
    TouchpointOccurrence.objects.create(touchpoint=touchpoint, pmo=pmo, on=date(2020, 1, 1))


def _touchpoint_ids(pmo):
    return {
        "touchpoint_id": Touchpoint.objects.get(pmo=pmo).pk,
        "occurrence_id": TouchpointOccurrence.objects.get(pmo=pmo).pk,
    }


def _draft_survey_with_invitation(pmo, stakeholder, user):
    """A draft survey (so that every draft-only page opens) holding one invitation row, of
    somebody outside its audience: launching it invites the audience, as the walk's POST does."""
    survey = SurveyFactory(pmo=pmo, created_by=user, title="Walk")
    survey.target_stakeholders.add(stakeholder)
    SurveyInvitationFactory(survey=survey, stakeholder__segment=stakeholder.segment)
    # A follow-up case, resolved, for the case pages (an anonymous group's: it needs no response).
    group_case(pmo, survey)
    # A detractor alert of the survey that failed: the one e-mail "send again" takes there.
    OutgoingEmail.objects.create(
        pmo=pmo,
        kind=OutgoingEmail.Kind.DETRACTOR_ALERT_BATCH,
        to=[user.email],
        subject="Walk",
        text="Walk",
        status=OutgoingEmail.Status.FAILED,
        attempts=1,
        source=survey,
    )
    return survey


def _closed_survey(pmo, user):
    """A closed survey with nobody invited: its "you said, we did" page shows the compose form."""
    return SurveyFactory(pmo=pmo, created_by=user, title="Walk, closed", closed=True)


@pytest.fixture
def invitation(world):
    _draft_survey_with_invitation(world.pmo, world.stakeholder, world.lead)
    _closed_survey(world.pmo, world.lead)
    _interaction(world.pmo, world.stakeholder, world.lead)
    _touchpoint(world.pmo, world.stakeholder, world.lead)
    _agenda_rows(world.pmo, world.stakeholder, world.lead)
    _import_job(world.pmo, world.lead)
    return invite_member(pmo=world.pmo, email="new@alpha.example", role="member", invited_by=world.lead)


@pytest.fixture
def other_invitation(world):
    _draft_survey_with_invitation(world.other_pmo, world.other_stakeholder, world.outsider)
    _interaction(world.other_pmo, world.other_stakeholder, world.outsider)
    _touchpoint(world.other_pmo, world.other_stakeholder, world.outsider)
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
        "survey_id": Survey.objects.get(pmo=world.pmo, title="Walk").pk,
        ("survey_update", "survey_id"): Survey.objects.get(pmo=world.pmo, title="Walk, closed").pk,
        "survey_invitation_id": SurveyInvitation.objects.get(survey__pmo=world.pmo).pk,
        "interaction_id": Interaction.objects.get(pmo=world.pmo).pk,
        **_agenda_ids(world.pmo),
        **_touchpoint_ids(world.pmo),
        "case_id": FollowUpCase.objects.get(pmo=world.pmo).pk,
        "token_id": ApiToken.issue(user=world.lead, name="walk")[0].pk,
        "job_id": ImportJob.objects.get(pmo=world.pmo, kind="stakeholders").pk,
        ("service_import_preview", "job_id"): ImportJob.objects.get(pmo=world.pmo, kind="services").pk,
        "email_id": OutgoingEmail.objects.get(pmo=world.pmo, kind=OutgoingEmail.Kind.DETRACTOR_ALERT_BATCH).pk,
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
        "survey_invitation_id": SurveyInvitation.objects.get(survey__pmo=world.other_pmo).pk,
        "interaction_id": Interaction.objects.get(pmo=world.other_pmo).pk,
        **_agenda_ids(world.other_pmo),
        **_touchpoint_ids(world.other_pmo),
        "case_id": FollowUpCase.objects.get(pmo=world.other_pmo).pk,
        "token_id": ApiToken.issue(user=world.outsider, name="walk")[0].pk,
        "job_id": ImportJob.objects.get(pmo=world.other_pmo, kind="stakeholders").pk,
        ("service_import_preview", "job_id"): ImportJob.objects.get(pmo=world.other_pmo, kind="services").pk,
        "email_id": OutgoingEmail.objects.get(pmo=world.other_pmo, kind=OutgoingEmail.Kind.DETRACTOR_ALERT_BATCH).pk,
    }


def _agenda_ids(pmo):
    report = AgendaReport.objects.get(pmo=pmo)
    return {
        "action_id": Action.objects.get(pmo=pmo).pk,
        "service_id": Service.objects.get(pmo=pmo).pk,
        "incident_id": Incident.objects.get(pmo=pmo).pk,
        "report_id": report.pk,
        "delivery_id": report.deliveries.get().pk,
    }


def url_for(name, kwargs, values):
    """The route's URL with `values`, by argument name; (route name, argument) gives one route its own."""
    missing = kwargs - values.keys()
    assert not missing, f"The tenancy walk has no value for {sorted(missing)} of URL '{name}': add one to this file."
    return reverse(name, kwargs={key: values.get((name, key), values[key]) for key in kwargs})


def public_values(world) -> dict[str, dict]:
    """Valid links for the public pages that take one, per URL name."""
    invitation = MemberInvitation(pmo=world.pmo, email="invitee@alpha.example", role=Role.MEMBER)
    member_token = invitation.issue_token()
    invitation.invited_by = world.lead
    invitation.save()
    # A launched survey of the other PMO: its link opens the answer form.
    survey = surveys.create_survey(
        pmo=world.other_pmo, created_by=world.outsider, title="Walk survey", closes_on=date(2099, 1, 1)
    )
    survey.target_stakeholders.add(world.other_stakeholder)
    (survey_invitation,) = surveys.launch(survey)
    # A recovery pulse's link, on a case of that survey (the walk's needs no stakeholder).
    pulse = RecoveryPulse.new(group_case(world.other_pmo, survey, key="-:people"), "walk@corp.example")
    pulse.save()
    # Somebody who signed up and has not confirmed the address yet.
    newcomer = User.objects.create_user(email="newcomer@example.com", password="walk-Passw0rd!", email_verified=False)
    user = world.member
    feed = CalendarFeed.new(user)
    feed.save()
    return {
        "accept_invitation": {"token": member_token},
        "calendar_feed": {"token": feed.token},
        "survey_answer": {"token": survey_invitation.token},
        "survey_save": {"token": survey_invitation.token},
        "pulse_answer": {"token": pulse.token},
        "survey_updates_unsubscribe": {"token": updates.unsubscribe_token(world.other_stakeholder)},
        "confirm_email": {
            "uidb64": urlsafe_base64_encode(force_bytes(newcomer.pk)),
            "token": accounts.confirmation_tokens.make_token(newcomer),
        },
        "password_reset_confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    }


def test_the_walk_sees_the_pages_of_every_app():
    names = _ids(ROUTES)
    for expected_name in (
        "pmo_home",
        "stakeholder_list",
        "grid",
        "members",
        "segment_list",
        "five_p_model",
        "survey_results",
        "report_frame",
    ):
        assert expected_name in names


def test_the_table_lists_every_route_and_only_routes():
    routed = set(_ids(ROUTES + API_ROUTES))
    assert not routed - ROUTE_ROLES.keys(), "Routes with no line in ROUTE_ROLES: say which role each method needs."
    assert not ROUTE_ROLES.keys() - routed, "ROUTE_ROLES lists routes that are not routed: remove them."


def test_the_rules_of_the_walk():
    """expected() on the cases that name each rule, so that a change to it is a decision."""
    page = {"pmo_route": True, "opens": VIEWER}
    assert expected(READ, "get", "anonymous", **page) == "sign in"
    assert expected(READ, "post", "outsider", **page) == 404
    assert [expected(READ, "post", visitor, **page) for visitor in ("viewer", "member")] == [403, 405]
    assert [expected(EDIT, "post", visitor, **page) for visitor in ("viewer", "member", "lead")] == [
        403,
        "allowed",
        "allowed",
    ]
    assert expected(Need(get=LEAD), "post", "member", pmo_route=True, opens=LEAD) == 403
    assert [expected(BUTTON, "get", visitor, pmo_route=True, opens=MEMBER) for visitor in ("viewer", "member")] == [
        403,
        405,
    ]
    assert expected(Need(post=VIEWER), "get", "viewer", pmo_route=True, opens=VIEWER) == 405
    unscoped = {"pmo_route": True, "opens": None}  # the API's PMO resource itself
    assert [expected(READ, "put", visitor, **unscoped) for visitor in ("outsider", "viewer")] == [405, 405]
    public = {"pmo_route": False, "opens": None}
    assert expected(Need(post=ANYONE), "get", "anonymous", **public) == 405
    assert expected(Need(get=USER), "post", "viewer", **public) == 405
    assert expected(Need(get=INVITEE), "get", "anonymous", **public) == "allowed"
    assert expected(Need(get=INVITEE), "get", "lead", **public) == 403


def visitor_of(world, visitor) -> User | None:
    return None if visitor == "anonymous" else getattr(world, visitor)


# A body that would change something if a check were missing; the walk sends it with every POST.
POST_BODY = {"name": "Changed", "role": "lead", "active": "false", "email": "x@example.com", "subscribe": "false"}


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize(("name", "kwargs"), ROUTES, ids=_ids(ROUTES))
def test_each_visitor_gets_what_the_table_says(client, settings, world, invitation, name, kwargs, visitor):
    """One GET and one POST per route and visitor, checked against ROUTE_ROLES."""
    settings.SIGNUP_ENABLED = True
    need = ROUTE_ROLES[name]
    assert not need.methods - {"get", "post"}, "A page takes GET and POST only."
    user = visitor_of(world, visitor)
    if user is not None:
        client.force_login(user)
    token_owner = user or world.lead
    values = {
        **own_values(world, invitation),
        "token_id": ApiToken.issue(user=token_owner, name="walk")[0].pk,
        **(public_values(world).get(name, {}) if "token" in kwargs else {}),
    }
    url = url_for(name, kwargs, values)
    # Every page of a PMO is a pmo_view, which opens with the lowest role the page names.
    opens = min((need.of(method) for method in need.methods), key=LADDER.index) if "slug" in kwargs else None
    for method in ("get", "post"):
        want = expected(need, method, visitor, pmo_route="slug" in kwargs, opens=opens)
        before = _snapshot() if want != "allowed" else None
        response = client.get(url) if method == "get" else client.post(url, POST_BODY)
        seen = (method, response.status_code, response.get("Location"))
        if want == "allowed":
            # 400: the walk's POST body is not a valid answer to the survey, which says so.
            assert response.status_code in (200, 302, 400), seen
        elif want == "sign in":
            assert response.status_code == 302, seen
            assert response["Location"] == f"{reverse('login')}?next={quote(url)}", seen
        else:
            assert response.status_code == want, seen
        if before is not None:
            assert _snapshot() == before, f"A refused {method.upper()} changed something."


OBJECT_ROUTES = [(name, kwargs) for name, kwargs in PMO_ROUTES if kwargs != {"slug"}]


@pytest.mark.parametrize(("name", "kwargs"), OBJECT_ROUTES, ids=_ids(OBJECT_ROUTES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_pmos_object_ids_under_own_slug_get_404(
    client, world, invitation, other_invitation, name, kwargs, method
):
    client.force_login(world.lead)
    url = url_for(name, kwargs, other_values(world, other_invitation))
    before = _snapshot()
    response = getattr(client, method)(url)
    if ROUTE_ROLES[name].of(method):
        assert response.status_code == 404
    else:
        # A method the URL never takes is refused before any lookup, which reveals nothing.
        assert response.status_code in (404, 405)
    assert _snapshot() == before


def _snapshot():
    """Everything a request could change, as comparable values."""
    from agenda.models import MaturityRecord, ReportSchedule, SelfAssessment
    from pmo5p.models import Pmo
    from stakeholders.models import Answer, Question, Response, Segment, Stakeholder

    return (
        list(Interaction.objects.values().order_by("id")),
        list(Touchpoint.objects.values().order_by("id")),
        list(TouchpointOccurrence.objects.values().order_by("id")),
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
        list(SurveyInvitation.objects.values().order_by("id")),
        list(Response.objects.values_list("id").order_by("id")),
        list(Answer.objects.values_list("id").order_by("id")),
        list(Pmo.objects.values_list("id", "name", "description", "time_zone", "offering_levels").order_by("id")),
        list(Service.objects.values().order_by("id")),
        list(Service.segments.through.objects.values().order_by("id")),
        list(ServiceEvent.objects.values().order_by("id")),
        list(Membership.objects.values_list("id", "role", "receives_reports").order_by("id")),
        list(MemberInvitation.objects.values_list("id", "email", "revoked_at", "accepted_at").order_by("id")),
        list(Segment.objects.values_list("id", "name", "description").order_by("id")),
        list(Stakeholder.objects.values().order_by("id")),
        list(User.objects.values_list("id", "name", "email", "is_active", "email_verified").order_by("id")),
        list(ApiToken.objects.values_list("id", "revoked_at").order_by("id")),
        list(CalendarFeed.objects.values_list("id", "revoked_at").order_by("id")),
        list(OutgoingEmail.objects.values("id", "status", "next_attempt_at").order_by("id")),
        list(RecoveryPulse.objects.values().order_by("id")),
        list(SurveyUpdate.objects.values().order_by("id")),
    )


def test_a_viewer_may_only_unsubscribe_themselves(client, world):
    Membership.objects.filter(pmo=world.pmo).update(receives_reports=True)
    client.force_login(world.viewer)
    response = client.post(reverse("report_subscription", kwargs={"slug": world.pmo.slug}), {"subscribe": "false"})
    assert response.status_code == 302
    flags = dict(Membership.objects.filter(pmo=world.pmo).values_list("user__email", "receives_reports"))
    assert flags == {"lead@alpha.example": True, "member@alpha.example": True, "viewer@alpha.example": False}
