import pytest
from django.utils import timezone

from pmo5p.params import whole_number
from tests.survey_helpers import open_survey


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("7", 7), ("0", 0), ("", None), (None, None), ("²", None), ("-1", None), ("1.5", None), ("٣", None)],
)
def test_whole_number(raw, expected):
    assert whole_number(raw) == expected


def test_a_crafted_nps_link_is_ignored_not_a_server_error(world, client):
    survey, (invitation,) = open_survey(world.pmo, [world.stakeholder], sent_at=timezone.now())
    response = client.get(f"{invitation.path}?nps=²")
    assert response.status_code == 200
    assert 'name="nps" value="2" checked' not in response.content.decode()
