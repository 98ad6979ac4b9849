from django.apps import AppConfig


class Pmo5pConfig(AppConfig):
    name = "pmo5p"
    verbose_name = "PMO workspaces"

    def ready(self):
        from pmo5p import checks  # noqa: F401  (registers the deployment checks)
