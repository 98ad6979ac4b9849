"""An invitation whose e-mail the outbox cancelled (the survey closed first) shows "Not
needed", not "Queued, retrying" for ever: those cancelled already are marked so."""

from django.db import migrations, models


def mark_cancelled(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    OutgoingEmail = apps.get_model("pmo5p", "OutgoingEmail")
    Invitation = apps.get_model("stakeholders", "Invitation")
    source_type = ContentType.objects.filter(app_label="stakeholders", model="invitation").first()
    if source_type is None:
        return
    cancelled = OutgoingEmail.objects.filter(
        kind="survey_invitation", status="cancelled", source_type=source_type
    ).values("source_id")
    Invitation.objects.filter(pk__in=cancelled).update(send_status="cancelled", last_error="")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("pmo5p", "0006_outgoing_email"),
        ("stakeholders", "0007_survey_emails_into_the_outbox"),
    ]

    operations = [
        migrations.AlterField(
            model_name="invitation",
            name="send_status",
            field=models.CharField(
                choices=[("pending", "Queued"), ("sent", "Sent"), ("failed", "Failed"), ("cancelled", "Not needed")],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.RunPython(mark_cancelled, migrations.RunPython.noop),
    ]
