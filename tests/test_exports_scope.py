"""An export's scope is the feed's filters, with the feed's meaning and order."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from codex_sync.models import CodexLink
from feed.models import Release, Resolution

EXPORTS = "/api/v1/exports"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir", "run_exports_inline")]


@pytest.fixture
def catalog(make_series):
    berserk = make_series(
        "Berserk",
        alternate_titles=["ベルセルク"],
        kind="manga",
        status="ongoing",
        highest_volume=41.0,
        release_count=1,
        last_release_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    CodexLink.objects.create(series=berserk, codex_series_uuid=uuid.uuid4(), local_max_volume=40)
    solo = make_series(
        "Solo Leveling",
        kind="manhwa",
        status="completed",
        highest_volume=8.0,
        release_count=1,
        last_release_at=datetime(2025, 3, 2, tzinfo=UTC),
    )
    CodexLink.objects.create(series=solo, codex_series_uuid=uuid.uuid4(), local_max_volume=8)
    make_series("Vinland Saga", kind="manga", status="completed")
    Release.objects.create(
        external_id="1",
        source_name="Nyaa",
        title="Berserk v41",
        series=berserk,
        resolution=Resolution.RESOLVED,
    )
    Release.objects.create(
        external_id="2",
        source_name="Nyaa",
        title="Solo Leveling v08",
        series=solo,
        resolution=Resolution.RESOLVED,
    )


def exported_titles(client, export_type="series", **filters) -> list[str]:
    created = client.post(
        EXPORTS, {"type": export_type, "fields": [], "filters": filters}, format="json"
    )
    assert created.status_code == 201, created.json()
    download = client.get(f"{EXPORTS}/{created.json()['id']}/download")
    document = json.loads(b"".join(download.streaming_content))
    if export_type == "releases":
        return [release["releaseTitle"] for release in document["releases"]]
    return [series["canonicalTitle"] for series in document["series"]]


def test_no_filters_export_the_whole_catalog_in_the_feeds_default_order(admin_api, catalog):
    # Feed default: last release, newest first, series without releases last.
    assert exported_titles(admin_api) == ["Solo Leveling", "Berserk", "Vinland Saga"]


def test_kind_filter(admin_api, catalog):
    assert exported_titles(admin_api, kind="manhwa") == ["Solo Leveling"]


def test_status_filter_takes_several_values(admin_api, catalog):
    assert exported_titles(admin_api, status=["ongoing", "completed"], sort="title") == [
        "Berserk",
        "Solo Leveling",
        "Vinland Saga",
    ]


def test_search_matches_alternate_titles(admin_api, catalog):
    assert exported_titles(admin_api, q="ベルセルク") == ["Berserk"]


def test_has_releases_filter(admin_api, catalog):
    assert exported_titles(admin_api, hasReleases=False) == ["Vinland Saga"]


def test_everything_behind_on_codex_is_one_filter_for_the_admin(admin_api, catalog):
    assert exported_titles(admin_api, codexStatus="behind") == ["Berserk"]
    assert exported_titles(admin_api, codexStatus="missing") == ["Vinland Saga"]


def test_release_exports_follow_the_series_scope_and_order(admin_api, catalog):
    assert exported_titles(admin_api, "releases") == ["Solo Leveling v08", "Berserk v41"]
    assert exported_titles(admin_api, "releases", sort="title") == [
        "Berserk v41",
        "Solo Leveling v08",
    ]
    assert exported_titles(admin_api, "releases", codexStatus="behind") == ["Berserk v41"]


def test_the_job_records_the_filters_as_the_feed_would_write_them(admin_api, catalog):
    created = admin_api.post(
        EXPORTS,
        {"type": "series", "filters": {"kind": "manga,bogus", "codexStatus": ["behind"]}},
        format="json",
    )
    assert created.json()["filters"] == {"kind": "manga", "codexStatus": "behind"}


def test_unknown_filter_keys_are_rejected(admin_api, catalog):
    response = admin_api.post(
        EXPORTS, {"type": "series", "filters": {"kinds": "manga"}}, format="json"
    )
    assert response.status_code == 400
    assert "Unknown filter(s): kinds" in response.json()["message"]


def test_filters_must_be_an_object(admin_api):
    response = admin_api.post(EXPORTS, {"type": "series", "filters": ["manga"]}, format="json")
    assert response.status_code == 400
    assert response.json()["details"]["filters"]
