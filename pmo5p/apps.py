from django.apps import AppConfig


class Pmo5pConfig(AppConfig):
    name = "pmo5p"
    verbose_name = "PMO workspaces"

    def ready(self):
        from pmo5p import services  # noqa: F401 (registers its e-mails with the outbox)
