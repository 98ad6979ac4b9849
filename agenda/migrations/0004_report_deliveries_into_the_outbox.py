"""Report deliveries move to the outbox (pmo5p/outbox.py). Those still queued when this
runs become outbox rows with their Message-ID, attempts and last error, so that none is
lost and none sent twice (the old send tasks still in the broker are dropped unrun).
Rendered by the live code, only when there is such a delivery (see the stakeholders
migration 0007 for why)."""

from django.db import migrations


def into_the_outbox(apps, schema_editor):
    queued = apps.get_model("agenda", "ReportDelivery").objects.filter(status="pending", report__status="ready")
    if not queued.exists():
        return
    from agenda.reports import services as reports
    from agenda.models import ReportDelivery
    from pmo5p.models import OutgoingEmail

    for delivery in ReportDelivery.objects.filter(pk__in=queued.values("pk")).select_related("report__pmo"):
        email = reports.queue_delivery(delivery)
        OutgoingEmail.objects.filter(pk=email.pk).update(attempts=delivery.attempts, last_error=delivery.last_error)


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0003_action_action_suggestion_adopted_once"),
        # The data step runs the app's own code, which reads every column of Pmo as it is now
        # (the currency included): it must come after the last migration of pmo5p that it reads.
        ("pmo5p", "0008_outgoing_email_budget_start"),
        ("stakeholders", "0007_survey_emails_into_the_outbox"),
    ]

    operations = [migrations.RunPython(into_the_outbox, migrations.RunPython.noop)]
