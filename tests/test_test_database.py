"""The suite runs on the database it was asked for, in every xdist worker.

`make test-postgres` once ran its workers on SQLite: the worker processes
re-imported `tsundoku.testing` from an environment that no longer named the
PostgreSQL URL, and the run still said it passed. `make test-postgres` passes
`--expect-database=postgresql` on the command line (which reaches every
worker untouched), so a green PostgreSQL run means one.
"""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_connection_is_the_database_the_run_asked_for(request: pytest.FixtureRequest) -> None:
    expected = request.config.getoption("expect_database") or "sqlite"
    assert connection.vendor == expected
