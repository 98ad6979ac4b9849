"""Invitation becomes SurveyInvitation, beside pmo5p's MemberInvitation.

The table keeps its name (pinned first, so that the rename leaves the database alone), and
the data migrations before this one, which read the table through the live model, still
find it. The content type is renamed with the model (Django adds that step to a
RenameModel), so outbox rows that point at an invitation keep pointing at it; its
permissions are renamed here (Django leaves them), so staff granted them keep them.
"""

from django.db import migrations


def rename_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for action in ("add", "change", "delete", "view"):
        Permission.objects.filter(content_type__app_label="stakeholders", codename=f"{action}_invitation").update(
            codename=f"{action}_surveyinvitation", name=f"Can {action} survey invitation"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0008_invitation_send_status_not_needed"),
        ("agenda", "0004_report_deliveries_into_the_outbox"),
        ("pmo5p", "0008_outgoing_email_budget_start"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelTable("invitation", "stakeholders_invitation"),
        migrations.RenameModel("Invitation", "SurveyInvitation"),
        migrations.RunPython(rename_permissions, migrations.RunPython.noop),
    ]
