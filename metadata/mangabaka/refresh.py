"""Download, check, index and install MangaBaka's offline dump, never breaking the one in place.

The pipeline (each step recorded on a `DumpRefresh` row so the Metadata page
can show progress):

1. **download** the tar.gz, streaming, hashing (SHA-1) as it goes; a short
   read against Content-Length fails the refresh;
2. **sidecar**: compare with `<url>.sha1`. Upstream republishes the tarball
   without always updating the sidecar, so a mismatch is only a warning;
3. **extract** the archive's first regular file to a name we choose (member
   names are never used as paths: no traversal), bounded in size;
4. **validate**: it opens as SQLite, `series` has the columns we read, and
   holds at least `min_dump_rows` rows — this, not the checksum, decides;
5. **index**: partial indexes on each `source_*_id`, one on `state`, and an
   FTS5 title index (title, native, romanized, every `titles` alternate once);
6. **install** with `os.replace`, atomic on one filesystem.

Any failure leaves the installed dump untouched, removes the temporary
files, records the error and raises `RefreshFailed` with a one-line message.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from django.utils import timezone

from metadata.mangabaka.mapping import SOURCE_COLUMNS
from metadata.mangabaka.store import (
    ACTIVE_ROWS,
    ALTERNATE_SEPARATOR,
    COMMON_TERMS_TABLE,
    FTS_TABLE,
    RANKED_MATCH_LIMIT,
    REQUIRED_COLUMNS,
    TITLE_KEYS_TABLE,
)
from metadata.models import DumpRefresh, RefreshOutcome
from tsundoku.http import HOST_LIMITER, build_session

logger = logging.getLogger(__name__)

PROVIDER = "mangabaka"
DUMP_FILENAME = "series.sqlite"
# The real dump is ~3 GB uncompressed; far beyond that is a broken or hostile archive.
MAX_EXTRACTED_BYTES = 20 * 1024**3
CHUNK_BYTES = 1 << 20
PROGRESS_EVERY_SECONDS = 1.0
# A scratch dir this old belongs to a refresh that died (the task timeout is 30 min).
ABANDONED_AFTER_SECONDS = 6 * 3600
SHA1_PATTERN = re.compile(r"\b[0-9a-fA-F]{40}\b")

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


class RefreshFailed(Exception):
    """The refresh did not install a dump; the message says why, in one line."""


@dataclass(frozen=True)
class RefreshResult:
    refresh_id: int
    records: int
    rows: int
    version: str
    bytes_downloaded: int
    warning: str


def dump_dir() -> Path:
    return Path(settings.DATA_DIR) / "metadata" / "mangabaka"


def dump_path() -> Path:
    """Where the installed dump lives: `<data_dir>/metadata/mangabaka/series.sqlite`."""
    return dump_dir() / DUMP_FILENAME


def mangabaka_config() -> dict:
    return settings.TSUNDOKU.section("providers.mangabaka")


# --- the pipeline ----------------------------------------------------------------


def refresh_dump(
    *,
    url: str | None = None,
    file: Path | None = None,
    min_rows: int | None = None,
    max_extracted_bytes: int = MAX_EXTRACTED_BYTES,
    refresh_id: int | None = None,
    progress: Progress | None = None,
    session: requests.Session | None = None,
) -> RefreshResult:
    """Fetch (from `url`, default `dump_url`, or a local `file`) and install a new dump.

    `refresh_id` adopts a row queued by `request_refresh`; otherwise one is
    created. Raises `RefreshFailed` (already recorded on the row).
    """
    config = mangabaka_config()
    source = str(file) if file else (url or config["dump_url"])
    min_rows = config["min_dump_rows"] if min_rows is None else min_rows
    row = _start_row(refresh_id, source)
    work_dir = dump_dir() / ".tmp"
    work_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_work(work_dir)
    work = Path(tempfile.mkdtemp(dir=work_dir, prefix="refresh-"))
    reporter = _Reporter(row, progress)
    try:
        if file:
            archive = Path(file)
            version, downloaded = _hash_local(archive, reporter)
            expected = _local_sidecar(archive)
        else:
            archive = work / "series.sqlite.tar.gz"
            # The dump host is MangaBaka's API host: pace it like the API.
            HOST_LIMITER.set_min_gap(
                urlsplit(source).hostname or "", config["min_request_gap_ms"] / 1000
            )
            session = session or build_session(retries=2)
            version, downloaded = _download(session, source, archive, reporter, config)
            expected = _remote_sidecar(session, source, config)
        warning = _checksum_warning(version, expected)
        if warning:
            logger.warning("MangaBaka dump %s: %s", source, warning)
            row.warning = warning

        reporter.phase("extracting")
        extracted = work / DUMP_FILENAME
        _extract_first_file(archive, extracted, max_extracted_bytes)
        if not file:
            archive.unlink()  # free ~500 MB before indexing

        reporter.phase("validating")
        rows = validate_dump(extracted, min_rows)

        reporter.phase("indexing")
        records = prepare_dump(extracted)

        reporter.phase("installing")
        destination = dump_path()
        os.replace(extracted, destination)
    except RefreshFailed as exc:
        _finish(row, RefreshOutcome.FAILED, error=str(exc))
        raise
    except Exception as exc:  # anything unforeseen still must not leave a half-state
        logger.exception("MangaBaka dump refresh failed")
        message = f"unexpected error: {type(exc).__name__}: {exc}".splitlines()[0]
        _finish(row, RefreshOutcome.FAILED, error=message)
        raise RefreshFailed(message) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)

    row.records, row.rows, row.version = records, rows, version
    row.dump_size = destination.stat().st_size
    _finish(row, RefreshOutcome.SUCCEEDED)
    _after_install()
    return RefreshResult(row.id, records, rows, version, downloaded, row.warning)


def _remove_abandoned_work(work_dir: Path) -> None:
    """Delete scratch dirs a killed refresh left behind (gigabytes each)."""
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for leftover in work_dir.glob("refresh-*"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)


def _after_install() -> None:
    """A new dump may know what the old one did not: forget misses, reopen the store."""
    from metadata.negative_cache import NegativeCache
    from metadata.providers import reset_provider

    NegativeCache(PROVIDER, timedelta(0)).clear()
    reset_provider()


# --- rows and progress -----------------------------------------------------------


def _start_row(refresh_id: int | None, source: str) -> DumpRefresh:
    if refresh_id is not None:
        claimed = DumpRefresh.objects.filter(id=refresh_id, outcome=RefreshOutcome.QUEUED).update(
            outcome=RefreshOutcome.RUNNING, source=source, phase="downloading"
        )
        if not claimed:
            raise RefreshFailed(f"refresh {refresh_id} is not queued (already run?)")
        return DumpRefresh.objects.get(id=refresh_id)
    return DumpRefresh.objects.create(
        provider=PROVIDER, source=source, outcome=RefreshOutcome.RUNNING, phase="downloading"
    )


def _finish(row: DumpRefresh, outcome: str, *, error: str = "") -> None:
    row.outcome, row.error, row.phase = outcome, error, ""
    row.finished_at = timezone.now()
    row.save()


class _Reporter:
    """Progress to the row (at most once a second) and to an optional callback (tqdm)."""

    def __init__(self, row: DumpRefresh, callback: Progress | None) -> None:
        self.row = row
        self.callback = callback
        self._last_write = 0.0

    def bytes(self, done: int, total: int | None) -> None:
        if self.callback:
            self.callback(done, total)
        now = time.monotonic()
        if now - self._last_write >= PROGRESS_EVERY_SECONDS or done == total:
            self._last_write = now
            DumpRefresh.objects.filter(id=self.row.id).update(
                bytes_downloaded=done, bytes_total=total
            )
        self.row.bytes_downloaded, self.row.bytes_total = done, total

    def phase(self, name: str) -> None:
        self.row.phase = name
        DumpRefresh.objects.filter(id=self.row.id).update(
            phase=name, bytes_downloaded=self.row.bytes_downloaded, warning=self.row.warning
        )


# --- download --------------------------------------------------------------------


def _download(
    session: requests.Session, url: str, target: Path, reporter: _Reporter, config: dict
) -> tuple[str, int]:
    """Stream `url` to `target`; return (sha1 hex, bytes). A short body fails."""
    digest = hashlib.sha1(usedforsecurity=False)
    done, total = 0, None
    try:
        with session.get(url, stream=True, timeout=config["timeout_seconds"]) as response:
            if response.status_code != 200:
                raise RefreshFailed(f"download failed: HTTP {response.status_code} from {url}")
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with target.open("wb") as handle:
                # The bytes as sent (a server may label the .tar.gz Content-Encoding:
                # gzip; decoding it would break both the checksum and the length check).
                for chunk in response.raw.stream(CHUNK_BYTES, decode_content=False):
                    handle.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    reporter.bytes(done, total)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        if total is not None and done < total:
            raise RefreshFailed(
                f"download truncated: got {done:,} of {total:,} bytes from {url}"
            ) from None
        raise RefreshFailed(f"download failed: {type(exc).__name__} from {url}") from None
    if total is not None and done != total:
        raise RefreshFailed(f"download truncated: got {done:,} of {total:,} bytes from {url}")
    if done == 0:
        raise RefreshFailed(f"download failed: empty response from {url}")
    return digest.hexdigest(), done


def _hash_local(source: Path, reporter: _Reporter) -> tuple[str, int]:
    """A local archive is read in place (no copy): its SHA-1 and size."""
    digest = hashlib.sha1(usedforsecurity=False)
    done = 0
    try:
        total = source.stat().st_size
        with source.open("rb") as reader:
            for chunk in iter(partial(reader.read, CHUNK_BYTES), b""):
                digest.update(chunk)
                done += len(chunk)
                reporter.bytes(done, total)
    except OSError as exc:
        raise RefreshFailed(f"cannot read {source}: {exc.strerror or exc}") from None
    return digest.hexdigest(), done


def parse_sidecar(text: str) -> str | None:
    """The SHA-1 in a sidecar (`<hex>  <name>` or just the hex), lower-case; None if absent."""
    match = SHA1_PATTERN.search(text or "")
    return match.group(0).lower() if match else None


def _remote_sidecar(session: requests.Session, url: str, config: dict) -> str | None:
    try:
        response = session.get(f"{url}.sha1", timeout=config["timeout_seconds"])
    except requests.RequestException:
        return None
    return parse_sidecar(response.text) if response.status_code == 200 else None


def _local_sidecar(file: Path) -> str | None:
    sidecar = Path(f"{file}.sha1")
    return parse_sidecar(sidecar.read_text()) if sidecar.is_file() else None


def _checksum_warning(actual: str, expected: str | None) -> str:
    if expected is None:
        return "no checksum sidecar (.sha1) was available; content checks decide"
    if expected != actual:
        return (
            f"checksum sidecar says {expected} but the download is {actual}; "
            "installing anyway because the content checks passed"
        )
    return ""


# --- extract, validate, index ----------------------------------------------------


def _extract_first_file(archive: Path, target: Path, limit: int) -> None:
    """Write the archive's first regular file to `target` (its own name is never used)."""
    try:
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if not member.isreg():
                    continue
                if member.size > limit:
                    raise RefreshFailed(
                        f"archive member is {member.size:,} bytes, over the {limit:,} limit"
                    )
                source = tar.extractfile(member)
                if source is None:
                    continue
                written = 0
                with target.open("wb") as handle:
                    for chunk in iter(partial(source.read, CHUNK_BYTES), b""):
                        written += len(chunk)
                        if written > limit:
                            raise RefreshFailed(f"archive member is over the {limit:,} limit")
                        handle.write(chunk)
                if written != member.size:
                    raise RefreshFailed("archive is truncated")
                return
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise RefreshFailed(f"not a valid tar.gz archive ({type(exc).__name__})") from None
    raise RefreshFailed("the archive holds no regular file")


def validate_dump(path: Path, min_rows: int) -> int:
    """Check the extracted file is a dump we can read; return its row count."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RefreshFailed(f"the dump does not open as SQLite ({exc})") from None
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(series)")}
        if not columns:
            raise RefreshFailed("the dump has no `series` table")
        missing = [column for column in REQUIRED_COLUMNS if column not in columns]
        if missing:
            raise RefreshFailed(f"the dump's `series` table lacks column(s): {', '.join(missing)}")
        (rows,) = connection.execute("SELECT COUNT(*) FROM series").fetchone()
    except sqlite3.DatabaseError as exc:
        raise RefreshFailed(f"the dump is not a readable SQLite database ({exc})") from None
    finally:
        connection.close()
    if rows < min_rows:
        raise RefreshFailed(
            f"the dump has {rows:,} series, fewer than the {min_rows:,} expected "
            "(providers.mangabaka.min_dump_rows): refusing a truncated dump"
        )
    return rows


def _build_title_keys(connection: sqlite3.Connection) -> None:
    """Every title, native, romanized and alternate of each active series, lower-cased.

    Lets a search find exact title matches by index, however common the
    words are (a search for "The Boy" must find the series called that).
    """
    active = ACTIVE_ROWS.replace("state", "s.state")
    connection.execute(f"DROP TABLE IF EXISTS {TITLE_KEYS_TABLE}")
    connection.execute(
        f"CREATE TABLE {TITLE_KEYS_TABLE} (title_key TEXT NOT NULL, series_id INTEGER NOT NULL)"
    )
    connection.execute(
        f"""
        INSERT INTO {TITLE_KEYS_TABLE} (title_key, series_id)
        SELECT lower(trim(value)), id FROM (
            SELECT s.id, s.title AS value FROM series AS s WHERE {active}
            UNION ALL SELECT s.id, s.native_title FROM series AS s WHERE {active}
            UNION ALL SELECT s.id, s.romanized_title FROM series AS s WHERE {active}
            UNION ALL
            SELECT s.id, json_extract(entry.value, '$.title')
            FROM series AS s,
                 json_each(CASE WHEN json_valid(s.titles) THEN s.titles END) AS entry
            WHERE {active} AND json_type(entry.value) = 'object'
        )
        WHERE value IS NOT NULL AND trim(value) != ''
        """
    )
    connection.execute(
        f"CREATE INDEX idx_{TITLE_KEYS_TABLE} ON {TITLE_KEYS_TABLE}(title_key, series_id)"
    )


def _build_common_terms(connection: sqlite3.Connection) -> None:
    """The title words so common that ranking all their matches would be slow, with counts."""
    connection.execute(
        f"CREATE VIRTUAL TABLE temp.title_vocabulary USING fts5vocab(main, {FTS_TABLE}, row)"
    )
    connection.execute(f"DROP TABLE IF EXISTS {COMMON_TERMS_TABLE}")
    connection.execute(
        f"CREATE TABLE {COMMON_TERMS_TABLE} (term TEXT PRIMARY KEY, documents INTEGER NOT NULL) "
        "WITHOUT ROWID"
    )
    connection.execute(
        f"INSERT INTO {COMMON_TERMS_TABLE} (term, documents) "
        "SELECT term, doc FROM temp.title_vocabulary WHERE doc > ?",
        (RANKED_MATCH_LIMIT,),
    )
    connection.execute("DROP TABLE temp.title_vocabulary")


INDEXES = {
    "anilist": "idx_series_anilist",
    "mal": "idx_series_mal",
    "mangaupdates": "idx_series_mangaupdates",
    "kitsu": "idx_series_kitsu",
    "shikimori": "idx_series_shikimori",
    "anime_planet": "idx_series_anime_planet",
    "anime_news_network": "idx_series_ann",
}


def prepare_dump(path: Path) -> int:
    """Build our indexes into the extracted dump; return the number of active series."""
    connection = sqlite3.connect(path)
    try:
        # A scratch file: a crash here only loses the temporary copy.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-65536")
        for provider, name in INDEXES.items():
            column = SOURCE_COLUMNS[provider]
            connection.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON series({column}) WHERE {column} IS NOT NULL"
            )
        connection.execute("CREATE INDEX IF NOT EXISTS idx_series_state ON series(state)")
        connection.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        connection.execute(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, native_title, "
            "romanized_title, alternate_titles, tokenize='unicode61 remove_diacritics 2')"
        )
        # Each distinct alternate once (upstream cross-joined json_each with itself,
        # repeating every alternate N times and skewing bm25).
        connection.execute(
            f"""
            INSERT INTO {FTS_TABLE} (rowid, title, native_title, romanized_title, alternate_titles)
            SELECT s.id, COALESCE(s.title, ''), COALESCE(s.native_title, ''),
                   COALESCE(s.romanized_title, ''),
                   COALESCE((
                       SELECT group_concat(alternate, char({ord(ALTERNATE_SEPARATOR)}))
                       FROM (
                           SELECT DISTINCT json_extract(entry.value, '$.title') AS alternate
                           FROM json_each(CASE WHEN json_valid(s.titles) THEN s.titles END)
                                AS entry
                           WHERE json_type(entry.value) = 'object'
                       )
                       WHERE alternate IS NOT NULL AND alternate != ''
                         AND alternate != COALESCE(s.title, '')
                   ), '')
            FROM series AS s
            WHERE {ACTIVE_ROWS.replace("state", "s.state")}
            """
        )
        connection.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        _build_title_keys(connection)
        _build_common_terms(connection)
        (records,) = connection.execute(f"SELECT COUNT(*) FROM {FTS_TABLE}").fetchone()
        connection.commit()
        connection.execute("PRAGMA journal_mode=DELETE")  # read-only opens need no -wal/-shm
        connection.execute("ANALYZE")
    except sqlite3.DatabaseError as exc:
        raise RefreshFailed(f"indexing the dump failed ({exc})") from None
    finally:
        with contextlib.suppress(sqlite3.Error):
            connection.close()
    return records
