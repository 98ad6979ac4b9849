"""pmo5p at a large organisation's scale (issue 11): each goal as a ratio to a reference
measured in the same run. A benchmark, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmo5p REDIS_URL=redis://127.0.0.1:6379/0 make benchmark-scale
    .venv/bin/python scripts/benchmark_scale.py --help

It needs PostgreSQL and Redis. It never touches the database DATABASE_URL names: it creates
test_<name>_scale beside it, applies the migrations, and drops it at the end (--keep leaves
it; --reuse builds on a kept one). It builds (scripts/scale_data.py):
  - a large PMO: 5,000 stakeholders, 20 quarterly closed surveys totalling 1,000,000 answers,
    segments, self-assessments, maturity records, interactions, and one open survey;
  - a PMO of 10 stakeholders with the same history, the reference of "the same page, small";
  - four other PMOs (250,000 answers), so that a query reading every PMO's rows shows.
Then, with the app served by gunicorn (2 sync workers, DEBUG off, persistent connections):
  1. pages: the large and the small PMO's stakeholder list (the reference), dashboard,
     dashboard of one segment and results of the latest survey, signed in as the lead, in
     interleaved rounds; p50 and p95, the ratio to the list and to the small PMO's page,
     and the EXPLAIN (ANALYZE, BUFFERS) of each page's slowest queries;
  2. submits: the public survey form posted over 8 connections, one link per request, in
     rounds interleaved with a bare view that does one INSERT (scripts/bench_urls.py);
     throughput ratio, p99, worker CPU per request, then a check of every response;
  3. the agenda report of the large PMO, built in this process, the small PMO's as reference;
  4. import: a CSV file of 10,000 stakeholders uploaded, previewed and confirmed over HTTP
     as the lead, into a PMO of its own, then checked (scripts/scale_import.py); a file of
     500 rows is the reference.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Fixed, so that a kept database's survey links still open with --reuse. Loopback only.
SECRET_KEY = "benchmark-only-secret-key-not-for-any-server-0123456789"  # noqa: S105
RATE_LIMIT = "1000000/m"  # on, as in production, and far above what the run sends


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = parser.add_argument_group("data")
    data.add_argument("--stakeholders", type=int, default=5000, help="of the large PMO")
    data.add_argument("--answers", type=int, default=1_000_000, help="of the large PMO's closed surveys")
    data.add_argument("--surveys", type=int, default=20, help="closed surveys of each PMO, one a quarter")
    data.add_argument("--small-stakeholders", type=int, default=10)
    data.add_argument("--other-pmos", type=int, default=4)
    data.add_argument("--other-answers", type=int, default=250_000, help="all the other PMOs together")
    data.add_argument("--seed", type=int, default=11)
    data.add_argument("--keep", action="store_true", help="keep the database at the end")
    data.add_argument("--reuse", action="store_true", help="use the kept database's data if it has it")
    run = parser.add_argument_group("run")
    run.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    run.add_argument("--rounds", type=int, default=10, help="interleaved rounds of the pages and of the submits")
    run.add_argument("--requests", type=int, default=5, help="requests of each page per round")
    run.add_argument("--explain", type=int, default=3, help="slowest queries explained per page")
    run.add_argument("--submits", type=int, default=300, help="submits (and bare inserts) per round")
    run.add_argument("--connections", type=int, default=8, help="concurrent connections of the submits")
    run.add_argument("--repeat", type=int, default=3, help="runs of each step of the report")
    run.add_argument("--import-rows", type=int, default=10_000, help="rows of the stakeholder import's file")
    run.add_argument("--import-reference-rows", type=int, default=500, help="rows of the import's reference file")
    run.add_argument(
        "--only", choices=["pages", "submits", "report", "import"], action="append", help="run only these parts"
    )
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    workdir = tempfile.TemporaryDirectory(prefix="pmo5p-scale-")
    os.environ.update(
        PMO5P_VAR_DIR=workdir.name,  # collected static files and the server's log
        DJANGO_SETTINGS_MODULE="scripts.bench_settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        PMO5P_SURVEY_TOKEN_KEY="",
        PMO5P_SURVEY_RATE_LIMIT=RATE_LIMIT,
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
    )
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()

    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql") or not settings.REDIS_URL:
        print("benchmark-scale needs DATABASE_URL on PostgreSQL and REDIS_URL (see docs/performance.md)")
        return 2
    database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_scale"
    started = time.perf_counter()
    old_config = setup_databases(verbosity=0, interactive=False, keepdb=args.reuse)
    try:
        from scripts.scale_run import run

        return run(args, Path(workdir.name), time.perf_counter() - started)
    finally:
        teardown_databases(old_config, verbosity=0, keepdb=args.keep)
        workdir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
