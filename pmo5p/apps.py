from django.apps import AppConfig


class Pmo5pConfig(AppConfig):
    name = "pmo5p"
    verbose_name = "PMO workspaces"
