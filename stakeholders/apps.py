from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = "Stakeholder register and surveys"

    def ready(self):
        from stakeholders.surveys import emails, updates  # noqa: F401 (they register their e-mails with the outbox)
