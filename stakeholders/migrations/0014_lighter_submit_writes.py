"""What an answer writes, made lighter (issue 11): no index of their own for the answers'
response and question, nor the responses' survey, each served by a wider index already; and
room on the invitations' pages, so that marking one answered is a HOT update (no index
written: responded_at and draft_answers are in none)."""

import django.db.models.deletion
from django.db import migrations, models

# Each page of invitations keeps a fifth free for the updates of its rows (sent, reminded,
# drafts saved, answered). Takes effect on the pages written from now on (a launch's
# invitations); a VACUUM FULL would repack the existing ones.
INVITATION_FILLFACTOR = 80


def set_invitation_fillfactor(apps, schema_editor, fillfactor=INVITATION_FILLFACTOR):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("stakeholders", "SurveyInvitation")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(fillfactor)})")


def reset_invitation_fillfactor(apps, schema_editor):
    set_invitation_fillfactor(apps, schema_editor, fillfactor=100)


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0013_response_alert_due"),
    ]

    operations = [
        migrations.AlterField(
            model_name="answer",
            name="question",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="answers",
                to="stakeholders.question",
            ),
        ),
        migrations.AlterField(
            model_name="answer",
            name="response",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="answers",
                to="stakeholders.response",
            ),
        ),
        migrations.AlterField(
            model_name="response",
            name="survey",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="responses",
                to="stakeholders.survey",
            ),
        ),
        migrations.RunPython(set_invitation_fillfactor, reset_invitation_fillfactor),
    ]
