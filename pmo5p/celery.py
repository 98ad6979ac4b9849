import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmo5p.settings")

logger = logging.getLogger(__name__)


class _Wakeups:
    """The wake-ups queued by one transaction, sent after its commit: once the broker has
    refused one, the rest are not tried (each would wait for the broker again); the
    sweeper finds their rows anyway."""

    def __init__(self):
        self.started = False  # one of them has run: the transaction is over
        self.broker_down = False


class Task(DjangoTask):
    def delay_on_commit(self, *args, **kwargs) -> None:
        """Celery's delay_on_commit, made safe for a request: what is committed stays
        committed, and a wake-up that cannot be enqueued (the broker is down) is logged
        instead of turning the request into an error page. It is published once, without
        kombu's publish retries, and after the first failure the transaction's other
        wake-ups are skipped: a launch of many invitations with Redis down must not hold
        the request for seconds per e-mail (gunicorn's timeout)."""
        database = transaction.get_connection()
        wakeups = getattr(database, "_pmo5p_wakeups", None)
        if wakeups is None or wakeups.started:
            wakeups = database._pmo5p_wakeups = _Wakeups()

        def wake():
            wakeups.started = True
            if wakeups.broker_down:
                return
            try:
                # One try: no kombu publish retries, and a connection that does not retry
                # connecting (by default it keeps trying for broker_connection_timeout).
                with self.app.connection_for_write(transport_options={"max_retries": 0}) as broker:
                    self.apply_async(args, kwargs, connection=broker, retry=False)
            except (OperationalError, OSError):  # the broker is down: the sweeper sends the row
                wakeups.broker_down = True
                logger.warning(
                    "Could not enqueue %s; the rest of this commit's wake-ups are left to the sweeper",
                    self.name,
                    exc_info=True,
                )

        transaction.on_commit(wake, robust=True)


app = Celery("pmo5p", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
