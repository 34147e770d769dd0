"""The catalog builds itself: no import, a real dump, a real poll, a real sweep.

Over real sockets on 127.0.0.1: the demo's MangaBaka dump is downloaded and
installed by `refresh_metadata`, the demo's Nyaa feed is polled from a local
HTTP server, and every release MangaBaka knows creates its series with
metadata and cross ids. The Codex simulator then serves the demo library, and
a Codex series that shares only a MangaUpdates slug with a created series
(Kaiji) is linked by the sweep.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from codex_sync.models import CodexLink
from devtools.codex_simulator import SimulatorServer, load_library
from devtools.mangabaka_dump import pack_dump, read_json_rows, write_dump
from feed.models import Release, Resolution, Series, SeriesOrigin
from feed.polling import poll_source
from metadata.providers import active_provider, reset_provider
from tests.mangabaka_helpers import file_server
from tsundoku.config import SourceConfig

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO_KEY = "demo-codex-key"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served(tmp_path, data_dir) -> str:
    """The demo dump packed as MangaBaka publishes it, and the demo feed, on one local server."""
    tmp_path = tmp_path / "served"
    tmp_path.mkdir()
    write_dump(tmp_path / "series.sqlite", read_json_rows(FIXTURES / "mangabaka_demo_rows.json"))
    pack_dump(tmp_path / "series.sqlite", tmp_path / "series.sqlite.tar.gz")
    shutil.copy(FIXTURES / "demo_releases.xml", tmp_path / "rss.xml")
    with file_server(tmp_path) as base_url:
        yield base_url
    reset_provider()


def test_a_poll_against_the_dump_creates_series_and_the_sweep_links_them(served, tsundoku_config):
    out = io.StringIO()
    call_command(
        "refresh_metadata",
        "--url",
        f"{served}/series.sqlite.tar.gz",
        "--min-rows",
        "100",
        stdout=out,
    )
    assert "Installed MangaBaka dump" in out.getvalue()
    assert not Series.objects.exists()

    source = SourceConfig(
        kind="nyaa", name="nyaa-local", feed_url=f"{served}/rss.xml", cron=None, enabled=True
    )
    summary = poll_source(source)

    assert summary.ok and summary.new == 225
    # Every demo release names a series MangaBaka knows. Near misses wait in
    # review; one stays unmatched: "Chainsawman" is one word where MangaBaka
    # writes two, and a word index cannot split it (the import's fuzzy title
    # index, in `load_demo`, can).
    unresolved = Release.objects.filter(resolution=Resolution.UNRESOLVED)
    assert list(unresolved.values_list("title", flat=True)) == [
        "Chainsawman Colored v01-03 (Digital)"
    ]
    assert summary.resolved + summary.queued_for_review == 224
    assert summary.queued_for_review <= 4

    one_piece = Series.objects.get(canonical_title="One Piece")
    assert one_piece.origin == SeriesOrigin.PROVIDER and one_piece.native_title == "ワンピース"
    assert one_piece.description.startswith("Monkey D. Luffy")
    assert set(one_piece.external_ids.values_list("provider", "external_id")) == {
        ("mangabaka", "990001"),
        ("anilist", "30013"),
        ("mal", "13"),
        ("mangaupdates", "pb8uwds"),
    }
    assert one_piece.highest_volume == 111 and one_piece.release_count >= 1
    # The merged duplicate of One Piece is invisible: one One Piece, no duplicate.
    assert not Series.objects.filter(canonical_title__contains="duplicate").exists()
    kaiji = Series.objects.get(canonical_title="Kaiji")
    assert kaiji.external_ids.filter(provider="mangaupdates", external_id="m63uxtz").exists()

    library = load_library(FIXTURES / "codex_demo_library.json")
    codex_kaiji = next(item for item in library if item["title"] == "Kaiji - Ultimate Survivor")
    assert [ref["source"] for ref in codex_kaiji["externalIds"]] == ["api:mangaupdates"]
    with SimulatorServer(library=library, api_key=DEMO_KEY) as codex:
        tsundoku_config(codex={"base_url": codex.base_url, "api_key": DEMO_KEY})
        sweep = io.StringIO()
        call_command("codex_sync", stdout=sweep)
    assert "Codex sweep success" in sweep.getvalue()
    link = CodexLink.objects.get(series=kaiji)
    assert str(link.codex_series_uuid) == codex_kaiji["id"]


def test_a_bad_dump_url_fails_the_command_and_installs_nothing(served):
    with pytest.raises(CommandError, match="MangaBaka dump not installed"):
        call_command(
            "refresh_metadata",
            "--url",
            f"{served}/missing.tar.gz",
            "--min-rows",
            "1",
            stdout=io.StringIO(),
        )
    assert active_provider() is None
