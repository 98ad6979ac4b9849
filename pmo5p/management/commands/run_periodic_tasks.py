"""Celery beat's schedule for the embedded mode, where there is no broker and no beat.

`make run` starts it beside the development server, so that reminders go out,
surveys close at their date and scheduled reports are sent without Redis. With
REDIS_URL set, run `make beat` and `make worker` instead.
"""

import time

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the periodic tasks of CELERY_BEAT_SCHEDULE in this process, every --every seconds."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=settings.OUTBOX_SWEEP_SECONDS,
            help="Seconds between two rounds (default PMO5P_OUTBOX_SWEEP_SECONDS, 60).",
        )
        parser.add_argument("--once", action="store_true", help="Run one round and stop.")

    def handle(self, *args, every, once, **options):
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("A broker is configured (REDIS_URL): run `make beat` and `make worker` instead.")
        current_app.loader.import_default_modules()  # registers the tasks of every app
        # The outbox's sweep last, so that the e-mails the other tasks queued go out in the same round.
        sweep = settings.CELERY_BEAT_SCHEDULE["sweep-outbox"]["task"]
        names = sorted(
            {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}, key=lambda n: (n == sweep, n)
        )
        self.stdout.write(f"Running {', '.join(names)} every {every} s.")
        while True:
            for name in names:
                try:
                    current_app.tasks[name].apply()
                except Exception as error:  # one failing task must not stop the others
                    self.stderr.write(f"{name} failed: {error}")
            if once:
                return
            time.sleep(every)
