"""The connection API: `GET /codex/status`, `POST /codex/refresh`, `POST /codex/test`."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from codex_sync.lock import claim_lock
from codex_sync.models import (
    AuthState,
    CodexLink,
    ConnectionStatus,
    HealthCheck,
    SyncConflict,
    SyncOutcome,
    SyncRun,
    SyncTrigger,
    UnmatchedCodexSeries,
)
from tests.helpers import ADMIN_TOKEN, CODEX_KEY, READ_KEY

CODEX = "http://codex.test"
INFO_URL = f"{CODEX}/api/v1/info"
INDEX_URL = f"{CODEX}/api/v1/series/external-index"
ONE_ROW = {
    "data": [
        {
            "id": "550e8400-e29b-41d4-a716-446655440002",
            "externalIds": [],
            "localMaxVolume": None,
            "localMaxChapter": None,
            "volumesOwned": None,
        }
    ],
    "page": 1,
    "pageSize": 1,
    "total": 1,
    "totalPages": 1,
    "links": {"self": "/", "first": "/", "last": "/"},
}


def body_of(response) -> str:
    """The response body as text, checked for the Codex key on the way."""
    text = response.content.decode()
    assert CODEX_KEY not in text
    return text


@pytest.fixture
def no_log_leak(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    assert CODEX_KEY not in caplog.text


# --- status ---------------------------------------------------------------------


def test_status_before_anything_happened(admin_api, db, no_log_leak):
    response = admin_api.get("/api/v1/codex/status")

    body_of(response)
    assert response.status_code == 200
    assert response.json() == {
        "enabled": True,
        "baseUrl": CODEX,
        "reachable": None,
        "codexName": "",
        "codexVersion": "",
        "versionSupported": None,
        "authState": "unknown",
        "authStateLabel": "Not checked yet",
        "lastPreflightAt": None,
        "lastSuccessAt": None,
        "lastError": "",
        "lastErrorAt": None,
        "linkedCount": 0,
        "fetchedCount": 0,
        "sweepRunning": False,
        "progress": {"pages": 0, "totalPages": 0},
        "conflicts": 0,
        "unmatched": 0,
        "recentSweeps": [],
        "recentChecks": [],
    }


def test_status_reports_the_connection_history_and_counts(admin_api, make_series, no_log_leak):
    now = timezone.now().replace(microsecond=0)
    ConnectionStatus.objects.create(
        pk=ConnectionStatus.SINGLETON_ID,
        reachable=True,
        codex_name="codex",
        codex_version="1.31.4",
        auth_state=AuthState.FORBIDDEN,
        last_preflight_at=now,
        last_success_at=now - timedelta(hours=1),
        last_error="API key lacks series:read (403): Missing required permission: SeriesRead",
        last_error_at=now,
        fetched_count=120,
    )
    CodexLink.objects.create(
        series=make_series(), codex_series_uuid="6f1c2b7e-0000-4000-8000-000000000001"
    )
    CodexLink.objects.create(
        series=make_series(), codex_series_uuid="6f1c2b7e-0000-4000-8000-000000000002"
    )
    for index in range(7):
        SyncRun.objects.create(
            trigger=SyncTrigger.CRON,
            outcome=SyncOutcome.SUCCESS,
            started_at=now - timedelta(hours=index),
            fetched=100 + index,
        )
        HealthCheck.objects.create(checked_at=now - timedelta(hours=index), reachable=True)
    SyncConflict.objects.create(kind="many_claim_one")
    UnmatchedCodexSeries.objects.create(codex_series_uuid="7a1c2b7e-0000-4000-8000-000000000009")

    response = admin_api.get("/api/v1/codex/status")

    body_of(response)
    body = response.json()
    assert body["reachable"] is True
    assert (body["codexName"], body["codexVersion"], body["versionSupported"]) == (
        "codex",
        "1.31.4",
        False,
    )
    assert (body["authState"], body["authStateLabel"]) == (
        "forbidden",
        "API key lacks series:read (403)",
    )
    assert body["lastPreflightAt"] == int(now.timestamp())
    assert body["lastSuccessAt"] == int(now.timestamp()) - 3600
    assert body["lastError"].startswith("API key lacks series:read (403)")
    assert (body["linkedCount"], body["fetchedCount"]) == (2, 120)
    assert (body["conflicts"], body["unmatched"]) == (1, 1)
    assert [run["fetched"] for run in body["recentSweeps"]] == [100, 101, 102, 103, 104]
    assert body["recentSweeps"][0]["startedAt"] == int(now.timestamp())
    assert body["recentSweeps"][0]["outcome"] == "success"
    assert len(body["recentChecks"]) == 5
    assert body["recentChecks"][0]["checkedAt"] == int(now.timestamp())


@pytest.mark.parametrize(
    ("version", "supported"),
    [("1.32.0", True), ("2.2.0", True), ("v1.32.1-beta", True), ("1.4.2", False)],
)
def test_version_support_is_a_warning_flag(admin_api, db, version, supported):
    ConnectionStatus.objects.create(pk=ConnectionStatus.SINGLETON_ID, codex_version=version)

    assert admin_api.get("/api/v1/codex/status").json()["versionSupported"] is supported


def test_a_running_sweep_reports_its_progress(admin_api, db):
    token = claim_lock()
    ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID).update(
        progress_pages=3, progress_total_pages=12
    )

    body = admin_api.get("/api/v1/codex/status").json()

    assert token is not None
    assert body["sweepRunning"] is True
    assert body["progress"] == {"pages": 3, "totalPages": 12}


def test_status_never_shows_credentials_in_the_base_url(admin_api, db, tsundoku_config):
    tsundoku_config(codex={"base_url": "https://reader:hunter2@codex.example:8443/codex"})

    response = admin_api.get("/api/v1/codex/status")

    assert response.json()["baseUrl"] == "https://codex.example:8443/codex"
    assert "hunter2" not in body_of(response)


def test_a_key_that_reached_stored_errors_is_redacted(admin_api, db):
    leaked = f"Upstream said: bad header X-API-Key: {CODEX_KEY}"
    ConnectionStatus.objects.create(pk=ConnectionStatus.SINGLETON_ID, last_error=leaked)
    SyncRun.objects.create(trigger=SyncTrigger.MANUAL, outcome=SyncOutcome.ERROR, error=leaked)
    HealthCheck.objects.create(reachable=False, error=leaked)

    response = admin_api.get("/api/v1/codex/status")

    body_of(response)
    body = response.json()
    assert body["lastError"] == "Upstream said: bad header X-API-Key: ***"
    assert body["recentSweeps"][0]["error"].endswith("***")
    assert body["recentChecks"][0]["error"].endswith("***")


def test_a_staff_session_reads_the_status(api_client, staff_user):
    api_client.force_login(staff_user)

    assert api_client.get("/api/v1/codex/status").status_code == 200


# --- refresh --------------------------------------------------------------------


def test_refresh_queues_one_sweep_and_skips_the_next_while_it_runs(admin_api, db, queued):
    first = admin_api.post("/api/v1/codex/refresh")
    second = admin_api.post("/api/v1/codex/refresh")

    body_of(first)
    assert first.status_code == 202
    assert first.json() == {"triggered": True, "skipped": False}
    assert second.status_code == 202
    assert second.json() == {"triggered": False, "skipped": True}
    assert len(queued) == 1
    (task, trigger, _token), options = queued[0]
    assert (task, trigger) == ("codex_sync.tasks.sweep_task", SyncTrigger.MANUAL)
    assert (options["task_name"], options["apply_anyway"]) == ("codex-sweep", False)


def test_refresh_takes_no_body_and_ignores_one(admin_api, db, queued):
    response = admin_api.post("/api/v1/codex/refresh", {"anything": 1}, format="json")

    assert response.status_code == 202


# --- test connection ------------------------------------------------------------


@responses.activate
def test_test_connection_reports_a_working_key(admin_api, db, no_log_leak):
    responses.get(INFO_URL, json={"version": "1.32.2", "name": "codex"})
    responses.get(INDEX_URL, json=ONE_ROW)

    response = admin_api.post("/api/v1/codex/test")

    body_of(response)
    assert response.status_code == 200
    assert response.json() == {
        "reachable": True,
        "authState": "ok",
        "authStateLabel": "Connected",
        "codexName": "codex",
        "codexVersion": "1.32.2",
        "versionSupported": True,
        "message": "Connected.",
    }
    info_call, index_call = responses.calls
    assert "X-API-Key" not in info_call.request.headers
    assert index_call.request.headers["X-API-Key"] == CODEX_KEY
    assert "Authorization" not in index_call.request.headers
    assert index_call.request.params == {"page": "1", "pageSize": "1"}
    assert ConnectionStatus.get().auth_state == AuthState.OK
    assert HealthCheck.objects.get().auth_state == AuthState.OK


@responses.activate
def test_test_connection_reports_a_rejected_key(admin_api, db, no_log_leak):
    responses.get(INFO_URL, json={"version": "1.32.2", "name": "codex"})
    responses.get(
        INDEX_URL, status=401, json={"error": "unauthorized", "message": "Invalid API key"}
    )

    response = admin_api.post("/api/v1/codex/test")

    body_of(response)
    body = response.json()
    assert response.status_code == 200
    assert (body["reachable"], body["authState"]) == (True, "unauthorized")
    assert body["authStateLabel"] == "API key rejected (401)"
    assert "Invalid API key" in body["message"]
    assert ConnectionStatus.get().auth_state == AuthState.UNAUTHORIZED


@responses.activate
def test_test_connection_reports_codex_unreachable_when_info_fails(admin_api, db, no_log_leak):
    responses.get(INFO_URL, status=404, body="no such thing")

    response = admin_api.post("/api/v1/codex/test")

    body_of(response)
    body = response.json()
    assert response.status_code == 200
    assert body["reachable"] is False
    assert body["message"]
    assert len(responses.calls) == 1


# --- tiers and the switch -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "status"), ("post", "refresh"), ("post", "test")],
)
@pytest.mark.parametrize(
    "credentials",
    [{}, {"HTTP_X_API_KEY": READ_KEY}],
    ids=["anonymous", "read-key"],
)
def test_the_read_tier_gets_401(api_client, db, queued, method, path, credentials):
    api_client.credentials(**credentials)

    response = getattr(api_client, method)(f"/api/v1/codex/{path}")

    body_of(response)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert queued == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "status"), ("post", "refresh"), ("post", "test")],
)
@responses.activate
def test_a_disabled_integration_is_503_misconfigured(
    admin_api, db, queued, tsundoku_config, method, path
):
    tsundoku_config(codex={"enabled": False})

    response = getattr(admin_api, method)(f"/api/v1/codex/{path}")

    body_of(response)
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "misconfigured"
    assert "codex.enabled" in body["message"]
    assert queued == []
    assert len(responses.calls) == 0


def test_a_bearer_without_a_configured_admin_token_is_503(api_client, db, tsundoku_config):
    tsundoku_config(auth={"admin_token": None})
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {ADMIN_TOKEN}")

    response = api_client.get("/api/v1/codex/status")

    assert response.status_code == 503
    assert response.json()["error"] == "misconfigured"


def test_the_openapi_schema_documents_the_codex_routes(admin_api, db):
    # The admin's schema: a reader's names nothing about Codex (tests/test_openapi_schema.py).
    schema = admin_api.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = schema.json()["paths"]
    assert set(paths["/api/v1/codex/status"]) == {"get"}
    assert set(paths["/api/v1/codex/refresh"]) == {"post"}
    assert set(paths["/api/v1/codex/test"]) == {"post"}
    assert set(paths["/api/v1/series/{series_id}/codex-link"]) == {"post", "delete"}
    assert set(paths["/api/v1/series/{series_id}/ignore-completion"]) == {"put"}
    status_schema = schema.json()["components"]["schemas"]["CodexStatus"]
    assert {"sweepRunning", "progress", "recentSweeps", "recentChecks"} <= set(
        status_schema["properties"]
    )
