"""MangaBaka's API object and dump row map to `SeriesMetadata` by one set of rules."""

from __future__ import annotations

from datetime import date

import pytest

from metadata.mangabaka import mapping
from tests.mangabaka_helpers import fixture


def test_the_2060_capture_maps_every_expected_value():
    record = mapping.from_api(fixture("series-2060.json")["data"])
    series = record.metadata

    assert record.is_active and record.merged_with is None
    assert series.provider == "mangabaka"
    assert series.external_id == "2060"
    assert series.title == "Omniscient Reader"
    assert series.kind == "manhwa"
    assert series.status == "hiatus"
    assert series.rating == pytest.approx(8.68333333)
    assert (series.total_volumes, series.total_chapters) == (20, 311)
    assert series.cover_url == (
        "https://cdn.mangabaka.dev/imgproxy/plain/x350@2/"
        "aHR0cHM6Ly9pbWFnZXMubWFuZ2FiYWthLmRldi8wLzcvYS85L2IvZS80L2EvMzg5Zi80OGQ2LzkwZTgvNDk5YmEyMGMzOTc4"
    )
    assert series.foreign_ids == {
        "anilist": "119257",
        "anime_news_network": "32905",
        "anime_planet": "omniscient-readers-viewpoint",
        "kitsu": "56452",
        "mal": "132214",
        "mangaupdates": "n50wl4o",
        "shikimori": "132214",
    }
    # The live API nests the dates under `published` (upstream read top-level names: None).
    assert series.published_start == date(2020, 5, 26)
    assert series.published_end is None
    assert series.year == 2020
    assert series.native_title == "전지적 독자 시점"
    assert series.romanized_title == "Jeonjijeok Dokja Sijeom"
    assert set(series.alternate_titles) == {
        "전지적 독자 시점",
        "Jeonjijeok Dokja Sijeom",
        "Omniscient Reader's Viewpoint",
        "ORV",
    }
    assert "Omniscient Reader" not in series.alternate_titles
    assert series.genres[:2] == ("action", "adventure")
    assert "Time Loop" in series.tags
    assert series.description.startswith("Back then, Dok-Ja had no idea.")
    assert series.content_hash.startswith("sha256:") and len(series.content_hash) == 71


def test_the_chainsaw_man_dump_row_maps_like_upstream_expects():
    series = mapping.from_dump_row(fixture("dump-row-1677.json")).metadata

    assert series.external_id == "1677"
    assert (series.kind, series.status, series.year) == ("manga", "ongoing", 2018)
    assert (series.total_volumes, series.total_chapters) == (24, 232)
    assert series.rating == pytest.approx(8.5)
    assert (series.published_start, series.published_end) == (date(2018, 12, 3), None)
    assert {"チェンソーマン", "CSM"} <= set(series.alternate_titles)
    assert series.genres == ("Action", "Horror")
    assert series.tags == ("Chainsaws", "Devils")
    assert series.cover_url == "https://mb/350@2x.jpg"
    assert series.foreign_ids == {
        "anilist": "105778",
        "anime_planet": "chainsaw-man",
        "kitsu": "54139",
        "mal": "116778",
        "mangaupdates": "ylx5wzn",
    }


def test_the_chainsaw_man_api_object_agrees_with_its_dump_row():
    from_api = mapping.from_api(fixture("series-1677.json")["data"]).metadata
    from_dump = mapping.from_dump_row(fixture("dump-row-1677.json")).metadata
    for field in ("external_id", "title", "kind", "status", "rating", "published_start"):
        assert getattr(from_api, field) == getattr(from_dump, field), field
    assert from_api.total_volumes == from_dump.total_volumes == 24
    assert from_api.foreign_ids == from_dump.foreign_ids


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("232", 232),
        ("232.5", 232),
        (" 20 ", 20),
        ("", None),
        ("n/a", None),
        (None, None),
        (15, 15),
        ("-3", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_counts_are_strings_read_as_whole_numbers(raw, expected):
    assert mapping.parse_count(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (86.8333, 8.68333),
        (0, 0.0),
        (100, 10.0),
        ("85", 8.5),
        (101, None),
        (-1, None),
        (float("nan"), None),
        ("junk", None),
        (None, None),
        (True, None),
        ({"average": 72.0, "bayesian": 70.1}, 7.2),
    ],
)
def test_rating_moves_from_0_100_to_0_10_and_refuses_anything_else(raw, expected):
    rating = mapping.parse_rating(raw)
    assert rating == (pytest.approx(expected) if expected is not None else None)


def test_cover_priority_is_x350_x2_then_x350_x1_then_x250_then_raw():
    base = {"id": 1, "title": "T"}
    covers = {
        "cover_x350_x2": "a",
        "cover_x350_x1": "b",
        "cover_x250_x2": "c",
        "cover_x250_x1": "d",
        "cover_raw_url": "e",
    }
    for dropped in ("", "cover_x350_x2", "cover_x350_x1", "cover_x250_x2", "cover_x250_x1"):
        if dropped:
            covers[dropped] = None
        expected = next(value for value in covers.values() if value)
        assert mapping.from_dump_row({**base, **covers}).metadata.cover_url == expected
    api = {"id": 1, "title": "T", "cover": {"raw": {"url": "raw"}, "x250": {"x1": "250-1"}}}
    assert mapping.from_api(api).metadata.cover_url == "250-1"


def test_status_and_kind_use_our_vocabulary():
    assert mapping.parse_status("releasing") == "ongoing"
    assert mapping.parse_status("upcoming") == "unknown"
    assert mapping.parse_status("cancelled") == "cancelled"
    assert mapping.parse_kind("oneshot") == "one_shot"
    assert mapping.parse_kind("other") == "other"
    assert mapping.parse_kind("webcomic") == "other"


def test_malformed_json_columns_and_missing_source_entries_are_tolerated():
    series = mapping.from_dump_row(
        {"id": 5, "title": "T", "titles": "{not json", "genres": "[1, 2", "state": None}
    ).metadata
    assert series.genres == () and series.alternate_titles == ()
    api = {
        "id": 5,
        "title": "T",
        "source": {"anilist": {"id": None}, "kitsu": {"id": 9}, "mangadex": {"id": "uuid"}},
    }
    assert mapping.from_api(api).metadata.foreign_ids == {"kitsu": "9"}


def test_merged_and_deleted_states_are_read():
    merged = mapping.from_api({"id": 2, "title": "Old", "state": "merged", "merged_with": 7})
    assert (merged.state, merged.merged_with, merged.is_active) == ("merged", "7", False)
    assert mapping.from_dump_row({"id": 3, "title": "Gone", "state": "deleted"}).state == "deleted"


def test_content_hash_moves_with_any_mapped_field():
    data = fixture("series-2060.json")["data"]
    first = mapping.from_api(data).metadata.content_hash
    assert mapping.from_api(data).metadata.content_hash == first
    assert mapping.from_api({**data, "total_chapters": "312"}).metadata.content_hash != first
