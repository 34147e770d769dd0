"""Read-only lookups in the installed MangaBaka dump: by id, by foreign id, by title.

The dump is a plain SQLite file that `refresh` prepared (partial indexes on
the cross-id columns, an FTS5 title index). One read-only connection per
store, guarded by a lock (a lookup takes well under a millisecond to a few
milliseconds); when a refresh swaps in a new file the store notices the
changed inode and reopens, so a web process never keeps reading a dump that
was replaced under it.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import threading
import unicodedata
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process, utils

from metadata.mangabaka.mapping import SOURCE_COLUMNS, MangaBakaRecord, from_dump_row
from metadata.records import SeriesMetadata

FTS_TABLE = "series_title_fts"
TITLE_KEYS_TABLE = "series_title_keys"
COMMON_TERMS_TABLE = "series_title_common_terms"
ACTIVE_ROWS = "(state = 'active' OR state IS NULL)"
# How many FTS candidates are re-ranked by fuzzy score.
CANDIDATE_POOL = 200
# bm25 costs a few microseconds per matching row. A query whose rarest word is
# in more series than this (every word common, like "The Demon") takes its
# candidates unranked instead, plus exact title matches by index; words above
# it are listed, with counts, in COMMON_TERMS_TABLE when the dump is prepared.
RANKED_MATCH_LIMIT = 1500
UNRANKED_POOL = 300
# A best fuzzy score (0–100) at or above this is a close title: no need to try
# the query's words joined differently.
CLOSE_TITLE_SCORE = 90
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
        # Numeric ids are stored as integers, slugs as text: asking for both forms
        # keeps the partial index usable (a CAST on the column would scan 585k
        # rows). The active filter comes before LIMIT: a merged duplicate
        # listed first must not hide the active series carrying the same id.
        as_number: int | str = int(external_id) if external_id.isdigit() else external_id
        rows = self._rows(
            f"SELECT {{columns}} FROM series WHERE {column} IN (?, ?) "
            f"AND {ACTIVE_ROWS} ORDER BY id LIMIT 1",
            (as_number, external_id),
        )
        return from_dump_row(dict(rows[0])).metadata if rows else None

    def search(self, query: str, limit: int = 10) -> list[SeriesMetadata]:
        """Active series matching the words of `query`, best fuzzy title match first.

        Candidates: exact title matches (by index), then FTS5 matches of the
        query's rare words ranked by weighted bm25 (any rare word when no
        series has them all), or, when every word is common, the first series
        holding the least common one. The candidates are re-ranked by fuzzy
        score against every title of each.
        """
        tokens = query.split()
        if not tokens or limit < 1:
            return []
        with self._lock:
            connection = self._open()
            if connection is None:
                return []
            try:
                candidates = self._candidates(connection, tokens)
                ranked = rank_candidates(query, candidates)
                if len(tokens) > 1 and (not ranked or ranked[0][1] < CLOSE_TITLE_SCORE):
                    seen = {row["rowid"] for row in candidates}
                    candidates += self._joined_word_candidates(connection, tokens, seen)
                    ranked = rank_candidates(query, candidates)
            except sqlite3.OperationalError:
                # A dump without our search tables (never prepared) or a token
                # FTS5 cannot parse even quoted: nothing to offer.
                return []
        ranked = ranked[:limit]
        if not ranked:
            return []
        ids = [series_id for series_id, _ in ranked]
        rows = self._rows(
            f"SELECT {{columns}} FROM series WHERE id IN ({', '.join('?' * len(ids))})",
            tuple(ids),
        )
        by_id = {row["id"]: from_dump_row(dict(row)).metadata for row in rows}
        return [by_id[series_id] for series_id in ids if series_id in by_id]

    def _candidates(self, connection: sqlite3.Connection, tokens: list[str]) -> list[sqlite3.Row]:
        exact_ids = [
            series_id
            for (series_id,) in connection.execute(
                f"SELECT DISTINCT series_id FROM {TITLE_KEYS_TABLE} WHERE title_key = ? LIMIT 50",
                (ascii_lower(" ".join(tokens)),),
            )
        ]
        found = rows_by_rowid(connection, exact_ids)

        documents = self._documents_per_token(connection, tokens)
        rare = [
            t for t, count in zip(tokens, documents, strict=True) if count <= RANKED_MATCH_LIMIT
        ]
        if rare:
            # Match on the rare words only: intersecting with a word in half the
            # dump ("the") means reading its whole posting list. The re-rank
            # still scores against the full query.
            matched = ranked_matches(connection, " ".join(quote_token(t) for t in rare))
            if not matched and len(rare) > 1:
                # No series has every rare word: any will do, the re-rank sorts it out.
                matched = ranked_matches(connection, " OR ".join(quote_token(t) for t in rare))
        else:
            # Every word is common: even intersecting them reads posting lists of
            # hundreds of thousands of series. Take the first series holding the
            # least common word, unranked; exact titles came from the index above.
            least_common = min(zip(documents, tokens, strict=True))[1]
            matched = connection.execute(
                f"SELECT {CANDIDATE_COLUMNS} FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? "
                f"LIMIT {UNRANKED_POOL}",
                (quote_token(least_common),),
            ).fetchall()
        seen = {row["rowid"] for row in found}
        return found + [row for row in matched if row["rowid"] not in seen]

    def _joined_word_candidates(
        self, connection: sqlite3.Connection, tokens: list[str], seen: set[int]
    ) -> list[sqlite3.Row]:
        """Series titled with two of the query's words joined ("Gin Tama" → "Gintama").

        Uploaders split or join words the title spells the other way; asked
        only when the query's own words found no close title.
        """
        joined = sorted({a + b for a, b in itertools.pairwise(tokens)})
        matched = ranked_matches(connection, " OR ".join(quote_token(word) for word in joined))
        return [row for row in matched if row["rowid"] not in seen]

    @staticmethod
    def _documents_per_token(connection: sqlite3.Connection, tokens: list[str]) -> list[int]:
        """Upper bound of the series each query word matches (0: rarer than the limit)."""
        words = {word for token in tokens for word in fts_words(token)}
        if not words:
            return [0] * len(tokens)
        common = dict(
            connection.execute(
                f"SELECT term, documents FROM {COMMON_TERMS_TABLE} "
                f"WHERE term IN ({', '.join('?' * len(words))})",
                tuple(words),
            ).fetchall()
        )
        # A quoted token is a phrase of its words: it matches no more than its rarest word.
        return [
            min((common.get(word, 0) for word in fts_words(token)), default=0) for token in tokens
        ]

    def counts(self) -> dict[str, int]:
        """Rows in the dump and how many are active (for the status page)."""
        rows = self._rows(
            f"SELECT COUNT(*) AS total, SUM(CASE WHEN {ACTIVE_ROWS} THEN 1 ELSE 0 END) AS active "
            "FROM series"
        )
        if not rows:
            return {"total": 0, "active": 0}
        return {"total": rows[0]["total"] or 0, "active": rows[0]["active"] or 0}


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, exactly like SQLite's `lower()` (title keys)."""
    return text.translate(_ASCII_LOWER)


def quote_token(token: str) -> str:
    """An FTS5 string for one query word: quoted, embedded quotes doubled (no operators)."""
    return '"' + token.replace('"', '""') + '"'


def fts_words(token: str) -> list[str]:
    """The words unicode61 (remove_diacritics 2) makes of `token`: folded, accents removed."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.findall(r"\w+", plain)


CANDIDATE_COLUMNS = "rowid, title, native_title, romanized_title, alternate_titles"


def ranked_matches(connection: sqlite3.Connection, match: str) -> list[sqlite3.Row]:
    """The CANDIDATE_POOL best FTS5 matches by weighted bm25, best first.

    Ranked on rowids alone, then the titles are read for the winners only:
    carrying every match's alternates through the sort costs a third more.
    """
    ids = [
        series_id
        for (series_id,) in connection.execute(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? "
            f"ORDER BY bm25({FTS_TABLE}, {BM25_WEIGHTS}) LIMIT {CANDIDATE_POOL}",
            (match,),
        )
    ]
    return rows_by_rowid(connection, ids)


def rows_by_rowid(connection: sqlite3.Connection, ids: list[int]) -> list[sqlite3.Row]:
    """FTS rows (the candidate columns) for `ids`, in the order given."""
    if not ids:
        return []
    rows = connection.execute(
        f"SELECT {CANDIDATE_COLUMNS} FROM {FTS_TABLE} WHERE rowid IN ({', '.join('?' * len(ids))})",
        ids,
    ).fetchall()
    by_id = {row["rowid"]: row for row in rows}
    return [by_id[series_id] for series_id in ids if series_id in by_id]


def rank_candidates(query: str, candidates: list[sqlite3.Row]) -> list[tuple[int, float]]:
    """(series id, score 0–100) best first: the best fuzzy match over every title.

    A match on the canonical title outranks an equal match on an alternate;
    ties keep bm25's order (the sort is stable).
    """
    needle = utils.default_process(query)
    # One flat list of every title, scored in one C-level pass by rapidfuzz.
    strings: list[str] = []
    owners: list[tuple[int, bool]] = []  # (candidate index, is a primary title)
    for index, row in enumerate(candidates):
        for column in ("title", "native_title", "romanized_title"):
            if row[column]:
                strings.append(row[column])
                owners.append((index, True))
        for title in (row["alternate_titles"] or "").split(ALTERNATE_SEPARATOR):
            if title:
                strings.append(title)
                owners.append((index, False))
    best = [0.0] * len(candidates)
    for _, score, position in process.extract(
        needle,
        strings,
        scorer=fuzz.ratio,
        processor=utils.default_process,
        limit=None,
    ):
        index, primary = owners[position]
        # The canonical titles win ties against alternates by a hair.
        best[index] = max(best[index], score + 0.5 if primary else score)
    scored = [(row["rowid"], best[index]) for index, row in enumerate(candidates)]
    scored.sort(key=lambda item: item[1], reverse=True)
    return scored
