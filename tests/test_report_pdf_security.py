"""Hostile text and the agenda report's PDF (agenda/reports/pdf.py).

What people type reaches the PDF as escaped HTML only, never as CSS; WeasyPrint fetches
nothing but the app's own static files; the build runs within a time and memory limit,
and a build over them fails its report once, for good. The PDFs are real (WeasyPrint),
read back with poppler-utils (pdftotext, pdfinfo, pdfimages).
"""

import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.template.loader import render_to_string
from PIL import Image

from agenda import tasks
from agenda.models import Action, AgendaReport, Incident, ReportDelivery
from agenda.models.reports import ReportStatus
from agenda.reports import pdf
from agenda.reports import services as reports
from pmo5p.models import Membership
from tests.agenda_data import at_risk_person, known_survey
from tests.test_reports import eager_retries, make_schedule, subscribe, utc  # noqa: F401 (eager_retries: a fixture)
from tests.test_settings import clean_env, run

POPPLER = "poppler-utils (pdftotext, pdfimages) reads the PDFs back: apt-get install poppler-utils"


def poppler(tool: str, pdf_bytes: bytes, tmp_path: Path, *args: str) -> str:
    assert shutil.which(tool), POPPLER
    source = tmp_path / f"read-{time.monotonic_ns()}.pdf"
    source.write_bytes(pdf_bytes)
    result = subprocess.run(  # noqa: S603 (poppler on a file of ours)
        [tool, *args, str(source), *(["-"] if tool == "pdftotext" else [])],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode()


def image_count(pdf_bytes: bytes, tmp_path: Path) -> int:
    """Images drawn in the PDF, as pdfimages lists them (two header lines, then one line each,
    its type third: "image", or "smask" for an image's transparency)."""
    rows = poppler("pdfimages", pdf_bytes, tmp_path, "-list").splitlines()[2:]
    return sum(1 for row in rows if row.split()[2] == "image")


def page_count(pdf_bytes: bytes, tmp_path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)$", poppler("pdfinfo", pdf_bytes, tmp_path), re.M).group(1))


# A4 in points (pdftotext -r 72 counts in points); the page's bottom margin is 18 mm, and the
# footer's left box takes 75% of the width between the 16 mm side margins.
PAGE_HEIGHT, PAGE_WIDTH, BOTTOM, LEFT_BOX_END = 842, 595, 51, 16 / 25.4 * 72 + 0.75 * (595 - 2 * 16 / 25.4 * 72)


def footer(pdf_bytes: bytes, tmp_path: Path, page: int) -> tuple[str, str]:
    """The text of one page's bottom margin: its left box (the PMO name) and its right box (the page number)."""
    # -layout: pdftotext otherwise joins a line that ends in a hyphen to the next without it,
    # and whether a name wraps at "font-family" depends on the listener's port number.
    crop = ["-layout", "-r", "72", "-f", str(page), "-l", str(page), "-y", str(PAGE_HEIGHT - BOTTOM), "-H", str(BOTTOM)]
    left = poppler("pdftotext", pdf_bytes, tmp_path, *crop, "-x", "0", "-W", str(int(LEFT_BOX_END)))
    right = poppler(
        "pdftotext", pdf_bytes, tmp_path, *crop, "-x", str(int(LEFT_BOX_END)), "-W", str(PAGE_WIDTH - int(LEFT_BOX_END))
    )
    return squeezed(left), squeezed(right)


def squeezed(text: str) -> str:
    """The text without white space: HTML shows a newline as a space, and a line may wrap anywhere."""
    return "".join(text.split())


@pytest.fixture
def listener():
    """A real TCP listener on 127.0.0.1 (a free port), answering any HTTP request with 404 and
    recording each connection: the PDF build must never connect to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    connections: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _address = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    connections.append(connection.recv(4096))
                except OSError:
                    connections.append(b"")
                connection.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.getsockname()[1]}", connections=connections)
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.fixture
def png() -> Path:
    """A small PNG on the local disk: it must never end up inside a PDF. (A short path: the
    payloads that name it must fit in a PMO name.)"""
    with tempfile.TemporaryDirectory(prefix="p") as directory:
        path = Path(directory) / "s.png"
        Image.new("RGB", (8, 8), (255, 0, 0)).save(path)
        yield path


def test_the_listener_hears_a_connection(listener):
    """The check that the PDF connects to nothing can fail: a real request is heard."""
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{listener.url}/probe", timeout=5)  # noqa: S310 (our own listener)
    assert len(listener.connections) == 1
    assert listener.connections[0].startswith(b"GET /probe ")


def test_the_image_check_sees_an_image(tmp_path):
    """The check that no image is embedded can fail: a static image (an app's, found by the
    staticfiles finders in the child process) is drawn and counted."""
    assert image_count(pdf.build("<p>No image.</p>"), tmp_path) == 0
    assert image_count(pdf.build('<p>An image:</p><img src="rest_framework/img/grid.png">'), tmp_path) == 1


def a_report(pmo) -> AgendaReport:
    return AgendaReport.objects.create(
        pmo=pmo, frequency="monthly", period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )


# User text never becomes CSS -------------------------------------------------------------------------

# Each closes the footer's CSS string with its newline and the rule or two around it, as it
# would have in the old template; URL and PNG stand for the listener and the local image.
PAYLOADS = {
    "background from the network": 'Evil"\n}} body { background: url(URL/background) } x{',
    "margin box background from a file": 'Evil"\n} background: url(file://PNG); x{',
    "generated image from a file": 'Evil"\n}} body::before { content: url(file://PNG) } x{',
    "@import from the network": 'Evil"\n}} @import url(URL/import.css); x{',
    "the password file": 'Evil"\n}} body { background: url(file:///etc/passwd) } x{',
    "font from the network": 'Evil"\n}} @font-face { font-family: x; src: url(URL/font.woff) } body { font-family: x } x{',
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_pmo_name_cannot_inject_css_into_the_pdf(world, listener, png, tmp_path, payload):
    name = payload.replace("URL", listener.url).replace("PNG", str(png))
    world.pmo.name = name
    world.pmo.save()
    report = reports.build(a_report(world.pmo).pk)

    assert report.status == ReportStatus.READY
    document = bytes(report.pdf)
    assert listener.connections == []
    assert image_count(document, tmp_path) == 0
    # The name is text of the footer, whole, on its page, beside the page number. A wrapped
    # name's last glyph may also reach into the right box's crop (pdftotext places a glyph by
    # its box, not its origin), so the right box ends with the page number and the left box
    # holds none of it.
    left, right = footer(document, tmp_path, 1)
    shown_text = poppler("pdftotext", document, tmp_path, "-layout")
    assert left == squeezed(f"{name} · Relationship Marketing Agenda"), shown_text
    assert right.endswith(squeezed(f"Page 1 of {page_count(document, tmp_path)}")) and len(right) <= 10, shown_text
    assert "Page" not in left


def test_text_typed_anywhere_that_reaches_the_pdf_fetches_nothing(world, listener, png, tmp_path, caplog):
    image = f'<img src="file://{png}">'
    remote = f'<img src="{listener.url}/img"><link rel="stylesheet" href="{listener.url}/css">'
    style = f"<style>@import url({listener.url}/style.css); body {{ background: url(file://{png}) }}</style>"
    world.pmo.name = f'Evil"\n}}}} body {{ background: url({listener.url}/name) }} x{{'
    world.pmo.save()
    world.lead.name = f"Lead {image}"
    world.lead.save()
    known_survey(world, title=f"Survey {style}")
    at_risk_person(world, name=f"Hank {remote}")
    Action.objects.create(
        pmo=world.pmo,
        title=f"Action {image}",
        element="people",
        due_on=date(2026, 11, 10),
        owner=Membership.objects.get(pmo=world.pmo, user=world.lead),
        created_by=world.lead,
    )
    Incident.objects.create(
        pmo=world.pmo, title=f"Incident {remote}", problem="recruiting", occurred_on=date(2026, 11, 3)
    )

    with caplog.at_level("WARNING", logger="agenda.reports.pdf"):
        report = reports.build(a_report(world.pmo).pk)

    assert report.status == ReportStatus.READY
    document = bytes(report.pdf)
    assert listener.connections == []
    assert image_count(document, tmp_path) == 0
    # What they typed is in the PDF as text, tags and all (-raw: in the order it is drawn).
    shown = squeezed(poppler("pdftotext", document, tmp_path, "-raw"))
    for typed in (f"Action {image}", f"Lead {image}", f"Incident {remote}", f"Hank {remote}", f"Survey {style}"):
        assert squeezed(typed) in shown
    # Hank's name in the engagement section too, below his target (issue 13).
    assert squeezed(f"Hank {remote} (influence 5): Aware, target Trust, 3 stages to go") in shown
    assert footer(document, tmp_path, 1)[0] == squeezed(f"{world.pmo.name} · Relationship Marketing Agenda")
    # Nothing was asked of the fetcher: the HTML is escaped and the name is no CSS.
    assert "Refused" not in caplog.text


def test_every_page_carries_the_footer_with_the_pmo_name_and_the_page_number(world, tmp_path):
    world.pmo.name = "Group Transformation PMO"
    report = AgendaReport(pmo=world.pmo)
    document = render_to_string(
        "agenda/reports/pdf.html", {"report": report, "content": "<p>A paragraph of the report.</p>" * 150}
    )
    built = pdf.build(document)
    pages = page_count(built, tmp_path)
    assert pages >= 3
    for page in range(1, pages + 1):
        assert footer(built, tmp_path, page) == (
            squeezed("Group Transformation PMO · Relationship Marketing Agenda"),
            squeezed(f"Page {page} of {pages}"),
        )
    # The stylesheet was served to WeasyPrint: its A4 page holds.
    assert re.search(r"^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)$", poppler("pdfinfo", built, tmp_path), re.M)


def test_no_template_puts_a_value_into_css():
    """The PDF's CSS is a static file; its template has no <style> and no style attribute."""
    source = (django_settings.BASE_DIR / "templates/agenda/reports/pdf.html").read_text()
    assert "<style" not in source
    assert "style=" not in source
    assert "{{" not in (django_settings.BASE_DIR / "static/css/report-pdf.css").read_text()


# The fetcher serves the app's static files and nothing else ---------------------------------------------


def refused_urls(listener, png):
    return [
        f"{listener.url}/x",
        f"{listener.url.replace('http:', 'https:')}/x",
        "http://[::1]/x",
        "https://example.com/style.css",
        "ftp://127.0.0.1/x",
        f"file://{png}",
        "file:///etc/passwd",
        "file:///dev/zero",
        "data:text/css,body{background:red}",
        "data:image/png;base64," + "A" * 64,
        # Under the static base, but out of the static files.
        pdf.STATIC_BASE + "../../pmo5p/settings.py",
        pdf.STATIC_BASE + "%2e%2e/%2e%2e/pmo5p/settings.py",
        pdf.STATIC_BASE + "css/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        pdf.STATIC_BASE + "css/..%2f..%2f..%2fetc/passwd",
        pdf.STATIC_BASE + "css/..%5c..%5c..%5cetc%5cpasswd",
        pdf.STATIC_BASE + "%2fetc/passwd",
        pdf.STATIC_BASE.rstrip("/") + "//etc/passwd",
        pdf.STATIC_BASE + "css/app.css%00.png",
        pdf.STATIC_BASE + "no-such-file.css",
        pdf.STATIC_BASE + "css/",
        # Another host, or the static base's host on another scheme.
        "https://static.pmo5p.invalid.example.com/css/app.css",
        "http://static.pmo5p.invalid/css/app.css",
    ]


def test_the_fetcher_refuses_anything_but_a_static_file(listener, png):
    fetcher = pdf.url_fetcher()
    for url in refused_urls(listener, png):
        with pytest.raises(ValueError, match="Refused"):
            fetcher.fetch(url)
    assert listener.connections == []


def test_the_fetcher_serves_the_apps_static_files(settings, tmp_path):
    fetcher = pdf.url_fetcher()
    stylesheet = fetcher.fetch(pdf.STATIC_BASE + "css/report-pdf.css")
    assert stylesheet.content_type == "text/css"
    assert stylesheet.read() == (django_settings.BASE_DIR / "static/css/report-pdf.css").read_bytes()
    # Collected (hashed) names come from STATIC_ROOT, and nothing beside it.
    settings.STATIC_ROOT = str(tmp_path / "collected")
    (tmp_path / "collected" / "css").mkdir(parents=True)
    (tmp_path / "collected" / "css" / "report-pdf.0123abcd.css").write_text("@page { size: A4 }")
    (tmp_path / "beside.css").write_text("secret")
    assert fetcher.fetch(pdf.STATIC_BASE + "css/report-pdf.0123abcd.css").read() == b"@page { size: A4 }"
    for name in ("../beside.css", "%2e%2e/beside.css", "css/%2e%2e/%2e%2e/beside.css"):
        with pytest.raises(ValueError, match="Refused"):
            fetcher.fetch(pdf.STATIC_BASE + name)


def test_a_refused_url_in_the_document_is_logged_on_one_line(listener, png, caplog):
    with caplog.at_level("WARNING", logger="agenda.reports.pdf"):
        built = pdf.build(f'<p>x</p><img src="file://{png}"><img src="{listener.url}/x">')
    assert built.startswith(b"%PDF")
    assert listener.connections == []
    (record,) = [r for r in caplog.records if r.name == "agenda.reports.pdf"]
    assert "Refused" in record.getMessage() and "\n" not in record.getMessage()


# The limits of the build -----------------------------------------------------------------------------


@pytest.fixture
def counted_builds(monkeypatch):
    """The real render_pdf, its calls counted."""
    calls = []
    real = reports.render_pdf

    def counting(report):
        calls.append(report.pk)
        return real(report)

    monkeypatch.setattr(reports, "render_pdf", counting)
    return calls


def due_report(world):
    subscribe(world, world.lead, world.viewer)
    make_schedule(world.pmo, next_run_at=utc(2026, 12, 1, 8, 0))
    with time_machine.travel(utc(2026, 12, 1, 8, 3), tick=False):
        tasks.dispatch_due_reports.delay()
    return AgendaReport.objects.get(pmo=world.pmo)


def assert_failed_once_and_for_all(world, report, calls, error):
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert report.build_error == error
    assert len(calls) == 1  # not retried: the same document would fail again
    assert not ReportDelivery.objects.exists()
    assert mail.outbox == []
    # Not queued again by later dispatches, and a stray rerun leaves it failed.
    with time_machine.travel(utc(2026, 12, 1, 9, 0), tick=False):
        tasks.dispatch_due_reports.delay()
        tasks.build_report.delay(report.pk)
    assert len(calls) == 1
    report.refresh_from_db()
    assert (report.status, report.build_error) == (ReportStatus.FAILED, error)


@pytest.mark.usefixtures("eager_retries")
def test_a_pdf_over_its_time_limit_fails_its_report_once(world, settings, monkeypatch, counted_builds):
    settings.PDF_TIMEOUT_SECONDS = 2
    # A report long enough to take far longer than that to draw.
    real_render = reports.render
    monkeypatch.setattr(
        reports, "render", lambda report: (real_render(report)[0] + "<p>A long report.</p>" * 30000, "text")
    )
    started = time.monotonic()
    report = due_report(world)
    assert time.monotonic() - started < 30  # stopped at the limit, not drawn to the end
    assert_failed_once_and_for_all(
        world,
        report,
        counted_builds,
        "PdfLimitExceeded: the PDF took longer than 2 s to build (PMO5P_PDF_TIMEOUT_SECONDS)",
    )


@pytest.mark.usefixtures("eager_retries")
def test_a_pdf_over_its_memory_limit_fails_its_report_once(world, settings, counted_builds):
    settings.PDF_MEMORY_MB = 64  # less than WeasyPrint needs to draw anything
    report = due_report(world)
    report.refresh_from_db()
    assert re.fullmatch(
        r"PdfLimitExceeded: the PDF (needed more than 64 MB of memory to build|build was stopped by SIG[A-Z]+, "
        r"most likely out of its 64 MB of memory) \(PMO5P_PDF_MEMORY_MB\)",
        report.build_error,
    ), report.build_error
    assert_failed_once_and_for_all(world, report, counted_builds, report.build_error)


@pytest.mark.usefixtures("eager_retries")
def test_another_failure_of_the_build_is_retried_a_few_times(world, monkeypatch, counted_builds):
    """A failure that may pass (here the renderer cannot start) keeps the bounded retries."""
    pdf.stop_renderer()  # a renderer started by an earlier test would go on drawing
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    report = due_report(world)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert report.build_error.startswith("FileNotFoundError: ")
    assert len(counted_builds) == tasks.MAX_BUILD_RETRIES + 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PMO5P_PDF_MEMORY_MB", "100", "PMO5P_PDF_MEMORY_MB=100 is out of range [256, None]"),
        ("PMO5P_PDF_MEMORY_MB", "1 GB", "PMO5P_PDF_MEMORY_MB='1 GB' is not a whole number"),
        ("PMO5P_PDF_TIMEOUT_SECONDS", "0", "PMO5P_PDF_TIMEOUT_SECONDS=0 is out of range [1, None]"),
        ("PMO5P_PDF_TIMEOUT_SECONDS", "2m", "PMO5P_PDF_TIMEOUT_SECONDS='2m' is not a whole number"),
    ],
)
def test_a_bad_pdf_limit_stops_the_process(tmp_path, variable, value, message):
    env = clean_env(tmp_path, DJANGO_DEBUG="1", **{variable: value})
    result = run(["-c", "import pmo5p.settings"], env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_pdf_limits_are_read_from_the_environment(tmp_path):
    env = clean_env(tmp_path, DJANGO_DEBUG="1", PMO5P_PDF_MEMORY_MB="512", PMO5P_PDF_TIMEOUT_SECONDS="30")
    result = run(["-c", "import pmo5p.settings as s; print(s.PDF_MEMORY_MB, s.PDF_TIMEOUT_SECONDS)"], env)
    assert result.stdout.split() == ["512", "30"], result.stderr
    defaults = run(
        ["-c", "import pmo5p.settings as s; print(s.PDF_MEMORY_MB, s.PDF_TIMEOUT_SECONDS)"],
        clean_env(tmp_path, DJANGO_DEBUG="1"),
    )
    assert defaults.stdout.split() == ["1024", "120"], defaults.stderr
