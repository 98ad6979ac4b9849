"""The outbox: every e-mail of the product is a row (OutgoingEmail), sent by one function
with one policy. README, "E-mail: what is guaranteed", says what it promises.

- queue() makes the row in the caller's transaction and wakes a worker once it commits
  (delay_on_commit). The row is the record; the broker message is only a wake-up.
- send() claims a due row under a row lock (status "sending" and a lease), sends it with
  no lock held, then records the outcome: sent; refused for now (an SMTP 4xx, a refused
  or dropped connection, a timeout) and queued again with exponential backoff written
  as the row's next_attempt_at; refused for good (an SMTP 5xx) and failed at once; or
  failed after MAX_ATTEMPTS attempts (counted from the last "send again", if any).
- sweep(), run by beat every OUTBOX_SWEEP_SECONDS, sends every row that is due: never
  attempted, waiting for a retry whose time has come, or stuck "sending" past its
  lease (the worker died mid-send). Retries are not broker countdowns: a Redis restart
  loses nothing, and a worker holds no delayed messages.

An app that sends mail registers its kinds with register(): the attachments read at send
time, a check that cancels a message no longer wanted, and a hook that mirrors the
outcome onto its own row in the same transaction.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
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


@dataclass(frozen=True)
class Hooks:
    # (filename, content, mimetype) to attach, read from the source row at send time.
    attachments: Callable[[OutgoingEmail], list[tuple[str, bytes, str]]] | None = None
    # A status to end in without sending (CANCELLED, or SENT for a message made moot), or None.
    check: Callable[[OutgoingEmail], str | None] | None = None
    # Mirrors the row's state onto the source row; called in the transaction of each change.
    record: Callable[[OutgoingEmail], None] | None = None


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
) -> OutgoingEmail:
    """Render e-mail `template` into a new row, and send it once the transaction commits.

    One recipient per row: smtplib sends to the recipients a server accepts and Django
    ignores those it refuses, so a row for several could say "sent" while one never got it.
    """
    if len(to) != 1:
        raise ValueError(f"An outbox row has one recipient, not {len(to)}: queue one row each.")
    subject, text, html = render(template, context)
    email = OutgoingEmail(kind=kind, to=to, subject=subject, text=text, html=html, pmo=pmo)
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
            email.to, email.subject, email.text, email.html, headers={"Message-ID": email.message_id}
        )
        for attachment in hooks.attachments(email) if hooks.attachments else []:
            message.attach(*attachment)
        message.send()
    except Exception as caught:  # recorded on the row below, whatever it is
        error = caught
    return _finish(email.pk, email.attempts, error)


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
    """Send every due row, in this process: one task per sweep, whatever the number of rows.
    A row taken meanwhile by its own task is skipped by send(). Returns the number sent."""
    sent = 0
    for email_id in list(due().values_list("pk", flat=True)[:SWEEP_BATCH]):
        sent += send(email_id) == Status.SENT
    return sent
