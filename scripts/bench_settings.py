"""Settings of scripts/benchmark_scale.py: production's (DEBUG off), served over plain HTTP
on the loopback, with persistent database connections and the bare reference view's URL.

DJANGO_SECRET_KEY, DATABASE_URL, REDIS_URL and PMO5P_SURVEY_RATE_LIMIT come from the
environment the benchmark gives gunicorn and itself.
"""

from pmo5p.settings import *  # noqa: F403
from pmo5p.settings import CACHES, DATABASES, STORAGES

ROOT_URLCONF = "scripts.bench_urls"
# "testserver" is the host of the in-process requests whose queries are explained.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# Plain HTTP on 127.0.0.1: no TLS to redirect to, or to keep the cookies on.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Persistent connections for the product and for the bare view alike, as production should
# run (issue 11 asks the comparison with persistent connections on both sides).
DATABASES["default"]["CONN_MAX_AGE"] = 600
# The outbox's wake-ups (detractor alerts) go to a queue of their own on the benchmark's
# Redis, which nothing consumes and the benchmark deletes at the end.
CELERY_TASK_DEFAULT_QUEUE = "pmo5p-benchmark"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if "LOCATION" in CACHES["default"]:
    # The rate limiter's counters apart from any other user of the same Redis database.
    CACHES["default"]["KEY_PREFIX"] = "pmo5p-benchmark"
# The same hashed names as production's storage, without compressing every file at each run
# (a minute of CPU): the benchmark asks for no static file.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
