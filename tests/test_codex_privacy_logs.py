"""The Codex API key never reaches a log line, an exception, a sync run or the status row.

Sweeps and connection checks are made to fail in every way we know, with
every logger at DEBUG (urllib3 included), against the simulator on a real
socket and against a mocked Codex that echoes the key back in its answers.
Log records are read raw: the console handler's redaction filter is a safety
net, not what this test relies on.
"""

from __future__ import annotations

import logging
import socket
import time
import traceback
from types import SimpleNamespace

import pytest
import requests
import urllib3.util.retry

from codex_sync.connection import check_connection
from codex_sync.models import ConnectionStatus, HealthCheck, SyncRun
from codex_sync.sweep import run_sweep
from devtools.codex_simulator import SimulatorServer
from tests.helpers import CODEX_KEY, codex_item, json_answer

pytestmark = pytest.mark.django_db


LIBRARY = [
    {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "title": f"Series {number}",
        "externalIds": [{"source": "plugin:mangabaka", "externalId": str(number)}],
    }
    for number in range(5)
]


@pytest.fixture
def debug_logs(caplog):
    for name in (None, "urllib3", "codex_sync", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture(autouse=True)
def instant_backoff(monkeypatch):
    monkeypatch.setattr(
        urllib3.util.retry, "time", SimpleNamespace(sleep=lambda seconds: None, time=time.time)
    )


def assert_key_nowhere(caplog, *texts: str) -> None:
    """The key is in no log record, no logged exception, no stored error, no given text."""
    assert caplog.records, "expected the sweep to log something"
    for record in caplog.records:
        assert CODEX_KEY not in record.getMessage(), record.name
        if record.exc_info:
            assert CODEX_KEY not in "".join(traceback.format_exception(*record.exc_info))
    stored = [
        *SyncRun.objects.values_list("error", flat=True),
        *HealthCheck.objects.values_list("error", flat=True),
        ConnectionStatus.get().last_error,
    ]
    for text in [*stored, *texts]:
        assert CODEX_KEY not in text


def sweep_and_check(caplog) -> None:
    """One sweep and one connection check; the key must appear in none of what they leave."""
    result = run_sweep()
    check = check_connection()
    assert_key_nowhere(caplog, result.error, check.message)


SIMULATOR_CASES = [
    pytest.param({}, None, id="success"),
    pytest.param({"api_key": "the-key-codex-expects"}, None, id="unknown-key"),
    pytest.param({"expired_keys": [CODEX_KEY]}, None, id="expired-key"),
    pytest.param({"forbidden_keys": [CODEX_KEY]}, None, id="forbidden-key"),
    pytest.param({}, {"mode": "down"}, id="down"),
    pytest.param({}, {"mode": "down", "close_connection": True}, id="down-hanging-up"),
    pytest.param({}, {"mode": "error_5xx", "count": None}, id="error_5xx"),
    pytest.param({}, {"mode": "slow", "delay_seconds": 1.0}, id="slow"),
    pytest.param({}, {"mode": "truncated", "page": 2}, id="truncated"),
    pytest.param({}, {"mode": "shrinking_total", "page": 2}, id="shrinking_total"),
    pytest.param({}, {"mode": "garbage"}, id="garbage"),
    pytest.param({}, {"mode": "fail_on_page", "page": 2}, id="fail_on_page"),
    pytest.param({}, {"mode": "legacy"}, id="legacy"),
    pytest.param({"rate_limit": 0.01, "burst": 1}, None, id="rate-limited-to-exhaustion"),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("options", "faults"), SIMULATOR_CASES)
def test_no_sweep_against_the_simulator_leaks_the_key(options, faults, debug_logs, tsundoku_config):
    server_options = {"api_key": CODEX_KEY, **options}
    with SimulatorServer(library=LIBRARY, port=0, faults=faults, **server_options) as sim:
        tsundoku_config(
            codex={
                "base_url": sim.base_url,
                "api_key": CODEX_KEY,
                "page_size": 2,
                "timeout_seconds": 0.3,
            }
        )
        sweep_and_check(debug_logs)


@pytest.mark.e2e
def test_no_sweep_against_a_codex_that_is_not_there_leaks_the_key(debug_logs, tsundoku_config):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    tsundoku_config(codex={"base_url": f"http://127.0.0.1:{port}", "api_key": CODEX_KEY})

    sweep_and_check(debug_logs)

    assert SyncRun.objects.get().error.startswith("Cannot reach Codex")


ECHOES = [
    pytest.param(
        json_answer(401, {"error": "Unauthorized", "message": f"Invalid API key {CODEX_KEY}"}),
        id="401-echoing-the-key",
    ),
    pytest.param(
        json_answer(403, {"error": "Forbidden", "message": f"key {CODEX_KEY} lacks SeriesRead"}),
        id="403-echoing-the-key",
    ),
    pytest.param(
        (400, {"Content-Type": "text/plain"}, f"Invalid URL: bad key {CODEX_KEY}"),
        id="legacy-400-echoing-the-key",
    ),
    pytest.param(
        json_answer(500, {"error": "InternalServerError", "message": f"key={CODEX_KEY}"}),
        id="500-echoing-the-key",
    ),
    pytest.param(
        (200, {"Content-Type": "text/html"}, f"<html>login {CODEX_KEY}</html>"),
        id="html-echoing-the-key",
    ),
    pytest.param(
        (302, {"Location": f"https://sso.test/login?key={CODEX_KEY}"}, ""),
        id="redirect-echoing-the-key",
    ),
    pytest.param(
        (429, {"Retry-After": "1", "Content-Type": "application/json"}, f'{{"k": "{CODEX_KEY}"}}'),
        id="429-echoing-the-key",
    ),
    pytest.param(requests.ConnectionError(f"reset while sending {CODEX_KEY}"), id="reset"),
    pytest.param(requests.ReadTimeout(f"timed out sending {CODEX_KEY}"), id="timeout"),
]


@pytest.mark.parametrize("answer", ECHOES)
def test_no_sweep_against_a_codex_echoing_the_key_leaks_it(answer, codex, debug_logs):
    codex.items = [codex_item(1, ("plugin:mangabaka", "1"))]
    codex.overrides[None] = answer

    sweep_and_check(debug_logs)

    assert SyncRun.objects.get().outcome != "success"


def test_an_unexpected_failure_carrying_the_key_does_not_leak_it(codex, debug_logs, monkeypatch):
    """Even an exception we did not foresee is stored and logged without the key."""

    def explode(*args, **kwargs):
        raise RuntimeError(f"driver said: {CODEX_KEY}")

    monkeypatch.setattr("codex_sync.link_store.replace_unmatched", explode)

    result = run_sweep()

    assert result.outcome == "error"
    assert_key_nowhere(debug_logs, result.error)
