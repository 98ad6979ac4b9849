"""The API's OpenAPI 3 schema: valid, served, documenting every route and its errors, and
kept by the server. Schemathesis generates requests from the live schema of a test
server and checks every answer: no server error, and every body, status code and
content type as the schema documents them.

The Swagger UI page in a real browser: tests/e2e/test_api_docs.py (it needs the e2e
fixtures)."""

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import schemathesis
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agenda.models import Action, AgendaReport
from pmo5p.models import ApiToken, Role
from stakeholders import touchpoints
from stakeholders.models import Interaction
from tests.agenda_data import REPORT_FIGURES_V1
from tests.factories import (
    FollowUpCaseFactory,
    MaturityRecordFactory,
    MembershipFactory,
    PmoFactory,
    ResponseFactory,
    SegmentFactory,
    SelfAssessmentFactory,
    ServiceFactory,
    StakeholderFactory,
)
from tests.survey_helpers import open_survey
from tests.test_tenancy import API_ROUTES

ROOT = Path(__file__).resolve().parent.parent

# A handful of generated requests per operation and mode: enough to find the odd input
# that breaks a view, few enough to run in seconds. Derandomized: the same cases every run.
EXAMPLES = 5
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def served(client, db):
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_generated_schema_is_valid_without_warnings():
    """drf-spectacular's own check: a valid OpenAPI 3 document, and nothing it had to guess."""
    result = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_served_schema_is_valid_openapi_3(served):
    assert served["openapi"].startswith("3.")
    validate_schema(served)  # raises on any violation of the OpenAPI 3 JSON schema


def test_the_schema_documents_every_api_route(served):
    placeholders = {"slug": ("the-slug", "{slug}"), "pk": (987654321, "{id}")}
    for name, kwargs in API_ROUTES:
        if name in ("api-root", "api-schema", "api-docs"):
            continue
        address = reverse(name, kwargs={key: placeholders[key][0] for key in kwargs})
        for value, parameter in placeholders.values():
            address = address.replace(str(value), parameter)
        assert address in served["paths"], f"{name} ({address}) is not in the schema"


def test_every_operation_documents_its_errors_with_the_error_body(served):
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in served["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            expected = {"401", "404"}
            if method in ("post", "put", "patch"):
                expected |= {"400"}
            if method in ("post", "put", "patch", "delete") and "{slug}" in path:
                expected |= {"403"}
            assert expected <= codes, f"{method.upper()} {path} documents {sorted(codes)}"
            for code in expected:
                assert operation["responses"][code]["content"]["application/json"]["schema"] == error_body
    error = served["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status", "code", "message", "fields"}


def test_the_docs_page_renders(client, db):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("api-schema") in client.get(reverse("api-docs") + "?script").content.decode()
    assert "swagger-ui" in page and "<style>" not in page  # no inline style: the CSP forbids it


# Schemathesis against a live server ---------------------------------------------------------


@pytest.fixture
def api_world(transactional_db):
    """A PMO with one row of every resource, and a lead's token."""
    pmo = PmoFactory(name="Schema PMO", slug="schema")
    lead = MembershipFactory(pmo=pmo, role=Role.LEAD, user__email="lead@schema.example").user
    segment = SegmentFactory(pmo=pmo, name="Finance")
    stakeholders = [StakeholderFactory(pmo=pmo, segment=segment) for _ in range(3)]
    interaction = Interaction.objects.create(pmo=pmo, kind="meeting", summary="Kick-off", author=lead)
    interaction.stakeholders.add(stakeholders[0])
    survey, invitations = open_survey(pmo, stakeholders, user=lead)
    for invitation in invitations:
        ResponseFactory(invitation=invitation, ratings={"product": [4, 5]}, importance={"product": 4}, nps=9)
    record = MaturityRecordFactory(pmo=pmo, stakeholder=stakeholders[0], stage=2, rationale="New", author=lead)
    action = Action.objects.create(
        pmo=pmo, title="Brief", element="product", due_on=timezone.localdate() + timedelta(days=30), created_by=lead
    )
    report = AgendaReport.objects.create(
        pmo=pmo,
        frequency="monthly",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 2, 1),
        status="ready",
        pdf=b"%PDF-1.4 test",
        figures=REPORT_FIGURES_V1,
    )
    _token, key = ApiToken.issue(user=lead, name="schemathesis")
    ids = {
        "segments": segment.pk,
        "stakeholders": stakeholders[1].pk,
        "interactions": interaction.pk,
        "surveys": survey.pk,
        "self-assessments": SelfAssessmentFactory(pmo=pmo, element="people", rating=3, author=lead).pk,
        "maturity": record.pk,
        "actions": action.pk,
        "reports": report.pk,
        "services": ServiceFactory(pmo=pmo, segments=[segment]).pk,
        "follow-up-cases": FollowUpCaseFactory(for_stakeholder=stakeholders[2], owner=pmo.memberships.get()).pk,
        "touchpoints": touchpoints.create_touchpoint(
            pmo,
            lead,
            {
                "purpose": "Steering committee",
                "element": "people",
                "owner": pmo.memberships.get(user=lead),
                "stakeholders": stakeholders[:2],
                "starts_on": date(2026, 1, 5),
                "recurrence": "monthly",
                "until": date(2026, 6, 5),
            },
        ).pk,
    }
    return pmo, key, ids


def _resource(path: str) -> str:
    """/api/v1/pmos/{slug}/stakeholders/{id}/ → stakeholders."""
    return path.strip("/").split("/")[4]


def fuzz(operation, mode, path_parameters, headers) -> tuple[int, list[str]]:
    """Send EXAMPLES generated requests for one operation; the failures, not raised, all listed."""
    sent, failures = 0, []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except schemathesis.errors.FailureGroup as group:
            failures.append(f"{operation.label} ({mode.value}):\n{group.message}")

    run()
    return sent, failures


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(live_server, api_world):
    pmo, key, ids = api_world
    schema = schemathesis.openapi.from_url(f"{live_server.url}{reverse('api-schema')}")
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last, so that the rows stay for the other operations.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    # No requests.Session: on a kept-alive connection the test server's small writes wait
    # for a delayed ACK (Nagle), about 40 ms each; a new connection per request is faster.
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    sent = 0
    started = time.monotonic()
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            path_parameters = {"slug": pmo.slug}
            if "{id}" in operation.path and mode == schemathesis.GenerationMode.POSITIVE:
                # Valid data on a row that exists; random ids would only meet 404s, and the
                # negative mode tries malformed ones.
                path_parameters["id"] = ids[_resource(operation.path)]
            count, found = fuzz(operation, mode, path_parameters, headers)
            sent += count
            failures += found
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {len(operations)} operations, {sent} requests in {elapsed:.1f} s")
    assert len(operations) >= 45
    assert sent >= 5 * len(operations)
    assert not failures, f"{len(failures)} failure(s):\n\n" + "\n\n".join(failures)
