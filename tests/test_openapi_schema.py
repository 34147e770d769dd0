"""The OpenAPI schema is complete and valid, and its docs pages need no CDN."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from openapi_spec_validator import validate

from codex_sync import overlay
from codex_sync.models import CodexLink
from feed.api.serializers import CodexOverlaySerializer

FEED_API_OPERATIONS = {
    ("/api/v1/series", "get"),
    ("/api/v1/series/{series_id}", "get"),
    ("/api/v1/series/feed", "get"),
    ("/api/v1/series/feed", "post"),
    ("/api/v1/series/lookup", "get"),
    ("/api/v1/releases", "get"),
    ("/api/v1/releases/{release_id}/link", "post"),
    ("/api/v1/releases/{release_id}/reject", "post"),
    ("/api/v1/releases/{release_id}/unlink", "post"),
    ("/api/v1/releases/retry", "post"),
    ("/api/v1/health", "get"),
    ("/api/v1/info", "get"),
    ("/api/v1/stats", "get"),
}

# <script src=…> and <link href=…> in a docs page.
ASSET_RE = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"']([^\"']+)[\"']", re.I)


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """`manage.py spectacular --validate --fail-on-warn`, as JSON."""
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    GENERATOR_STATS.reset()
    # Raises (and prints every warning) if generation warns or the schema is invalid.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", path
    )
    return json.loads(path.read_text())


def test_schema_generates_without_warnings_and_validates(schema):
    validate(schema)


def test_every_discovery_endpoint_is_documented_with_its_errors(schema):
    documented = {
        (path, method) for path, operations in schema["paths"].items() for method in operations
    }
    assert documented >= FEED_API_OPERATIONS

    for path, method in FEED_API_OPERATIONS:
        responses = schema["paths"][path][method]["responses"]
        assert "200" in responses, (path, method)
        errors = [code for code in responses if code.startswith(("4", "5"))]
        if path != "/api/v1/health":
            assert errors, (path, method)
        for code in errors:
            ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith(("/Error", "/Health")), (path, method, code)


def test_feed_shapes_use_camel_case_names(schema):
    components = schema["components"]["schemas"]

    assert set(components["FeedItem"]["properties"]) == {
        "seriesId",
        "canonicalTitle",
        "externalIds",
        "volumeCoverage",
        "chapterCoverage",
        "highestVolume",
        "highestChapter",
        "updatedAt",
    }
    assert set(components["FeedPage"]["properties"]) == {"items", "hasMore", "nextCursor"}
    assert set(components["FeedRequestRequest"]["properties"]) == {
        "externalIds",
        "cursor",
        "limit",
    }


def test_admin_only_keys_are_documented_as_optional(schema):
    item = schema["components"]["schemas"]["AdminSeriesItem"]

    assert {"owned", "codex"} <= set(item["properties"])
    assert not {"owned", "codex"} & set(item.get("required", []))
    assert "codexSyncedAt" not in schema["components"]["schemas"]["SeriesPage"]["required"]


@pytest.mark.django_db
def test_codex_object_matches_its_documented_shape(make_series):
    series = make_series()
    CodexLink.objects.create(
        series=series, codex_series_uuid=uuid.uuid4(), synced_at=timezone.now()
    )
    series.refresh_from_db()

    assert set(overlay.codex_payload(series)) == set(CodexOverlaySerializer().fields)


@pytest.mark.django_db
def test_schema_is_served(api_client):
    response = api_client.get("/api/v1/schema", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/series/feed" in response.json()["paths"]


@pytest.mark.django_db
def test_swagger_docs_load_only_local_assets(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = ASSET_RE.findall(html)
    assert assets
    for asset in assets:
        assert not re.match(r"(https?:)?//", asset), asset
        assert client.get(asset).status_code == 200, asset
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


def test_a_reader_gets_a_schema_that_never_mentions_codex(api_client):
    response = api_client.get("/api/v1/schema", {"format": "json"})

    assert response.status_code == 200
    text = response.content.decode()
    assert "codex" not in text.lower()
    body = response.json()
    assert "/api/v1/series/feed" in body["paths"]
    assert body["openapi"].startswith("3.")


def test_the_admin_gets_the_whole_schema(admin_api):
    body = admin_api.get("/api/v1/schema", {"format": "json"}).json()

    assert "/api/v1/codex/status" in body["paths"]
    assert "codex" in body["components"]["schemas"]["AdminSeriesItem"]["properties"]


def test_the_readers_schema_is_still_a_valid_openapi_document(api_client):
    from openapi_spec_validator import validate

    validate(api_client.get("/api/v1/schema", {"format": "json"}).json())
