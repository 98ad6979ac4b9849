"""The parts of scripts/benchmark_scale.py, run once Django is set up on the throwaway database."""

import os
import platform
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agenda.figures.survey import closed_surveys
from pmo5p.models import Pmo, User
from scripts import scale_data, scale_import
from scripts.bench_urls import BARE_TABLE_SQL
from scripts.benchmark_report import print_report_times, time_report
from scripts.scale_load import Client, Phase, Server, burst, cpu_seconds, ms, percentile
from stakeholders.models import Answer, QuestionKind, Response, SurveyStatus, hash_token, make_token
from stakeholders.surveys.forms import DONT_KNOW

ROOT_DIR = Path(__file__).resolve().parent.parent
LEAD_EMAIL = "lead@scale.example"
LEAD_PASSWORD = "benchmark-lead-password"  # noqa: S105 (a throwaway database on the loopback)
LARGE, SMALL = "scale", "scale-small"
# The pages measured, by name: the stakeholder list first, the reference of the others.
PAGES = {
    "list": "stakeholders/",
    "dashboard": "",
    "segment dashboard": "?segment={segment}",
    "results": "surveys/{survey}/results/",
}
TARGETS = {"dashboard": 0.100, "segment dashboard": 0.100, "results": 0.100}
SUBMIT_P99_TARGET, SUBMIT_RATIO_TARGET, SMALL_RATIO_TARGET, REPORT_TARGET = 0.050, 0.6, 2.0, 1.0
IMPORT_TARGET = 20.0


@dataclass
class Goal:
    name: str
    figure: str
    reference: str
    ratio: str
    target: str
    met: bool | None


@dataclass
class Target:
    pmo: str  # slug
    page: str
    path: str
    samples: list[float] = field(default_factory=list)
    size: int = 0
    queries: int = 0


def run(args, workdir: Path, migrate_seconds: float) -> int:
    today = timezone.localdate()
    started = time.perf_counter()
    large, small = ensure_data(args, today)
    data_seconds = time.perf_counter() - started
    print_header(large, small, migrate_seconds, data_seconds)
    goals: list[Goal] = []
    ok = True
    parts = set(args.only or ["pages", "submits", "report", "import"])
    if parts & {"pages", "submits", "import"}:
        ok = serve_and_measure(args, workdir, large, small, parts, goals)
    if "report" in parts:
        goals += report_benchmark(large, small, today, args.repeat, args.explain)
    forget_queued_tasks()
    print_goals(goals)
    return 0 if ok else 1


def serve_and_measure(args, workdir, large, small, parts, goals) -> bool:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    server = Server(ROOT_DIR, args.workers, {**os.environ, "DATABASE_URL": database_url()}, workdir / "gunicorn.log")
    server.start()
    server.database_meter = database_meter
    ok = True
    try:
        if "pages" in parts:
            goals += page_benchmark(args, server, large, small)
        if "submits" in parts:
            submit_goals, ok = submit_benchmark(args, server, large)
            goals += submit_goals
        if "import" in parts:
            import_goals, imported = import_benchmark(args, server.port)
            goals += import_goals
            ok = ok and imported
    finally:
        server.stop()
    return ok


def database_meter() -> tuple[float, int]:
    """The CPU time so far of the benchmark database's other backends (the web workers'
    connections, from /proc: PostgreSQL runs on this machine) and the WAL written so far
    (pg_current_wal_insert_lsn, every database's: nothing else should write during a run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = cursor.fetchone()[0] or []
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')")
        wal = int(cursor.fetchone()[0])
    return cpu_seconds(pids), wal


def database_url() -> str:
    """The throwaway database's URL, for gunicorn (DATABASE_URL names the one it was made beside)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or ''}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


# Data ---------------------------------------------------------------------------------


def ensure_data(args, today):
    if args.reuse and Pmo.objects.filter(slug=LARGE).exists():
        large = load_built(LARGE)
        reset_open_survey(large)
        return large, load_built(SMALL)
    lead = User.objects.create_user(email=LEAD_EMAIL, name="Lead", password=LEAD_PASSWORD, email_verified=True)
    # The small PMO's stakeholders answer as often as the large one's: two thirds of 15 answers a survey.
    shapes = [
        scale_data.Shape(LARGE, "Scale PMO", args.stakeholders, args.answers, args.surveys, 10, open_survey=True),
        scale_data.Shape(
            SMALL, "Small PMO", args.small_stakeholders, args.small_stakeholders * args.surveys * 10, args.surveys, 2
        ),
    ]
    others = max(args.other_pmos, 0)
    for n in range(others):
        answers = args.other_answers // others
        shapes.append(
            scale_data.Shape(f"other-{n}", f"Other PMO {n}", max(500, answers // 150), answers, args.surveys, 6)
        )
    built = []
    for shape in shapes:
        began = time.perf_counter()
        built.append(scale_data.build(shape, lead, today=today, seed=args.seed))
        print(f"  built {shape.slug}: {built[-1].answers:,} answers in {time.perf_counter() - began:.1f} s", flush=True)
    began = time.perf_counter()
    scale_data.analyse()
    print(f"  VACUUM (ANALYZE) in {time.perf_counter() - began:.1f} s", flush=True)
    return built[0], built[1]


def load_built(slug: str) -> scale_data.Built:
    """What build() returned, read back from a kept database."""
    pmo = Pmo.objects.get(slug=slug)
    open_survey = pmo.surveys.filter(status=SurveyStatus.OPEN).first()
    tokens = []
    if open_survey:
        tokens = [
            make_token(seed) for seed in open_survey.invitations.order_by("pk").values_list("token_seed", flat=True)
        ]
    return scale_data.Built(
        pmo,
        list(pmo.segments.order_by("pk").values_list("pk", flat=True)),
        closed_surveys(pmo).first(),
        answers=Answer.objects.filter(response__survey__pmo=pmo).exclude(response__survey=open_survey).count(),
        responses=Response.objects.filter(survey__pmo=pmo).exclude(survey=open_survey).count(),
        open_survey=open_survey,
        open_tokens=tokens,
    )


def print_header(large, small, migrate_seconds, data_seconds) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM stakeholders_answer")
        all_answers = cursor.fetchone()[0]
        # What a survey's answers cost on disk, for the capacity model (docs/capacity.md).
        cursor.execute(
            "SELECT pg_table_size(t), pg_indexes_size(t), (SELECT count(*) FROM stakeholders_response) "
            "FROM (SELECT 'stakeholders_answer'::regclass AS t) AS answers"
        )
        answer_table, answer_indexes, all_responses = cursor.fetchone()
        cursor.execute("SELECT pg_total_relation_size('stakeholders_response')")
        response_bytes = cursor.fetchone()[0]
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "?")
    print(
        f"pmo5p scale benchmark · PostgreSQL {version} ({connection.settings_dict['NAME']}) · Python {platform.python_version()}"
    )
    print(f"machine: {os.cpu_count()} cores, {cpu}")
    for built in (large, small):
        print(
            f"{built.pmo.slug}: {built.pmo.stakeholders.count():,} stakeholders, {built.pmo.surveys.count()} surveys, "
            f"{built.responses:,} responses, {built.answers:,} answers"
        )
    print(f"every PMO: {all_answers:,} answers (migrate {migrate_seconds:.1f} s, data {data_seconds:.1f} s)")
    print(
        f"on disk: {answer_table / all_answers:.0f} B of table and {answer_indexes / all_answers:.0f} B of indexes "
        f"an answer; {response_bytes / all_responses:.0f} B a response, its indexes included\n",
        flush=True,
    )


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


# Pages --------------------------------------------------------------------------------


def page_targets(large, small) -> list[Target]:
    targets = []
    for built in (large, small):
        segment = shown_segment(built)
        for page, suffix in PAGES.items():
            path = f"/pmo/{built.pmo.slug}/" + suffix.format(segment=segment, survey=built.latest_survey.pk)
            targets.append(Target(built.pmo.slug, page, path))
    return targets


def shown_segment(built) -> int:
    """The segment with the most responses to the latest survey: shown, not hidden by the threshold."""
    row = (
        Response.objects.filter(survey=built.latest_survey, segment__isnull=False)
        .values("segment_id")
        .annotate(n=Count("id"))
        .order_by("-n", "segment_id")
        .first()
    )
    return row["segment_id"] if row else built.segment_ids[0]


def page_benchmark(args, server: Server, large, small) -> list[Goal]:
    print(
        f"== Pages: {args.rounds} interleaved rounds × {args.requests} requests of each, one at a time, as the lead;\n"
        f"   each round begins with a new answer to {LARGE}'s open survey, so every page's first view in a round\n"
        "   comes after new answers (a cache that an answer makes cold shows in the p95)"
    )
    client = Client(server.port)
    client.sign_in(LEAD_EMAIL, LEAD_PASSWORD)
    stakeholder, forms = stakeholder_client(server, large)
    targets = page_targets(large, small)
    for target in targets:  # each worker renders each page once before the clock runs
        for _ in range(args.workers):
            target.size = len(_get(client, target.path).body)
    for round_ in range(args.rounds):
        answer = stakeholder.post(f"/s/{large.open_tokens[round_]}/", forms.fields())
        if answer.status != 200:
            raise RuntimeError(f"a survey answer answered {answer.status}")
        shift = round_ % len(targets)
        for target in targets[shift:] + targets[:shift]:
            for _ in range(args.requests):
                target.samples.append(_get(client, target.path).seconds)
    explain_pages(targets, args.explain)
    print_pages(targets)
    return page_goals(targets, large.answers)


def _get(client: Client, path: str):
    reply = client.get(path)
    if reply.status != 200:
        raise RuntimeError(f"GET {path} answered {reply.status}")
    return reply


def explain_pages(targets: list[Target], top: int) -> None:
    """Each page run once more in this process with its queries captured; every SELECT of it
    explained with ANALYZE, and the `top` slowest by PostgreSQL's execution time shown."""
    client = DjangoClient()
    client.force_login(User.objects.get(email=LEAD_EMAIL))
    for target in targets:
        client.get(target.path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(target.path)
        assert response.status_code == 200, (target.path, response.status_code)
        target.queries = len(captured)
        print_explained(captured, f"\n-- {target.page} of {target.pmo} ({target.path})", top)
    print(flush=True)


def print_explained(captured: CaptureQueriesContext, heading: str, top: int) -> None:
    """Each distinct SELECT captured run again under EXPLAIN (ANALYZE, BUFFERS); the slowest `top` printed."""
    statements = dict.fromkeys(q["sql"] for q in captured.captured_queries if _is_select(q["sql"]))
    plans = sorted((explain(sql) for sql in statements), key=lambda plan: plan[0], reverse=True)
    print(
        f"{heading}: {len(captured)} queries, {sum(p[0] for p in plans):,.1f} ms of execution in PostgreSQL; "
        f"the slowest {min(top, len(plans))}:"
    )
    print_slowest(plans, top)


def print_slowest(plans: list[tuple[float, str, list[str]]], top: int) -> None:
    for milliseconds, sql, lines in plans[:top]:
        print(f"\n   {milliseconds:,.1f} ms: {sql[:2000]}{' …' if len(sql) > 2000 else ''}")
        for line in lines:
            print(f"     {line}")


def _is_select(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


def explain(sql: str) -> tuple[float, str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of `sql`: its execution time in ms, the SQL and the plan's lines."""
    # In a transaction rolled back, in case a statement writes: ANALYZE runs it.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    execution = next((line for line in reversed(lines) if line.startswith("Execution Time:")), "Execution Time: 0 ms")
    return float(execution.split(":")[1].split()[0]), sql, lines


def print_pages(targets: list[Target]) -> None:
    lists = {t.pmo: t for t in targets if t.page == "list"}
    small = {t.page: t for t in targets if t.pmo == SMALL}
    print(
        f"\n{'page':<19}{'PMO':<13}{'p50':>10}{'p95':>10}{'p95 ÷ list':>12}{'p95 ÷ small':>13}{'KiB':>7}{'queries':>9}"
    )
    for t in targets:
        p95 = percentile(t.samples, 95)
        versus_small = f"{p95 / percentile(small[t.page].samples, 95):.1f}×" if t.pmo != SMALL else ""
        print(
            f"{t.page:<19}{t.pmo:<13}{ms(percentile(t.samples, 50)):>10}{ms(p95):>10}"
            f"{p95 / percentile(lists[t.pmo].samples, 95):>11.1f}×{versus_small:>13}{t.size / 1024:>7.0f}{t.queries:>9}"
        )
    print(flush=True)


def page_goals(targets: list[Target], answers: int) -> list[Goal]:
    by = {(t.pmo, t.page): percentile(t.samples, 95) for t in targets}
    goals = []
    for page, target in TARGETS.items():
        large, small, reference = by[(LARGE, page)], by[(SMALL, page)], by[(LARGE, "list")]
        goals.append(
            Goal(
                f"{page} p95, {_short(answers)} answers",
                ms(large),
                f"list {ms(reference)}; small {ms(small)}",
                f"{large / reference:.1f}× list; {large / small:.1f}× small",
                f"≤ {ms(target)}, ≤ {SMALL_RATIO_TARGET:.0f}× small",
                large <= target and large <= SMALL_RATIO_TARGET * small,
            )
        )
    return goals


# Submits ------------------------------------------------------------------------------


@dataclass
class SubmitRun:
    real: list[Phase] = field(default_factory=list)
    bare: list[Phase] = field(default_factory=list)
    warm_real: Phase | None = None
    warm_bare: Phase | None = None
    tokens_ok: set[str] = field(default_factory=set)


def submit_benchmark(args, server: Server, large) -> tuple[list[Goal], bool]:
    print(
        f"== Submits: {args.rounds} interleaved rounds × {args.submits} of the survey form and of the bare INSERT, "
        f"{args.connections} connections"
    )
    reset_open_survey(large)
    tokens = list(large.open_tokens)
    warm = 2 * args.connections
    if warm + args.rounds * args.submits > len(tokens):
        raise SystemExit(f"{len(tokens)} survey links: ask fewer --submits or --rounds")
    client, forms = stakeholder_client(server, large)
    run_ = SubmitRun()
    run_.warm_real, run_.warm_bare = run_round(client, server, forms, tokens[:warm], "warm", args.connections, True)
    for round_ in range(args.rounds):
        batch = tokens[warm + round_ * args.submits : warm + (round_ + 1) * args.submits]
        real, bare = run_round(client, server, forms, batch, round_, args.connections, round_ % 2 == 0)
        run_.real.append(real)
        run_.bare.append(bare)
    for phase, batch in [(run_.warm_real, tokens[:warm])] + [
        (phase, tokens[warm + n * args.submits : warm + (n + 1) * args.submits]) for n, phase in enumerate(run_.real)
    ]:
        run_.tokens_ok |= {token for token, status in zip(batch, phase.statuses, strict=True) if 200 <= status < 300}
    print_submits(run_)
    verified = verify_submits(large, run_)
    return submit_goals(run_), verified


def stakeholder_client(server: Server, built) -> tuple[Client, "SurveyForms"]:
    """A stakeholder who opened a link of the open survey: the CSRF cookie and the form's token."""
    client = Client(server.port)
    return client, SurveyForms(built.open_survey, client.csrf_token(f"/s/{built.open_tokens[0]}/"))


class SurveyForms:
    """The form a stakeholder sends: every question answered, some "Don't know"."""

    def __init__(self, survey, csrf: str):
        self.questions = list(survey.questions.all())
        self.csrf = csrf
        self.rng = random.Random(11)

    def fields(self) -> dict:
        fields = {"csrfmiddlewaretoken": self.csrf, "action": "submit"}
        for q in self.questions:
            if q.kind == QuestionKind.PERFORMANCE:
                fields[f"q_{q.pk}"] = DONT_KNOW if self.rng.random() < 0.06 else str(self.rng.randint(1, 5))
            elif q.kind == QuestionKind.IMPORTANCE:
                fields[f"q_{q.pk}"] = str(self.rng.randint(2, 5))
            elif q.kind == QuestionKind.NPS:
                fields["nps"] = str(self.rng.randint(0, 10))
            elif q.kind == QuestionKind.COMMENT:
                fields["comment"] = self.rng.choice(scale_data.COMMENTS) if self.rng.random() < 0.15 else ""
        return fields


def run_round(client, server, forms: SurveyForms, tokens, label, connections, real_first) -> tuple[Phase, Phase]:
    """The same number of real submits and bare inserts, one after the other, in either order."""
    real = [(f"/s/{token}/", forms.fields()) for token in tokens]
    bare = [(f"/benchmark/bare-insert/{label}-{n}/", forms.fields()) for n in range(len(tokens))]
    if real_first:
        real_phase = burst(client, real, connections, server)
        return real_phase, burst(client, bare, connections, server)
    bare_phase = burst(client, bare, connections, server)
    return burst(client, real, connections, server), bare_phase


def reset_open_survey(built) -> None:
    """No response yet to the open survey, no bare insert: a kept database runs again alike."""
    Response.objects.filter(survey=built.open_survey).delete()
    built.open_survey.invitations.update(responded_at=None, draft_answers={}, draft_saved_at=None)
    with connection.cursor() as cursor:
        cursor.execute(BARE_TABLE_SQL)
        cursor.execute("TRUNCATE benchmark_bare_insert")


def print_submits(run_: SubmitRun) -> None:
    print(f"{'round':<7}{'submit/s':>10}{'bare/s':>10}{'ratio':>8}{'submit p99':>12}{'bare p99':>10}   statuses")
    for n, (real, bare) in enumerate(zip(run_.real, run_.bare, strict=True)):
        statuses = _statuses(real.statuses + bare.statuses)
        print(
            f"{n + 1:<7}{real.throughput:>10.1f}{bare.throughput:>10.1f}{real.throughput / bare.throughput:>7.2f}×"
            f"{ms(percentile(real.latencies, 99)):>12}{ms(percentile(bare.latencies, 99)):>10}   {statuses}"
        )


def _statuses(statuses: list[int]) -> str:
    counts = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{count}× {status}" for status, count in sorted(counts.items()))


def verify_submits(built, run_: SubmitRun) -> bool:
    """As many responses as 2xx answers, each to a link that got one, none twice, every answer kept."""
    responses = Response.objects.filter(survey=built.open_survey)
    answered = set(responses.values_list("invitation__token_hash", flat=True))
    twice = responses.values("invitation_id").annotate(n=Count("id")).filter(n__gt=1).count()
    rated = sum(
        q.kind in (QuestionKind.PERFORMANCE, QuestionKind.IMPORTANCE) for q in built.open_survey.questions.all()
    )
    answers = Answer.objects.filter(response__survey=built.open_survey).count()
    bare_ok = sum(p.ok for p in [run_.warm_bare, *run_.bare])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT token) FROM benchmark_bare_insert")
        bare_rows, bare_distinct = cursor.fetchone()
    checks = {
        f"responses {len(answered):,} = 2xx submits {len(run_.tokens_ok):,}": responses.count() == len(run_.tokens_ok),
        "each response is of a link that got a 2xx": answered == {hash_token(t) for t in run_.tokens_ok},
        f"no invitation answered twice ({twice})": twice == 0,
        f"answers {answers:,} = {rated} × responses": answers == rated * len(answered),
        f"bare rows {bare_rows:,} = 2xx bare inserts {bare_ok:,}, none twice": bare_rows == bare_ok == bare_distinct,
    }
    for check, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {check}")
    print(flush=True)
    return all(checks.values())


def submit_goals(run_: SubmitRun) -> list[Goal]:
    ratios = [real.throughput / bare.throughput for real, bare in zip(run_.real, run_.bare, strict=True)]
    ratio = statistics.median(ratios)
    real_p99 = percentile([s for p in run_.real for s in p.latencies], 99)
    bare_p99 = percentile([s for p in run_.bare for s in p.latencies], 99)
    real_cpu, bare_cpu = (per_request(phases, "cpu_seconds") for phases in (run_.real, run_.bare))
    real_db, bare_db = (per_request(phases, "database_cpu_seconds") for phases in (run_.real, run_.bare))
    real_wal, bare_wal = (per_request(phases, "wal_bytes") for phases in (run_.real, run_.bare))
    return [
        Goal(
            "submit throughput",
            f"{statistics.median(p.throughput for p in run_.real):.0f}/s",
            f"bare INSERT {statistics.median(p.throughput for p in run_.bare):.0f}/s",
            f"{ratio:.2f}× ({min(ratios):.2f}–{max(ratios):.2f})",
            f"≥ {SUBMIT_RATIO_TARGET}×",
            ratio >= SUBMIT_RATIO_TARGET,
        ),
        Goal(
            "submit p99",
            ms(real_p99),
            f"bare INSERT {ms(bare_p99)}",
            f"{real_p99 / bare_p99:.1f}×",
            f"≤ {ms(SUBMIT_P99_TARGET)}",
            real_p99 <= SUBMIT_P99_TARGET,
        ),
        Goal(
            "worker CPU per submit",
            ms(real_cpu),
            f"bare INSERT {ms(bare_cpu)}",
            f"{real_cpu / bare_cpu:.1f}×",
            "",
            None,
        ),
        Goal(
            "PostgreSQL CPU per submit",
            ms(real_db),
            f"bare INSERT {ms(bare_db)}",
            f"{real_db / bare_db:.1f}×" if bare_db else "",
            "",
            None,
        ),
        Goal(
            "WAL per submit",
            f"{real_wal / 1024:.1f} KiB",
            f"bare INSERT {bare_wal / 1024:.1f} KiB",
            f"{real_wal / bare_wal:.1f}×" if bare_wal else "",
            "",
            None,
        ),
    ]


def per_request(phases: list[Phase], cost: str) -> float:
    """A phase's cost (a field of Phase) per request, over these phases."""
    return sum(getattr(p, cost) for p in phases) / sum(len(p.statuses) for p in phases)


# Report -------------------------------------------------------------------------------


def report_benchmark(large, small, today, repeat, top: int = 3) -> list[Goal]:
    print(f"== The agenda report of the last 30 days, built in this process, best and median of {repeat} runs")
    explain_report_figures(large.pmo, today, top)
    builds = {}
    for built in (large, small):
        print(f"-- {built.pmo.slug}")
        timed = time_report(built.pmo, today, repeat)
        print_report_times(timed, repeat)
        builds[built.pmo.slug] = {step.name: step for step in timed.steps}
    print(flush=True)
    goals = []
    for step in ("figures", "PDF render", "total (build)"):
        figure, reference = builds[LARGE][step].median, builds[SMALL][step].median
        goals.append(
            Goal(
                f"report {step}, {_short(large.answers)} answers",
                ms(figure),
                f"small {ms(reference)}",
                f"{figure / reference:.1f}×",
                f"≤ {ms(REPORT_TARGET)}" if step == "total (build)" else "",
                figure <= REPORT_TARGET if step == "total (build)" else None,
            )
        )
    return goals


# Import -------------------------------------------------------------------------------


def import_benchmark(args, port: int) -> tuple[list[Goal], bool]:
    """A file of --import-rows stakeholders, and one of --import-reference-rows, each uploaded,
    previewed and confirmed over HTTP as the lead, each into a fresh PMO, then checked."""
    print(
        f"== Stakeholder import: a CSV file of {args.import_rows:,} rows, and of {args.import_reference_rows:,} "
        "for reference,\n   uploaded, previewed and confirmed over HTTP by the lead, each into a fresh PMO"
    )
    client = Client(port)
    client.sign_in(LEAD_EMAIL, LEAD_PASSWORD)
    lead = User.objects.get(email=LEAD_EMAIL)
    reference, reference_checks = scale_import.measure(client, lead, args.import_reference_rows)
    scale_import.print_import(reference, reference_checks)
    large, checks = scale_import.measure(client, lead, args.import_rows)
    scale_import.print_import(large, checks)
    print(flush=True)
    goal = Goal(
        f"stakeholder import, {_short(large.rows)} rows",
        f"{large.total:.1f} s",
        f"{_short(reference.rows)} rows {reference.total:.2f} s",
        f"{large.total / reference.total:.1f}× ({large.total / large.rows * 1000:.2f} ms a row)",
        f"≤ {IMPORT_TARGET:.0f} s",
        large.total <= IMPORT_TARGET,
    )
    return [goal], all(checks.values()) and all(reference_checks.values())


def explain_report_figures(pmo, today, top: int) -> None:
    """The report's figures gathered once more with their queries captured; every SELECT
    explained with ANALYZE, and the `top` slowest by PostgreSQL's execution time shown."""
    from datetime import timedelta

    from agenda.models import AgendaReport
    from agenda.reports import services as reports

    report = AgendaReport(pmo=pmo, frequency="monthly", period_start=today - timedelta(days=30))
    report.period_end = today + timedelta(days=1)
    with timezone.override(pmo.time_zone), CaptureQueriesContext(connection) as captured:
        reports.build_figures(report)
    print_explained(captured, f"-- the figures of {pmo.slug}'s report", top)
    print(flush=True)


def forget_queued_tasks() -> None:
    """The wake-ups queued by the run (detractor alerts, report deliveries) on the benchmark's
    own queue: its list and kombu's two sets of its exchange's bindings (named as the queue)."""
    import redis

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    redis.Redis.from_url(settings.REDIS_URL).delete(
        queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
    )


def _short(count: int) -> str:
    return f"{count / 1e6:.1f}M" if count >= 1e6 else f"{count / 1e3:.0f}k" if count >= 1e3 else str(count)


def print_goals(goals: list[Goal]) -> None:
    if not goals:
        return
    print("== Goals of issue 11, each against its reference measured in this run")
    print(f"{'goal':<34}{'figure':>10}  {'reference':<32}{'ratio':<25}{'target':<25}")
    for g in goals:
        verdict = "" if g.met is None else ("met" if g.met else "NOT MET")
        print(f"{g.name:<34}{g.figure:>10}  {g.reference:<32}{g.ratio:<25}{g.target:<25}{verdict}")
    print(f"(p95 of pages, medians of rounds; {timezone.now():%Y-%m-%d %H:%M} UTC)")
