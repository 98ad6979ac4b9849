"""The survey's e-mails move to the outbox (pmo5p/outbox.py). Those in flight when this
runs become outbox rows, so that none is lost and none sent twice: the old tasks still in
the broker name tasks that no longer exist, and are dropped unrun.

- invitations still queued (open surveys), with their attempts and last error;
- reminders claimed and not sent (they were only broker messages);
- named surveys' detractor alerts of the last day not sent (older ones are stale news).

The rows are rendered by the live code (the templates and the invitation's link are not
in the historical models); it runs only when there is such a row, so a new database,
which has none, never reaches it. The live invitations are read without the fields that
later migrations add (such as 0010's segment): their columns do not exist yet.
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def added_later(live, historical) -> list[str]:
    """The live model's fields that the historical one has not: added by later migrations."""
    columns = {field.column for field in historical._meta.concrete_fields}
    return [field.name for field in live._meta.concrete_fields if field.column not in columns]


def pmo_added_later(apps, path: str) -> list[str]:
    """The PMO's fields added by later migrations, reached from the model by `path`: deferred,
    so that a select_related of the PMO reads only the columns it has by now."""
    from pmo5p.models import Pmo

    return [f"{path}__{name}" for name in added_later(Pmo, apps.get_model("pmo5p", "Pmo"))]


def into_the_outbox(apps, schema_editor):
    historical = apps.get_model("stakeholders", "Invitation")
    queued = historical.objects.filter(survey__status="open", send_status="pending")
    claimed = historical.objects.filter(
        survey__status="open", reminder_claimed_at__isnull=False, reminded_at__isnull=True, responded_at__isnull=True
    )
    alerts = apps.get_model("stakeholders", "Response").objects.filter(
        survey__anonymous=False,
        nps__lte=6,
        detractor_alerted_at__isnull=True,
        submitted_at__gte=timezone.now() - timedelta(days=1),
    )
    if not (queued.exists() or claimed.exists() or alerts.exists()):
        return
    from pmo5p.models import OutgoingEmail
    from stakeholders.surveys import emails as survey_emails
    from stakeholders.models import SurveyInvitation, Response

    related = ("survey__pmo", "stakeholder")
    invitations = SurveyInvitation.objects.defer(
        *added_later(SurveyInvitation, historical), *pmo_added_later(apps, "survey__pmo")
    )
    for invitation in invitations.filter(pk__in=queued.values("pk")).select_related(*related):
        email = survey_emails.queue_invitation(invitation)
        OutgoingEmail.objects.filter(pk=email.pk).update(
            attempts=invitation.send_attempts, last_error=invitation.last_error
        )
    for invitation in invitations.filter(pk__in=claimed.values("pk")).select_related(*related):
        survey_emails.queue_reminder(invitation)
    responses = Response.objects.defer(
        *added_later(Response, apps.get_model("stakeholders", "Response")), *pmo_added_later(apps, "survey__pmo")
    )
    for response in responses.filter(pk__in=alerts.values("pk")).select_related("survey__pmo"):
        Response.objects.filter(pk=response.pk).update(detractor_alerted_at=timezone.now())
        survey_emails.queue_detractor_alert(response)


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0006_anonymous_detractors_of_closed_surveys_alerted"),
        # The data step runs the app's own code, which reads Pmo's columns up to the currency
        # (0007) and the outbox's budget (0008); a column added later is deferred
        # (pmo_added_later), not a later dependency: a database that has run this migration
        # would refuse a dependency added after it (InconsistentMigrationHistory).
        ("pmo5p", "0008_outgoing_email_budget_start"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(into_the_outbox, migrations.RunPython.noop)]
