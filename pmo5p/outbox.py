"""The outbox: every e-mail of the product is a row (OutgoingEmail), sent by one function
with one policy. README, "E-mail: what is guaranteed", says what it promises.

- queue() makes the row in the caller's transaction and wakes a worker once it commits
  (delay_on_commit). The row is the record; the broker message is only a wake-up.
- send() claims a due row under a row lock (status "sending" and a lease), sends it with
  no lock held, then records the outcome: sent; refused for now (an SMTP 4xx, a refused
  or dropped connection, a timeout) and queued again with exponential backoff written
  as the row's next_attempt_at; refused for good (an SMTP 5xx) and failed at once; or
  failed after MAX_ATTEMPTS attempts (counted from the last "send again", if any). The
  outcome is recorded again on a new database connection if the first one dropped. A
  lease that runs out at the last attempt fails the row ("lost mid-send").
- sweep(), run by beat every OUTBOX_SWEEP_SECONDS, sends every row that is due: never
  attempted, waiting for a retry whose time has come, or stuck "sending" past its
  lease (the worker died mid-send). Retries are not broker countdowns: a Redis restart
  loses nothing, and a worker holds no delayed messages. One sweep runs at a time, for
  a bounded time; a row that raises is logged and the sweep goes on. Before it sends, it
  has each kind's `overdue` hook queue the e-mails its app's own rows say are due but
  that were never queued (a wake-up lost before the e-mail was composed).

An app that sends mail registers its kinds with register(): the attachments read at send
time, a check that cancels a message no longer wanted, and a hook that mirrors the
outcome onto its own row in the same transaction.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, connection, connections, transaction
from django.db.models import Model, Q
from django.utils import timezone

from pmo5p.emails import build_message, is_permanent, render
from pmo5p.models import OutgoingEmail, Pmo

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status
Kind = OutgoingEmail.Kind

# The first attempt and five retries, 1, 2, 4, 8 and 16 times EMAIL_RETRY_BASE_SECONDS apart.
MAX_ATTEMPTS = 6
# Rows sent per sweep; the rest wait for the next one, so that a sweep stays short.
SWEEP_BATCH = 200
# A sweep stops sending after this many sweep intervals, leaving the rest to the next one:
# against a mail server that hangs, 200 rows at EMAIL_TIMEOUT each would take hours.
SWEEP_BUDGET_INTERVALS = 5
# The PostgreSQL advisory lock held by the one sweep that runs (any fixed number: "pmo5p" 1).
SWEEP_LOCK_KEY = 0x706D6F357001
# Recording an outcome is tried this many times, FINISH_PAUSE_SECONDS × 1, 2, 4… apart: once
# the server has taken the message, an outcome left unrecorded means a second send.
FINISH_TRIES = 4
FINISH_PAUSE_SECONDS = 0.5


@dataclass(frozen=True)
class Hooks:
    # (filename, content, mimetype) to attach, read from the source row at send time.
    attachments: Callable[[OutgoingEmail], list[tuple[str, bytes, str]]] | None = None
    # A status to end in without sending (CANCELLED, or SENT for a message made moot), or None.
    check: Callable[[OutgoingEmail], str | None] | None = None
    # Mirrors the row's state onto the source row; called in the transaction of each change.
    record: Callable[[OutgoingEmail], None] | None = None
    # Queues up to `limit` e-mails of this kind that are due by the app's own rows but not
    # queued yet (their wake-up was lost); returns how many. Called by each sweep.
    overdue: Callable[[int], int] | None = None


_hooks: dict[str, Hooks] = {}


def register(kind: str, **hooks) -> None:
    _hooks[kind] = Hooks(**hooks)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8, 16 times the base."""
    return timedelta(seconds=settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


# Queuing ------------------------------------------------------------------------------------


def queue(
    kind: str,
    to: list[str],
    template: str,
    context: dict,
    *,
    pmo: Pmo | None = None,
    source: Model | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutgoingEmail:
    """Render e-mail `template` into a new row, and send it once the transaction commits.

    One recipient per row: smtplib sends to the recipients a server accepts and Django
    ignores those it refuses, so a row for several could say "sent" while one never got it.
    """
    if len(to) != 1:
        raise ValueError(f"An outbox row has one recipient, not {len(to)}: queue one row each.")
    subject, text, html = render(template, context)
    email = OutgoingEmail(kind=kind, to=to, subject=subject, text=text, html=html, pmo=pmo, headers=headers or {})
    if message_id:
        email.message_id = message_id
    if source is not None:
        email.source = source
    email.save()
    _record(email)
    wake(email)
    return email


def wake(email: OutgoingEmail) -> None:
    from pmo5p.tasks import send_email  # the tasks module imports this one

    send_email.delay_on_commit(email.pk)


def send_again(email: OutgoingEmail, *, rerender: tuple[str, dict] | None = None) -> bool:
    """Queue a failed or stuck e-mail now, with the same Message-ID; False if it is sent or not stuck.

    `rerender` (template, context) renders the body again first: for a kind whose body is
    forgotten once it fails (a member invitation's link), called in the caller's transaction."""
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().get(pk=email.pk)
        if not email.can_send_again:
            return False
        # A new budget of MAX_ATTEMPTS from here: a person asked for it.
        email.budget_start = email.attempts
        fields = ["status", "next_attempt_at", "budget_start"]
        if rerender is not None:
            email.subject, email.text, email.html = render(*rerender)
            fields += ["subject", "text", "html"]
        email.status = Status.QUEUED
        email.next_attempt_at = timezone.now()
        email.save(update_fields=fields)
        _record(email)
        wake(email)
    return True


def for_sources(model: type[Model], ids, kind: str):
    """The e-mails of kind `kind` about the rows of `model` with these ids."""
    return OutgoingEmail.objects.filter(
        source_type=ContentType.objects.get_for_model(model), source_id__in=ids, kind=kind
    )


def for_source(source: Model, kind: str):
    return for_sources(type(source), [source.pk], kind)


# Sending ------------------------------------------------------------------------------------


def send(email_id: int) -> str:
    """Send one row if it is due; returns what happened. Safe to run twice, or at once."""
    claimed = _claim(email_id)
    if not isinstance(claimed, OutgoingEmail):
        return claimed
    email = claimed
    hooks = _hooks.get(email.kind, Hooks())
    error = None
    try:
        message = build_message(
            email.to, email.subject, email.text, email.html, headers={**email.headers, "Message-ID": email.message_id}
        )
        for attachment in hooks.attachments(email) if hooks.attachments else []:
            message.attach(*attachment)
        message.send()
    except Exception as caught:  # recorded on the row below, whatever it is
        error = caught
    return _record_outcome(email, error)


def _record_outcome(email: OutgoingEmail, error: Exception | None) -> str:
    """_finish, tried again on a database error (the connection dropped while the mail server
    answered): left "sending", the row would be sent again once its lease ends."""
    for attempt in range(1, FINISH_TRIES + 1):
        try:
            return _finish(email.pk, email.attempts, error)
        except (DatabaseError, InterfaceError):  # InterfaceError: the connection is closed
            if not connection.in_atomic_block:  # a caller's transaction is the caller's to end
                connection.close()  # the next query opens a new connection
            if attempt == FINISH_TRIES:
                logger.critical(
                    "E-mail %s (Message-ID %s) was %s but its outcome could not be recorded: "
                    "it will be sent again once its lease ends",
                    email.pk,
                    email.message_id,
                    "accepted by the mail server" if error is None else "refused",
                    exc_info=True,
                )
                raise
            logger.warning("E-mail %s: recording its outcome failed, trying again", email.pk, exc_info=True)
            time.sleep(FINISH_PAUSE_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def _claim(email_id: int) -> OutgoingEmail | str:
    now = timezone.now()
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return "gone"
        if email.status not in (Status.QUEUED, Status.SENDING):
            return f"{email.status} already"
        if email.next_attempt_at and email.next_attempt_at > now:
            return "not due"  # waiting for a retry, or a send under way holds the lease
        hooks = _hooks.get(email.kind, Hooks())
        outcome = hooks.check(email) if hooks.check else None
        if outcome:
            email.status = outcome
            email.next_attempt_at = None
            email.last_error = ""
            if outcome == Status.SENT:
                # Counted as an attempt, as a real send is: the row must not tell the two apart.
                email.attempts += 1
                email.sent_at = now
            email.save()
            _record(email)
            return outcome
        if email.status == Status.SENDING and email.attempts - email.budget_start >= MAX_ATTEMPTS:
            # Its last attempt's lease ran out: a message that kills its worker each time
            # would otherwise be sent, and lost, for ever.
            email.status, email.next_attempt_at = Status.FAILED, None
            email.last_error = (
                f"Lost mid-send at its last attempt ({email.attempts - email.budget_start} of {MAX_ATTEMPTS}): "
                "the worker died, or the outcome could not be recorded"
            )
            email.save(update_fields=["status", "next_attempt_at", "last_error"])
            _record(email)
            logger.error("E-mail %s (Message-ID %s) failed: %s", email.pk, email.message_id, email.last_error)
            return email.status
        email.status = Status.SENDING
        email.attempts += 1
        email.next_attempt_at = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        email.save(update_fields=["status", "attempts", "next_attempt_at"])
        _record(email)
    return email


def _finish(email_id: int, attempt: int, error: Exception | None) -> str:
    now = timezone.now()
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().get(pk=email_id)
        if email.status != Status.SENDING or email.attempts != attempt:
            # The lease ran out and another send took the row over: its outcome stands.
            logger.warning("E-mail %s: attempt %s ended after its lease", email_id, attempt)
            return "superseded"
        if error is None:
            email.status, email.sent_at, email.next_attempt_at, email.last_error = Status.SENT, now, None, ""
        else:
            email.last_error = f"{type(error).__name__}: {error}"[:1000]
            # An OSError (every SMTPException, refused or dropped connections, timeouts) may
            # pass next time, unless the server refused for good (5xx). Anything else is a
            # fault of ours that a retry will not mend: failed, with the error shown.
            transient = isinstance(error, OSError) and not is_permanent(error)
            if not transient:
                logger.log(
                    logging.WARNING if isinstance(error, OSError) else logging.ERROR,
                    "E-mail %s failed for good: %s",
                    email_id,
                    email.last_error,
                    exc_info=not isinstance(error, OSError),
                )
            if transient and email.attempts - email.budget_start < MAX_ATTEMPTS:
                email.status, email.next_attempt_at = Status.QUEUED, now + backoff(email.attempts)
            else:
                email.status, email.next_attempt_at = Status.FAILED, None
        email.save()
        _record(email)
    return email.status


def _record(email: OutgoingEmail) -> None:
    hooks = _hooks.get(email.kind)
    if hooks and hooks.record:
        hooks.record(email)


# Sweeping -----------------------------------------------------------------------------------


def due(*, now=None):
    """Rows to send now: queued and due (never attempted, or a retry whose time has come),
    or stuck "sending" past their lease."""
    now = now or timezone.now()
    return OutgoingEmail.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.SENDING), next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")


def sweep() -> int:
    """Queue the overdue e-mails of each kind (Hooks.overdue), then send every due row, in
    this process: one task per sweep, whatever the number of rows, and one sweep at a time,
    for at most SWEEP_BUDGET_INTERVALS sweep intervals. A row taken meanwhile by its own
    task is skipped by send(). Returns the number sent."""
    with _only_sweep() as alone:
        if not alone:
            logger.info("Another sweep of the outbox is running: this one leaves it the rows")
            return 0
        _queue_overdue()
        return _sweep(timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_SECONDS * SWEEP_BUDGET_INTERVALS))


def _queue_overdue() -> None:
    for kind, hooks in _hooks.items():
        if hooks.overdue is None:
            continue
        try:
            hooks.overdue(SWEEP_BATCH)
        except Exception:  # the rows already queued must still go out
            logger.exception("The overdue e-mails of kind %s could not be queued", kind)
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()


@contextmanager
def _only_sweep() -> Iterator[bool]:
    """True if no other sweep runs (a PostgreSQL advisory lock, held until the end)."""
    if connection.vendor != "postgresql":
        yield True  # SQLite: make run's one process, its periodic tasks one after the other
        return
    # On a connection of its own: send() may close the default one (_record_outcome), which
    # would release the lock mid-sweep. Closing this one releases it, whatever happens.
    lock = connections.create_connection(DEFAULT_DB_ALIAS)
    taken = False
    try:
        with lock.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCK_KEY])
            (taken,) = cursor.fetchone()
        yield taken
    finally:
        try:
            if taken:
                # Released before the connection closes: its server process ends (and lets
                # the lock go) only some time after close() returns, and a sweep straight
                # after this one would find the lock still taken.
                with lock.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK_KEY])
        except DatabaseError:
            logger.warning("Could not release the sweep's lock: it goes with its connection", exc_info=True)
        finally:
            lock.close()


def _sweep(deadline) -> int:
    sent = 0
    for email_id in list(due().values_list("pk", flat=True)[:SWEEP_BATCH]):
        if timezone.now() >= deadline:
            logger.warning("The outbox sweep ran out of time: the rows left wait for the next sweep")
            break
        try:
            sent += send(email_id) == Status.SENT
        except Exception:  # one row's fault must not hold up every row after it, sweep after sweep
            logger.exception("E-mail %s: the sweep could not send it", email_id)
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()  # a dropped connection, for the next row
    return sent
