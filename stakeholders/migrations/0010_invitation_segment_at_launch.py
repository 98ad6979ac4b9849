"""A survey invitation keeps its stakeholder's segment at launch, and its response takes it
(docs/figures.md, "Per segment"), so that moving someone later changes no segment's figures.

Invitations made before this take the segment they counted in until now: an answered one
its response's segment, an unanswered one its stakeholder's segment now.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill_segments(apps, schema_editor):
    SurveyInvitation = apps.get_model("stakeholders", "SurveyInvitation")
    Response = apps.get_model("stakeholders", "Response")
    Stakeholder = apps.get_model("stakeholders", "Stakeholder")
    SurveyInvitation.objects.filter(response__isnull=False).update(
        segment_id=Subquery(Response.objects.filter(invitation_id=OuterRef("pk")).values("segment_id")[:1])
    )
    SurveyInvitation.objects.filter(response__isnull=True).update(
        segment_id=Subquery(Stakeholder.objects.filter(pk=OuterRef("stakeholder_id")).values("segment_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0009_invitation_is_a_survey_invitation"),
    ]

    operations = [
        migrations.AddField(
            model_name="surveyinvitation",
            name="segment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="stakeholders.segment",
            ),
        ),
        migrations.RunPython(backfill_segments, migrations.RunPython.noop),
    ]
