"""Every failing discovery API call answers with the one error envelope."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db


def test_unknown_series_is_not_found(api_client):
    assert_envelope(api_client.get("/api/v1/series/424242"), 404, "not_found")


def test_unknown_api_route_is_not_found(api_client):
    assert_envelope(api_client.get("/api/v1/serie"), 404, "not_found")


def test_validation_errors_name_each_bad_field_in_details(api_client):
    body = assert_envelope(
        api_client.post(
            "/api/v1/series/feed",
            {"limit": 0, "cursor": "%%%", "externalIds": ["nope"]},
            format="json",
        ),
        400,
        "bad_request",
    )

    assert set(body["details"]) == {"limit", "cursor", "externalIds"}


def test_malformed_json_is_a_bad_request(api_client):
    response = api_client.post("/api/v1/series/feed", "{not json", content_type="application/json")

    assert_envelope(response, 400, "bad_request")


def test_form_encoded_body_is_a_bad_request(api_client):
    response = api_client.post("/api/v1/series/feed", {"limit": "5"})

    assert_envelope(response, 415, "bad_request")


def test_wrong_method_says_so(api_client):
    assert_envelope(api_client.delete("/api/v1/series"), 405, "method_not_allowed")


def test_admin_endpoint_without_credentials_is_unauthorized(api_client):
    assert_envelope(api_client.get("/api/v1/releases"), 401, "unauthorized")


def test_wrong_bearer_token_is_unauthorized(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-the-admin-token")

    assert_envelope(api_client.get("/api/v1/releases"), 401, "unauthorized")


def test_reads_needing_a_key_are_unauthorized(api_client, tsundoku_config):
    tsundoku_config(auth={"read_requires_auth": True})

    assert_envelope(api_client.get("/api/v1/series"), 401, "unauthorized")


def test_unexpected_failure_is_internal_and_hides_the_detail(api_client, caplog):
    with mock.patch(
        "feed.series_page.paginate", side_effect=RuntimeError("database path /srv/secret")
    ):
        body = assert_envelope(api_client.get("/api/v1/series"), 500, "internal")

    assert "secret" not in body["message"]
    assert "Unhandled API error" in caplog.text


def test_health_is_503_when_the_database_does_not_answer(api_client):
    with mock.patch(
        "tsundoku.api.views.connection.cursor", side_effect=OperationalError("unable to open")
    ):
        response = api_client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "error"}
