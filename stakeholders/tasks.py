"""Celery tasks of the survey path. Each calls the plain functions that hold the logic
(stakeholders/surveys/lifecycle.py); each is safe to run twice. Their e-mails are queued in the
outbox (stakeholders/surveys/emails.py, pmo5p/outbox.py), which sends and retries them."""

from celery import shared_task

from stakeholders.cases import escalation
from stakeholders.surveys import emails as survey_emails
from stakeholders.surveys import lifecycle as surveys


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_due_reminders() -> int:
    """Periodic: claim the reminders that are due, each queued in the outbox with its claim."""
    return len(surveys.claim_due_reminders())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_due_surveys() -> int:
    return surveys.close_due_surveys()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_anonymous_detractor_alerts() -> int:
    """Periodic: one alert per anonymous survey with detractor answers not counted yet, as a
    count at most hourly, never at the time of an answer."""
    return sum(
        surveys.alert_anonymous_detractors(survey_id) is not None
        for survey_id in surveys.anonymous_detractor_alerts_due()
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_detractor_alert(response_id: int) -> bool:
    """Compose and queue a named detractor's alert, woken once the answer commits; a rerun,
    or the outbox's sweep at the same time, queues nothing more."""
    return survey_emails.alert_detractor(response_id) is not None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalate_overdue_cases() -> int:
    """Periodic: escalate to the leads each follow-up case still open past its due date, once
    each (stakeholders/cases/escalation.py)."""
    return escalation.escalate_overdue_cases()
