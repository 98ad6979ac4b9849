"""The warm PDF renderer (agenda/reports/pdf.py): one per process, started on the first PDF,
each document drawn in a child of its own, so that a document over its limits costs that
document only, and a renderer that died is started again."""

import os
import signal
from pathlib import Path

import pytest

from agenda.reports import pdf
from agenda.reports import services as reports
from tests.test_report_pdf_security import a_report

DOCUMENT = "<p>A page.</p>"


def renderer_pid() -> int:
    return pdf._renderer.process.pid


def test_one_renderer_draws_document_after_document():
    assert pdf.build(DOCUMENT).startswith(b"%PDF")
    first = renderer_pid()
    assert pdf.build(DOCUMENT).startswith(b"%PDF")
    assert renderer_pid() == first


def test_the_renderer_has_one_thread_and_no_socket():
    """What makes forking it safe, and keeps it apart from the database and Redis: no thread
    holding a lock, no connection."""
    pdf.build(DOCUMENT)
    pid = renderer_pid()
    assert len(os.listdir(f"/proc/{pid}/task")) == 1
    links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    assert not [link for link in links if link.startswith("socket:")], links


def test_the_renderer_sees_no_secret_of_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "a-secret-the-renderer-must-not-see")
    monkeypatch.setenv("DATABASE_URL", "postgres://user:password@db.example/pmo5p")
    pdf.stop_renderer()
    assert pdf.build(DOCUMENT).startswith(b"%PDF")
    environment = Path(f"/proc/{renderer_pid()}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=", 1)[0].decode() for entry in environment if entry}
    assert "PATH" in names
    assert not names & {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}


def test_a_document_over_its_memory_limit_leaves_the_renderer_drawing_the_next(settings):
    pdf.build(DOCUMENT)
    renderer = renderer_pid()
    settings.PDF_MEMORY_MB = 64  # less than WeasyPrint needs to draw anything
    with pytest.raises(pdf.PdfLimitExceeded, match="memory"):
        pdf.build(DOCUMENT)
    settings.PDF_MEMORY_MB = 1024
    assert pdf.build(DOCUMENT).startswith(b"%PDF")
    assert renderer_pid() == renderer


def test_a_document_over_its_time_limit_is_stopped_and_the_renderer_goes_on(settings):
    pdf.build(DOCUMENT)
    renderer = renderer_pid()
    settings.PDF_TIMEOUT_SECONDS = 1
    with pytest.raises(pdf.PdfLimitExceeded, match="longer than 1 s"):
        pdf.build("<p>A long report.</p>" * 30000)
    assert pdf.build(DOCUMENT).startswith(b"%PDF")
    assert renderer_pid() == renderer
    # The child that drew the long document is gone: the renderer's only children are none.
    children = Path(f"/proc/{renderer}/task/{renderer}/children").read_text().split()
    assert children == []


def test_a_renderer_that_died_is_started_again():
    pdf.build(DOCUMENT)
    dead = renderer_pid()
    os.kill(dead, signal.SIGKILL)
    assert pdf.build(DOCUMENT).startswith(b"%PDF")
    assert renderer_pid() != dead


def test_a_build_starts_the_renderer_before_it_reads_the_figures(world, monkeypatch):
    """A worker's first report: the renderer loads WeasyPrint while the figures are read."""
    pdf.stop_renderer()
    seen = []
    real = reports.build_figures

    def figures(report):
        seen.append(pdf._renderer.process is not None)
        return real(report)

    monkeypatch.setattr(reports, "build_figures", figures)
    report = reports.build(a_report(world.pmo).pk)
    assert seen == [True]
    assert bytes(report.pdf).startswith(b"%PDF")


def test_a_forked_process_starts_a_renderer_of_its_own():
    """A Celery pool process forked from one that has a renderer: its own renderer, not its parent's pipes."""
    pdf.build(DOCUMENT)
    parent_renderer = renderer_pid()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            ok = pdf.build(DOCUMENT).startswith(b"%PDF") and renderer_pid() != parent_renderer
            os.write(writer, b"ok" if ok else b"no")
        finally:
            pdf.stop_renderer()
            os._exit(0)
    os.close(writer)
    _, status = os.waitpid(child, 0)
    assert os.read(reader, 2) == b"ok"
    os.close(reader)
    assert os.waitstatus_to_exitcode(status) == 0
    assert renderer_pid() == parent_renderer
    assert pdf.build(DOCUMENT).startswith(b"%PDF")
