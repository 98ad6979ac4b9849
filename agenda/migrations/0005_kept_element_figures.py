"""Closed surveys keep their figures (agenda/figures/kept.py) and each stakeholder's last two
named perceptions among them (responses.keep_perceptions): the tables, and the rows of the
surveys closed already, computed by the figures layer's own code (kept.kept_rows and
responses.kept_perception_rows, which read only the columns they name) and written with the
models as they stand at this migration."""

import django.db.models.deletion
from django.db import migrations, models


def keep_closed_surveys(apps, schema_editor):
    surveys = apps.get_model("stakeholders", "Survey").objects.filter(status="closed")
    kept = apps.get_model("agenda", "KeptElementFigures")
    perceptions = apps.get_model("agenda", "KeptPerception")
    from agenda.figures.kept import kept_rows
    from agenda.figures.responses import kept_perception_rows

    ids = list(surveys.values_list("pk", flat=True))
    # A survey at a time: each aggregate reads one survey's answers from the index.
    for survey_id in ids:
        kept.objects.bulk_create(kept(**row) for row in kept_rows([survey_id]))
    for pmo_id in sorted(set(surveys.values_list("pmo_id", flat=True))):
        perceptions.objects.bulk_create(perceptions(**row) for row in kept_perception_rows([pmo_id]))


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0004_report_deliveries_into_the_outbox"),
        # kept_rows reads the answers' (question, value, response) index and the responses'
        # segment as they stand after these.
        ("stakeholders", "0015_invitation_stakeholder_index"),
        ("pmo5p", "0008_outgoing_email_budget_start"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeptElementFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "element",
                    models.CharField(
                        choices=[
                            ("product", "Product"),
                            ("physical_evidence", "Physical Evidence"),
                            ("price", "Price"),
                            ("people", "People"),
                            ("process", "Process"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("performance", "Performance statement"),
                            ("importance", "Importance"),
                            ("nps", "Recommendation (NPS)"),
                            ("comment", "Open comment"),
                        ],
                        max_length=12,
                    ),
                ),
                ("total", models.IntegerField()),
                ("answered", models.IntegerField()),
                ("dont_know", models.IntegerField()),
                ("rated_by", models.IntegerField()),
                (
                    "segment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="stakeholders.segment",
                    ),
                ),
                (
                    "survey",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="stakeholders.survey"
                    ),
                ),
            ],
            options={"verbose_name_plural": "kept element figures"},
        ),
        migrations.CreateModel(
            name="KeptPerception",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("submitted_at", models.DateTimeField()),
                ("perception_rating", models.FloatField()),
                (
                    "pmo",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="pmo5p.pmo"),
                ),
                (
                    "response",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="stakeholders.response"
                    ),
                ),
                (
                    "stakeholder",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="stakeholders.stakeholder"
                    ),
                ),
            ],
        ),
        migrations.RunPython(keep_closed_surveys, migrations.RunPython.noop),
    ]
