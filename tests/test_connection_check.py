"""Test connection: reachability from /info, the key from one row of the external index."""

from __future__ import annotations

import pytest
import requests

from codex_sync.connection import check_connection
from codex_sync.models import AuthState, ConnectionStatus, HealthCheck
from tests.helpers import CODEX_KEY, INFO_URL, json_answer, query_of

pytestmark = pytest.mark.django_db


def test_a_reachable_codex_accepting_the_key_is_connected(codex):
    check = check_connection()

    assert check.reachable is True
    assert check.auth_state == AuthState.OK
    assert (check.codex_name, check.codex_version) == ("codex", "1.40.0")
    assert check.message == "Connected."
    info_call, index_call = codex.mocked.calls
    assert info_call.request.url == INFO_URL
    assert "X-API-Key" not in info_call.request.headers
    assert index_call.request.headers["X-API-Key"] == CODEX_KEY
    assert "Authorization" not in index_call.request.headers
    # One row is enough to prove the key; the check never walks the index.
    assert query_of(index_call) == {"page": ["1"], "pageSize": ["1"]}
    status = ConnectionStatus.get()
    assert (status.reachable, status.auth_state) == (True, AuthState.OK)
    assert (status.codex_name, status.codex_version) == ("codex", "1.40.0")
    assert status.last_preflight_at is not None


def test_a_reachable_codex_rejecting_the_key_reports_401(codex):
    codex.overrides[None] = json_answer(
        401, {"error": "Unauthorized", "message": "Invalid API key"}
    )

    check = check_connection()

    assert check.reachable is True
    assert check.auth_state == AuthState.UNAUTHORIZED
    assert check.message.startswith("API key rejected (401)")
    status = ConnectionStatus.get()
    assert status.auth_state == AuthState.UNAUTHORIZED
    assert status.last_error == check.message


def test_a_key_without_series_read_reports_403(codex):
    codex.overrides[None] = json_answer(
        403, {"error": "Forbidden", "message": "Missing required permission: SeriesRead"}
    )

    check = check_connection()

    assert check.auth_state == AuthState.FORBIDDEN
    assert check.message.startswith("API key lacks series:read (403)")
    assert ConnectionStatus.get().auth_state == AuthState.FORBIDDEN


def test_an_unreachable_codex_reports_unreachable_and_keeps_the_auth_state(codex):
    ConnectionStatus.get()
    ConnectionStatus.objects.update(auth_state=AuthState.OK)
    codex.info_fails(body=requests.ConnectionError("connection refused"))

    check = check_connection()

    assert check.reachable is False
    assert check.auth_state == AuthState.OK
    assert "Cannot reach Codex" in check.message
    assert codex.index_calls == []
    status = ConnectionStatus.get()
    assert status.reachable is False
    assert status.last_error == check.message


def test_a_codex_answering_the_key_check_with_a_server_error_keeps_the_auth_state(codex):
    codex.overrides[None] = json_answer(500, {"error": "InternalServerError", "message": "x"})

    check = check_connection()

    assert check.reachable is True
    assert check.auth_state == AuthState.UNKNOWN
    assert "HTTP 500" in check.message


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({}, id="connected"),
        pytest.param(
            {"index": json_answer(401, {"error": "Unauthorized", "message": "Invalid API key"})},
            id="unauthorized",
        ),
        pytest.param({"info": requests.ConnectionError("refused")}, id="unreachable"),
    ],
)
def test_each_check_records_exactly_one_health_check_row(codex, answer):
    if "info" in answer:
        codex.info_fails(body=answer["info"])
    if "index" in answer:
        codex.overrides[None] = answer["index"]

    first = check_connection()
    second = check_connection()

    rows = list(HealthCheck.objects.order_by("pk"))
    assert len(rows) == 2
    for row, check in zip(rows, (first, second), strict=True):
        assert row.reachable is check.reachable
        assert row.auth_state == check.auth_state
        assert (row.codex_name, row.codex_version) == (check.codex_name, check.codex_version)
        assert row.error == ("" if check.message == "Connected." else check.message)


def test_the_check_uses_the_configured_timeout(codex, tsundoku_config):
    tsundoku_config(codex={"timeout_seconds": 2.5})

    check_connection()

    assert [call.request.req_kwargs["timeout"] for call in codex.mocked.calls] == [2.5, 2.5]
