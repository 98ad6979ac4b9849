from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Assessments, insights and the marketing agenda"

    def ready(self):
        from agenda import digests, signals  # noqa: F401 (connects the receivers; registers the digest with the outbox)
        from agenda.assessments.timeline import maturity_entries
        from agenda.figures import kept, relationships, responses, segments, survey
        from agenda.reports import services  # noqa: F401 (registers the report e-mail with the outbox)
        from stakeholders import engagement, timeline
        from stakeholders.surveys import figure_source

        timeline.register(maturity_entries)
        engagement.register_current_stage(relationships.current_stage_subquery)
        figure_source.register(
            figure_source.FigureSource(
                participation_by_survey=survey.participation_by_survey,
                lowest_elements=responses.lowest_elements,
                detractor_groups=segments.detractor_groups,
                nps=survey.nps,
                perception=responses.perception,
                store_perceptions=responses.store_perceptions,
                keep_figures=kept.keep_figures,
                forget_responses=kept.forget_responses,
            )
        )
