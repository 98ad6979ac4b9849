"""The benchmark scripts import the product's modules by name: a move in the product must
not leave `make benchmark` or `make benchmark-scale` broken until someone runs them."""

import argparse
import importlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SCRIPTS = sorted(
    p.stem for p in (Path(__file__).resolve().parent.parent / "scripts").glob("*.py") if p.stem != "__init__"
)


@pytest.mark.parametrize("name", [s for s in SCRIPTS if s != "bench_settings"])
def test_the_script_imports(name):
    # bench_settings is a settings module (star-imports pmo5p.settings): it is read by gunicorn, not imported here.
    assert importlib.import_module(f"scripts.{name}")


# The import part of benchmark_scale.py (scripts/scale_import.py), run against a live server:
# the same HTTP client, forms and checks as the benchmark, on a small file.


@pytest.fixture
def signed_in_lead(live_server):
    from pmo5p.models import User
    from scripts.scale_load import Client
    from scripts.scale_run import LEAD_EMAIL, LEAD_PASSWORD

    lead = User.objects.create_user(email=LEAD_EMAIL, name="Lead", password=LEAD_PASSWORD, email_verified=True)
    client = Client(urlsplit(live_server.url).port)
    client.sign_in(LEAD_EMAIL, LEAD_PASSWORD)
    return client, lead


@pytest.mark.django_db(transaction=True)
def test_the_import_part_uploads_previews_confirms_and_checks_a_file(signed_in_lead, capsys):
    from scripts import scale_import, scale_run

    client, _lead = signed_in_lead
    goals, ok = scale_run.import_benchmark(argparse.Namespace(import_rows=60, import_reference_rows=20), client.port)
    assert ok
    (goal,) = goals
    assert goal.name == "stakeholder import, 60 rows" and goal.met
    assert goal.reference.startswith("20 rows ")
    out = capsys.readouterr().out
    assert "FAIL" not in out and "60 rows (48 new, 12 updates)" in out
    pmo = scale_import.Pmo.objects.get(slug=scale_import.IMPORT_PMO)
    assert pmo.stakeholders.count() == 60  # the larger file, into a PMO made afresh


@pytest.mark.django_db(transaction=True)
def test_the_import_check_fails_when_a_row_did_not_land(signed_in_lead):
    from scripts import scale_import

    client, lead = signed_in_lead
    pmo, existing, owners = scale_import.prepare_pmo(lead, 30)
    run = scale_import.ImportRun(30, existing)
    job = scale_import.run_import(client, pmo, scale_import.import_file(30, existing, owners), run)
    assert all(scale_import.verify_import(pmo, job, run).values())
    pmo.stakeholders.filter(email=scale_import.email(29)).delete()
    failed = [check for check, passed in scale_import.verify_import(pmo, job, run).items() if not passed]
    assert failed == ["stakeholders 29 = rows 30", "every row's e-mail in the register"]


@pytest.mark.django_db
def test_the_report_part_times_each_step_of_a_real_build(world):
    """benchmark_report.time_report (also the report part of benchmark_scale.py): each step,
    the PDF a process draws first (its renderer starting) apart from the next ones."""
    from django.utils import timezone

    from scripts.benchmark_report import time_report

    timed = time_report(world.pmo, timezone.localdate(), repeat=1)
    assert [step.name for step in timed.steps] == [
        "figures",
        "HTML + text render",
        "PDF, first in process",
        "PDF render",
        "total (build)",
    ]
    assert all(step.best > 0 for step in timed.steps)
    assert "PDF " in timed.summary


@pytest.mark.django_db(transaction=True)
def test_the_database_meter_counts_other_backends_cpu_and_the_wal_they_write():
    """What the submit part reports as PostgreSQL's cost per submit (docs/capacity.md)."""
    import psycopg2
    from django.db import connection

    from scripts.scale_run import database_meter

    other = psycopg2.connect(**connection.get_connection_params())
    try:
        cpu_before, wal_before = database_meter()
        with other, other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM generate_series(1, 4000000)")
            cursor.execute(
                "CREATE TABLE meter_probe AS SELECT n, repeat('x', 100) AS t FROM generate_series(1, 5000) n"
            )
        cpu_after, wal_after = database_meter()
        with other, other.cursor() as cursor:
            cursor.execute("DROP TABLE meter_probe")
    finally:
        other.close()
    assert cpu_after - cpu_before >= 0.1  # the other backend's work, not this one's
    assert wal_after - wal_before >= 5000 * 100
