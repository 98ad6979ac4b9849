from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = "Stakeholder register and surveys"

    def ready(self):
        from stakeholders.cases import pulses  # noqa: F401 (registers the recovery pulse's e-mail)
        from stakeholders.surveys import emails  # noqa: F401 (registers its e-mails with the outbox)
