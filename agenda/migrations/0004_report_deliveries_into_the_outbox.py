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

    from importlib import import_module

    survey_step = import_module("stakeholders.migrations.0007_survey_emails_into_the_outbox")
    later = survey_step.pmo_added_later(apps, "report__pmo")
    deliveries = ReportDelivery.objects.defer(*later).filter(pk__in=queued.values("pk"))
    for delivery in deliveries.select_related("report__pmo"):
        email = reports.queue_delivery(delivery)
        OutgoingEmail.objects.filter(pk=email.pk).update(attempts=delivery.attempts, last_error=delivery.last_error)


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0003_action_action_suggestion_adopted_once"),
        # As stakeholders' 0007: Pmo's columns up to 0008, any later one deferred.
        ("pmo5p", "0008_outgoing_email_budget_start"),
        ("stakeholders", "0007_survey_emails_into_the_outbox"),
    ]

    operations = [migrations.RunPython(into_the_outbox, migrations.RunPython.noop)]
