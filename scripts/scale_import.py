"""The stakeholder import part of scripts/benchmark_scale.py (`--only import`).

A PMO lead uploads a generated CSV file through the real import form, over HTTP, to the
gunicorn the benchmark serves: the upload (which checks every row and keeps the job), the
preview page, and the confirm step (which checks the rows again and writes them). Then the
register is checked: as many stakeholders as rows, none twice, every row's e-mail there, the
updates written. The same import of a small file, in the same run, is the reference.

The import goes to a PMO of its own (`scale-import`), made afresh for each file, so that the
large PMO the pages are measured on keeps its 5,000 stakeholders.
"""

import csv
import io
import re
import time
import uuid
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import Lower

from pmo5p.models import Membership, Pmo, Role, User
from scripts.scale_load import Client, Reply
from stakeholders.models import ImportJob, Segment, Stakeholder

IMPORT_PMO = "scale-import"
SEGMENTS = 4
MEMBERS = 5
# The import's own form fields (stakeholders/import_views.py).
FILE_FIELD, CREATE_SEGMENTS_FIELD = "file", "create_segments"


@dataclass
class ImportRun:
    rows: int
    existing: int  # rows that update a stakeholder already in the register
    upload: float = 0.0
    preview: float = 0.0
    confirm: float = 0.0
    message: str = ""

    @property
    def total(self) -> float:
        return self.upload + self.preview + self.confirm


def prepare_pmo(lead: User, rows: int) -> tuple[Pmo, int, list[str]]:
    """The import PMO, made afresh: the lead, MEMBERS members who own stakeholders, SEGMENTS
    segments, and a fifth of the file's stakeholders already in the register. Returns the PMO,
    that number and the members' e-mail addresses."""
    Pmo.objects.filter(slug=IMPORT_PMO).delete()
    pmo = Pmo.objects.create(name="Import PMO", slug=IMPORT_PMO, time_zone="Europe/London")
    Membership.objects.create(pmo=pmo, user=lead, role=Role.LEAD)
    owners = [lead.email]
    for n in range(MEMBERS):
        user, _ = User.objects.get_or_create(
            email=f"member{n}@{IMPORT_PMO}.example", defaults={"name": f"Import member {n}"}
        )
        Membership.objects.create(pmo=pmo, user=user, role=Role.MEMBER)
        owners.append(user.email)
    segments = Segment.objects.bulk_create(Segment(pmo=pmo, name=f"Segment {n}") for n in range(SEGMENTS))
    existing = rows // 5
    Stakeholder.objects.bulk_create(
        Stakeholder(pmo=pmo, name=f"Old {i}", email=email(i), segment=segments[i % SEGMENTS]) for i in range(existing)
    )
    return pmo, existing, owners


def email(i: int) -> str:
    return f"person{i}@import.example"


def import_file(rows: int, existing: int, owners: list[str]) -> bytes:
    """A CSV file of `rows` stakeholders, as a spreadsheet export would give: a byte-order mark,
    semicolons; the first `existing` rows update stakeholders of the register (their e-mail in
    upper case), a tenth name a segment the PMO does not have yet."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Name", "E-mail", "Segment", "Influence", "Interest", "Owner", "Job title", "Active"])
    for i in range(rows):
        writer.writerow(
            [
                f"Person {i}",
                email(i).upper() if i < existing else email(i),
                "New segment" if i % 10 == 9 else f"segment {i % SEGMENTS}",
                1 + i % 5,
                1 + (i // 5) % 5,
                owners[i % len(owners)],
                f"Job {i % 17}",
                "yes" if i % 13 else "no",
            ]
        )
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body, as a browser posts a form with a file: (body, content type)."""
    boundary = f"----pmo5p-benchmark-{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _expect(reply: Reply, status: int, what: str, location: str | None = None) -> None:
    where = reply.headers.get("Location", "")
    if reply.status != status or (location is not None and not re.fullmatch(location, where)):
        raise RuntimeError(f"{what} answered {reply.status} {where}: {reply.body[:500]!r}")


def run_import(client: Client, pmo: Pmo, content: bytes, run: ImportRun) -> ImportJob:
    """Upload, preview and confirm `content` as the signed-in `client`, timing each step."""
    base = f"/pmo/{pmo.slug}/stakeholders/import/"
    token = client.csrf_token(base)
    body, content_type = multipart(
        {"csrfmiddlewaretoken": token, CREATE_SEGMENTS_FIELD: "on"},
        {FILE_FIELD: ("stakeholders.csv", content, "text/csv")},
    )
    began = time.perf_counter()
    reply = client.request("POST", base, body, content_type=content_type)
    run.upload = time.perf_counter() - began
    _expect(reply, 302, "the upload", rf"{re.escape(base)}\d+/")
    preview = reply.headers["Location"]

    began = time.perf_counter()
    reply = client.get(preview)
    run.preview = time.perf_counter() - began
    _expect(reply, 200, "the preview")

    began = time.perf_counter()
    reply = client.post(preview, {"csrfmiddlewaretoken": token})
    run.confirm = time.perf_counter() - began
    _expect(reply, 302, "the confirm step", re.escape(f"/pmo/{pmo.slug}/stakeholders/"))
    return pmo.import_jobs.get(pk=int(preview.rstrip("/").rsplit("/", 1)[1]))


def verify_import(pmo: Pmo, job: ImportJob, run: ImportRun) -> dict[str, bool]:
    """What the import must have left: {check: passed}."""
    stakeholders = Stakeholder.objects.filter(pmo=pmo)
    count = stakeholders.count()
    twice = stakeholders.values(key=Lower("email")).annotate(n=Count("id")).filter(n__gt=1).count()
    emails = set(stakeholders.values_list(Lower("email"), flat=True))
    result = job.result or {}
    return {
        f"job confirmed: {result.get('created', 0):,} created, {result.get('updated', 0):,} updated": (
            job.confirmed_at is not None
            and result.get("created") == run.rows - run.existing
            and result.get("updated") == run.existing
        ),
        f"stakeholders {count:,} = rows {run.rows:,}": count == run.rows,
        f"no e-mail address twice ({twice})": twice == 0,
        "every row's e-mail in the register": emails == {email(i) for i in range(run.rows)},
        "the updated stakeholders renamed": not stakeholders.filter(name__startswith="Old ").exists(),
        "the new segment made": pmo.segments.filter(name="New segment").exists() or run.rows < 10,
    }


def measure(client: Client, lead: User, rows: int) -> tuple[ImportRun, dict[str, bool]]:
    """One import of `rows` rows into a fresh import PMO, timed and checked."""
    pmo, existing, owners = prepare_pmo(lead, rows)
    run = ImportRun(rows, existing)
    job = run_import(client, pmo, import_file(rows, existing, owners), run)
    return run, verify_import(pmo, job, run)


def print_import(run: ImportRun, checks: dict[str, bool]) -> None:
    print(
        f"{run.rows:>7,} rows ({run.rows - run.existing:,} new, {run.existing:,} updates): upload {run.upload:.2f} s, "
        f"preview {run.preview:.2f} s, confirm {run.confirm:.2f} s, total {run.total:.2f} s"
    )
    for check, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {check}")
