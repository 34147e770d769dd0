"""Read-only lookups in the installed MangaBaka dump: by id, by foreign id, by title.

The dump is a plain SQLite file that `refresh` prepared (partial indexes on
the cross-id columns, an FTS5 title index). One read-only connection per
store, guarded by a lock (a lookup takes well under a millisecond to a few
milliseconds); when a refresh swaps in a new file the store notices the
changed inode and reopens, so a web process never keeps reading a dump that
was replaced under it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, utils

from metadata.mangabaka.mapping import SOURCE_COLUMNS, MangaBakaRecord, from_dump_row
from metadata.records import SeriesMetadata

FTS_TABLE = "series_title_fts"
ACTIVE_ROWS = "(state = 'active' OR state IS NULL)"
# How many FTS candidates (by weighted bm25) are re-ranked by fuzzy score.
CANDIDATE_POOL = 200
# bm25 column weights: title, native, romanized, alternates. Long alternate
# lists (ONE PIECE carries pages of them) would otherwise sink a popular
# series below obscure ones that merely mention a word.
BM25_WEIGHTS = "10.0, 4.0, 6.0, 1.0"
# Alternates are stored newline-separated (a token separator for unicode61).
ALTERNATE_SEPARATOR = "\n"
MAX_MERGE_HOPS = 5

# Columns the mapping reads; present in every dump version we know of.
REQUIRED_COLUMNS = (
    "id",
    "title",
    "native_title",
    "romanized_title",
    "titles",
    "type",
    "status",
    "year",
    "published_start_date",
    "published_end_date",
    "final_volume",
    "total_chapters",
    "rating",
    "description",
    "state",
    "genres",
    "tags",
    "cover_x350_x2",
    "cover_x350_x1",
    "cover_x250_x2",
    "cover_x250_x1",
    "cover_raw_url",
    *SOURCE_COLUMNS.values(),
)
# Read when the dump has them.
OPTIONAL_COLUMNS = ("merged_with", "secondary_titles_en")


class DumpStore:
    """Lookups in one dump file (opened lazily, read-only, reopened after a swap)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._select = ""

    # -- connection -------------------------------------------------------------

    def is_installed(self) -> bool:
        return self.path.is_file()

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def _open(self) -> sqlite3.Connection | None:
        """The connection to the current file; None when no dump is installed."""
        identity = self._file_identity()
        if identity != self._identity:
            self._close()
        if identity is None:
            return None
        if self._connection is None:
            connection = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            connection.row_factory = sqlite3.Row
            present = {row["name"] for row in connection.execute("PRAGMA table_info(series)")}
            columns = [*REQUIRED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in present)]
            self._select = ", ".join(columns)
            self._connection, self._identity = connection, identity
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection, self._identity = None, None

    def close(self) -> None:
        with self._lock:
            self._close()

    def _rows(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            connection = self._open()
            if connection is None:
                return []
            return connection.execute(sql.replace("{columns}", self._select), parameters).fetchall()

    # -- lookups ----------------------------------------------------------------

    def record(self, series_id: str) -> MangaBakaRecord | None:
        """The row with this id, whatever its state; None for a non-numeric or unknown id."""
        if not str(series_id).strip().isdigit():
            return None
        rows = self._rows("SELECT {columns} FROM series WHERE id = ?", (int(series_id),))
        return from_dump_row(dict(rows[0])) if rows else None

    def get(self, series_id: str) -> SeriesMetadata | None:
        """The active series with this id; a merged id leads to its (active) target."""
        record = self.record(series_id)
        for _ in range(MAX_MERGE_HOPS):
            if record is None or record.is_active:
                break
            if record.state != "merged" or not record.merged_with:
                return None
            record = self.record(record.merged_with)
        return record.metadata if record is not None and record.is_active else None

    def find_by_source(self, provider: str, external_id: str) -> SeriesMetadata | None:
        """The active series carrying `provider`'s id (our token), lowest MangaBaka id first."""
        column = SOURCE_COLUMNS.get(provider)
        external_id = str(external_id).strip()
        if column is None or not external_id:
            return None
        # The active filter comes before LIMIT: a merged duplicate listed first
        # must not hide the active series that carries the same id.
        rows = self._rows(
            f"SELECT {{columns}} FROM series WHERE {column} IS NOT NULL "
            f"AND CAST({column} AS TEXT) = ? AND {ACTIVE_ROWS} ORDER BY id LIMIT 1",
            (external_id,),
        )
        return from_dump_row(dict(rows[0])).metadata if rows else None

    def search(self, query: str, limit: int = 10) -> list[SeriesMetadata]:
        """Active series matching every word of `query`, best fuzzy title match first."""
        tokens = query.split()
        if not tokens or limit < 1:
            return []
        quoted = ['"' + token.replace('"', '""') + '"' for token in tokens]
        candidates = self._candidates(" ".join(quoted))
        if not candidates and len(quoted) > 1:
            # No series has every word: let any word match, the re-rank sorts it out.
            candidates = self._candidates(" OR ".join(quoted))
        ranked = rank_candidates(query, candidates)[:limit]
        if not ranked:
            return []
        ids = [series_id for series_id, _ in ranked]
        rows = self._rows(
            f"SELECT {{columns}} FROM series WHERE id IN ({', '.join('?' * len(ids))})",
            tuple(ids),
        )
        by_id = {row["id"]: from_dump_row(dict(row)).metadata for row in rows}
        return [by_id[series_id] for series_id in ids if series_id in by_id]

    def _candidates(self, match: str) -> list[sqlite3.Row]:
        try:
            return self._rows(
                f"SELECT rowid, title, native_title, romanized_title, alternate_titles "
                f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? "
                f"ORDER BY bm25({FTS_TABLE}, {BM25_WEIGHTS}) LIMIT {CANDIDATE_POOL}",
                (match,),
            )
        except sqlite3.OperationalError:
            # A token FTS5 cannot parse even quoted; nothing matches it.
            return []

    def counts(self) -> dict[str, int]:
        """Rows in the dump and how many are active (for the status page)."""
        rows = self._rows(
            f"SELECT COUNT(*) AS total, SUM(CASE WHEN {ACTIVE_ROWS} THEN 1 ELSE 0 END) AS active "
            "FROM series"
        )
        if not rows:
            return {"total": 0, "active": 0}
        return {"total": rows[0]["total"] or 0, "active": rows[0]["active"] or 0}


def rank_candidates(query: str, candidates: list[sqlite3.Row]) -> list[tuple[int, float]]:
    """(series id, score 0–100) best first: the best fuzzy match over every title.

    A match on the canonical title outranks an equal match on an alternate;
    ties keep bm25's order (the sort is stable).
    """
    needle = utils.default_process(query)
    scored: list[tuple[int, float]] = []
    for row in candidates:
        primary = max(
            fuzz.ratio(needle, utils.default_process(row[column] or ""))
            for column in ("title", "native_title", "romanized_title")
        )
        alternates = [
            utils.default_process(title)
            for title in (row["alternate_titles"] or "").split(ALTERNATE_SEPARATOR)
            if title
        ]
        alternate = max((fuzz.ratio(needle, title) for title in alternates), default=0.0)
        # The canonical title wins ties against alternates by a hair.
        scored.append((row["rowid"], max(primary + 0.5, alternate)))
    scored.sort(key=lambda item: item[1], reverse=True)
    return scored
