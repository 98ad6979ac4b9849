"""Anonymous surveys' detractor alerts now come in batches from a periodic task, which
counts every detractor response not stamped yet. Those of surveys closed before this
change were alerted one by one already (or their alert failed long ago): stamp them, so
that the first batch does not bring up old surveys."""

from django.db import migrations
from django.utils import timezone


def stamp_closed(apps, schema_editor):
    Response = apps.get_model("stakeholders", "Response")
    Response.objects.filter(
        survey__anonymous=True, survey__status="closed", nps__lte=6, detractor_alerted_at__isnull=True
    ).update(detractor_alerted_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0005_importjob"),
    ]

    operations = [
        migrations.RunPython(stamp_closed, migrations.RunPython.noop),
    ]
