"""The export field catalog: groups, presets, selection, the anchor, and unknown fields."""

from __future__ import annotations

import json

import pytest

from exports.fields import FIELDS, resolve_fields
from tests.helpers import OWNERSHIP_FIELDS

EXPORTS = "/api/v1/exports"
FIELDS_URL = "/api/v1/exports/fields"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir", "run_exports_inline")]


def exported_json(client, **body) -> dict:
    created = client.post(EXPORTS, body, format="json")
    assert created.status_code == 201, created.json()
    download = client.get(f"{EXPORTS}/{created.json()['id']}/download")
    return json.loads(b"".join(download.streaming_content))


def groups_of(catalog: dict, entity: str) -> dict[str, list[str]]:
    (found,) = [item for item in catalog["entities"] if item["entity"] == entity]
    return {group["name"]: [field["key"] for field in group["fields"]] for group in found["groups"]}


def test_catalog_groups_series_and_release_fields(admin_api):
    catalog = admin_api.get(FIELDS_URL).json()
    series_groups = groups_of(catalog, "series")
    assert list(series_groups) == ["Identity", "Metadata", "Coverage & Counts", "Ownership"]
    assert series_groups["Ownership"] == OWNERSHIP_FIELDS
    assert list(groups_of(catalog, "releases")) == ["Identity", "Source", "Coverage"]
    anchors = {entity["entity"]: entity["anchor"] for entity in catalog["entities"]}
    assert anchors == {"series": "canonicalTitle", "releases": "releaseTitle"}


def test_field_keys_are_unique_across_series_and_releases():
    keys = [field.key for field in FIELDS]
    assert len(keys) == len(set(keys))


def test_presets_are_select_all_llm_and_clear(admin_api):
    presets = {preset["name"]: preset for preset in admin_api.get(FIELDS_URL).json()["presets"]}
    assert [preset["label"] for preset in presets.values()] == [
        "Select all",
        "LLM preset",
        "Clear",
    ]
    assert presets["all"]["fields"] == [field.key for field in FIELDS]
    assert presets["clear"]["fields"] == []


def test_llm_preset_is_compact_and_leaves_out_ids_urls_and_file_links(admin_api):
    presets = {preset["name"]: preset for preset in admin_api.get(FIELDS_URL).json()["presets"]}
    assert presets["llm"]["fields"] == [
        "canonicalTitle",
        "alternateTitles",
        "kind",
        "status",
        "year",
        "description",
        "genres",
        "highestVolume",
        "highestChapter",
        "totalVolumes",
        "totalChapters",
        "codexStatus",
        "releaseTitle",
        "seriesTitle",
        "postedAt",
        "volumeSpans",
        "chapterSpans",
    ]


def test_selected_fields_are_the_only_columns(admin_api, make_series):
    make_series("Berserk", year=1989, kind="manga")
    document = exported_json(admin_api, type="series", fields=["kind"])
    assert document["series"] == [{"canonicalTitle": "Berserk", "kind": "manga"}]


def test_omitting_fields_exports_every_field(admin_api, make_series):
    make_series("Berserk")
    document = exported_json(admin_api, type="series")
    assert list(document["series"][0]) == resolve_fields("series", None, is_admin=True).keys


def test_the_anchor_field_is_exported_even_when_nothing_is_selected(admin_api, make_series):
    make_series("Berserk")
    document = exported_json(admin_api, type="series", fields=[])
    assert document["series"] == [{"canonicalTitle": "Berserk"}]


def test_the_anchor_leads_the_columns_whatever_order_was_asked(admin_api, make_series):
    make_series("Berserk", year=1989)
    document = exported_json(admin_api, type="series", fields=["year", "id"])
    assert list(document["series"][0]) == ["canonicalTitle", "id", "year"]


def test_a_preset_can_stand_in_for_the_field_list(admin_api, make_series):
    make_series("Berserk", cover_url="https://covers.test/1.jpg")
    document = exported_json(admin_api, type="series", preset="llm")
    assert "coverUrl" not in document["series"][0]
    assert "id" not in document["series"][0]
    assert document["series"][0]["canonicalTitle"] == "Berserk"


def test_fields_and_a_preset_together_are_rejected(admin_api):
    response = admin_api.post(
        EXPORTS, {"type": "series", "fields": ["year"], "preset": "llm"}, format="json"
    )
    assert response.status_code == 400
    assert "either fields or a preset" in response.json()["message"]


def test_unknown_fields_are_rejected_naming_each_of_them(admin_api):
    response = admin_api.post(
        EXPORTS, {"type": "series", "fields": ["year", "colour", "mood"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "Unknown fields for a series export: colour, mood." in response.json()["message"]


def test_release_fields_are_unknown_in_a_series_export(admin_api):
    response = admin_api.post(
        EXPORTS, {"type": "series", "fields": ["releaseTitle", "magnet"]}, format="json"
    )
    assert response.status_code == 400
    assert "releaseTitle, magnet" in response.json()["message"]
