"""A stakeholder's current maturity stage read from an index alone (current_stage_subquery):
the index in its order, with the stage, in place of the one on (stakeholder, recorded_on),
of which it serves every use."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("agenda", "0005_kept_element_figures")]

    operations = [
        migrations.RemoveIndex(model_name="maturityrecord", name="agenda_matu_stakeho_76ea4b_idx"),
        migrations.AddIndex(
            model_name="maturityrecord",
            index=models.Index(
                fields=["stakeholder", "-recorded_on", "-created_at", "-id"],
                include=("stage",),
                name="maturity_current_stage",
            ),
        ),
    ]
