import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmo5p.settings")

app = Celery("pmo5p")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
