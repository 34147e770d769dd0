"""Importing catalog series from JSON: formats, idempotent updates, errors, and the retry after."""

from __future__ import annotations

import json
from io import BytesIO, StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from feed.importer import import_series
from feed.models import ExternalId, Release, Resolution, Series

BERSERK = {
    "canonicalTitle": "Berserk",
    "alternateTitles": ["ベルセルク", "Kenpuu Denki Berserk"],
    "kind": "manga",
    "status": "ongoing",
    "year": 1989,
    "description": "Guts hunts the apostles.",
    "coverUrl": "https://covers.example/berserk.jpg",
    "totalVolumes": None,
    "totalChapters": None,
    "genres": ["Action", "Dark Fantasy"],
    "externalIds": {"anilist": "30002", "mal": "2"},
}
MONSTER = {
    "canonicalTitle": "Monster",
    "kind": "manga",
    "status": "completed",
    "totalVolumes": 18,
    "externalIds": {"anilist": "30001"},
}


def write(tmp_path, records, *, lines: bool = False):
    path = tmp_path / ("series.jsonl" if lines else "series.json")
    text = "\n".join(json.dumps(r) for r in records) if lines else json.dumps(records, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def ids_of(series: Series) -> dict[str, str]:
    return dict(series.external_ids.values_list("provider", "external_id"))


@pytest.mark.django_db
def test_a_json_list_creates_series_with_every_field(tmp_path):
    report = import_series(write(tmp_path, [BERSERK, MONSTER]))

    assert (report.created, report.updated, report.skipped, report.errors) == (2, 0, 0, [])
    berserk = Series.objects.get(canonical_title="Berserk")
    assert berserk.alternate_titles == ["ベルセルク", "Kenpuu Denki Berserk"]
    assert (berserk.kind, berserk.status, berserk.year) == ("manga", "ongoing", 1989)
    assert berserk.cover_url == "https://covers.example/berserk.jpg"
    assert berserk.genres == ["Action", "Dark Fantasy"]
    assert ids_of(berserk) == {"anilist": "30002", "mal": "2"}
    assert "kenpuu denki berserk" in berserk.search_text
    assert Series.objects.get(canonical_title="Monster").total_volumes == 18


@pytest.mark.django_db
def test_json_lines_are_detected(tmp_path):
    report = import_series(write(tmp_path, [BERSERK, MONSTER], lines=True))

    assert report.created == 2
    assert Series.objects.count() == 2


@pytest.mark.django_db
def test_a_single_pretty_printed_object_is_one_record():
    report = import_series(StringIO(json.dumps(MONSTER, indent=4)))

    assert report.created == 1


@pytest.mark.django_db
def test_a_byte_stream_with_a_byte_order_mark_is_read():
    report = import_series(BytesIO(b"\xef\xbb\xbf" + json.dumps([MONSTER]).encode()))

    assert report.created == 1


@pytest.mark.django_db
def test_importing_the_same_file_again_changes_nothing(tmp_path):
    path = write(tmp_path, [BERSERK, MONSTER])
    import_series(path)

    report = import_series(path)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert Series.objects.count() == 2
    assert ExternalId.objects.count() == 3


@pytest.mark.django_db
def test_a_record_whose_id_exists_updates_that_series(tmp_path, make_series):
    existing = make_series("Berserk (old title)", anilist="30002", year=1990, description="Kept.")

    report = import_series(
        write(
            tmp_path,
            [
                {
                    "canonicalTitle": "Berserk",
                    "year": 1989,
                    "externalIds": {
                        "anilist": "30002",
                        "mangadex": "801513ba-a712-498c-8f57-cae55b38cc92",
                    },
                }
            ],
        )
    )

    assert (report.created, report.updated) == (0, 1)
    existing.refresh_from_db()
    assert (existing.canonical_title, existing.year) == ("Berserk", 1989)
    assert existing.description == "Kept."  # keys the record does not carry stay as they were
    assert existing.sort_title == "berserk"
    assert ids_of(existing) == {
        "anilist": "30002",
        "mangadex": "801513ba-a712-498c-8f57-cae55b38cc92",
    }


@pytest.mark.django_db
def test_a_new_id_for_a_known_provider_replaces_the_old_one(tmp_path, make_series):
    existing = make_series("Berserk", anilist="30002", mal="999")

    import_series(
        write(
            tmp_path,
            [{"canonicalTitle": "Berserk", "externalIds": {"anilist": "30002", "mal": "2"}}],
        )
    )

    assert ids_of(existing) == {"anilist": "30002", "mal": "2"}


@pytest.mark.django_db
def test_records_without_ids_are_matched_by_title_on_reimport(tmp_path):
    path = write(tmp_path, [{"canonicalTitle": "Sakura Trick", "kind": "manga"}])
    import_series(path)

    report = import_series(path)

    assert (report.created, report.unchanged) == (0, 1)
    assert Series.objects.count() == 1


@pytest.mark.django_db
def test_bad_records_are_reported_by_index_and_field_and_the_rest_load(tmp_path):
    records = [
        BERSERK,
        {"canonicalTitle": "Bad Kind", "kind": "comic", "year": "1999"},
        {"alternateTitles": ["No canonical title"]},
        {"canonicalTitle": "Unknown Provider", "externalIds": {"goodreads": "1"}},
        "not an object",
        {
            "canonicalTitle": "Bad Numbers",
            "totalVolumes": -1,
            "coverUrl": "ftp://x",
            "genres": "Action",
        },
        MONSTER,
    ]

    report = import_series(write(tmp_path, records))

    assert (report.created, report.skipped) == (2, 5)
    assert report.errors[0] == (
        "index 1 ('Bad Kind'): kind: 'comic' is not one of manga, manhwa, manhua, novel, "
        "one_shot, oel, other; year: expected a whole number or null, got '1999'"
    )
    assert report.errors[1] == "index 2: canonicalTitle: required"
    assert report.errors[2].startswith(
        "index 3 ('Unknown Provider'): externalIds: unknown provider 'goodreads' (known: mangabaka,"
    )
    assert report.errors[3] == "index 4: expected an object, got a string"
    assert report.errors[4] == (
        "index 5 ('Bad Numbers'): coverUrl: 'ftp://x' is not an http(s) URL; "
        "totalVolumes: -1 is not 0 or more; genres: expected a list of strings, got a string"
    )
    assert not Series.objects.filter(canonical_title__in=["Bad Kind", "Unknown Provider"]).exists()


@pytest.mark.django_db
def test_bad_json_lines_are_reported_by_line_number(tmp_path):
    path = tmp_path / "series.jsonl"
    path.write_text(
        json.dumps(MONSTER) + "\n\n{not json}\n" + json.dumps({"canonicalTitle": ""}) + "\n"
    )

    report = import_series(path)

    assert report.created == 1
    assert report.errors == [
        "line 3: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 4: canonicalTitle: expected a non-empty string",
    ]
    assert report.skipped == 2


@pytest.mark.django_db
def test_a_broken_json_list_loads_nothing_and_says_where(tmp_path):
    path = tmp_path / "series.json"
    path.write_text('[\n  {"canonicalTitle": "Monster"},\n  {"canonicalTitle": }\n]')

    report = import_series(path)

    assert report.loaded == 0
    assert report.errors == ["not valid JSON: Expecting value at line 3 column 22"]


@pytest.mark.django_db
def test_ids_pointing_at_two_different_series_are_an_error(tmp_path, make_series):
    make_series("Berserk", anilist="30002")
    make_series("Monster", mal="1")

    report = import_series(
        write(
            tmp_path,
            [{"canonicalTitle": "Confused", "externalIds": {"anilist": "30002", "mal": "1"}}],
        )
    )

    assert report.loaded == 0
    assert len(report.errors) == 1
    assert "externalIds point at different series" in report.errors[0]
    assert "'Berserk'" in report.errors[0] and "'Monster'" in report.errors[0]


@pytest.mark.django_db
def test_pending_releases_are_matched_again_after_an_import(tmp_path):
    waiting = Release.objects.create(
        external_id="1706640",
        source_name="nyaa",
        title="[Lazy Lily] Sakura Trick Volume 03.zip",
        volume_spans=[[3, 3]],
        posted_at=timezone.now(),
    )

    report = import_series(write(tmp_path, [{"canonicalTitle": "Sakura Trick"}]))

    assert report.retried is not None
    assert (report.retried.examined, report.retried.resolved) == (1, 1)
    waiting.refresh_from_db()
    assert waiting.resolution == Resolution.RESOLVED
    assert waiting.series.volume_coverage == [[3, 3]]


# ---- The command --------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_prints_the_report(tmp_path):
    out, err = StringIO(), StringIO()
    path = write(tmp_path, [MONSTER, {"canonicalTitle": "X", "status": "paused"}])

    call_command("import_series", str(path), stdout=out, stderr=err)

    assert "Created 1, updated 0, unchanged 0, skipped 1." in out.getvalue()
    assert "index 1 ('X'): status: 'paused' is not one of" in err.getvalue()


@pytest.mark.django_db
def test_the_command_fails_when_nothing_loads(tmp_path):
    path = write(tmp_path, [{"canonicalTitle": 42}])

    with pytest.raises(CommandError, match="nothing imported: 1 error"):
        call_command("import_series", str(path), stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_the_command_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*missing\.json"):
        call_command("import_series", str(tmp_path / "missing.json"), stdout=StringIO())
