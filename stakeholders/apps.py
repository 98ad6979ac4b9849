from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = "Stakeholder register and surveys"

    def ready(self):
        # Each registers its e-mails with the outbox.
        from stakeholders.cases import escalation, pulses  # noqa: F401
        from stakeholders.surveys import emails, updates  # noqa: F401
