"""Refreshing the dump end to end over real HTTP: good dumps install, bad ones change nothing."""

from __future__ import annotations

import gzip
import io
import sqlite3
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from metadata.mangabaka.refresh import RefreshFailed, dump_path, parse_sidecar, refresh_dump
from metadata.mangabaka.store import DumpStore
from metadata.models import DumpRefresh, NegativeLookup, RefreshOutcome
from tests.mangabaka_helpers import configure, file_server, filler_rows, install_dump, pack, row

MIN_ROWS = 20


@pytest.fixture
def served(db, tmp_path, data_dir, settings):
    """A directory served on 127.0.0.1, and the provider configured to need MIN_ROWS rows."""
    configure(settings, min_dump_rows=MIN_ROWS, min_request_gap_ms=0)
    directory = tmp_path / "www"
    directory.mkdir()
    with file_server(directory) as base_url:
        yield directory, base_url


@pytest.fixture
def old_dump(served):
    """An installed dump that a failed refresh must leave in place."""
    install_dump([row(1, "Old Dump Series"), *filler_rows(MIN_ROWS)])
    return dump_path().read_bytes()


def good_rows():
    return [row(1677, "Chainsaw Man", source_anilist_id=105778), *filler_rows(MIN_ROWS)]


def refresh_command(*args: str) -> None:
    call_command("refresh_metadata", *args)


def test_a_good_dump_downloads_validates_indexes_and_installs(served):
    directory, base_url = served
    pack(directory, good_rows())

    refresh_command("--url", f"{base_url}/series.sqlite.tar.gz")

    store = DumpStore(dump_path())
    assert store.get("1677").title == "Chainsaw Man"
    assert store.find_by_source("anilist", "105778").external_id == "1677"
    assert store.search("chainsaw man", 1)[0].external_id == "1677"
    refresh = DumpRefresh.objects.get()
    assert refresh.outcome == RefreshOutcome.SUCCEEDED
    assert refresh.records == MIN_ROWS + 1 and refresh.rows == MIN_ROWS + 1
    assert refresh.version == parse_sidecar((directory / "series.sqlite.tar.gz.sha1").read_text())
    assert refresh.bytes_downloaded == (directory / "series.sqlite.tar.gz").stat().st_size
    assert refresh.warning == "" and refresh.error == ""
    assert refresh.finished_at is not None
    assert not list((dump_path().parent / ".tmp").iterdir())  # scratch files cleaned up
    with sqlite3.connect(dump_path()) as connection:
        names = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert {
        "idx_series_anilist",
        "idx_series_mangaupdates",
        "idx_series_state",
        "series_title_fts",
    } <= names


def test_fts_holds_each_alternate_once(served):
    directory, base_url = served
    titles = [{"title": t, "language": "en"} for t in ("Main", "Alt One", "Alt Two", "Main")]
    pack(directory, [row(1, "Main", titles=titles), *filler_rows(MIN_ROWS)])
    refresh_dump(url=f"{base_url}/series.sqlite.tar.gz")
    with sqlite3.connect(dump_path()) as connection:
        (alternates,) = connection.execute(
            "SELECT alternate_titles FROM series_title_fts WHERE rowid = 1"
        ).fetchone()
    assert sorted(alternates.split("\n")) == ["Alt One", "Alt Two"]


def test_a_checksum_mismatch_only_warns(served):
    directory, base_url = served
    archive = pack(directory, good_rows())
    (directory / f"{archive.name}.sha1").write_text("0" * 40 + "  series.sqlite.tar.gz\n")

    refresh_dump(url=f"{base_url}/series.sqlite.tar.gz")

    refresh = DumpRefresh.objects.get()
    assert refresh.outcome == RefreshOutcome.SUCCEEDED
    assert "checksum sidecar says 0000" in refresh.warning
    assert DumpStore(dump_path()).get("1677") is not None


def assert_refused(base_url: str, old_dump: bytes, message: str) -> None:
    with pytest.raises(CommandError, match=message) as caught:
        refresh_command("--url", f"{base_url}/series.sqlite.tar.gz")
    assert "\n" not in str(caught.value)  # one line
    assert dump_path().read_bytes() == old_dump
    assert DumpStore(dump_path()).get("1").title == "Old Dump Series"
    refresh = DumpRefresh.objects.get()
    assert refresh.outcome == RefreshOutcome.FAILED
    assert refresh.error and refresh.finished_at is not None
    assert not list((dump_path().parent / ".tmp").iterdir())


def test_a_corrupt_archive_keeps_the_old_dump(served, old_dump):
    directory, base_url = served
    (directory / "series.sqlite.tar.gz").write_bytes(b"this is not gzip at all" * 100)
    assert_refused(base_url, old_dump, "not a valid tar.gz")


def test_a_truncated_archive_keeps_the_old_dump(served, old_dump):
    directory, base_url = served
    archive = pack(directory, good_rows())
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert_refused(base_url, old_dump, "not a valid tar.gz|truncated")


def test_a_dump_of_the_wrong_schema_keeps_the_old_dump(served, old_dump, tmp_path):
    directory, base_url = served
    wrong = tmp_path / "wrong.sqlite"
    with sqlite3.connect(wrong) as connection:
        connection.execute("CREATE TABLE series (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany("INSERT INTO series VALUES (?, ?)", [(i, "x") for i in range(50)])
    with tarfile.open(directory / "series.sqlite.tar.gz", "w:gz") as archive:
        archive.add(wrong, arcname="series.sqlite")
    assert_refused(base_url, old_dump, "lacks column")


def test_a_file_that_is_not_sqlite_keeps_the_old_dump(served, old_dump):
    directory, base_url = served
    payload = b"definitely not a database" * 1000
    info = tarfile.TarInfo("series.sqlite")
    info.size = len(payload)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(info, io.BytesIO(payload))
    (directory / "series.sqlite.tar.gz").write_bytes(gzip.compress(buffer.getvalue()))
    assert_refused(base_url, old_dump, "SQLite")


def test_a_dump_with_too_few_rows_keeps_the_old_dump(served, old_dump):
    directory, base_url = served
    pack(directory, [row(1677, "Chainsaw Man"), *filler_rows(3)])
    assert_refused(base_url, old_dump, "fewer than the 20 expected")


def test_a_missing_dump_url_keeps_the_old_dump(served, old_dump):
    _, base_url = served
    assert_refused(base_url, old_dump, "HTTP 404")


def test_archive_member_names_are_never_used_as_paths(served, tmp_path):
    directory, base_url = served
    source = tmp_path / "evil.sqlite"
    from devtools import mangabaka_dump

    mangabaka_dump.write_dump(source, good_rows())
    with tarfile.open(directory / "series.sqlite.tar.gz", "w:gz") as archive:
        archive.add(source, arcname="../../escaped.sqlite")
    refresh_dump(url=f"{base_url}/series.sqlite.tar.gz")
    assert DumpStore(dump_path()).get("1677") is not None
    assert not (dump_path().parent.parent.parent / "escaped.sqlite").exists()
    assert not (dump_path().parent / ".." / "escaped.sqlite").resolve().exists()


def test_an_oversized_member_is_refused(served, old_dump):
    directory, base_url = served
    pack(directory, good_rows())
    with pytest.raises(RefreshFailed, match="limit"):
        refresh_dump(url=f"{base_url}/series.sqlite.tar.gz", max_extracted_bytes=1024)
    assert dump_path().read_bytes() == old_dump


def test_a_local_file_installs_and_a_success_forgets_remembered_misses(served, tmp_path):
    NegativeLookup.objects.create(
        provider="mangabaka", key="id:1677", expires_at="2999-01-01T00:00Z"
    )
    archive = pack(tmp_path, good_rows(), name="local.tar.gz")
    refresh_command("--file", str(archive))
    assert DumpStore(dump_path()).get("1677") is not None
    assert not NegativeLookup.objects.exists()
    assert DumpRefresh.objects.get().source == str(archive)


def test_a_queued_refresh_is_claimed_once(served):
    directory, base_url = served
    pack(directory, good_rows())
    queued = DumpRefresh.objects.create(source="queued")
    refresh_dump(url=f"{base_url}/series.sqlite.tar.gz", refresh_id=queued.id)
    queued.refresh_from_db()
    assert queued.outcome == RefreshOutcome.SUCCEEDED
    with pytest.raises(RefreshFailed, match="not queued"):
        refresh_dump(url=f"{base_url}/series.sqlite.tar.gz", refresh_id=queued.id)


def test_the_sidecar_parser_takes_the_first_sha1():
    assert parse_sidecar("0123456789ABCDEF0123456789abcdef01234567  series.sqlite.tar.gz") == (
        "0123456789abcdef0123456789abcdef01234567"
    )
    assert parse_sidecar("<html>nope</html>") is None


class ShortBodyHandler(BaseHTTPRequestHandler):
    """Promises the whole archive (Content-Length) but hangs up halfway through it."""

    def do_GET(self) -> None:
        if self.path.endswith(".sha1"):
            self.send_error(404)
            return
        body = self.server.archive
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format, *args) -> None:
        pass


def test_a_connection_dropped_mid_download_keeps_the_old_dump(served, old_dump, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShortBodyHandler)
    server.archive = pack(tmp_path, good_rows(), name="short.tar.gz").read_bytes()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert_refused(f"http://127.0.0.1:{server.server_address[1]}", old_dump, "truncated")
    finally:
        server.shutdown()
        server.server_close()


def test_a_mislabelled_content_encoding_is_not_decoded(served, tmp_path):
    # Some servers label a .tar.gz "Content-Encoding: gzip"; the archive must stay as sent.
    class MislabelledHandler(ShortBodyHandler):
        def do_GET(self) -> None:
            body = self.server.archive
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), MislabelledHandler)
    server.archive = pack(tmp_path, good_rows(), name="label.tar.gz").read_bytes()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        refresh_dump(url=f"http://127.0.0.1:{server.server_address[1]}/series.sqlite.tar.gz")
    finally:
        server.shutdown()
        server.server_close()
    assert DumpStore(dump_path()).get("1677") is not None
    assert DumpRefresh.objects.get().bytes_downloaded == len(server.archive)


def test_refresh_now_runs_in_the_worker_on_the_queued_row(served, settings, monkeypatch):
    from metadata import tasks

    directory, base_url = served
    pack(directory, good_rows())
    configure(settings, dump_url=f"{base_url}/series.sqlite.tar.gz", min_dump_rows=MIN_ROWS)
    results = []
    monkeypatch.setattr(
        "metadata.tasks.async_task",
        lambda func, refresh_id, **options: results.append(tasks.refresh_task(refresh_id)),
    )

    assert tasks.request_refresh()["triggered"] is True

    assert results[0]["ok"] is True and results[0]["records"] == MIN_ROWS + 1
    refresh = DumpRefresh.objects.get()  # the queued row itself, not a second one
    assert refresh.outcome == RefreshOutcome.SUCCEEDED
    assert refresh.source == f"{base_url}/series.sqlite.tar.gz"


def test_the_scheduled_refresh_skips_while_another_is_in_flight(served, settings):
    from metadata import tasks

    _, base_url = served
    configure(settings, dump_url=f"{base_url}/missing.tar.gz", min_dump_rows=MIN_ROWS)
    DumpRefresh.objects.create(source="x", outcome=RefreshOutcome.RUNNING)
    assert tasks.scheduled_refresh() == {"ok": False, "skipped": True}
    DumpRefresh.objects.all().delete()
    outcome = tasks.scheduled_refresh()
    assert outcome["ok"] is False and "HTTP 404" in outcome["error"]
    assert DumpRefresh.objects.get().outcome == RefreshOutcome.FAILED
