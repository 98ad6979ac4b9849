"""Fixtures that start real services for the tests whose point they are:
an SMTP sink (aiosmtpd) and a Celery worker on Redis.

``smtp_sink``
    An aiosmtpd ``Controller`` on 127.0.0.1 and a free port. Every message it
    accepts is kept, parsed, with its envelope (``sink.messages``). ``refuse_next(n)``
    answers the next n deliveries with a 451 temporary error (what was refused is in
    ``refused`` and ``refused_messages``); ``wait_for(count)`` waits until that many
    (matching) messages have arrived. ``hold_next(n)`` keeps the next n deliveries
    waiting for the reply to DATA (the whole message received, nothing answered), as
    a stalled server would, so that a crash test can kill the client there; a held
    delivery is never accepted (see ``HeldDelivery``). The Controller API never
    switches user (only aiosmtpd's command line does, unless ``-n``), so it runs as
    root or not alike.

``celery_worker``
    A real ``celery -A pmo5p worker`` subprocess on a Redis queue of this test's own,
    reading and writing the test database and sending mail to ``smtp_sink``. It
    requests ``transactional_db``: data must be committed for another process to see
    it. For the test's duration this process's Celery app sends to the same broker
    and queue instead of running tasks eagerly. The worker's log is in a file; its
    tail is added to the report of a failing test. ``kill()`` (SIGKILL to the whole
    worker), ``kill_pool_process()`` (SIGKILL to the prefork child, which is what
    ``reject_on_worker_lost`` is about) and ``start()`` serve crash tests;
    ``backlog()`` and ``wait_until_idle()`` look at the test's queue in Redis. The
    worker's environment takes ``celery_worker_env`` on top (a fixture, {} unless a
    test parametrizes it), for every start of the worker.

    A test that also uses ``live_server`` gets links in e-mails that point at it
    (the worker's PMO5P_SITE_URL and this process's SITE_URL are the live server's URL).

``celery_beat``
    A real ``celery -A pmo5p beat`` with the worker's environment, so sending to its
    queue, its schedule file in tmp_path. Not started until the test calls
    ``start(extra_env=...)`` (its data in place first); stopped at teardown.

``redis_server``
    A redis-server of the test's own on a free port, with no persistence: ``restart()``
    kills it (SIGKILL) and starts it again on the same port, empty, as a crashed or
    redeployed Redis comes back. Never the shared Redis of REDIS_URL. A test that uses
    it for the worker overrides ``celery_broker_url`` with its ``url``.

Both skip with a reason when their service is missing; CI's PMO5P_REQUIRE_ALL=1
turns that skip into a failure.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALHOST = "127.0.0.1"

# Things a failing test's report should show: (title, function returning the text).
_DIAGNOSTICS = pytest.StashKey[list[tuple[str, Callable[[], str]]]]()


def _add_diagnostic(request, title: str, describe: Callable[[], str]) -> None:
    request.node.stash.setdefault(_DIAGNOSTICS, []).append((title, describe))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for title, describe in item.stash.get(_DIAGNOSTICS, []):
            try:
                report.sections.append((title, describe()))
            except Exception as error:  # a diagnostic must never hide the failure itself
                report.sections.append((title, f"(could not describe: {error!r})"))
    return report


def wait_until(
    check: Callable[[], object], timeout: float = 15.0, interval: float = 0.1, message: str | Callable[[], str] = ""
):
    """Poll `check` until it returns something truthy, and return that; fail after `timeout` seconds
    with `message` (or what it returns, if it is a function: the state at the time)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text or check!r} (still not so after {timeout:g} s)")
        time.sleep(interval)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


# SMTP sink ----------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message the sink accepted: parsed, with its SMTP envelope."""

    message: EmailMessage
    mail_from: str
    recipients: list[str]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def body(self, subtype: str) -> str | None:
        """The text of the ``text/<subtype>`` part ("plain" or "html"), or None."""
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return None
        return part.get_content()

    @property
    def text(self) -> str | None:
        return self.body("plain")

    @property
    def html(self) -> str | None:
        return self.body("html")


@dataclass
class HeldDelivery:
    """A delivery the sink received in full (DATA) and never answered.

    ``outcome`` is "held" while the client waits for the reply; CLIENT_GONE when the
    client's connection went away first (aiosmtpd cancels the session, no reply is
    ever written); or the 4xx reply given on ``release_held()``. Never a 250.
    """

    message: EmailMessage
    recipients: list[str]
    outcome: str = "held"


class _SinkHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        held = self.sink._take_hold(envelope)
        if held is not None:
            return await self.sink._hold(held)
        return self.sink._deliver(envelope)


def _parse(envelope) -> EmailMessage:
    raw = envelope.original_content or envelope.content
    if isinstance(raw, str):
        raw = raw.encode()
    return email.message_from_bytes(raw, policy=policy.default)


class SmtpSink:
    host = LOCALHOST
    REFUSAL = "451 4.3.0 Temporary failure: the test sink refuses this delivery, try again later"
    CLIENT_GONE = "client went away before any reply"
    HELD_REPLY = "451 4.3.0 The test sink released a held delivery without accepting it"

    def __init__(self):
        self._arrived = threading.Condition()
        self._messages: list[ReceivedMail] = []
        self._refusals: list[str] = []  # the replies to give to the next deliveries
        self.refused: list[tuple[str, list[str]]] = []  # (mail_from, recipients) of each refusal
        self.refused_messages: list[EmailMessage] = []  # the refused messages themselves, parsed
        self._holds = 0  # how many of the next deliveries to hold
        self._released = threading.Event()
        self.held: list[HeldDelivery] = []
        self.controller = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        last_error = None
        for _ in range(5):  # the free port may be taken between finding and binding it
            port = _free_port()
            controller = Controller(_SinkHandler(self), hostname=self.host, port=port, ready_timeout=10)
            try:
                controller.start()
            except OSError as error:
                last_error = error
                with suppress(Exception):
                    controller.stop(no_assert=True)
                continue
            self.controller, self.port = controller, port
            return
        raise RuntimeError(f"Could not start the SMTP sink on {self.host}: {last_error}")

    def stop(self) -> None:
        self._released.set()  # no held session outlives the test
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse_next(self, count: int = 1, reply: str = REFUSAL) -> None:
        """Answer the next `count` deliveries (DATA) with `reply`: a 451 temporary error unless told
        otherwise (e.g. "550 5.1.1 No such mailbox" for a refusal for good)."""
        with self._arrived:
            self._refusals.extend([reply] * count)

    def hold_next(self, count: int = 1) -> None:
        """Keep the next `count` deliveries waiting for the reply to DATA, the message received in
        full and nothing answered, until the client goes away or ``release_held()``; never accepted."""
        with self._arrived:
            self._holds += count
            self._released.clear()

    def release_held(self) -> None:
        """Answer the deliveries still held with a 451 (HELD_REPLY); they are not kept."""
        self._released.set()

    def wait_for_held(self, count: int = 1, timeout: float = 15.0) -> list[HeldDelivery]:
        """Wait until `count` deliveries are held (or were); return them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.held) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"Expected {count} held deliveries within {timeout:g} s, {len(self.held)} came.\n"
                        f"{self.describe()}"
                    )
                self._arrived.wait(min(remaining, 0.5))
            return list(self.held)

    def _take_hold(self, envelope) -> HeldDelivery | None:
        with self._arrived:
            if not self._holds:
                return None
            self._holds -= 1
            held = HeldDelivery(_parse(envelope), list(envelope.rcpt_tos))
            self.held.append(held)
            self._arrived.notify_all()
            return held

    async def _hold(self, held: HeldDelivery) -> str:
        try:
            while not self._released.is_set():
                await asyncio.sleep(0.02)
        except asyncio.CancelledError:  # aiosmtpd cancels the session when the client's connection ends
            with self._arrived:
                held.outcome = self.CLIENT_GONE
                self._arrived.notify_all()
            raise
        with self._arrived:
            held.outcome = self.HELD_REPLY
            self._arrived.notify_all()
        return self.HELD_REPLY

    def _deliver(self, envelope) -> str:
        with self._arrived:
            if self._refusals:
                self.refused.append((envelope.mail_from, list(envelope.rcpt_tos)))
                self.refused_messages.append(_parse(envelope))
                return self._refusals.pop(0)
        message = _parse(envelope)
        with self._arrived:
            self._messages.append(ReceivedMail(message, envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 2.0.0 Message accepted for delivery"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._arrived:
            return list(self._messages)

    def clear(self) -> None:
        with self._arrived:
            self._messages.clear()
            self.refused.clear()
            self.refused_messages.clear()

    def wait_for(
        self, count: int, timeout: float = 15.0, match: Callable[[ReceivedMail], bool] | None = None
    ) -> list[ReceivedMail]:
        """Wait until `count` messages (those `match` accepts, if given) have arrived; return them.

        Fails the test with what did arrive if they do not come within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [m for m in self._messages if match is None or match(m)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"Expected {count} message(s) at the SMTP sink within {timeout:g} s, "
                        f"{len(found)} came.\n{self.describe()}"
                    )
                self._arrived.wait(min(remaining, 0.5))

    def describe(self) -> str:
        lines = [
            f"SMTP sink {self.url}: {len(self._messages)} accepted, {len(self.refused)} refused, {len(self.held)} held"
        ]
        lines += [f"  accepted: {m.recipients} {m.subject!r} {m.message['Message-ID']}" for m in self._messages]
        lines += [f"  refused: {recipients}" for _, recipients in self.refused]
        lines += [f"  held: {h.recipients} {h.message['Message-ID']} ({h.outcome})" for h in self.held]
        return "\n".join(lines)


@pytest.fixture
def smtp_sink(request) -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives (see SmtpSink)."""
    sink = SmtpSink()
    sink.start()
    _add_diagnostic(request, "smtp sink", sink.describe)
    try:
        yield sink
    finally:
        sink.stop()


# Celery worker ------------------------------------------------------------------------


def _redis_or_skip() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set: the worker test needs Redis as the Celery broker.")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at REDIS_URL={url} does not answer ({error}): the worker test needs it.")
    return url


def _database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database the tests use (the test database, once created)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = user + (f":{quote(password, safe='')}" if password else "")
    host = str(settings_dict.get("HOST") or "")
    netloc = (f"{auth}@" if auth else "") + (quote(host, safe="") if host.startswith("/") else host)
    if settings_dict.get("PORT"):
        netloc += f":{settings_dict['PORT']}"
    return f"postgres://{netloc}/{quote(settings_dict['NAME'], safe='')}"


class RedisServer:
    """A redis-server subprocess on 127.0.0.1 and a port of its own, keeping nothing on disk."""

    def __init__(self, log_dir: Path):
        self.port = _free_port()
        self.log = log_dir / "redis-server.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        import redis

        command = ["redis-server", "--bind", LOCALHOST, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 (our own command line)
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            wait_until(
                lambda: _pings(client), timeout=timeout, message=lambda: f"redis-server did not start: {self.tail()}"
            )
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        """Kill it and start it again on the same port: everything it held is gone."""
        self.kill()
        self.start()

    def tail(self, lines: int = 20) -> str:
        with suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(redis-server wrote nothing)"


def _pings(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_server(request, tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (see RedisServer)."""
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the Redis restart test starts its own.")
    server = RedisServer(tmp_path)
    server.start()
    _add_diagnostic(request, "redis-server log (tail)", server.tail)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def celery_broker_url() -> str:
    """The worker's broker: REDIS_URL's Redis, unless a test overrides this fixture."""
    return _redis_or_skip()


@contextmanager
def celery_app_on(broker_url: str, queue: str) -> Iterator[None]:
    """Make this process's Celery app send to `broker_url` and `queue` (not eagerly), then restore it."""
    from pmo5p.celery import app

    keys = ("task_always_eager", "broker_url", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(task_always_eager=False, broker_url=broker_url, task_default_queue=queue)
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections(app)


def _forget_connections(app) -> None:
    # The connection pool and the AMQP helper (queues, routes, producers) are built
    # once from the configuration; drop them so that the next send uses the new one.
    # kombu keeps pools per broker URL process-wide: close and forget those too, or
    # the next test on the same URL would get this one's closed pool.
    from kombu import pools

    app._pool = None
    app.__dict__.pop("amqp", None)
    pools.reset()


class CeleryWorker:
    """A `celery -A pmo5p worker` subprocess on one queue, in a process group of its own."""

    def __init__(self, *, queue: str, broker_url: str, env: dict[str, str], log_dir: Path, name: str = "worker"):
        self.queue = queue
        self.name = name  # tells apart two workers on one queue, in their node names and logs
        self.broker_url = broker_url
        self.env = env
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.hostname = ""
        self.logs: list[Path] = []

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(
        self,
        *,
        pool: str = "prefork",
        concurrency: int = 1,
        timeout: float = 45.0,
        extra_env: dict[str, str] | None = None,
    ):
        """Start a worker and wait until it consumes from the queue; each start has its own log and name."""
        if self.running:
            raise RuntimeError("The worker is running already: stop() or kill() it first.")
        number = len(self.logs) + 1
        self.hostname = f"{self.queue}-{self.name}-{number}@localhost"
        log = self.log_dir / f"celery-{self.name}-{number}.log"
        self.logs.append(log)
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pmo5p",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            self.queue,
            f"--hostname={self.hostname}",
            "--loglevel=INFO",
        ]
        with log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 (our own command line)
                command,
                cwd=ROOT,
                env={**self.env, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() and kill() reach the pool too
            )
        self._wait_until_ready(log, timeout)
        return self

    def _wait_until_ready(self, log: Path, timeout: float) -> None:
        ready = f"{self.hostname} ready.".encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready in log.read_bytes():
                return
            if self.process.poll() is not None:
                pytest.fail(
                    f"The Celery worker exited with {self.process.returncode} before it was ready.\n{self.tail()}"
                )
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"The Celery worker was not ready within {timeout:g} s.\n{self.tail()}")

    def _signal_group(self, sig: int) -> bool:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def stop(self, timeout: float = 15.0) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL to whatever of the group is left after `timeout`."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(10)
        self._signal_group(signal.SIGKILL)  # a pool process outliving its parent

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once, as a crash would."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(10)

    def pool_pids(self) -> list[int]:
        """The worker's child processes (the prefork pool)."""
        if not self.running:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def kill_pool_process(self) -> list[int]:
        """SIGKILL the prefork child(ren): the main process sees the worker lost and (with
        reject_on_worker_lost) puts the task back on the queue."""
        pids = self.pool_pids()
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def log_text(self) -> str:
        parts = []
        for log in self.logs:
            with suppress(OSError):
                parts.append(f"--- {log.name}\n{log.read_text(errors='replace')}")
        return "\n".join(parts)

    def tail(self, lines: int = 60) -> str:
        text = self.log_text().splitlines()
        return "\n".join(text[-lines:]) or "(the worker wrote nothing)"

    def _redis(self):
        import redis

        return redis.Redis.from_url(self.broker_url, socket_connect_timeout=2, socket_timeout=5)

    def backlog(self) -> dict[str, int]:
        """This test's messages in Redis: "waiting" in the queue, and "unacked", delivered to a worker
        and not acknowledged (running, reserved, waiting for their ETA, or lost with a killed worker)."""
        client = self._redis()
        try:
            waiting = sum(client.llen(key) for key in client.scan_iter(match=f"{self.queue}*", _type="list"))
            unacked = client.hlen(unacked_keys(self.queue)["unacked_key"])
        finally:
            client.close()
        return {"waiting": waiting, "unacked": unacked}

    def unacked_ages(self) -> list[float]:
        """Seconds since each unacknowledged message of this queue was delivered to a worker; the
        broker hands one back to the queue once it is older than the visibility timeout."""
        client = self._redis()
        try:
            delivered = client.zrange(unacked_keys(self.queue)["unacked_index_key"], 0, -1, withscores=True)
        finally:
            client.close()
        now = time.time()
        return [now - score for _, score in delivered]

    def wait_until_idle(self, timeout: float = 20.0) -> None:
        """Wait until nothing of this test is queued, running or due for a retry. With acks_late a
        task is acknowledged after it ran, and a task it enqueues (a retry too) is in the queue
        before that: so an empty queue and no unacknowledged message mean all is done."""
        wait_until(
            lambda: self.backlog() == {"waiting": 0, "unacked": 0},
            timeout=timeout,
            message=lambda: f"The worker still has work: {self.backlog()}\n{self.tail(20)}",
        )

    def purge(self) -> None:
        """Remove this test's queue from Redis: waiting and unacknowledged messages, bindings, mailboxes."""
        import redis

        client = redis.Redis.from_url(self.broker_url, socket_connect_timeout=2, socket_timeout=5)
        try:
            for key in client.scan_iter(match=f"*{self.queue}*", count=500):
                client.delete(key)
            for key in client.scan_iter(match="_kombu.binding.*", count=500):
                for member in client.smembers(key):
                    if self.queue.encode() in member:
                        client.srem(key, member)
            for tag, payload in client.hscan_iter("unacked", count=500):
                with suppress(ValueError, TypeError, IndexError):
                    if json.loads(payload)[-1] == self.queue:
                        client.hdel("unacked", tag)
                        client.zrem("unacked_index", tag)
        finally:
            client.close()


def unacked_keys(queue: str) -> dict[str, str]:
    """The Redis keys where the workers on `queue` keep their unacknowledged messages (tests/settings.py
    gives each test queue its own, so that a worker with a short visibility timeout only ever hands
    back its own test's messages, never those another test's worker is running at the time)."""
    return {
        "unacked_key": f"{queue}.unacked",
        "unacked_index_key": f"{queue}.unacked_index",
        "unacked_mutex_key": f"{queue}.unacked_mutex",
    }


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Environment for the worker on top of the fixture's own; parametrize it to change it, e.g.
    ``@pytest.mark.parametrize("celery_worker_env", [{"PMO5P_TASK_VISIBILITY_TIMEOUT": "3"}])``."""
    return {}


@pytest.fixture
def celery_worker(
    request, transactional_db, smtp_sink, tmp_path, celery_worker_env, celery_broker_url
) -> Iterator[CeleryWorker]:
    """A running Celery worker on a queue of this test's own (see CeleryWorker and the module's doc)."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            f"The worker test needs the test database in PostgreSQL (DATABASE_URL), not {connection.vendor}: "
            "a worker process cannot see an SQLite test database."
        )
    redis_url = celery_broker_url
    queue = f"pmo5p-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "PMO5P_SURVEY_TOKEN_KEY": settings.SURVEY_TOKEN_KEY,
        "PMO5P_TEST_CELERY_BROKER": redis_url,
        "PMO5P_TEST_CELERY_QUEUE": queue,
        "PMO5P_TEST_EMAIL_URL": smtp_sink.url,
        "EMAIL_TIMEOUT": "10",
    }
    if "live_server" in request.fixturenames:
        env["PMO5P_SITE_URL"] = request.getfixturevalue("live_server").url
        # E-mails are rendered where they are queued (the outbox), often in this process.
        request.getfixturevalue("settings").SITE_URL = env["PMO5P_SITE_URL"]
    env.update(celery_worker_env)
    worker = CeleryWorker(queue=queue, broker_url=redis_url, env=env, log_dir=tmp_path)
    _add_diagnostic(request, "celery worker log (tail)", worker.tail)
    with celery_app_on(redis_url, queue):
        try:
            worker.start()
            yield worker
        finally:
            worker.stop()
            worker.purge()


# Celery beat --------------------------------------------------------------------------


class CeleryBeat:
    """A `celery -A pmo5p beat` subprocess, in a process group of its own, with a schedule file of its own."""

    def __init__(self, *, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.log = log_dir / "celery-beat.log"
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, extra_env: dict[str, str] | None = None, timeout: float = 30.0) -> CeleryBeat:
        if self.running:
            raise RuntimeError("Beat is running already.")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pmo5p",
            "beat",
            f"--schedule={self.log_dir / 'celerybeat-schedule'}",
            "--loglevel=INFO",
        ]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 (our own command line)
                command,
                cwd=ROOT,
                env={**self.env, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while b"beat: Starting..." not in self.log.read_bytes():
            if self.process.poll() is not None:
                pytest.fail(f"Celery beat exited with {self.process.returncode} before it started.\n{self.tail()}")
            if time.monotonic() >= deadline:
                self.stop()
                pytest.fail(f"Celery beat did not start within {timeout:g} s.\n{self.tail()}")
            time.sleep(0.1)
        return self

    def sent(self, entry: str) -> int:
        """How many times beat has sent the task of this CELERY_BEAT_SCHEDULE entry so far."""
        return self.log.read_text(errors="replace").count(f"Sending due task {entry} ")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(10)

    def tail(self, lines: int = 40) -> str:
        with suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(beat wrote nothing)"


@pytest.fixture
def celery_beat(request, celery_worker, tmp_path) -> Iterator[CeleryBeat]:
    """Celery beat with the worker's environment (broker, queue, database), not started yet."""
    beat = CeleryBeat(env=celery_worker.env, log_dir=tmp_path)
    _add_diagnostic(request, "celery beat log (tail)", beat.tail)
    try:
        yield beat
    finally:
        beat.stop()
