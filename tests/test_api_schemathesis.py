"""Schemathesis against our own OpenAPI schema (issue 11): bounded examples, 0 failures.

Every operation of `/api/v1/schema` is called in-process through the WSGI app
with generated (and schema-violating) input, as the admin, and each answer is
checked against the schema with every check on: no 5xx, documented status
codes and content types, bodies that match their response schemas,
schema-valid input accepted, schema-violating input refused, and operations
that require credentials refusing a request without or with wrong ones.
Outbound HTTP is refused (`responses` with nothing registered), so a Codex or
metadata call fails as an outage would and never reaches the network.
"""

from __future__ import annotations

import pytest
import responses
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.helpers import ADMIN_TOKEN

schema = schemathesis.openapi.from_wsgi("/api/v1/schema", get_wsgi_application())

# Bounded: a few examples per operation keeps this to seconds on a shared core.
EXAMPLES = 12


@schema.auth()
class AdminToken:
    """The admin's bearer token, declared as the run's auth.

    Declared (not just set as a header) so `ignored_auth` knows the credentials
    are ours and probes each admin operation without them and with wrong ones.
    """

    def get(self, case, context) -> str:
        return ADMIN_TOKEN

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _validity_beyond_the_schema(case) -> bool:
    """Input whose validity no schema can state, so "valid by schema" may rightly be a 400.

    - a feed `cursor` is an opaque token: only one we issued decodes to a position;
    - an export's `fields` are catalog keys that depend on the export type and the
      reader's tier, and exclude a `preset` in the same request.
    """
    label = case.operation.label
    if label.endswith("/api/v1/series/feed"):
        cursor = (case.query or {}).get("cursor")
        if isinstance(case.body, dict):
            cursor = cursor or case.body.get("cursor")
        return bool(cursor)
    if label == "POST /api/v1/exports":
        return isinstance(case.body, dict) and "fields" in case.body
    return False


@pytest.fixture(autouse=True)
def connection_kept_open_across_requests():
    """Keep the test's database connection open between the calls of one case.

    A WSGI app closes the connection when a request starts and finishes
    (Django's `close_old_connections`). Django's own test client stops that
    for the test's transaction; calling the app directly, so must we. On SQLite's
    in-memory test database the close does nothing, which hid it; on
    PostgreSQL it ended the test's transaction and every later call failed.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def no_network():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    # No example database: a run replays nothing a previous run saved, so
    # every run (here or in CI) tries exactly the same inputs.
    database=None,
)
@pytest.mark.django_db
def test_the_api_keeps_its_schema(case, no_network):
    # `ignored_auth` probes with a wrong bearer token on every admin case; run
    # after run from one address that trips the wrong-token throttle (429, our
    # own brute-force guard, tested in its own module), which would hide
    # whether the token itself was refused. Each case starts with it unspent.
    cache.clear()
    excluded = [positive_data_acceptance] if _validity_beyond_the_schema(case) else []
    case.call_and_validate(excluded_checks=excluded)
