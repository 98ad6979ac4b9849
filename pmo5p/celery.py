import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmo5p.settings")


class Task(DjangoTask):
    def delay_on_commit(self, *args, **kwargs) -> None:
        """Celery's delay_on_commit, as a robust callback: what is committed stays committed,
        and a wake-up that cannot be enqueued (the broker is down) is logged instead of
        turning the request into an error page; the sweeper finds the row anyway."""
        transaction.on_commit(lambda: self.delay(*args, **kwargs), robust=True)


app = Celery("pmo5p", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
