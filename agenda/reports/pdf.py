"""Drawing the agenda report's PDF with WeasyPrint, fenced in.

The HTML holds what people typed (escaped), and WeasyPrint fetches every URL a
document names. So:
- each document is drawn in a process of its own, under a memory limit (RLIMIT_AS) and a
  wall-clock timeout, PMO5P_PDF_MEMORY_MB and PMO5P_PDF_TIMEOUT_SECONDS: a document that
  needs more fails that report only, and the worker that asked for it goes on;
- its URL fetcher serves the app's own static files and nothing else: no network,
  no file:// path, no data: URI.

Why a warm renderer: a fresh interpreter per document spent about 1.2 s before drawing
anything (0.7 s of django.setup(), 0.5 s of importing WeasyPrint and loading Pango), which
was nearly all of a report's PDF at any size. So each process that builds reports starts,
on its first PDF, one renderer: a fresh interpreter (`python -m agenda.reports.pdf`) that
imports WeasyPrint, draws one empty page to load the fonts, and then, for each document,
forks a child that sets the limits and draws it. The renderer has no Django, no database
connection and one thread, so a child shares nothing with the Celery worker or web process
that asked, and its limits cannot reach them; each document is drawn in a fresh copy of
the warm renderer, never after another document in the same process. The static files the
fetcher may serve are named by the parent (static_roots), so the renderer needs no Django.

Written here rather than with multiprocessing's "forkserver" context, which is the same
idea: its server inherits the parent's whole environment (the secret key, the database's
URL), and each of its children re-imports the parent's main module (Celery's, gunicorn's,
pytest's) before it runs; this renderer starts with a scrubbed environment and forks
children that import nothing more.
"""

import contextlib
import json
import logging
import mimetypes
import os
import posixpath
import resource
import select
import signal
import subprocess
import sys
import tempfile
import threading
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

# The document's base URL. Relative URLs in the PDF template resolve under it, and the
# fetcher maps it to the static files; .invalid is a reserved name that never resolves.
STATIC_BASE = "https://static.pmo5p.invalid/"

# The child's exit code when it ran out of memory (Python's MemoryError).
_OUT_OF_MEMORY = 3
# Seconds the renderer may take to start (import WeasyPrint, load the fonts) on a busy machine.
_START_TIMEOUT = 60
# A draw that fails with its address space this close to its limit ran out of memory.
_MEMORY_MARGIN = 64 * 1024 * 1024


class PdfBuildError(Exception):
    """The PDF could not be built. `final`: the same document would fail again, so the
    task gives the report up at once instead of retrying it."""

    final = False


class PdfLimitExceeded(PdfBuildError):
    """The build went over its time or memory limit: the document is too big (or hostile)."""

    final = True


# The fetcher ------------------------------------------------------------------------------


def static_roots() -> list[tuple[str, str]]:
    """Where the app's static files are, as (URL prefix, directory), in the order Django's
    staticfiles finders look (the project's static/, then the apps'), then STATIC_ROOT
    (hashed names). Read in the parent, which has Django, and handed to the renderer."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    roots = []
    for finder in finders.get_finders():
        if isinstance(finder, finders.FileSystemFinder):
            roots += [(prefix or "", str(root)) for prefix, root in finder.locations]
        elif isinstance(finder, finders.AppDirectoriesFinder):
            roots += [("", storage.location) for storage in finder.storages.values()]
    if settings.STATIC_ROOT:
        roots.append(("", str(settings.STATIC_ROOT)))
    return roots


def _inside(root: str, name: str) -> str | None:
    """root/name if it stays under root (as Django's safe_join checks), else None."""
    root = os.path.abspath(root)
    path = os.path.abspath(os.path.join(root, name))
    return path if path.startswith(root + os.sep) else None


def static_file(url: str, roots=None) -> str:
    """The file on disk of one of the app's static files named by `url`, else ValueError.

    Looked up like `collectstatic` and the web pages do, in `roots` (static_roots() when not given).
    """
    base = urlsplit(STATIC_BASE)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        raise ValueError(f"Refused: {url[:200]!r} is not one of the app's static files.")
    name = unquote(parts.path).removeprefix("/")
    # WeasyPrint joins relative URLs, removing dot segments, but %2e%2e and %2f come out of
    # unquote() as ".." and "/": no dot segment, root, backslash or NUL may be left in the name.
    if (
        not name
        or "\\" in name
        or "\0" in name
        or posixpath.isabs(name)
        or posixpath.normpath(name) != name
        or name.startswith("..")
    ):
        raise ValueError(f"Refused: {url[:200]!r} is not a plain static file name.")
    for prefix, root in static_roots() if roots is None else roots:
        relative = name
        if prefix:
            if not name.startswith(prefix.rstrip("/") + "/"):
                continue
            relative = name[len(prefix.rstrip("/")) + 1 :]
        path = _inside(root, relative)
        if path and os.path.isfile(path):
            return path
    raise ValueError(f"Refused: {url[:200]!r} is not one of the app's static files.")


def url_fetcher(roots=None):
    """A WeasyPrint URL fetcher that serves static_file() and refuses everything else.

    It subclasses WeasyPrint's own fetcher only for its interface: fetch() is replaced
    whole, so urllib's opener (http, ftp, file, data) is never reached.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            # data: URIs are refused with the rest: no template needs one, and they could
            # only ever repeat bytes the document holds already.
            path = static_file(url, roots)
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            with open(path, "rb") as file:
                return URLFetcherResponse(url, body=file.read(), headers={"Content-Type": content_type})

    return StaticFilesFetcher(allowed_protocols=(urlsplit(STATIC_BASE).scheme,), allow_redirects=False)


# The parent's side ----------------------------------------------------------------------


class _Renderer:
    """This process's renderer: started on the first PDF, again after a failure or a fork."""

    def __init__(self):
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.owner = 0  # the pid that started it: a forked copy of this process starts its own
        self.ready = False

    def launch(self) -> None:
        """Start the renderer if this process has none, without waiting for it. Under the lock."""
        from django.conf import settings

        if self.process is not None:
            if self.owner == os.getpid():
                return
            # Forked from the process that started it: that one's renderer, left to it. Our
            # copies of its pipes are closed, so that it sees the end of its input when its owner goes.
            self._close(self.process)
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "agenda.reports.pdf"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=settings.BASE_DIR,
            env=_renderer_environment(),
            start_new_session=True,  # its own process group: stopped with its children
        )
        self.owner, self.ready = os.getpid(), False

    def wait_ready(self) -> None:
        if self.ready:
            return
        try:
            header, said = _read_frame(self.process, _START_TIMEOUT)
        except PdfLimitExceeded:
            raise PdfBuildError(f"the PDF renderer did not start within {_START_TIMEOUT} s") from None
        if header.get("status") != "ready":
            raise PdfBuildError(f"the PDF renderer did not start: {said.decode(errors='replace')[-500:]}")
        self.ready = True

    def render(self, document: bytes, memory_mb: int, timeout: int) -> tuple[dict, bytes]:
        request = {"memory_mb": memory_mb, "timeout": timeout, "roots": static_roots()}
        with self.lock:
            self.launch()
            try:
                self.wait_ready()
                return self._exchange(request, document, timeout)
            except PdfLimitExceeded:
                self.stop()
                raise
            except (PdfBuildError, OSError):
                # A renderer that died since the last document (killed, out of memory): once
                # more with a new one. A failure of the new one is the document's.
                self.stop()
                self.launch()
                try:
                    self.wait_ready()
                    return self._exchange(request, document, timeout)
                except (PdfBuildError, OSError):
                    self.stop()
                    raise

    def _exchange(self, request: dict, document: bytes, timeout: int) -> tuple[dict, bytes]:
        _write_frame(self.process.stdin, request, document)
        # The renderer stops a child at the timeout itself; this is for a renderer that hangs.
        return _read_frame(self.process, timeout + 10)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and self.owner == os.getpid():
            self._kill(process)

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        _Renderer._close(process)

    @staticmethod
    def _close(process: subprocess.Popen) -> None:
        for stream in (process.stdin, process.stdout):
            # Closing flushes what a dead renderer never read: a broken pipe, of no interest.
            with contextlib.suppress(OSError):
                stream.close()


_renderer = _Renderer()

# What the renderer may see of the environment: where Python, its packages, the fonts and
# the locale are. Not the secret key, the database's or Redis's URL: it needs none of them.
_RENDERER_VARIABLES = {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
_RENDERER_PREFIXES = ("LC_", "XDG_", "FONTCONFIG_")


def _renderer_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name in _RENDERER_VARIABLES or name.startswith(_RENDERER_PREFIXES)
    }


def prepare() -> None:
    """Start this process's renderer, if it has none, without waiting for it: it loads while
    the caller gathers the report's figures. A renderer that cannot start fails at build()."""
    if _renderer.lock.acquire(blocking=False):
        try:
            _renderer.launch()
        except OSError:
            pass
        finally:
            _renderer.lock.release()


def stop_renderer() -> None:
    """Stop this process's renderer (the next PDF starts another)."""
    with _renderer.lock:
        _renderer.stop()


def _write_frame(stream, header: dict, payload: bytes) -> None:
    stream.write(json.dumps({**header, "length": len(payload)}).encode() + b"\n" + payload)
    stream.flush()


def _read_frame(process: subprocess.Popen, timeout: float) -> tuple[dict, bytes]:
    """A header line and its payload from the renderer, within `timeout` seconds."""
    stream = process.stdout
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise PdfLimitExceeded(f"the PDF renderer did not answer within {timeout} s")
    line = stream.readline()
    if not line:
        raise PdfBuildError(f"the PDF renderer stopped (exit code {process.wait()})")
    header = json.loads(line)
    return header, stream.read(header["length"])


def build(document: str) -> bytes:
    """The PDF of an HTML document, drawn in a process of its own within the limits of the settings."""
    from django.conf import settings

    timeout = settings.PDF_TIMEOUT_SECONDS
    memory_mb = settings.PDF_MEMORY_MB
    too_long = f"the PDF took longer than {timeout} s to build (PMO5P_PDF_TIMEOUT_SECONDS)"
    try:
        header, payload = _renderer.render(document.encode(), memory_mb, timeout)
    except PdfLimitExceeded:
        raise PdfLimitExceeded(too_long) from None
    status, said = header["status"], header.get("said", "").strip()
    if status == "ok" and payload.startswith(b"%PDF"):
        if said:
            # WeasyPrint's warnings (a refused URL among them); repr() keeps them on one line.
            logger.warning("The PDF build said: %r", said[-2000:])
        return payload
    if status == "timeout":
        raise PdfLimitExceeded(too_long)
    code = header.get("code", 1)
    if code == _OUT_OF_MEMORY:
        raise PdfLimitExceeded(f"the PDF needed more than {memory_mb} MB of memory to build (PMO5P_PDF_MEMORY_MB)")
    if code < 0:
        # C code (Pango, GLib) that cannot allocate aborts or crashes rather than raising:
        # under RLIMIT_AS that is the likely cause; so is the kernel's OOM killer.
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGXCPU":
            raise PdfLimitExceeded(too_long)
        raise PdfLimitExceeded(
            f"the PDF build was stopped by {name}, most likely out of its {memory_mb} MB of memory (PMO5P_PDF_MEMORY_MB)"
        )
    last_line = said.splitlines()[-1] if said else f"exit code {code}"
    raise PdfBuildError(f"the PDF could not be built: {last_line[:500]}")


# The renderer's side ----------------------------------------------------------------------


def _draw(document: str, memory_mb: int, timeout: int, roots, out) -> None:
    """In the forked child: set the limits, draw, write the PDF to `out`, exit."""
    limit = memory_mb * 1024 * 1024
    try:
        from weasyprint import HTML

        # The whole address space, the renderer's imports included; and CPU seconds, in case
        # the renderer is gone and its timeout with it.
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (timeout + 1, timeout + 1))
        if _address_space() > limit - _MEMORY_MARGIN:
            # No room to draw: fonts would fail to load and come out as blank boxes.
            os._exit(_OUT_OF_MEMORY)
        out.write(HTML(string=document, base_url=STATIC_BASE, url_fetcher=url_fetcher(roots)).write_pdf())
        out.flush()
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)  # no memory left to report anything else
    except BaseException:  # noqa: BLE001 - reported to the parent through stderr
        # C code (cffi, Pango) that cannot allocate may fail with another error (a SystemError
        # "error return without exception set"): near its limit, that is what it ran out of.
        if _address_space() > limit - _MEMORY_MARGIN:
            os._exit(_OUT_OF_MEMORY)
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)


def _address_space() -> int:
    """This process's address space in bytes (VmSize), or 0 if unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _render_one(request: dict, document: bytes) -> tuple[dict, bytes]:
    """Fork a child to draw one document; wait for it, at most the timeout."""
    with tempfile.TemporaryFile() as pdf_file, tempfile.TemporaryFile() as said_file:
        pid = os.fork()
        if pid == 0:
            os.dup2(said_file.fileno(), 2)
            _draw(document.decode(), request["memory_mb"], request["timeout"], request["roots"], pdf_file)
        pidfd = os.pidfd_open(pid)
        try:
            finished, _, _ = select.select([pidfd], [], [], request["timeout"])
        finally:
            os.close(pidfd)
        if not finished:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        said_file.seek(0)
        said = said_file.read().decode(errors="replace")[-5000:]
        if not finished:
            return {"status": "timeout", "said": said}, b""
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            return {"status": "failed", "code": code, "said": said}, b""
        pdf_file.seek(0)
        return {"status": "ok", "said": said}, pdf_file.read()


def _serve() -> None:
    """The renderer: warm WeasyPrint once, then one forked child per document read from stdin."""
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # only frames go to stdout
    # WeasyPrint's warnings (a refused URL) go to the child's stderr, which the parent logs.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from weasyprint import HTML

        HTML(string="<p>.</p>").write_pdf()  # loads Pango and the fonts once, for every child
    except Exception as error:  # noqa: BLE001 - reported to the parent
        _write_frame(replies, {"status": "broken"}, repr(error).encode())
        return
    _write_frame(replies, {"status": "ready"}, b"")
    while line := requests.readline():
        request = json.loads(line)
        document = requests.read(request["length"])
        header, payload = _render_one(request, document)
        _write_frame(replies, header, payload)


if __name__ == "__main__":
    _serve()
