from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Assessments, insights and the marketing agenda"

    def ready(self):
        from agenda import signals  # noqa: F401 (connects the receivers)
        from agenda.timeline import maturity_entries
        from stakeholders import timeline

        timeline.register(maturity_entries)
