"""Importing many series is set-based: statements grow with batches, not with records."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feed.importer import import_series
from feed.models import ExternalId, Series


def records(count: int, *, description: str = "First.") -> list[dict]:
    return [
        {
            "canonicalTitle": f"Series {number}",
            "alternateTitles": [f"Alt {number}"],
            "description": description,
            "genres": ["Drama"],
            "externalIds": {"mangabaka": str(1000 + number), "anilist": str(number)},
        }
        for number in range(1, count + 1)
    ]


def import_counting(tmp_path, rows: list[dict]) -> tuple[object, int]:
    path = tmp_path / "series.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with CaptureQueriesContext(connection) as captured:
        report = import_series(path)
    return report, len(captured.captured_queries)


@pytest.mark.django_db
def test_a_new_catalog_is_written_in_a_few_statements_per_batch(tmp_path):
    report, queries = import_counting(tmp_path, records(300))
    assert report.created == 300 and not report.errors
    # 300 series and 600 ids, 300 times more rows than statements.
    assert queries <= 30, queries
    assert Series.objects.count() == 300
    assert ExternalId.objects.count() == 600
    series = Series.objects.get(canonical_title="Series 7")
    assert series.search_text == "series 7 \u241e alt 7"  # what Series.save would derive
    assert series.sort_title == "series 7"
    assert dict(series.external_ids.values_list("provider", "external_id")) == {
        "mangabaka": "1007",
        "anilist": "7",
    }


@pytest.mark.django_db
def test_the_number_of_statements_does_not_grow_with_unchanged_records(tmp_path):
    import_counting(tmp_path, records(50))
    _report, small = import_counting(tmp_path, records(50))
    import_counting(tmp_path, records(400))
    report, large = import_counting(tmp_path, records(400))
    assert report.unchanged == 400
    assert large - small <= 4  # one lookup per 900 ids per provider, one per 900 series


@pytest.mark.django_db
def test_changed_records_are_updated_in_bulk_and_keep_their_ids(tmp_path):
    import_counting(tmp_path, records(200))
    before = dict(Series.objects.values_list("canonical_title", "pk"))
    report, queries = import_counting(tmp_path, records(200, description="Second."))
    assert report.updated == 200
    assert queries <= 15, queries
    assert dict(Series.objects.values_list("canonical_title", "pk")) == before
    assert set(Series.objects.values_list("description", flat=True)) == {"Second."}


@pytest.mark.django_db
def test_a_record_repeating_an_earlier_records_id_updates_the_series_it_created(tmp_path):
    rows = records(3)
    rows.append({"canonicalTitle": "Series 2, renamed", "externalIds": {"anilist": "2"}})
    report, _queries = import_counting(tmp_path, rows)
    assert (report.created, report.updated) == (3, 1)
    renamed = Series.objects.get(external_ids__provider="anilist", external_ids__external_id="2")
    assert renamed.canonical_title == "Series 2, renamed"
    assert renamed.search_text.startswith("series 2, renamed")
    assert Series.objects.count() == 3


@pytest.mark.django_db
def test_ids_clashing_with_a_series_created_earlier_in_the_file_are_reported_by_index(tmp_path):
    rows = records(2)
    rows.append({"canonicalTitle": "Both", "externalIds": {"anilist": "1", "mangabaka": "1002"}})
    report, _queries = import_counting(tmp_path, rows)
    assert report.skipped == 1
    [error] = report.errors
    assert error.startswith("index 2 ('Both'): externalIds point at different series (#")
    assert "'Series 1'" in error and "'Series 2'" in error
    assert Series.objects.count() == 2


@pytest.mark.django_db
def test_records_in_later_batches_see_the_series_earlier_batches_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr("feed.importer.BATCH", 2)
    rows = records(3)
    rows += [
        {"canonicalTitle": "Series 1, renamed", "externalIds": {"anilist": "1"}},
        # A new id for a provider the series has, added and then replaced in one batch.
        {"canonicalTitle": "Series 2", "externalIds": {"anilist": "2", "mal": "20"}},
        {"canonicalTitle": "Series 2", "externalIds": {"anilist": "2", "mal": "21"}},
        {"canonicalTitle": "Clash", "externalIds": {"anilist": "3", "mangabaka": "1001"}},
    ]
    report, _queries = import_counting(tmp_path, rows)
    assert (report.created, report.updated, report.skipped) == (3, 3, 1)
    [error] = report.errors
    assert error.startswith("index 6 ('Clash'): externalIds point at different series (#")
    assert "'Series 1, renamed'" in error and "'Series 3'" in error
    renamed = Series.objects.get(external_ids__provider="anilist", external_ids__external_id="1")
    assert renamed.canonical_title == "Series 1, renamed"
    assert renamed.sort_title == "series 1, renamed"
    second = Series.objects.get(external_ids__provider="anilist", external_ids__external_id="2")
    assert dict(second.external_ids.values_list("provider", "external_id")) == {
        "mangabaka": "1002",
        "anilist": "2",
        "mal": "21",
    }
    assert Series.objects.count() == 3


@pytest.mark.django_db
def test_a_bad_record_in_any_batch_is_reported_by_its_own_line(tmp_path, monkeypatch):
    monkeypatch.setattr("feed.importer.BATCH", 4)
    lines = [json.dumps(row) for row in records(10)]
    lines[5] = json.dumps({**records(6)[5], "year": "soon"})
    lines[8] = "{not json"
    path = tmp_path / "series.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    report = import_series(path)
    assert (report.created, report.skipped) == (8, 2)
    assert [error.split(" ")[:2] for error in report.errors] == [["line", "6"], ["line", "9:"]]
    assert "year: expected a whole number or null, got 'soon'" in report.errors[0]
