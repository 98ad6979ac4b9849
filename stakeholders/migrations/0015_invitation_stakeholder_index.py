"""Invitations are indexed by (stakeholder, id) instead of by stakeholder alone: the at-risk
rule's "last two named perceptions" (agenda/figures/responses.py) then reads each influential
stakeholder's invitations from the index alone. Every lookup by stakeholder uses it as before."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0014_lighter_submit_writes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="surveyinvitation",
            index=models.Index(fields=["stakeholder", "id"], name="invitation_stakeholder"),
        ),
        migrations.AlterField(
            model_name="surveyinvitation",
            name="stakeholder",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="invitations",
                to="stakeholders.stakeholder",
            ),
        ),
    ]
