from django.db import migrations, models


def stamp_past_named_detractors(apps, schema_editor):
    """Until now a named detractor's alert was queued, and its response stamped, in the
    transaction of the answer: a named detractor without a stamp was loaded some other way
    (demo data) and is owed no alert. Stamped, so that the outbox's sweep does not send one now."""
    Response = apps.get_model("stakeholders", "Response")
    Response.objects.filter(nps__lte=6, detractor_alerted_at__isnull=True, survey__anonymous=False).update(
        detractor_alerted_at=models.F("submitted_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0012_response_perception_rating"),
    ]

    operations = [
        migrations.RunPython(stamp_past_named_detractors, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("detractor_alerted_at__isnull", True), ("nps__lte", 6)),
                fields=["survey"],
                name="response_alert_due",
            ),
        ),
    ]
