import logging
import os
import threading

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


_broker = threading.local()


def _wake_connection(app):
    """This thread's broker connection for wake-ups, kept between requests: a new one each
    time costs a TCP connect, Redis's handshake and a queue declaration, about 2 ms of CPU,
    as much as the rest of a survey answer. New in a forked child or for another broker."""
    key = (os.getpid(), app.conf.broker_url)
    held = getattr(_broker, "held", None)
    if held is None or held[0] != key:
        _drop_wake_connection()
        # No retries: not connecting (by default it keeps trying for broker_connection_timeout).
        held = _broker.held = (key, app.connection_for_write(transport_options={"max_retries": 0}))
    return held[1]


def _drop_wake_connection() -> None:
    held = getattr(_broker, "held", None)
    _broker.held = None
    if held is not None:
        try:
            held[1].release()
        except Exception:  # noqa: BLE001 - a broken connection, dropped either way
            logger.debug("Dropping the broken broker connection", exc_info=True)


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
            # No kombu publish retries. A kept connection that fails (the broker restarted
            # since) is dropped and a new one tried, once; if that fails, the broker is down.
            for kept in (getattr(_broker, "held", None) is not None, False):
                broker = _wake_connection(self.app)
                try:
                    self.apply_async(args, kwargs, connection=broker, retry=False)
                    return
                except (OperationalError, OSError, *broker.connection_errors, *broker.channel_errors):
                    _drop_wake_connection()
                    if not kept:  # the sweeper sends the row
                        wakeups.broker_down = True
                        logger.warning(
                            "Could not enqueue %s; the rest of this commit's wake-ups are left to the sweeper",
                            self.name,
                            exc_info=True,
                        )
                        return

        transaction.on_commit(wake, robust=True)


app = Celery("pmo5p", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
