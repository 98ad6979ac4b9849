from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Assessments, insights and the marketing agenda"

    def ready(self):
        from agenda import reports, signals  # noqa: F401 (connect the receivers, register the report e-mail)
        from agenda.timeline import maturity_entries
        from stakeholders import timeline

        timeline.register(maturity_entries)
