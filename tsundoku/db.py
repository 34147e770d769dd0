"""Database helpers every app may use."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import CharField, Field, IntegerField, Model, TextField

# psycopg sends at most 65,535 parameters with one statement (a 16-bit count
# in PostgreSQL's protocol); Django leaves `max_query_params` unset there.
POSTGRESQL_MAX_PARAMS = 65_535
# The largest id a row can have: ids are 64-bit integers on SQLite and
# PostgreSQL alike. Input past it is refused as a 400 before it reaches the
# database, where PostgreSQL would fail the statement (and the transaction).
MAX_DATABASE_ID = 2**63 - 1
# SQLite's page cache for one large write (`larger_page_cache`), in KiB. A
# first Codex sweep's 90k links touch ~25 MB of table and index pages, and
# the series they join: in SQLite's default 2 MB the write kept evicting and
# re-reading them, a fifth of its time. 16 MiB won that back (0.90–1.09 s →
# 0.68–0.95 s); 64 MiB won no more and cost the sweep 60 MB of memory.
LARGE_WRITE_CACHE_KIB = 16 * 1024


def update_rows(objects: Sequence[Model], field_names: Sequence[str]) -> None:
    """Write `field_names` of each object by primary key: one UPDATE statement, many rows.

    `QuerySet.bulk_update` builds a CASE per field with a branch per row;
    compiling that for a 500-row batch costs seconds. An `executemany` of one
    prepared UPDATE costs milliseconds, on SQLite and PostgreSQL alike.
    """
    if not objects:
        return
    model = type(objects[0])
    attnames = [model._meta.get_field(name).attname for name in field_names]
    update_values(
        model,
        field_names,
        [(obj.pk, *(getattr(obj, attname) for attname in attnames)) for obj in objects],
    )


def update_values(
    model: type[Model], field_names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """UPDATE rows given as `(pk, *values of field_names)` tuples: one statement, many rows.

    Values pass through each field's own `get_db_prep_save` (see
    `_value_preparers`), so they are stored exactly as the ORM would store them.
    """
    if not rows:
        return
    database = connections[DEFAULT_DB_ALIAS]
    fields = [model._meta.get_field(name) for name in field_names]
    preparers = _value_preparers(fields, database)
    quote = database.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    pks = [(row[0],) for row in rows]
    values = _prepared_rows([row[1:] for row in rows], preparers, ())
    params = [prepared + pk for prepared, pk in zip(values, pks, strict=True)]
    with database.cursor() as cursor:
        cursor.executemany(sql, params)


def insert_rows(objects: Sequence[Model]) -> None:
    """INSERT the objects, many rows a statement, and set the id each one got."""
    if not objects:
        return
    meta = objects[0]._meta
    database = connections[DEFAULT_DB_ALIAS]
    attnames = [field.attname for field in meta.concrete_fields if not field.primary_key]
    ids = insert_values(
        type(objects[0]),
        attnames,
        [tuple(getattr(obj, attname) for attname in attnames) for obj in objects],
    )
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = database.alias


def insert_values(
    model: type[Model], field_names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[int]:
    """INSERT one row per tuple of `field_names` values; return the new ids in row order.

    What `bulk_create` does without building a model object per row and
    compiling every value (most of `import_series`'s time at 100k rows).
    Fields not named take their default, computed and prepared once per call
    (a `timezone.now` default is one instant for every row of the call).
    Values pass through each field's own `get_db_prep_save`, so JSON and dates
    are stored exactly as the ORM would store them. `RETURNING` hands the ids
    back in insertion order (SQLite ≥ 3.35, PostgreSQL), as `bulk_create`
    relies on too.
    """
    if not rows:
        return []
    meta = model._meta
    database = connections[DEFAULT_DB_ALIAS]  # not the proxy: read once per value below
    fields = [meta.get_field(name) for name in field_names]
    named = {field.name for field in fields}
    defaulted = [f for f in meta.concrete_fields if not f.primary_key and f.name not in named]
    defaults = tuple(field.get_db_prep_save(field.get_default(), database) for field in defaulted)
    preparers = _value_preparers(fields, database)
    quote = database.ops.quote_name
    columns = ", ".join(quote(field.column) for field in [*fields, *defaulted])
    row_marks = f"({', '.join(['%s'] * (len(fields) + len(defaulted)))})"
    per_statement = max(1, _max_params(database) // (len(fields) + len(defaulted)))
    ids: list[int] = []
    with database.cursor() as cursor:
        for offset in range(0, len(rows), per_statement):
            chunk = rows[offset : offset + per_statement]
            params = list(chain.from_iterable(_prepared_rows(chunk, preparers, defaults)))
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row_marks] * len(chunk))} RETURNING {quote(meta.pk.column)}",
                params,
            )
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids


def select_where_in(
    model: type[Model],
    field_names: Sequence[str],
    in_field: str,
    values: Sequence[Any],
    **equal: Any,
) -> list[tuple[Any, ...]]:
    """`field_names` of the rows whose `in_field` is one of `values` and each `equal` field matches.

    `values_list(...).filter(x__in=...)` without the ORM's per-value lookup
    compilation: one statement per chunk of `values` as large as the
    database takes, values prepared like `update_values` and read back
    through the same converters the ORM applies (JSON decoded, and so on).
    """
    if not values:
        return []
    meta = model._meta
    database = connections[DEFAULT_DB_ALIAS]
    fields = [meta.get_field(name) for name in field_names]
    equal_fields = [meta.get_field(name) for name in equal]
    equal_params = [
        prepare(value)
        for prepare, value in zip(
            _value_preparers(equal_fields, database), equal.values(), strict=True
        )
    ]
    prepare_in = _value_preparers([meta.get_field(in_field)], database)[0]
    quote = database.ops.quote_name
    conditions = "".join(f" AND {quote(field.column)} = %s" for field in equal_fields)
    converters = [
        (index, [*database.ops.get_db_converters(col), *col.get_db_converters(database)], col)
        for index, col in enumerate(field.cached_col for field in fields)
    ]
    converters = [entry for entry in converters if entry[1]]
    per_statement = max(1, _max_params(database) - len(equal_params))
    rows: list[tuple[Any, ...]] = []
    with database.cursor() as cursor:
        for offset in range(0, len(values), per_statement):
            chunk = values[offset : offset + per_statement]
            cursor.execute(
                f"SELECT {', '.join(quote(field.column) for field in fields)} "
                f"FROM {quote(meta.db_table)} "
                f"WHERE {quote(meta.get_field(in_field).column)} "
                f"IN ({', '.join(['%s'] * len(chunk))}){conditions}",
                [*(prepare_in(value) for value in chunk), *equal_params],
            )
            fetched = cursor.fetchall()
            if converters:
                fetched = [_converted(row, converters, database) for row in fetched]
            rows.extend(fetched)
    return rows


def _prepared_rows(
    rows: Sequence[tuple[Any, ...]], preparers: list[Callable[[Any], Any]], suffix: tuple
) -> Iterator[tuple[Any, ...]]:
    """The rows with every value prepared, `suffix` appended; column by column (fewer calls)."""
    columns = [
        list(map(prepare, column))
        for prepare, column in zip(preparers, zip(*rows, strict=True), strict=True)
    ]
    return (row + suffix for row in zip(*columns, strict=True))


def _converted(row: tuple[Any, ...], converters, database) -> tuple[Any, ...]:
    values = list(row)
    for index, functions, expression in converters:
        for convert in functions:
            values[index] = convert(values[index], expression, database)
    return tuple(values)


def _value_preparers(fields: Sequence[Field], database) -> list[Callable[[Any], Any]]:
    """One function per field turning a Python value into what the driver is given.

    Each is the field's `get_db_prep_save`, except for the values it would
    hand on unchanged (see `_given_as_is`): skipping its call chain for those
    is most of a bulk write's Python time.
    """
    preparers = []
    for field in fields:
        prepare = _prep_save(field, database)
        as_is = _given_as_is(field, database)
        preparers.append(_passing(as_is, prepare) if as_is else prepare)
    return preparers


def _prep_save(field: Field, database) -> Callable[[Any], Any]:
    def prepare(value: Any) -> Any:
        return field.get_db_prep_save(value, database)

    return prepare


def _passing(as_is: tuple[type, ...], prepare: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def prepare_unless_plain(value: Any) -> Any:
        return value if type(value) in as_is else prepare(value)

    return prepare_unless_plain


def _given_as_is(field: Field, database) -> tuple[type, ...]:
    """Value types the field's stock `get_db_prep_save` returns unchanged on this database.

    A text field's preparation is `str(value)`; an integer field's is
    `int(value)`, then the backend's integer adaptation (nothing on SQLite,
    a sized type on PostgreSQL); both leave None alone. A subclass that
    prepares values its own way (a custom field) always goes through it.
    """
    kind = type(field)
    if kind.get_db_prep_save is not Field.get_db_prep_save:
        return ()
    if (
        isinstance(field, CharField | TextField)
        and kind.get_prep_value in (CharField.get_prep_value, TextField.get_prep_value)
        and kind.get_db_prep_value is Field.get_db_prep_value
    ):
        return (str, type(None))
    if (
        isinstance(field, IntegerField)
        and kind.get_prep_value is IntegerField.get_prep_value
        and kind.get_db_prep_value is IntegerField.get_db_prep_value
    ):
        plain_integers = (
            type(database.ops).adapt_integerfield_value
            is BaseDatabaseOperations.adapt_integerfield_value
        )
        return (int, type(None)) if plain_integers else (type(None),)
    return ()


def _max_params(database) -> int:
    """How many parameters one statement may carry on this database."""
    if database.vendor == "sqlite":
        # Django assumes SQLite's old limit of 999; the library compiled in
        # says its own (250,000 since 3.32), and fewer statements are faster.
        database.ensure_connection()
        return database.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return database.features.max_query_params or POSTGRESQL_MAX_PARAMS


def select_all_at_once(columns: Sequence[str], rest_of_query: str, params: Sequence = ()) -> list:
    """Every row of `SELECT <columns> <rest_of_query>`, as lists, fetched in one database step.

    Python's sqlite3 lets go of the GIL for each row it steps through and
    must take it back before the next: while another thread of the process
    is busy (the Codex sweep downloads pages on one), each take-back can wait a
    whole switch interval, so a 100k-row read crawls. Folded into one JSON
    array (`select_all_json`), the database walks every row in a single call
    with the GIL released, truly alongside the other thread, and
    `json.loads` builds the rows in C.
    """
    return json.loads(select_all_json(columns, rest_of_query, params))


def select_all_json(columns: Sequence[str], rest_of_query: str, params: Sequence = ()) -> str:
    """`select_all_at_once`'s rows as the JSON text of an array of arrays, not yet decoded.

    Text, so it can go to another process as it is. Columns must be
    JSON-representable (text, numbers, null).
    """
    selected = ", ".join(columns)
    if connection.vendor == "postgresql":
        sql = f"SELECT COALESCE(json_agg(json_build_array({selected})), '[]')::text {rest_of_query}"
    else:
        sql = f"SELECT json_group_array(json_array({selected})) {rest_of_query}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (rows,) = cursor.fetchone()
    return rows


def select_lookup_json(group: str, key: str, value: str, table: str) -> str:
    """`{group: {key: value}}` over every row of `table` as JSON text, built by the database.

    `select_all_at_once` shaped as the lookup the caller wants: the database
    groups the rows into nested JSON objects in one step (the GIL released
    throughout), and `json.loads` of the text builds the dicts in C, so no
    Python loop runs over the rows. Text rather than decoded, so it can go
    to another process as it is. Each (group, key) pair must be unique (a
    JSON object keeps one value per key); `key` must be text and `value`
    JSON-representable.
    """
    if connection.vendor == "postgresql":
        sql = (
            "SELECT COALESCE(json_object_agg(grouped.name, grouped.lookup), '{}')::text FROM "
            f"(SELECT {group} AS name, json_object_agg({key}, {value}) AS lookup "
            f"FROM {table} GROUP BY {group}) AS grouped"
        )
    else:
        sql = (
            "SELECT json_group_object(grouped.name, json(grouped.lookup)) FROM "
            f"(SELECT {group} AS name, json_group_object({key}, {value}) AS lookup "
            f"FROM {table} GROUP BY {group}) AS grouped"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        (lookup,) = cursor.fetchone()
    return lookup


@contextmanager
def larger_page_cache(kibibytes: int = LARGE_WRITE_CACHE_KIB) -> Iterator[None]:
    """Let SQLite keep up to `kibibytes` of pages in memory for the block, then its usual again.

    For one large write. The memory is taken only as pages are read, and
    given back when the block ends (SQLite frees the pages past the smaller
    size). Nothing changes on PostgreSQL, whose buffers are the server's.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (usual,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(kibibytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(usual)}")
