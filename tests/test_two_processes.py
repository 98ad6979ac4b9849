"""The drill of issue #11: two web processes (gunicorn) and two Celery workers on one machine,
sharing the test database in PostgreSQL and a Redis of the test's own, serve one named
survey. Every link is answered through both web processes at once: the database's unique
constraint keeps one response per invitation and the loser gets the "already answered"
page (stakeholders/surveys/public_views.py); the outbox's rows make each e-mail, the
detractor alerts among them (composed by the workers once the answers commit), arrive
exactly once whichever worker sends it (pmo5p/outbox.py).
The web servers are those of the scale benchmark (scripts/scale_load.py)."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.contenttypes.models import ContentType

from pmo5p.domain import DETRACTOR_MAX
from pmo5p.models import OutgoingEmail, Role
from pmo5p.tasks import send_email
from scripts.scale_load import Client, Server
from stakeholders.models import Response
from stakeholders.surveys import emails as survey_emails
from tests.factories import MembershipFactory, PmoFactory, StakeholderFactory
from tests.service_fixtures import ROOT, CeleryWorker, wait_until
from tests.survey_helpers import answer_data, open_survey

pytestmark = pytest.mark.django_db(transaction=True)

STAKEHOLDERS = 40
LEAD = "lead@twin.example"
Status = OutgoingEmail.Status


@pytest.fixture
def celery_broker_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture
def second_worker(celery_worker, tmp_path):
    """Another worker on the first one's queue, database and SMTP sink: the two compete for each task."""
    worker = CeleryWorker(
        queue=celery_worker.queue,
        broker_url=celery_worker.broker_url,
        env=celery_worker.env,
        log_dir=tmp_path,
        name="second",
    )
    try:
        yield worker.start()
    finally:
        worker.stop()


@pytest.fixture
def web_servers(celery_worker, tmp_path):
    """Two gunicorn processes of one sync worker each (the machine has two cores), with the workers'
    environment: the test database, the test's broker and queue. Started side by side."""
    # Every request comes from 127.0.0.1: the survey rate limit must not be what answers.
    env = {**celery_worker.env, "PMO5P_SURVEY_RATE_LIMIT": "100000/m"}
    servers = [Server(ROOT, 1, env, tmp_path / f"gunicorn-{n}.log") for n in (1, 2)]
    errors: list[BaseException] = []

    def start(server):
        try:
            server.start()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == [], errors
        yield servers
    finally:
        for server in servers:
            server.stop()


def nps_of(number: int) -> str:
    """Every fourth stakeholder a detractor, the rest passives and promoters."""
    return str((number % 4) * 3)  # 0, 3, 6, 9: three of them 0–6


def post_through_both(servers, paths, data_of) -> dict[str, list[tuple[int, str]]]:
    """Each link's form fetched through each server (the CSRF cookie and token of that visitor),
    then POSTed through both at the same moment; the (status, page) of each reply, per link."""
    prepared = []
    for number, path in enumerate(paths):
        for server in servers:
            client = Client(server.port)
            token = client.csrf_token(path)
            prepared.append((path, client, {**data_of(number), "csrfmiddlewaretoken": token}))
    barriers = {path: threading.Barrier(len(servers), timeout=30) for path in paths}
    replies: dict[str, list[tuple[int, str]]] = {path: [] for path in paths}
    lock = threading.Lock()

    def post(path, client, fields):
        barriers[path].wait()
        reply = client.post(path, fields)
        with lock:
            replies[path].append((reply.status, reply.body.decode()))

    # The two POSTs of a link are next to each other in the list and the pool's size is even, so
    # both of a pair are always running together and each barrier is met.
    with ThreadPoolExecutor(max_workers=4 * len(servers)) as pool:
        for future in [pool.submit(post, *item) for item in prepared]:
            future.result()
    return replies


@pytest.mark.services
def test_two_web_processes_and_two_workers_lose_and_repeat_nothing(
    celery_worker, second_worker, web_servers, smtp_sink
):
    pmo = PmoFactory(name="Twin PMO", slug="twin")
    MembershipFactory(pmo=pmo, role=Role.LEAD, user__email=LEAD)
    people = [StakeholderFactory(pmo=pmo, email=f"stakeholder{n}@corp.example") for n in range(STAKEHOLDERS)]
    survey, invitations = open_survey(pmo, people)
    paths = [invitation.path for invitation in invitations]

    replies = post_through_both(web_servers, paths, lambda n: answer_data(survey, rating="4", nps=nps_of(n)))

    # One answer and one "already answered" per link, whichever process won.
    for path, outcome in replies.items():
        assert sorted(status for status, _ in outcome) == [200, 410], path
        (refused,) = [page for status, page in outcome if status == 410]
        assert "You have already answered this survey" in refused.replace("&#x27;", "'")
    responses = Response.objects.filter(survey=survey)
    assert Counter(responses.values_list("invitation_id", flat=True)) == Counter(i.pk for i in invitations)
    detractors = set(responses.filter(nps__lte=DETRACTOR_MAX).values_list("pk", flat=True))
    assert len(detractors) == STAKEHOLDERS // 4 * 3

    # The workers compose the detractors' alerts once the answers commit (a wake-up each).
    wait_until(
        lambda: not responses.filter(survey_emails.ALERT_DUE).exists(),
        timeout=30,
        message=lambda: f"Alerts still due\n{celery_worker.tail(15)}\n{second_worker.tail(15)}",
    )

    # Each row dispatched twice more, as a sweep racing the first dispatch would: the two workers
    # contend for the same rows. The outbox drains: every row sent, each once, none twice on the wire.
    rows = OutgoingEmail.objects.all()
    for pk in list(rows.values_list("pk", flat=True)) * 2:
        send_email.delay(pk)
    wait_until(
        lambda: not rows.exclude(status=Status.SENT).exists() and len(smtp_sink.messages) >= rows.count(),
        timeout=30,
        message=lambda: (
            f"{Counter(rows.values_list('status', flat=True))}, {len(smtp_sink.messages)} received\n"
            f"{celery_worker.tail(15)}\n{second_worker.tail(15)}"
        ),
    )
    time.sleep(1)  # a duplicate would come now
    received = Counter(str(mail.message["Message-ID"]) for mail in smtp_sink.messages)
    assert received == Counter(rows.values_list("message_id", flat=True))
    alerts = rows.filter(kind=OutgoingEmail.Kind.DETRACTOR_ALERT)
    assert alerts.filter(source_type=ContentType.objects.get_for_model(Response)).count() == len(detractors)
    assert set(alerts.values_list("source_id", flat=True)) == detractors
    assert {address for row in alerts for address in row.to} == {LEAD}

    # Both workers did some of it: the drill is of two, not of one with a spectator.
    sent_by = [worker.log_text().count("succeeded") for worker in (celery_worker, second_worker)]
    assert all(sent_by), sent_by
