"""Set-based writes of the sweep's results: one SQL statement per operation, for any N.

Django's bulk helpers cap a SQLite statement at 999 parameters, so 100,000
links would take over a thousand INSERTs. Instead the whole row set travels
as ONE JSON parameter — an array of arrays, in the column order declared
below — and the database unpacks it (`json_each` on SQLite,
`jsonb_array_elements` on PostgreSQL) inside a single INSERT/UPDATE/DELETE.
The number of queries a sweep makes is therefore the same at 10 series and
at 100,000.

Callers run these inside one transaction (the sweep's persist step).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection

from codex_sync.models import CodexLink, LinkKind, SyncConflict, UnmatchedCodexSeries
from codex_sync.status import link_status_sql
from feed.models import Series
from tsundoku.db import select_all_at_once, select_all_json

if TYPE_CHECKING:
    from codex_sync.client import CodexSeries
    from codex_sync.matching import Conflict, Match

# column → PostgreSQL type used to unpack it (SQLite's json_extract needs none).
# Rows travel as arrays in exactly this column order.
LINK_COLUMNS = {
    "series_id": "bigint",
    "codex_series_uuid": "uuid",
    "matched_provider": "text",
    "matched_external_id": "text",
    "local_max_volume": "integer",
    "local_max_chapter": "double precision",
    "volumes_owned": "integer",
}
COUNT_COLUMNS = {
    "codex_series_uuid": "uuid",
    "local_max_volume": "integer",
    "local_max_chapter": "double precision",
    "volumes_owned": "integer",
}
CONFLICT_COLUMNS = {
    "kind": "text",
    "codex_series_uuids": "jsonb",
    "series_ids": "jsonb",
    "chosen_codex_series_uuid": "text",
    "chosen_series_id": "bigint",
    "detail": "text",
}
UUID_COLUMN = {"codex_series_uuid": "uuid"}
UNMATCHED_COLUMNS = {
    "codex_series_uuid": "uuid",
    "external_ids": "jsonb",
    "local_max_volume": "integer",
    "local_max_chapter": "double precision",
    "volumes_owned": "integer",
}


# An automatic link as stored: its `LINK_COLUMNS` in order, the UUID in the
# database's own form (see `uuid_to_db`). The sweep builds one per match and
# compares it with what is stored, 100k of each, so it is a plain list: the
# stored ones are the lists JSON decodes to, kept as they come (a list never
# equals a tuple, so both sides must be lists).
LinkRow = list


def link_row(match: Match, db_uuid: Callable[[str], str]) -> LinkRow:
    """The automatic link a match asks for, with the matched Codex series' counts."""
    codex = match.codex
    return [
        match.series_id,
        db_uuid(codex.id),
        match.provider,
        match.external_id,
        codex.local_max_volume,
        codex.local_max_chapter,
        codex.volumes_owned,
    ]


def auto_links_json() -> str:
    """Every stored automatic link, as JSON text: an array of `LINK_COLUMNS` arrays; one query.

    Built by the database in one step (`select_all_json`), and without the
    ORM, which would build 100k UUID objects only for the sweep to compare
    them as text; text, so it goes to the sweep's matching process as it is
    (`stored_links` reads it there).
    """
    uuid_as_text = "codex_series_uuid::text" if connection.vendor == "postgresql" else None
    columns = [
        uuid_as_text if column == "codex_series_uuid" and uuid_as_text else column
        for column in LINK_COLUMNS
    ]
    return select_all_json(
        columns, f"FROM {CodexLink._meta.db_table} WHERE link_kind = %s", [LinkKind.AUTO]
    )


@dataclass
class LinkChanges:
    """What a sweep changes in the automatic links, against what was stored."""

    # The rows to write (new, or not as stored) in the order asked for, as the
    # one JSON text `upsert_auto_links` hands the database: encoded where the
    # comparison runs, in the matching process. 90k rows pickled across to the
    # sweep's process and encoded there cost twice as long.
    write_json: str
    written: int  # how many rows `write_json` holds
    remove: list[int]  # series ids whose stored automatic link no index entry asks for
    stored: int  # how many automatic links were stored
    new: int  # how many of the rows written are series that had no automatic link


def stored_links(auto_links_json_text: str) -> dict[int, LinkRow]:
    """`auto_links_json`'s text as `LinkRow`s by series id, ready for `link_changes`."""
    return {row[0]: row for row in json.loads(auto_links_json_text)}


def link_changes(wanted: Iterable[LinkRow], stored: dict[int, LinkRow]) -> LinkChanges:
    """Compare the links a sweep asks for with the stored ones (`stored_links`).

    A re-sweep of an unchanged library writes nothing, so only what differs
    travels on to the apply: on a re-sweep, a handful of rows instead of 90k.
    The stored links not asked for are the ones to remove. `stored` is left
    as it was: taking each row out as it compared equal freed 90k rows one
    by one on the sweep's critical path.
    """
    write = []
    asked = set()
    new = 0
    for row in wanted:
        series_id = row[0]
        asked.add(series_id)
        before = stored.get(series_id)
        if before != row:
            write.append(row)
            new += before is None
    return LinkChanges(
        write_json=rows_json(write),
        written=len(write),
        remove=sorted(stored.keys() - asked),
        stored=len(stored),
        new=new,
    )


def uuid_to_db() -> Callable[[str], str]:
    """How a canonical (lower-case, hyphenated) UUID string is stored by this database.

    Django keeps UUIDField as 32 hex characters on SQLite, native uuid elsewhere.
    Returned as a function so per-row loops don't look up the backend each time.
    """
    if connection.vendor == "sqlite":
        return lambda canonical_uuid: canonical_uuid.replace("-", "")
    return str


def rows_json(rows: Iterable[Sequence]) -> str:
    """Rows as the one JSON parameter the statements below unpack (see `_rows_source`)."""
    return json.dumps(list(rows), separators=(",", ":"))


def _rows_source(columns: dict[str, str]) -> str:
    """A FROM-clause subquery `j` unpacking the JSON parameter (rows as arrays) into columns."""
    if connection.vendor == "postgresql":
        selects = ", ".join(
            f"(value->{i}) AS {name}" if kind == "jsonb" else f"(value->>{i})::{kind} AS {name}"
            for i, (name, kind) in enumerate(columns.items())
        )
        return f"(SELECT {selects} FROM jsonb_array_elements(%s::jsonb)) AS j"
    selects = ", ".join(
        f"json_extract(value, '$[{i}]') AS {name}" for i, name in enumerate(columns)
    )
    return f"(SELECT {selects} FROM json_each(%s)) AS j"


def _db_datetime(value: datetime):
    return CodexLink._meta.get_field("synced_at").get_db_prep_value(value, connection)


def delete_auto_links(series_ids: Sequence[int]) -> int:
    """Remove these series' auto links; manual links are never touched."""
    if not series_ids:
        return 0
    table = CodexLink._meta.db_table
    source = _rows_source({"series_id": "bigint"})
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE link_kind = %s "
            f"AND series_id IN (SELECT j.series_id FROM {source})",
            [LinkKind.AUTO, rows_json([i] for i in series_ids)],
        )
        return cursor.rowcount


def upsert_auto_links(link_rows_json: str, synced_at: datetime) -> None:
    """Insert or update auto links (`rows_json` of `LinkRow`s); a manual link is left as it is.

    `synced_at` marks only the rows written: an automatic link unchanged by a
    sweep is not rewritten (see `codex_sync.overlay.synced_at_of`). Each row
    is written with its stored status (`codex_sync.status.link_status_sql`,
    from its counts and its series), so it needs no refresh afterwards.
    """
    table = CodexLink._meta.db_table
    series_table = Series._meta.db_table
    columns = list(LINK_COLUMNS)
    source = _rows_source(LINK_COLUMNS)
    status_sql, status_params = link_status_sql("j")
    inserted = ", ".join([*columns, "link_kind", "synced_at", "created_at", "status"])
    selected = ", ".join([*(f"j.{c}" for c in columns), "%s", "%s", "%s", status_sql])
    updates = ", ".join(f"{c} = excluded.{c}" for c in [*columns[1:], "synced_at", "status"])
    # `WHERE true` keeps SQLite's parser from reading ON CONFLICT as a join clause.
    sql = (
        f"INSERT INTO {table} ({inserted}) SELECT {selected} FROM {source} "
        f"JOIN {series_table} ON {series_table}.id = j.series_id WHERE true "
        f"ON CONFLICT (series_id) DO UPDATE SET {updates} "
        f"WHERE {table}.link_kind = %s"
    )
    when = _db_datetime(synced_at)
    with connection.cursor() as cursor:
        # Parameter order follows the SQL text: SELECT's literals, then FROM's JSON.
        cursor.execute(
            sql, [LinkKind.AUTO, when, when, *status_params, link_rows_json, LinkKind.AUTO]
        )


CountRow = tuple  # `COUNT_COLUMNS` in order: a Codex series' UUID (see `uuid_to_db`), its counts


def count_row(codex: CodexSeries, db_uuid: Callable[[str], str]) -> CountRow:
    """A Codex series' counts, for the manual link with its UUID."""
    return (db_uuid(codex.id), codex.local_max_volume, codex.local_max_chapter, codex.volumes_owned)


def refresh_manual_links(rows: Iterable[CountRow], synced_at: datetime) -> int:
    """Copy these Codex series' counts onto the manual links with their UUIDs."""
    table = CodexLink._meta.db_table
    source = _rows_source(COUNT_COLUMNS)
    payload = rows_json(rows)
    sql = (
        f"UPDATE {table} SET local_max_volume = j.local_max_volume, "
        f"local_max_chapter = j.local_max_chapter, volumes_owned = j.volumes_owned, "
        f"synced_at = %s FROM {source} "
        f"WHERE {table}.codex_series_uuid = j.codex_series_uuid AND {table}.link_kind = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db_datetime(synced_at), payload, LinkKind.MANUAL])
        return cursor.rowcount


# The unmatched list as a sweep wants it stored: `UNMATCHED_COLUMNS` after the
# UUID, by UUID (as `uuid_to_db` spells it), as JSON decodes them.
UnmatchedRows = dict[str, list]


def unmatched_rows(
    codex_series: Iterable[CodexSeries], db_uuid: Callable[[str], str]
) -> UnmatchedRows:
    """These Codex series as unmatched rows, their external ids the way Codex spells them.

    (`source`, `externalId`, `externalUrl`: what the admin is shown.)
    """
    return {
        db_uuid(item.id): [
            [
                {
                    "source": ref.source,
                    "externalId": ref.external_id,
                    "externalUrl": ref.external_url,
                }
                for ref in item.external_ids
            ],
            item.local_max_volume,
            item.local_max_chapter,
            item.volumes_owned,
        ]
        for item in codex_series
    }


def replace_unmatched(wanted: UnmatchedRows, recorded_at: datetime) -> None:
    """Make the stored list of Codex series that matched nothing `wanted`, writing only changes.

    A re-sweep of an unchanged library finds every row as stored and writes
    nothing (rewriting ~10k rows of JSON cost a third of a second each
    sweep); a row's `recorded_at` is when it last changed.
    """
    stored = read_unmatched()
    stale = [codex_uuid for codex_uuid, row in stored.items() if wanted.get(codex_uuid) != row]
    fresh = [
        (codex_uuid, *row) for codex_uuid, row in wanted.items() if stored.get(codex_uuid) != row
    ]
    table = UnmatchedCodexSeries._meta.db_table
    with connection.cursor() as cursor:
        if stale:
            cursor.execute(
                f"DELETE FROM {table} WHERE codex_series_uuid IN "
                f"(SELECT j.codex_series_uuid FROM {_rows_source(UUID_COLUMN)})",
                [rows_json([codex_uuid] for codex_uuid in stale)],
            )
    if fresh:
        _insert_all(table, UNMATCHED_COLUMNS, fresh, recorded_at)


def read_unmatched() -> dict[str, list]:
    """The stored unmatched list, by UUID (as `uuid_to_db` spells it): one query.

    Each value is `UNMATCHED_COLUMNS` after the UUID, as JSON decodes them,
    so it compares equal to the row a sweep would write for the same series.
    """
    if connection.vendor == "postgresql":
        columns = ["codex_series_uuid::text", "external_ids"]
    else:
        # json(): the stored JSON text nests as JSON, not as a quoted string.
        columns = ["codex_series_uuid", "json(external_ids)"]
    rows = select_all_at_once(
        [*columns, "local_max_volume", "local_max_chapter", "volumes_owned"],
        f"FROM {UnmatchedCodexSeries._meta.db_table}",
    )
    return {row[0]: row[1:] for row in rows}


def replace_conflicts(conflicts: Iterable[Conflict], recorded_at: datetime) -> None:
    """Replace the list of matching conflicts with this sweep's.

    A library full of duplicates can yield thousands of conflicts; like the
    links they go in one statement rather than `bulk_create`'s batches.
    """
    rows = (
        (
            conflict.kind,
            list(conflict.codex_series_uuids),
            list(conflict.series_ids),
            conflict.chosen_codex_series_uuid,
            conflict.chosen_series_id,
            conflict.detail,
        )
        for conflict in conflicts
    )
    _replace_all(SyncConflict._meta.db_table, CONFLICT_COLUMNS, rows, recorded_at)


def _replace_all(
    table: str, columns: dict[str, str], rows: Iterable[Sequence], recorded_at: datetime
) -> None:
    """Empty `table` and insert `rows` (plus `recorded_at`): two statements for any N."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    _insert_all(table, columns, rows, recorded_at)


def _insert_all(
    table: str, columns: dict[str, str], rows: Iterable[Sequence], recorded_at: datetime
) -> None:
    """Insert `rows` (plus `recorded_at`) into `table`: one statement for any N."""
    names = list(columns)
    selected = ", ".join(
        # json_extract returns a JSON array as text already; json() keeps it stored as JSON.
        f"json(j.{name})" if kind == "jsonb" and connection.vendor == "sqlite" else f"j.{name}"
        for name, kind in columns.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(names)}, recorded_at) "
            f"SELECT {selected}, %s FROM {_rows_source(columns)}",
            [_db_datetime(recorded_at), rows_json(rows)],
        )
