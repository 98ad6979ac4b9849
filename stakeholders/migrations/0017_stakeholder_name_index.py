"""A PMO's stakeholders indexed in name order, every one of them (the (pmo, is_active, name)
index orders the active and the inactive apart): a survey's results page walks it to its page
of responses by name and stops there (agenda/results.py), and the stakeholder list reads its
page from it instead of sorting the PMO's stakeholders."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pmo5p", "0008_outgoing_email_budget_start"),
        ("stakeholders", "0016_service_catalogue"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="stakeholder",
            index=models.Index(fields=["pmo", "name", "id"], name="stakeholder_pmo_name"),
        ),
    ]
