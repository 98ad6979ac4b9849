"""Renaming a model keeps what pointed at it: its table, and the permissions staff hold."""

from importlib import import_module

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from stakeholders.models import SurveyInvitation
from tests.factories import UserFactory

RENAME = "0009_invitation_is_a_survey_invitation"


def test_the_survey_invitation_keeps_its_table():
    # The data migrations 0007 and 0008 read it through the live model, before the rename.
    assert SurveyInvitation._meta.db_table == "stakeholders_invitation"


@pytest.mark.django_db
def test_staff_keep_the_invitation_permissions_they_were_granted():
    content_type = ContentType.objects.get_for_model(SurveyInvitation)
    Permission.objects.filter(content_type=content_type).delete()
    old = Permission.objects.create(content_type=content_type, codename="view_invitation", name="Can view invitation")
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(old)

    historical = MigrationLoader(connection).project_state(("stakeholders", RENAME)).apps
    import_module(f"stakeholders.migrations.{RENAME}").rename_permissions(historical, None)

    staff = type(staff).objects.get(pk=staff.pk)  # a fresh permission cache
    assert staff.has_perm("stakeholders.view_surveyinvitation")
    assert Permission.objects.get(pk=old.pk).name == "Can view survey invitation"
