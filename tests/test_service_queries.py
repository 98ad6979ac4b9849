"""Every page and endpoint that lists or reads the service catalogue answers in the same
bounded number of queries for a catalogue of 10 services as for one of 1,000 services in a
PMO of 5,000 stakeholders (issue 12: "Query counts at 10 and at 1,000 services × 5,000
stakeholders"). The dashboard, the heat map and the report have theirs in
tests/test_dashboard_queries.py and tests/test_report_queries.py.

The two PMOs are built once, in one test (the large one takes a while): each page is opened
in both and measured, then every query of the small PMO's page is explained by PostgreSQL
next to the large PMO's rows: the tables that grow with a PMO's catalogue, surveys and
register are read through an index, never scanned whole (a scan would read every PMO's rows).
"""

import re
import time
from datetime import date

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agenda.catalogue.views import SERVICES_PER_PAGE
from agenda.plan.views import SUGGESTIONS_PER_PAGE
from pmo5p.models import ApiToken
from stakeholders.models import Segment, Service, Stakeholder, SurveyService
from stakeholders.surveys.lifecycle import MAX_SERVICES_ASKED, choose_services, create_survey
from tests.factories import MembershipFactory, PmoFactory
from tests.large_pmo import add_services, build_large_pmo
from tests.survey_helpers import open_survey

TODAY = date(2026, 12, 1)
# Measured (PostgreSQL) at both sizes, then one ceiling per page for both, with a margin of one:
# a query per service (an N+1) breaks it at once at 1,000 services.
MAX_QUERIES = {
    "catalogue": 11 + 1,
    "catalogue_page_2": 11 + 1,
    "service": 16 + 1,
    "offering_levels": 4 + 1,
    "survey_create": 6 + 1,
    "survey_edit": 8 + 1,
    "public_form": 1 + 1,
    "suggestions": 17 + 1,
    "api_services": 7 + 1,
    "api_service_figures": 12 + 1,
    "export_services_csv": 8 + 1,
    "export_services_xlsx": 8 + 1,
    # 37, the touchpoints and their dates (issue 13), then the follow-up cases, their links to
    # interactions, notes, pulses and survey updates (issue 14)
    "export_full": 44 + 1,
}
# The tables that grow with a PMO's size: a query of one PMO's page must not scan them whole.
GROWING = {
    "stakeholders_service",
    "stakeholders_service_segments",
    "stakeholders_serviceevent",
    "stakeholders_surveyservice",
    "stakeholders_serviceanswer",
    "stakeholders_stakeholder",
    "stakeholders_surveyinvitation",
    "stakeholders_response",
    "stakeholders_answer",
    "agenda_action",
}
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
# The pages that show some services (a page, one service) read the figures of those only, not
# of the whole catalogue (agenda.figures.services.catalogue_figures of all the PMO's services).
SOME_SERVICES = {"catalogue", "catalogue_page_2", "service", "api_services", "api_service_figures"}
WHOLE_CATALOGUE = re.compile(r'FROM "stakeholders_surveyservice" .*IN \(SELECT U0\."id" FROM "stakeholders_service" U0')
SECONDS, SIZE = {}, {}  # the per-page time and size at 1,000 services, printed at the end


def make_pmo(*, stakeholders: int, answers: int, services: int, per_response: int):
    pmo = PmoFactory(time_zone="Europe/London")
    lead = MembershipFactory(pmo=pmo, role="lead").user
    build_large_pmo(pmo, lead, stakeholders=stakeholders, answers=answers, today=TODAY)
    catalogue = add_services(pmo, services=services, per_response=per_response)
    segments = list(Segment.objects.filter(pmo=pmo).order_by("pk"))
    # Each service serves one segment in turn: the catalogue filters by whom it serves.
    Service.segments.through.objects.bulk_create(
        Service.segments.through(service=service, segment=segments[n % len(segments)])
        for n, service in enumerate(catalogue)
    )
    # A draft that asks about as many services as a survey may (the survey form lists them all).
    draft = create_survey(pmo=pmo, created_by=lead, title="Draft", closes_on=TODAY)
    choose_services(draft, catalogue[:MAX_SERVICES_ASKED])
    # An open survey asking about every service, each serving one segment: a respondent is
    # asked about those that serve theirs only.
    respondent = Stakeholder.objects.filter(pmo=pmo, segment=segments[0]).first()
    survey, [invitation] = open_survey(pmo, [respondent], title="Open")
    SurveyService.objects.bulk_create(
        SurveyService(
            survey=survey,
            service=service,
            name=service.name,
            elements=service.elements,
            segment_ids=[segments[n % len(segments)].pk],
            position=n,
        )
        for n, service in enumerate(catalogue)
    )
    _token, key = ApiToken.issue(user=lead, name="tests")
    return {
        "pmo": pmo,
        "lead": lead,
        "service": catalogue[len(catalogue) // 2],
        "draft": draft,
        "invitation": invitation,
        "asked_of_respondent": -(-len(catalogue) // len(segments)),
        "api": Client(headers={"Authorization": f"Bearer {key}"}),
    }


def urls(world) -> dict[str, tuple[str, str]]:
    slug = {"slug": world["pmo"].slug}
    service = {**slug, "service_id": world["service"].pk}
    draft = {**slug, "survey_id": world["draft"].pk}
    return {
        "catalogue": ("web", reverse("service_list", kwargs=slug)),
        "catalogue_page_2": ("web", reverse("service_list", kwargs=slug) + "?page=2"),
        "service": ("web", reverse("service_detail", kwargs=service)),
        "offering_levels": ("web", reverse("offering_levels", kwargs=slug)),
        "survey_create": ("web", reverse("survey_create", kwargs=slug)),
        "survey_edit": ("web", reverse("survey_edit", kwargs=draft)),
        "public_form": ("public", world["invitation"].path),
        "suggestions": ("web", reverse("suggestion_list", kwargs=slug)),
        "api_services": ("api", reverse("api-service-list", kwargs=slug)),
        "api_service_figures": ("api", reverse("api-service-figures", kwargs={**slug, "pk": world["service"].pk})),
        "export_services_csv": ("web", reverse("export_services_csv", kwargs=slug)),
        "export_services_xlsx": ("web", reverse("export_services_xlsx", kwargs=slug)),
        "export_full": ("web", reverse("export_full", kwargs=slug)),
    }


def open_page(client, url) -> tuple[object, CaptureQueriesContext, float]:
    with CaptureQueriesContext(connection) as captured:
        started = time.monotonic()
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        elapsed = time.monotonic() - started
    assert response.status_code == 200, (url, response.status_code)
    response.size = len(body)
    return response, captured, elapsed


def seq_scans(captured) -> list[tuple[str, str]]:
    """The growing tables that PostgreSQL would scan whole for these queries, with the query."""
    scans = []
    for sql in dict.fromkeys(q["sql"] for q in captured.captured_queries):
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        # Scans made as dear as PostgreSQL allows: a growing table still scanned whole has no
        # index that fits the query (at this test's sizes a scan is often cheaper, and chosen).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        scans += [(table, f"{sql[:500]}\n{plan}") for table in SEQ_SCAN.findall(plan) if table in GROWING]
    return scans


def page_failures(page: str, name: str, world: dict, response, captured) -> list[str]:
    """What is wrong with this page of the `name` PMO ("small" or "big"), in words."""
    failures = []
    if len(captured) > MAX_QUERIES[page]:
        failures.append(f"{page} in the {name} PMO: {len(captured)} queries > {MAX_QUERIES[page]}")
    if page in SOME_SERVICES:
        failures += [
            f"{page}: the whole catalogue's figures read: {q['sql'][:300]}"
            for q in captured.captured_queries
            if WHOLE_CATALOGUE.search(q["sql"])
        ]
    if name == "small":
        failures += [f"{page}: a scan of every PMO's {table}: {sql}" for table, sql in seq_scans(captured)]
    if page.startswith("catalogue") and name == "big":
        # A page of the catalogue at a time; the summary counts them all.
        shown = len(response.context["rows"])
        if shown != SERVICES_PER_PAGE or response.context.get("total") != 1000:
            failures.append(f"{page}: {shown} services shown, of {response.context.get('total')}")
    if page == "suggestions" and name == "big":
        # Over a thousand, ranked: a page of them at a time, the highest priority first.
        shown = len(response.context["suggestions"])
        if shown != SUGGESTIONS_PER_PAGE or response.context.get("total", 0) <= 1000:
            failures.append(f"{page}: {shown} suggestions shown, of {response.context.get('total')}")
    if page == "public_form" and len(response.context["form"].services) != world["asked_of_respondent"]:
        # The form asks about the services serving the respondent's segment only.
        failures.append(f"{page}: {len(response.context['form'].services)} services asked")
    return failures


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's")
def test_every_catalogue_page_takes_the_same_queries_at_10_and_at_1000_services(db):
    small = make_pmo(stakeholders=10, answers=100, services=10, per_response=10)
    big = make_pmo(stakeholders=5000, answers=50_000, services=1000, per_response=5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have: the planner sees the tables' real sizes

    counts, failures, pages = {}, [], []
    for name, world in (("small", small), ("big", big)):
        web = Client()
        web.force_login(world["lead"])
        clients = {"web": web, "api": world["api"], "public": Client()}
        for page, (kind, url) in urls(world).items():
            open_page(clients[kind], url)  # the first visit's one-off queries (the visit stamp, the token's use)
            response, captured, elapsed = open_page(clients[kind], url)
            counts[page, name] = len(captured)
            if name == "big":
                SECONDS[page], SIZE[page] = elapsed, response.size
                if page.startswith("catalogue"):
                    pages.append({service.pk for service, *_ in response.context["rows"]})
            failures += page_failures(page, name, world, response, captured)
    if pages[0] & pages[1]:
        failures.append("The catalogue's first two pages show the same services.")
    for page in MAX_QUERIES:
        print(
            f"{page:<22} {counts[page, 'small']:>3} {counts[page, 'big']:>3} queries; "
            f"at 1,000: {SECONDS[page]:.2f}s, {SIZE[page] // 1024} KiB"
        )
    assert not failures, "\n".join(failures)
