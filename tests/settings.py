"""Settings for the test suite: the project's settings with fast, deterministic parts."""

import os

import environ

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("PMO5P_SITE_URL", "http://testserver")

from pmo5p.settings import *  # noqa: E402,F403

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if os.environ.get("PMO5P_TEST_EMAIL_URL"):
    # A worker process started by the tests sends through a real SMTP sink.
    globals().update(environ.Env.email_url_config(os.environ["PMO5P_TEST_EMAIL_URL"]))
# Unit tests run tasks in-process. The worker tests start a real `celery worker` with
# PMO5P_TEST_CELERY_BROKER (Redis) and a queue of their own; see tests/service_fixtures.py.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("PMO5P_TEST_CELERY_BROKER")
CELERY_BROKER_URL = os.environ.get("PMO5P_TEST_CELERY_BROKER", "memory://localhost/")
# Unit tests want a failing task to fail the test (tests/test_survey_launch.py switches it off to follow the worker's path).
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PMO5P_TEST_CELERY_QUEUE", "celery")
if os.environ.get("PMO5P_TEST_CELERY_QUEUE"):
    # Unacknowledged messages under keys of the test's queue (tests/service_fixtures.py, unacked_keys):
    # a worker started with a short PMO5P_TASK_VISIBILITY_TIMEOUT (a crash test) then hands back only
    # its own test's messages, never the ones another test's worker is running or holding for a retry.
    _queue = CELERY_TASK_DEFAULT_QUEUE
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "unacked_key": f"{_queue}.unacked",
        "unacked_index_key": f"{_queue}.unacked_index",
        "unacked_mutex_key": f"{_queue}.unacked_mutex",
    }
# Retries in tests wait a second, not minutes. A worker test may make them follow one another
# at once with PMO5P_TEST_EMAIL_RETRY_BASE_SECONDS=0 (the project's setting refuses less than 1).
EMAIL_RETRY_BASE_SECONDS = int(
    os.environ.get("PMO5P_TEST_EMAIL_RETRY_BASE_SECONDS") or os.environ.get("PMO5P_EMAIL_RETRY_BASE_SECONDS", "1")
)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
