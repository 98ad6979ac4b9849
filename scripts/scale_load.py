"""The server and the load of scripts/benchmark_scale.py: gunicorn, an HTTP client, percentiles.

The client is hand-written on the standard library (http.client and threads) rather than a
load tool from PyPI: each request carries its own survey link and answers, every status and
latency is kept for the check afterwards, and the benchmark then needs nothing beyond the
runtime requirements (`make benchmark-scale` installs no more than `make run`). gunicorn's
sync workers close the connection after each response, so a connection per request is what
any client would get.
"""

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

HOST = "127.0.0.1"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float
    headers: dict = field(default_factory=dict)


class Client:
    """One visitor: keeps its cookies, one connection per request."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, fields: dict) -> Reply:
        return self.request("POST", path, urlencode(fields).encode())

    def request(self, method: str, path: str, body: bytes | None = None, *, content_type: str = "") -> Reply:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        began = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - began
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return Reply(response.status, data, seconds, dict(response.headers))

    def csrf_token(self, path: str) -> str:
        """The form's CSRF token from the page at `path` (which sets the cookie too)."""
        reply = self.get(path)
        match = CSRF_FIELD.search(reply.body.decode())
        if reply.status != 200 or not match:
            raise RuntimeError(f"GET {path} answered {reply.status} without a form")
        return match.group(1)

    def sign_in(self, email: str, password: str) -> None:
        token = self.csrf_token("/accounts/login/")
        reply = self.post("/accounts/login/", {"username": email, "password": password, "csrfmiddlewaretoken": token})
        if reply.status != 302 or "sessionid" not in self.cookies:
            errors = re.findall(r"(?s)<div class=\"alert[^>]*>(.*?)</div>", reply.body.decode())
            raise RuntimeError(f"signing in as {email} answered {reply.status}: {' '.join(errors).strip()}")


@dataclass
class Phase:
    """One burst of requests over a few concurrent connections."""

    statuses: list[int]
    latencies: list[float]
    seconds: float  # wall time, first request to last reply
    cpu_seconds: float  # the gunicorn workers' CPU time over the phase
    # PostgreSQL's side over the phase (Server.database_meter): its backends' CPU time and
    # the WAL it wrote, the two costs that decide when PostgreSQL becomes the limit.
    database_cpu_seconds: float = 0.0
    wal_bytes: int = 0

    @property
    def throughput(self) -> float:
        return len(self.statuses) / self.seconds

    @property
    def ok(self) -> int:
        return sum(200 <= s < 300 for s in self.statuses)


def burst(client: Client, requests: list[tuple[str, dict]], connections: int, server: "Server") -> Phase:
    """POST each (path, fields) once, `connections` at a time; every status and latency is kept."""
    statuses: list[int] = [0] * len(requests)
    latencies: list[float] = [0.0] * len(requests)
    lock = threading.Lock()
    following = iter(range(len(requests)))

    def work():
        while True:
            with lock:
                index = next(following, None)
            if index is None:
                return
            path, fields = requests[index]
            reply = client.post(path, fields)
            statuses[index], latencies[index] = reply.status, reply.seconds

    threads = [threading.Thread(target=work) for _ in range(connections)]
    database_before = server.database_meter() if server.database_meter else (0.0, 0)
    cpu_before = server.worker_cpu_seconds()
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    cpu = server.worker_cpu_seconds() - cpu_before
    database_after = server.database_meter() if server.database_meter else (0.0, 0)
    return Phase(
        statuses,
        latencies,
        seconds,
        cpu,
        database_cpu_seconds=database_after[0] - database_before[0],
        wal_bytes=database_after[1] - database_before[1],
    )


class Server:
    """gunicorn with sync workers on a free loopback port, started and stopped by this process."""

    def __init__(self, root: Path, workers: int, env: dict, log: Path):
        self.root, self.workers, self.env, self.log = root, workers, env, log
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        # () -> (CPU seconds of the database's backends so far, WAL bytes so far); set by a
        # caller that has a database connection (scale_run.database_meter).
        self.database_meter = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "pmo5p.wsgi:application",
            f"--workers={self.workers}",
            "--worker-class=sync",
            f"--bind={HOST}:{self.port}",
            f"--chdir={self.root}",
            f"--error-logfile={self.log}",
            "--timeout=120",
        ]
        self.process = subprocess.Popen(command, env=self.env, cwd=self.root)  # noqa: S603 (our own command)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start:\n{self.log_tail()}")
            try:
                if Client(self.port).get("/accounts/login/").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within 60 s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_pids(self) -> list[int]:
        """The gunicorn master's children, from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def worker_cpu_seconds(self) -> float:
        """User and system CPU time of the workers so far (utime and stime of /proc/<pid>/stat)."""
        return cpu_seconds(self.worker_pids())

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def cpu_seconds(pids) -> float:
    """User and system CPU time so far of these processes of this machine (utime and stime of
    /proc/<pid>/stat); a process gone since is left out."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile, interpolated between the nearest ranks."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
