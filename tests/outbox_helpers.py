"""Driving the outbox in tests where no time passes and no beat runs."""

from django.utils import timezone

from pmo5p import outbox
from pmo5p.models import OutgoingEmail

Status = OutgoingEmail.Status


def settle(rounds: int = 10) -> None:
    """Sweep until no e-mail waits, each retry made due at once: as the sweeper does once
    each retry's time has come."""
    for _ in range(rounds):
        waiting = OutgoingEmail.objects.filter(status__in=[Status.QUEUED, Status.SENDING])
        if not waiting.exists():
            return
        waiting.update(next_attempt_at=timezone.now())
        outbox.sweep()
    raise AssertionError("The outbox did not settle")
