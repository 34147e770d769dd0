"""Hostile input the issue-11 probe sent: each answers a JSON 4xx (or 503), never a 500."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from feed.models import Release
from tests.helpers import ADMIN_TOKEN, assert_envelope

pytestmark = pytest.mark.django_db

BEYOND_INT64 = 2**63


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", f"/api/v1/series/{BEYOND_INT64}", None),
        ("get", f"/api/v1/series/{BEYOND_INT64}/codex-link", None),
        ("post", f"/api/v1/series/{BEYOND_INT64}/codex-link", {"codexSeriesUuid": "x"}),
        ("delete", f"/api/v1/series/{BEYOND_INT64}/codex-link", None),
        ("put", f"/api/v1/series/{BEYOND_INT64}/ignore-completion", {"ignore": True}),
        ("post", f"/api/v1/releases/{BEYOND_INT64}/reject", None),
        ("get", f"/api/v1/exports/{BEYOND_INT64}", None),
        ("get", f"/api/v1/releases?seriesId={BEYOND_INT64}", None),
    ],
)
def test_an_id_past_64_bits_in_the_path_is_a_json_4xx(admin_api, method, path, payload):
    response = getattr(admin_api, method)(path, payload, format="json")

    assert response.status_code in {400, 404, 405}, response.content
    assert response.json()["error"] in {"bad_request", "not_found", "method_not_allowed"}


def test_an_id_past_64_bits_in_the_body_is_a_bad_request(admin_api):
    release = Release.objects.create(
        external_id="1", source_name="Nyaa English", title="[G] Title v01"
    )

    response = admin_api.post(
        f"/api/v1/releases/{release.pk}/link", {"seriesId": BEYOND_INT64}, format="json"
    )

    assert_envelope(response, 400, "bad_request")


def test_a_100k_deep_json_body_is_a_bad_request(admin_api):
    body = "[" * 100_000 + "]" * 100_000

    response = admin_api.post("/api/v1/series/feed", body, content_type="application/json")

    assert "nested too deeply" in assert_envelope(response, 400, "bad_request")["message"]


def test_a_body_over_the_upload_limit_is_413(admin_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"externalIds": ["x" * 2048]})

    response = admin_api.post("/api/v1/series/feed", body, content_type="application/json")

    assert_envelope(response, 413, "payload_too_large")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_any_method_to_an_unknown_api_path_is_a_json_404(method, staff_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff_user)  # a session, so CSRF would apply

    response = getattr(client, method)("/api/v1/no-such-thing", {}, format="json")

    assert_envelope(response, 404, "not_found")


def test_a_database_still_locked_after_the_busy_timeout_is_503_with_retry_after(admin_api):
    with mock.patch(
        "feed.series_page.paginate", side_effect=OperationalError("database is locked")
    ):
        response = admin_api.get("/api/v1/series")

    body = assert_envelope(response, 503, "busy")
    assert "retry" in body["message"]
    assert int(response["Retry-After"]) > 0


def test_a_page_whose_database_stays_locked_is_a_styled_503(client):
    with mock.patch(
        "feed.series_page.paginate", side_effect=OperationalError("database is locked")
    ):
        response = client.get("/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "tsundoku is busy for a moment" in response.content.decode()


def test_other_database_errors_stay_internal(api_client):
    with mock.patch("feed.series_page.paginate", side_effect=OperationalError("disk I/O error")):
        response = api_client.get("/api/v1/series")

    assert_envelope(response, 500, "internal")


def test_the_admin_token_is_not_echoed(admin_api):
    response = admin_api.get(f"/api/v1/series/{BEYOND_INT64}")

    assert ADMIN_TOKEN not in response.content.decode()
