"""How long the agenda report takes to build for a large PMO. A benchmark, not a test.

    DJANGO_SETTINGS_MODULE=pmo5p.settings DJANGO_DEBUG=1 .venv/bin/python scripts/benchmark_report.py
    make benchmark                                       # the same
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmo5p make benchmark

It never touches an existing database: with no DATABASE_URL it works in a throwaway
SQLite file in a temporary directory; with DATABASE_URL it creates a fresh database
next to the one named (test_<name>, as the test runner does) and drops it at the end.
It fills a PMO with 5,000 stakeholders and 50,000 answers (tests/large_pmo.py, the
data of tests/test_report_queries.py), then times, best of --repeat runs: the figures
(reports.build_figures), the HTML and text render, the PDF (WeasyPrint), and the whole
build (reports.build), with the number of queries of each.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stakeholders", type=int, default=5000)
    parser.add_argument("--answers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the best and the median are shown")
    args = parser.parse_args()

    workdir = tempfile.TemporaryDirectory(prefix="pmo5p-benchmark-")
    # Before Django reads its settings: the secret key file and the default SQLite
    # database go to the throwaway directory, never to var/.
    os.environ["PMO5P_VAR_DIR"] = workdir.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmo5p.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()

    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        # A file, as in production, not the in-memory database tests use.
        database.setdefault("TEST", {})["NAME"] = str(Path(workdir.name) / "benchmark.sqlite3")
    started = time.perf_counter()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        return run(args, time.perf_counter() - started)
    finally:
        teardown_databases(old_config, verbosity=0)
        workdir.cleanup()


def run(args, migrate_seconds: float) -> int:
    from django.db import connection
    from django.utils import timezone

    from pmo5p.models import Membership, Pmo, Role, User
    from stakeholders.models import Answer, Response
    from tests.large_pmo import build_large_pmo

    today = timezone.localdate()
    started = time.perf_counter()
    pmo = Pmo.objects.create(name="Benchmark PMO", slug="benchmark", time_zone="Europe/London")
    lead = User.objects.create_user(email="lead@benchmark.example", name="Lead")
    Membership.objects.create(pmo=pmo, user=lead, role=Role.LEAD, receives_reports=True)
    build_large_pmo(pmo, lead, stakeholders=args.stakeholders, answers=args.answers, today=today)
    data_seconds = time.perf_counter() - started

    timed = time_report(pmo, today, args.repeat)

    vendor = connection.vendor
    print(f"pmo5p agenda report benchmark · {vendor} ({connection.settings_dict['NAME']})")
    print(
        f"data: {pmo.stakeholders.count():,} stakeholders, "
        f"{Response.objects.filter(survey__pmo=pmo).count():,} responses, "
        f"{Answer.objects.filter(response__survey__pmo=pmo).count():,} answers "
        f"(migrate {migrate_seconds:.1f} s, data {data_seconds:.1f} s)"
    )
    print_report_times(timed, args.repeat)
    return 0


@dataclass
class Step:
    name: str
    best: float
    median: float
    queries: int


@dataclass
class ReportTimes:
    steps: list[Step]
    summary: str  # what the report held


def time_report(pmo, today, repeat: int) -> ReportTimes:
    """Best and median of `repeat` runs of each step of the report of the 30 days up to
    `today`: the figures, the HTML and text, the PDF (a process's first, which starts the
    renderer, and the next ones), and the whole build (reports.build).
    Also used by scripts/benchmark_scale.py."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from agenda.models import AgendaReport
    from agenda.reports import pdf as report_pdf
    from agenda.reports import services as reports
    from agenda.reports import snapshot as report_figures

    start, end = today - timedelta(days=30), today + timedelta(days=1)

    def new_report():
        AgendaReport.objects.filter(pmo=pmo).delete()
        report = AgendaReport.objects.create(pmo=pmo, frequency="monthly", period_start=start, period_end=end)
        return AgendaReport.objects.select_related("pmo").get(pk=report.pk)

    def measure(name, step, prepare=lambda: ()):
        """`step(*prepare())`, timed without `prepare`."""
        seconds, queries, result = [], 0, None
        for _ in range(repeat):
            arguments = prepare()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                result = step(*arguments)
                seconds.append(time.perf_counter() - began)
            queries = len(captured)
        return Step(name, min(seconds), statistics.median(seconds), queries), result

    report = new_report()
    with timezone.override(pmo.time_zone):
        figures_step, figures = measure("figures", lambda: reports.build_figures(report))
        report.figures = report_figures.dump(figures)
        render_step, (html, text) = measure("HTML + text render", lambda: reports.render(report))
        report.html, report.text = html, text
        # A process's first PDF starts its renderer (agenda/reports/pdf.py); the rest find it warm.
        first_pdf_step, _ = measure(
            "PDF, first in process",
            lambda: reports.render_pdf(report),
            prepare=lambda: report_pdf.stop_renderer() or (),
        )
        pdf_step, pdf = measure("PDF render", lambda: reports.render_pdf(report))
    build_step, built = measure("total (build)", reports.build, prepare=lambda: (new_report().pk,))
    assert built.status == "ready" and bytes(built.pdf).startswith(b"%PDF")
    summary = (
        f"report: {len(figures.at_risk):,} at risk, {figures.maturity.up}↑ {figures.maturity.down}↓ "
        f"maturity, {figures.incidents.count} incidents, {len(figures.suggestions)} suggestions; "
        f"HTML {len(html) / 1024:.0f} KiB, text {len(text) / 1024:.0f} KiB, PDF {len(pdf) / 1024:.0f} KiB"
    )
    return ReportTimes([figures_step, render_step, first_pdf_step, pdf_step, build_step], summary)


def print_report_times(timed: ReportTimes, repeat: int) -> None:
    print(timed.summary)
    print(f"{'step':<22}{'best':>10}{'median':>10}{'queries':>9}   (of {repeat} runs)")
    for step in timed.steps:
        print(f"{step.name:<22}{step.best * 1000:>8.0f}ms{step.median * 1000:>8.0f}ms{step.queries:>9}")


if __name__ == "__main__":
    sys.exit(main())
