from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = "Stakeholder register and surveys"

    def ready(self):
        from stakeholders.cases import escalation  # noqa: F401 (registers the escalation e-mail with the outbox)
        from stakeholders.cases import pulses  # noqa: F401 (registers the recovery pulse's e-mail)
        from stakeholders.surveys import emails  # noqa: F401 (registers its e-mails with the outbox)
