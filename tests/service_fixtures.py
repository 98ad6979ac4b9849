"""Fixtures that start real services for the tests whose point they are:
an SMTP sink (aiosmtpd) and a Celery worker on Redis."""
