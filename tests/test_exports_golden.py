"""Exports write the same bytes for the same data: every type, format, tier and filter.

The files under `tests/fixtures/exports/` were written by the export code
before it was rewritten for speed (row-at-a-time over model instances), so
this test proves the streaming rewrite changed no byte of any file. The
catalog exercises every field and every formatting branch: empty and null
values, fractional numbers, spans, text a spreadsheet would run, Markdown
specials, URLs with spaces, non-ASCII, every Codex status, releases without
a date, releases that are not resolved or belong to another series.

When an export's output changes on purpose, rewrite the files with
`REWRITE_EXPORT_GOLDENS=1 pytest tests/test_exports_golden.py`
(the test then skips, so a rewrite never passes as a check) and review the diff.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from codex_sync.models import CodexLink
from exports.pipeline import build_spec, write_export
from feed.models import ExternalId, Release, Resolution, Series, SeriesOrigin

GOLDEN_DIR = Path(__file__).parent / "fixtures" / "exports"
REWRITE = os.environ.get("REWRITE_EXPORT_GOLDENS") == "1"
EXPORTED_AT = datetime(2025, 6, 1, 9, 30, 15, tzinfo=UTC)
BASE = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db

FORMATS_BY_TYPE = {
    "series": ("json", "csv", "markdown"),
    "releases": ("json", "csv", "markdown"),
    "both": ("json", "markdown"),
}
# Filters that change which rows are exported and in which order (every one
# applied in SQL by the feed's query); each is exported in every type.
FILTERS = {
    "default": {},
    "title-asc": {"sort": "title"},
    "volume-asc": {"sort": "highest_volume", "order": "asc"},
    "manga-search": {"kind": "manga,manhwa", "q": "saga"},
    "codex-behind-ignored": {"codexStatus": "behind,ignored"},
    "codex-missing-all": {"codexStatus": "missing", "scope": "all"},
    "has-releases": {"hasReleases": "true", "status": "ongoing"},
}


def _series(pk: int, title: str, **fields) -> Series:
    return Series.objects.create(pk=pk, canonical_title=title, **fields)


def _release(pk: int, series: Series | None, title: str, **fields) -> Release:
    fields.setdefault("resolution", Resolution.RESOLVED if series else Resolution.UNRESOLVED)
    return Release.objects.create(
        pk=pk, external_id=str(pk), source_name="Nyaa", title=title, series=series, **fields
    )


def _link(series: Series, number: int, **fields) -> None:
    CodexLink.objects.create(
        series=series, codex_series_uuid=uuid.UUID(int=number), synced_at=BASE, **fields
    )


@pytest.fixture
def every_field_catalog():
    """Six series covering every field and formatting branch, with their releases."""
    full = _series(
        101,
        "Vinland Saga",
        alternate_titles=["ヴィンランド・サガ", "Vinland, Saga | the *saga*"],
        kind="manga",
        status="ongoing",
        year=2005,
        description="# A saga\n\nThor's son, `Thorfinn`.\n\n  - a list?\n\n=1+1",
        genres=["Action", "Historical"],
        cover_url="https://cdn.example.test/covers/101.jpg",
        highest_volume=27.0,
        highest_chapter=210.5,
        total_volumes=28,
        total_chapters=220,
        volume_coverage=[[1, 5], [7, 7], [10, 27]],
        chapter_coverage=[[1, 200], [210.5, 210.5]],
        release_count=4,
        first_seen_at=BASE,
        last_release_at=BASE + timedelta(days=30, hours=5, seconds=59, microseconds=999),
        updated_at=BASE + timedelta(days=2),
    )
    for provider, external_id in (("mangadex", "abc-def"), ("anilist", "30642"), ("mal", "2")):
        ExternalId.objects.create(series=full, provider=provider, external_id=external_id)
    _link(full, 1, local_max_volume=25, local_max_chapter=200.0, volumes_owned=20)

    bare = _series(
        102,
        '=HYPERLINK("http://evil.test")',
        kind="manhwa",
        release_count=1,
        first_seen_at=BASE + timedelta(days=1),
        updated_at=BASE + timedelta(days=1),
    )
    ignored = _series(
        103,
        "Berserk <b>Deluxe</b> Saga",
        alternate_titles=["-minus first", "+plus", "@at"],
        kind="manga",
        status="hiatus",
        year=1989,
        description="Plain one-line description.",
        genres=["Dark fantasy"],
        highest_volume=41.0,
        volume_coverage=[[1, 41]],
        release_count=2,
        ignore_completion=True,
        first_seen_at=BASE + timedelta(days=3),
        last_release_at=BASE + timedelta(days=10),
        updated_at=BASE + timedelta(days=3),
    )
    ExternalId.objects.create(series=ignored, provider="mangaupdates", external_id="berserk")
    _link(ignored, 3, local_max_volume=30)
    present = _series(
        104,
        "Present but Uncountable",
        kind="novel",
        highest_volume=3.0,
        volume_coverage=[[3, 3]],
        status="completed",
        release_count=0,
        first_seen_at=BASE + timedelta(days=4),
        updated_at=BASE + timedelta(days=4),
    )
    _link(present, 4, local_max_chapter=12.5, volumes_owned=0)
    complete = _series(
        105,
        "Complete Saga Tail",
        kind="manhwa",
        status="ongoing",
        highest_chapter=99.0,
        chapter_coverage=[[1, 99]],
        release_count=1,
        origin=SeriesOrigin.ADDED,
        first_seen_at=BASE + timedelta(days=5),
        last_release_at=BASE + timedelta(days=10),
        updated_at=BASE + timedelta(days=5),
    )
    _link(complete, 5, local_max_chapter=99.0)
    _series(
        106,
        "Provider Only, Never Surfaced",
        origin=SeriesOrigin.PROVIDER,
        highest_volume=3.0,
        first_seen_at=BASE + timedelta(days=6),
        updated_at=BASE + timedelta(days=6),
    )

    _release(
        1001,
        full,
        "[Group] Vinland Saga v01-05 + 07 (Digital)",
        post_url="https://nyaa.example.test/view/1001",
        torrent_url="https://nyaa.example.test/download/1001.torrent",
        magnet="magnet:?xt=urn:btih:AAAA&dn=Vinland Saga",
        info_hash="a" * 40,
        size_bytes=1_234_567_890,
        category="Literature - English-translated",
        posted_at=BASE + timedelta(days=20),
        observed_at=BASE + timedelta(days=20, minutes=3),
        volume_spans=[[1, 5], [7, 7]],
    )
    _release(
        1002,
        full,
        "Vinland Saga c210.5 | bonus *chapter*",
        posted_at=BASE + timedelta(days=30, hours=5, seconds=59),
        observed_at=BASE + timedelta(days=30, hours=6),
        chapter_spans=[[210.5, 210.5]],
        torrent_url="https://nyaa.example.test/download/1002.torrent",
    )
    _release(1003, full, "-Vinland Saga undated", observed_at=BASE, volume_spans=[[10, 27]])
    _release(
        1004, full, "Vinland Saga same day", posted_at=BASE + timedelta(days=20), observed_at=BASE
    )
    _release(1005, bare, "@bare release\nwith a newline", posted_at=BASE, observed_at=BASE)
    _release(1006, ignored, "Berserk v41", posted_at=BASE + timedelta(days=10), observed_at=BASE)
    _release(
        1007,
        ignored,
        "Berserk v01-40",
        posted_at=BASE + timedelta(days=9),
        observed_at=BASE,
        volume_spans=[[1, 40]],
        size_bytes=0,
    )
    _release(
        1008, complete, "Complete c1-99", posted_at=BASE + timedelta(days=10), observed_at=BASE
    )
    _release(1009, None, "Unmatched v01", posted_at=BASE, observed_at=BASE)
    _release(
        1010,
        full,
        "Vinland Saga in review",
        resolution=Resolution.REVIEW_PENDING,
        posted_at=BASE,
        observed_at=BASE,
    )


def _cases():
    for export_type, formats in FORMATS_BY_TYPE.items():
        for export_format in formats:
            for tier in ("admin", "reader"):
                yield export_type, export_format, tier, "default"
    for filters in FILTERS:
        if filters != "default":
            for export_type in FORMATS_BY_TYPE:
                yield (
                    export_type,
                    "markdown" if export_type == "releases" else "json",
                    "admin",
                    filters,
                )


def _export_bytes(export_type: str, export_format: str, is_admin: bool, filters: dict) -> bytes:
    spec = build_spec(export_type, export_format, None, filters, is_admin=is_admin)
    # As the worker writes it: UTF-8, the csv module owning line ends.
    stream = io.StringIO(newline="")
    write_export(spec, stream, exported_at=EXPORTED_AT)
    return stream.getvalue().encode("utf-8")


@pytest.mark.usefixtures("every_field_catalog")
@pytest.mark.parametrize(("export_type", "export_format", "tier", "filters"), list(_cases()))
def test_export_bytes_match_the_golden_file(
    tsundoku_config, export_type, export_format, tier, filters
):
    tsundoku_config(server={"public_url": "https://tsundoku.example.test/"})
    content = _export_bytes(export_type, export_format, tier == "admin", FILTERS[filters])
    extension = {"json": "json", "csv": "csv", "markdown": "md"}[export_format]
    golden = GOLDEN_DIR / f"{export_type}-{tier}-{filters}.{extension}"
    if REWRITE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(content)
        pytest.skip(f"rewrote {golden.name}")
    assert content == golden.read_bytes()


@pytest.mark.usefixtures("every_field_catalog")
@pytest.mark.parametrize(
    ("export_type", "export_format", "tier", "filters"),
    [case for case in _cases() if case[3] == "default"],
)
def test_the_general_datetime_path_matches_the_golden_file(
    tsundoku_config, monkeypatch, export_type, export_format, tier, filters
):
    """Datetimes through Django's converter (as on PostgreSQL), not SQLite's stored text."""
    from exports import stored_datetimes

    monkeypatch.setattr(stored_datetimes, "stores_utc_text", lambda connection: False)
    tsundoku_config(server={"public_url": "https://tsundoku.example.test/"})
    content = _export_bytes(export_type, export_format, tier == "admin", FILTERS[filters])
    extension = {"json": "json", "csv": "csv", "markdown": "md"}[export_format]
    assert content == (GOLDEN_DIR / f"{export_type}-{tier}-{filters}.{extension}").read_bytes()
