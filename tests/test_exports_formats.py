"""Every export type in every format it supports, and the one combination it refuses."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exports import jobs
from feed.models import Release, Resolution

EXPORTS = "/api/v1/exports"
POSTED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir", "run_exports_inline")]


def add_release(series, title, number, **fields):
    return Release.objects.create(
        external_id=str(number),
        source_name="Nyaa",
        title=title,
        series=series,
        resolution=Resolution.RESOLVED,
        posted_at=POSTED.replace(day=number % 28 + 1),
        **fields,
    )


@pytest.fixture
def catalog(make_series):
    """Two series (titles sort Berserk, Vinland) with releases, and an unlinked release."""
    berserk = make_series(
        "Berserk",
        anilist="30002",
        kind="manga",
        year=1989,
        genres=["Action", "Dark fantasy"],
        highest_volume=41.0,
        release_count=2,
    )
    vinland = make_series("Vinland Saga", kind="manga", highest_chapter=210.5, release_count=1)
    add_release(berserk, "Berserk v01-05", 1, volume_spans=[[1, 5]], size_bytes=1024)
    add_release(berserk, "Berserk v41", 2, volume_spans=[[41, 41]])
    add_release(vinland, "Vinland Saga c210.5", 3, chapter_spans=[[210.5, 210.5]])
    Release.objects.create(external_id="9", source_name="Nyaa", title="Orphan v01")
    return berserk, vinland


def export(client, **body) -> tuple[dict, bytes]:
    """Create an export through the API, let it run, and download it."""
    body.setdefault("filters", {"sort": "title"})
    created = client.post(EXPORTS, body, format="json")
    assert created.status_code == 201, created.json()
    job = client.get(f"{EXPORTS}/{created.json()['id']}").json()
    assert job["status"] == "completed", job
    download = client.get(job["downloadUrl"])
    assert download.status_code == 200
    return job, b"".join(download.streaming_content)


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


def test_json_is_the_default_format(admin_api, catalog):
    job, content = export(admin_api, type="series")
    assert job["format"] == "json"
    assert json.loads(content)["type"] == "series"


def test_series_json_holds_one_object_per_series_with_the_selected_fields(admin_api, catalog):
    job, content = export(
        admin_api, type="series", format="json", fields=["year", "genres", "highestVolume"]
    )
    document = json.loads(content)
    assert document["fields"] == {"series": ["canonicalTitle", "year", "genres", "highestVolume"]}
    assert document["series"] == [
        {
            "canonicalTitle": "Berserk",
            "year": 1989,
            "genres": ["Action", "Dark fantasy"],
            "highestVolume": 41,
        },
        {"canonicalTitle": "Vinland Saga", "year": None, "genres": [], "highestVolume": None},
    ]
    assert document["rowCount"] == job["rowCount"] == 2
    assert job["fileSize"] == len(content)


def test_series_csv_has_a_header_row_and_one_row_per_series(admin_api, catalog):
    _, content = export(
        admin_api,
        type="series",
        format="csv",
        fields=["externalIds", "genres", "highestChapter"],
    )
    assert content.startswith(b"canonicalTitle,externalIds,genres,highestChapter\r\n")
    assert csv_rows(content) == [
        {
            "canonicalTitle": "Berserk",
            "externalIds": "anilist:30002",
            "genres": "Action; Dark fantasy",
            "highestChapter": "",
        },
        {
            "canonicalTitle": "Vinland Saga",
            "externalIds": "",
            "genres": "",
            "highestChapter": "210.5",
        },
    ]


def test_series_markdown_has_one_section_per_series(admin_api, catalog):
    _, content = export(
        admin_api, type="series", format="markdown", fields=["kind", "year", "genres"]
    )
    text = content.decode("utf-8")
    assert text.startswith("# tsundoku export: series\n")
    assert "\n## Berserk\n\n- **Kind:** manga\n- **Year:** 1989\n" in text
    assert "- **Genres:** Action, Dark fantasy\n" in text
    assert "\n## Vinland Saga\n\n- **Kind:** manga\n- **Year:** —\n" in text
    assert text.index("## Berserk") < text.index("## Vinland Saga")
    assert text.endswith("2 series exported.\n")


def test_releases_json_lists_each_linked_release_with_its_series(admin_api, catalog):
    job, content = export(
        admin_api, type="releases", fields=["seriesTitle", "volumeSpans", "chapterSpans"]
    )
    document = json.loads(content)
    assert document["releases"] == [
        {
            "releaseTitle": "Berserk v41",
            "seriesTitle": "Berserk",
            "volumeSpans": [{"start": 41, "end": 41}],
            "chapterSpans": [],
        },
        {
            "releaseTitle": "Berserk v01-05",
            "seriesTitle": "Berserk",
            "volumeSpans": [{"start": 1, "end": 5}],
            "chapterSpans": [],
        },
        {
            "releaseTitle": "Vinland Saga c210.5",
            "seriesTitle": "Vinland Saga",
            "volumeSpans": [],
            "chapterSpans": [{"start": 210.5, "end": 210.5}],
        },
    ]
    assert job["rowCount"] == 3


def test_releases_csv_has_one_row_per_release(admin_api, catalog):
    _, content = export(
        admin_api, type="releases", format="csv", fields=["seriesId", "postedAt", "sizeBytes"]
    )
    berserk, _ = catalog
    rows = csv_rows(content)
    assert [row["releaseTitle"] for row in rows] == [
        "Berserk v41",
        "Berserk v01-05",
        "Vinland Saga c210.5",
    ]
    assert rows[1] == {
        "releaseTitle": "Berserk v01-05",
        "seriesId": str(berserk.pk),
        "postedAt": "2025-03-02T12:00:00Z",
        "sizeBytes": "1024",
    }


def test_releases_markdown_groups_releases_under_their_series(admin_api, catalog):
    _, content = export(
        admin_api, type="releases", format="markdown", fields=["volumeSpans", "chapterSpans"]
    )
    text = content.decode("utf-8")
    assert (
        "\n## Berserk\n\n"
        "| Release title | Volumes | Chapters |\n"
        "| --- | --- | --- |\n"
        "| Berserk v41 | 41 | — |\n"
        "| Berserk v01-05 | 1–5 | — |\n"
    ) in text
    assert "\n## Vinland Saga\n\n| Release title | Volumes | Chapters |\n" in text
    assert "Orphan" not in text
    assert text.endswith("3 releases exported.\n")


def test_both_as_json_nests_each_series_releases(admin_api, catalog):
    job, content = export(admin_api, type="both", fields=["year", "postedAt"])
    document = json.loads(content)
    assert document["fields"] == {
        "series": ["canonicalTitle", "year"],
        "releases": ["releaseTitle", "postedAt"],
    }
    berserk, vinland = document["series"]
    assert berserk == {
        "canonicalTitle": "Berserk",
        "year": 1989,
        "releases": [
            {"releaseTitle": "Berserk v41", "postedAt": "2025-03-03T12:00:00Z"},
            {"releaseTitle": "Berserk v01-05", "postedAt": "2025-03-02T12:00:00Z"},
        ],
    }
    assert [release["releaseTitle"] for release in vinland["releases"]] == ["Vinland Saga c210.5"]
    assert job["rowCount"] == 5  # two series and three releases


def test_both_as_markdown_has_a_release_table_in_each_series_section(admin_api, catalog):
    _, content = export(admin_api, type="both", format="markdown", fields=["kind"])
    text = content.decode("utf-8")
    assert (
        "\n## Berserk\n\n- **Kind:** manga\n\n### Releases\n\n"
        "| Release title |\n| --- |\n| Berserk v41 |\n| Berserk v01-05 |\n"
    ) in text
    assert text.endswith("2 series and 3 releases exported.\n")


def test_both_as_csv_is_rejected_with_a_clear_400(admin_api, catalog):
    response = admin_api.post(EXPORTS, {"type": "both", "format": "csv"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "CSV holds a single table" in response.json()["message"]
    assert admin_api.get(EXPORTS).json()["total"] == 0


def test_csv_round_trips_titles_with_commas_quotes_and_newlines(admin_api, make_series):
    titles = ["Spy, Family", 'The "Apothecary" Diaries', "Two\nlines", "Ünïcödé 漫画"]
    for title in titles:
        make_series(title, alternate_titles=[f"{title}, again", 'say "hi"'])
    _, content = export(
        admin_api, type="series", format="csv", fields=["alternateTitles", "description"]
    )
    rows = csv_rows(content)
    assert sorted(row["canonicalTitle"] for row in rows) == sorted(titles)
    by_title = {row["canonicalTitle"]: row for row in rows}
    assert by_title["Spy, Family"]["alternateTitles"] == 'Spy, Family, again; say "hi"'
    assert b"\r\n" in content and b'"Spy, Family"' in content


def test_csv_defuses_text_that_a_spreadsheet_would_run_as_a_formula(admin_api, make_series):
    make_series('=HYPERLINK("http://evil.test")', description="+cmd")
    _, content = export(admin_api, type="series", format="csv", fields=["description", "year"])
    (row,) = csv_rows(content)
    assert row["canonicalTitle"] == '\'=HYPERLINK("http://evil.test")'
    assert row["description"] == "'+cmd"


def test_markdown_escapes_pipes_and_markup_from_titles(admin_api, make_series):
    series = make_series("Title | with <b>pipes</b>", description="# Not a heading\n\nSecond")
    add_release(series, "A | B *v01*", 1)
    _, content = export(admin_api, type="both", format="markdown", fields=["description"])
    text = content.decode("utf-8")
    assert "## Title \\| with \\<b\\>pipes\\</b\\>\n" in text
    assert "| A \\| B \\*v01\\* |\n" in text
    assert "\n\\# Not a heading\n\nSecond\n" in text


@pytest.mark.parametrize("export_type", ["series", "releases", "both"])
def test_an_export_runs_the_same_queries_whatever_the_catalog_size(
    monkeypatch, make_series, export_type
):
    monkeypatch.setattr("exports.jobs.async_task", lambda *args, **kwargs: None)
    owner = jobs.Owner(user_id=None, is_admin=True)

    def queries_for_export() -> int:
        job = jobs.create_export(
            owner, export_type=export_type, export_format="json", field_keys=None, filters={}
        )
        with CaptureQueriesContext(connection) as context:
            assert jobs.run_export(job.pk) == "completed"
        return len(context.captured_queries)

    for number in range(2):
        add_release(make_series(anilist=str(number)), f"Small v{number}", number)
    small = queries_for_export()
    for number in range(2, 22):
        add_release(make_series(anilist=str(number)), f"Large v{number}", number)
    assert queries_for_export() == small


def test_an_export_with_no_rows_is_still_a_well_formed_file(admin_api, catalog):
    scope = {"filters": {"q": "no such title"}}
    _, document = export(admin_api, type="both", **scope)
    assert json.loads(document)["series"] == []
    _, table = export(admin_api, type="releases", format="csv", fields=["postedAt"], **scope)
    assert csv_rows(table) == []
    assert table == b"releaseTitle,postedAt\r\n"
    _, text = export(admin_api, type="series", format="markdown", **scope)
    assert text.decode().endswith("\n---\n\n0 series exported.\n")
