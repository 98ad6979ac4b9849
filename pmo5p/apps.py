from django.apps import AppConfig


class Pmo5pConfig(AppConfig):
    name = "pmo5p"
    verbose_name = "PMO workspaces"

    def ready(self):
        # Imported for what they register: the deployment checks, and the e-mails of
        # pmo5p.services with the outbox.
        from pmo5p import checks, services  # noqa: F401
