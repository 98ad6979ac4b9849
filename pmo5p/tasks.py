"""Celery tasks of the outbox (pmo5p/outbox.py holds the logic)."""

from celery import shared_task

from pmo5p import outbox


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_email(email_id: int) -> str:
    """Send one outbox row if it is due; a rerun or a second copy sends nothing more."""
    return outbox.send(email_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_outbox() -> int:
    """Periodic: send every row that is due (never attempted, retry due, stuck sending)."""
    return outbox.sweep()
