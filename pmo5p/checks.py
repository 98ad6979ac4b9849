"""Deployment checks of pmo5p's own settings (`manage.py check --deploy`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    """Every link pmo5p e-mails (password resets, invitations, survey links) starts with
    PMO5P_SITE_URL. Left at its development default, or on plain HTTP, those links point
    nowhere or send tokens in clear, and nothing else would say so."""
    site = urlsplit(settings.SITE_URL)
    if site.hostname in {"127.0.0.1", "localhost", "::1"}:
        return [
            Warning(
                f"PMO5P_SITE_URL is {settings.SITE_URL!r}: links in e-mails would point at this machine.",
                hint="Set PMO5P_SITE_URL to the public address of pmo5p, e.g. https://pmo5p.example.com.",
                id="pmo5p.W001",
            )
        ]
    if site.scheme != "https":
        return [
            Warning(
                f"PMO5P_SITE_URL is {settings.SITE_URL!r}: links in e-mails, with their tokens, would go over plain HTTP.",
                hint="Serve pmo5p over HTTPS and give PMO5P_SITE_URL an https:// address.",
                id="pmo5p.W002",
            )
        ]
    return []
