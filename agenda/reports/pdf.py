"""Drawing the agenda report's PDF with WeasyPrint, fenced in.

The HTML holds what people typed (escaped), and WeasyPrint fetches every URL a
document names. So:
- the build runs in a child process (`python -m agenda.reports.pdf`) under a memory limit
  (RLIMIT_AS) and a wall-clock timeout, PMO5P_PDF_MEMORY_MB and
  PMO5P_PDF_TIMEOUT_SECONDS: a document that needs more fails that report only,
  and the worker that asked for it goes on;
- its URL fetcher serves the app's own static files and nothing else: no network,
  no file:// path, no data: URI.

A subprocess (a fresh interpreter) rather than a fork or multiprocessing: it shares
nothing with the Celery worker or web process that asks (no database connection, no
lock held by another thread, no pool machinery), and its limits cannot reach them.
"""

import logging
import mimetypes
import os
import posixpath
import resource
import signal
import subprocess
import sys
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join

logger = logging.getLogger(__name__)

# The document's base URL. Relative URLs in the PDF template resolve under it, and the
# fetcher maps it to the static files; .invalid is a reserved name that never resolves.
STATIC_BASE = "https://static.pmo5p.invalid/"

# The child's exit code when it ran out of memory (Python's MemoryError).
_OUT_OF_MEMORY = 3


class PdfBuildError(Exception):
    """The PDF could not be built. `final`: the same document would fail again, so the
    task gives the report up at once instead of retrying it."""

    final = False


class PdfLimitExceeded(PdfBuildError):
    """The build went over its time or memory limit: the document is too big (or hostile)."""

    final = True


# The fetcher ------------------------------------------------------------------------------


def static_file(url: str) -> str:
    """The file on disk of one of the app's static files named by `url`, else ValueError.

    Looked up like `collectstatic` and the web pages do: Django's staticfiles finders
    (the project's static/ and the apps'), then STATIC_ROOT (hashed names).
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
    found = finders.find(name)
    if found is None and settings.STATIC_ROOT:
        try:
            found = safe_join(settings.STATIC_ROOT, name)
        except SuspiciousFileOperation:
            found = None
    if not found or not os.path.isfile(found):
        raise ValueError(f"Refused: {url[:200]!r} is not one of the app's static files.")
    return found


def url_fetcher():
    """A WeasyPrint URL fetcher that serves static_file() and refuses everything else.

    It subclasses WeasyPrint's own fetcher only for its interface: fetch() is replaced
    whole, so urllib's opener (http, ftp, file, data) is never reached.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            # data: URIs are refused with the rest: no template needs one, and they could
            # only ever repeat bytes the document holds already.
            path = static_file(url)
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            with open(path, "rb") as file:
                return URLFetcherResponse(url, body=file.read(), headers={"Content-Type": content_type})

    return StaticFilesFetcher(allowed_protocols=(urlsplit(STATIC_BASE).scheme,), allow_redirects=False)


# The parent's side ----------------------------------------------------------------------


def build(document: str) -> bytes:
    """The PDF of an HTML document, drawn in a child process within the limits of the settings."""
    timeout = settings.PDF_TIMEOUT_SECONDS
    memory_mb = settings.PDF_MEMORY_MB
    too_long = f"the PDF took longer than {timeout} s to build (PMO5P_PDF_TIMEOUT_SECONDS)"
    try:
        child = subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "agenda.reports.pdf", str(memory_mb), str(timeout)],
            input=document.encode(),
            capture_output=True,
            timeout=timeout,
            cwd=settings.BASE_DIR,  # DJANGO_SETTINGS_MODULE comes with the environment
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise PdfLimitExceeded(too_long) from None
    said = child.stderr.decode(errors="replace").strip()
    if child.returncode == 0 and child.stdout.startswith(b"%PDF"):
        if said:
            # WeasyPrint's warnings (a refused URL among them); repr() keeps them on one line.
            logger.warning("The PDF build said: %r", said[-2000:])
        return child.stdout
    if child.returncode == _OUT_OF_MEMORY:
        raise PdfLimitExceeded(f"the PDF needed more than {memory_mb} MB of memory to build (PMO5P_PDF_MEMORY_MB)")
    if child.returncode < 0:
        # C code (Pango, GLib) that cannot allocate aborts or crashes rather than raising:
        # under RLIMIT_AS that is the likely cause; so is the kernel's OOM killer.
        try:
            name = signal.Signals(-child.returncode).name
        except ValueError:
            name = f"signal {-child.returncode}"
        if name == "SIGXCPU":
            raise PdfLimitExceeded(too_long)
        raise PdfLimitExceeded(
            f"the PDF build was stopped by {name}, most likely out of its {memory_mb} MB of memory (PMO5P_PDF_MEMORY_MB)"
        )
    last_line = said.splitlines()[-1] if said else f"exit code {child.returncode}"
    raise PdfBuildError(f"the PDF could not be built: {last_line[:500]}")


# The child's side -----------------------------------------------------------------------


def _child(memory_mb: int, timeout: int) -> None:
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # only the PDF goes to stdout
    document = sys.stdin.buffer.read().decode()

    import django

    django.setup()
    from weasyprint import HTML

    fetcher = url_fetcher()
    limit = memory_mb * 1024 * 1024
    # The whole address space, imports included; and CPU seconds, in case the parent is
    # gone and its timeout with it.
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (timeout + 1, timeout + 1))
    try:
        pdf = HTML(string=document, base_url=STATIC_BASE, url_fetcher=fetcher).write_pdf()
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)  # no memory left to report anything else
    out.write(pdf)
    out.flush()


if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]))
