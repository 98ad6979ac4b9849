"""Closed surveys keep their figures (agenda/figures/kept.py): the table, and the rows of the
surveys closed already, aggregated by the figures layer's own code (kept.kept_rows, which reads
only the columns it names) and written with the model as it stands at this migration."""

import django.db.models.deletion
from django.db import migrations, models


def keep_closed_surveys(apps, schema_editor):
    surveys = apps.get_model("stakeholders", "Survey").objects.filter(status="closed")
    kept = apps.get_model("agenda", "KeptElementFigures")
    from agenda.figures.kept import kept_rows

    ids = list(surveys.values_list("pk", flat=True))
    # A survey at a time: each aggregate reads one survey's answers from the index.
    for survey_id in ids:
        kept.objects.bulk_create(kept(**row) for row in kept_rows([survey_id]))


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0004_report_deliveries_into_the_outbox"),
        # kept_rows reads the answers' (question, value, response) index and the responses'
        # segment as they stand after these.
        ("stakeholders", "0012_response_perception_rating"),
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
        migrations.RunPython(keep_closed_surveys, migrations.RunPython.noop),
    ]
