"""Guards that the suite runs where CI says it runs."""

import os

import pytest
from django.db import connection

from tests.conftest import STRICT


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="DATABASE_URL names no PostgreSQL database"
)
def test_the_suite_runs_on_the_postgresql_of_database_url():
    assert connection.vendor == "postgresql"


def test_ci_runs_on_postgresql():
    if STRICT:
        assert connection.vendor == "postgresql", "CI (PMO5P_REQUIRE_ALL=1) must run on PostgreSQL"
    else:
        assert connection.vendor in ("sqlite", "postgresql")
