"""Celery tasks of the agenda report and of the weekly digest. Each takes ids and calls
agenda.reports.services or agenda.digests, which hold the logic; each is safe to run twice
(see those modules). The e-mails go through the outbox (pmo5p/outbox.py), which sends and
retries them."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from agenda import digests
from agenda.models import AgendaReport
from agenda.models.reports import ReportStatus
from agenda.reports import services as reports
from pmo5p.outbox import backoff

logger = logging.getLogger(__name__)

MAX_BUILD_RETRIES = 3
# A report older than this that is still building was lost between a commit and its
# enqueue (a process died in that instant); the dispatcher queues it again.
STALE_AFTER = timedelta(minutes=10)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_due_reports() -> int:
    """Run by beat every few minutes: create the reports that are due, and build them."""
    report_ids = reports.claim_due_schedules()
    for report_id in report_ids:
        build_report.delay(report_id)
    stale = timezone.now() - STALE_AFTER
    for report_id in AgendaReport.objects.filter(status=ReportStatus.BUILDING, created_at__lt=stale).values_list(
        "pk", flat=True
    ):
        build_report.delay(report_id)
    return len(report_ids)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_BUILD_RETRIES)
def build_report(self, report_id: int) -> int:
    """Build the report and make its deliveries, each queued in the outbox, in one transaction."""
    try:
        report = reports.build(report_id)
    except Exception as error:
        # A failure that the same report would meet again (a PDF over its limits) is final at
        # once; any other may be passing (a database error, say) and is retried, a few times.
        if getattr(error, "final", False) or self.request.retries >= self.max_retries:
            AgendaReport.objects.filter(pk=report_id, status=ReportStatus.BUILDING).update(
                status=ReportStatus.FAILED, build_error=f"{type(error).__name__}: {error}"[:1000]
            )
            logger.exception("Report %s could not be built", report_id)
            return 0
        countdown = backoff(self.request.retries + 1).total_seconds()
        raise self.retry(countdown=countdown, exc=error) from error
    return 0 if report is None else len(report.made_deliveries)  # 0 when it was built already


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_due_digests() -> int:
    """Run by beat every few minutes: queue the weekly digests whose moment has come, once each."""
    return digests.claim_due_digests()
