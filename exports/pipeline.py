"""The export pipeline: what goes in a file (spec), which rows (scope), and the streaming loop.

Scope is the feed's own query (`feed.queries.parse_filters` + `series_queryset`),
so an export holds exactly what the feed shows for the same filters, in the
same order; the Codex filter and ownership columns follow the same admin rule.
Rows are read as plain tuples (`exports.rows`) `CHUNK_SIZE` at a time, with
related data loaded per batch, and written a batch at a time: memory depends
on the batch size, not on the size of the catalog.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from django.db import connections, router
from django.db.models import F, QuerySet
from django.utils import timezone

from exports import fields as catalog
from exports.fields import EXTERNAL_IDS, FieldSelection
from exports.models import ExportFormat, ExportType
from exports.rows import Columns, Row, RowReader, columns
from exports.writers import WRITERS, ExportHeader, ExportWriter
from feed.models import ExternalId, Release, Resolution
from feed.queries import SORTS, SeriesFilters, parse_filters, series_queryset

# Rows per batch: one query (and one query per related kind) per batch, and
# what memory holds at a time.
CHUNK_SIZE = 2000

# Keys an export's `filters` may carry: the feed's filter and sort parameters.
FILTER_KEYS = (
    "q",
    "kind",
    "status",
    "hasReleases",
    "has_releases",
    "codexStatus",
    "scope",
    "sort",
    "order",
)


class InvalidExport(ValueError):
    """The request cannot become an export; the message says what to change."""


@dataclass(frozen=True)
class ExportSpec:
    """Everything the pipeline needs, validated against the reader's tier."""

    export_type: str
    export_format: str
    selection: FieldSelection
    filters: SeriesFilters
    is_admin: bool


def build_spec(
    export_type: str,
    export_format: str,
    field_keys: list[str] | None,
    filters: Mapping,
    *,
    is_admin: bool,
    preset: str | None = None,
) -> ExportSpec:
    """Validate one export request; `InvalidExport` (or `UnknownFields`) says what is wrong.

    `field_keys=None` and no preset selects every field the reader may export.
    """
    if export_type not in ExportType.values:
        raise InvalidExport(
            f"Unknown export type {export_type!r}: use {', '.join(ExportType.values)}."
        )
    if export_format not in ExportFormat.values:
        raise InvalidExport(
            f"Unknown format {export_format!r}: use {', '.join(ExportFormat.values)}."
        )
    if export_type == ExportType.BOTH and export_format == ExportFormat.CSV:
        raise InvalidExport(
            "CSV holds a single table, so it cannot carry series and releases together: "
            "export series or releases as CSV, or choose JSON or Markdown for both."
        )
    unknown_filters = [key for key in filters if key not in FILTER_KEYS]
    if unknown_filters:
        raise InvalidExport(
            f"Unknown filter(s): {', '.join(map(str, unknown_filters))}. Filters are the "
            "feed's: q, kind, status, hasReleases, codexStatus (admin only), scope, sort, order."
        )
    entities = catalog.ENTITIES_BY_TYPE[export_type]
    if preset is not None:
        if field_keys is not None:
            raise InvalidExport("Send either fields or a preset, not both.")
        if preset not in catalog.PRESET_LABELS:
            raise InvalidExport(
                f"Unknown preset {preset!r}: use {', '.join(catalog.PRESET_LABELS)}."
            )
        field_keys = catalog.preset_keys(preset, entities, is_admin=is_admin)
    selection = catalog.resolve_fields(export_type, field_keys, is_admin=is_admin)
    return ExportSpec(
        export_type=export_type,
        export_format=export_format,
        selection=selection,
        filters=parse_filters(filters, is_admin=is_admin),
        is_admin=is_admin,
    )


def _exported_releases() -> QuerySet[Release]:
    # What the series page lists: releases confirmed to belong to the series.
    return Release.objects.filter(resolution=Resolution.RESOLVED)


def _release_order() -> list:
    return [F("posted_at").desc(nulls_last=True), F("id").desc()]


@dataclass
class ExportRows:
    """The readers of one export's rows; a writer reads values through their cells."""

    series: RowReader | None
    releases: RowReader | None


def row_readers(spec: ExportSpec) -> ExportRows:
    """A reader per entity the export holds, over the feed's query for its filters."""
    series = None
    if spec.export_type != ExportType.RELEASES:
        series = RowReader(
            series_queryset(spec.filters, is_admin=spec.is_admin),
            spec.selection.series,
            extra=("id",),
        )
    if spec.export_type == ExportType.SERIES:
        return ExportRows(series, None)
    # Releases are grouped under their series: the writers read which one from
    # the row (and, for `releases` in Markdown, its title for the heading).
    if spec.export_type == ExportType.RELEASES:
        scope, extra = _releases_in_scope(spec), ("series_id", "series__canonical_title")
    else:
        scope, extra = _exported_releases().order_by(*_release_order()), ("series_id",)
    return ExportRows(series, RowReader(scope, spec.selection.releases, extra=extra))


def _releases_in_scope(spec: ExportSpec) -> QuerySet[Release]:
    """Releases of the series in scope, grouped by series in the feed's order, newest first."""
    scope = series_queryset(spec.filters, is_admin=spec.is_admin).values("id")
    column = F(f"series__{SORTS[spec.filters.sort]}")
    if spec.filters.order == "desc":
        series_order = [column.desc(nulls_last=True), F("series_id").desc()]
    else:
        series_order = [column.asc(nulls_last=True), F("series_id").asc()]
    return _exported_releases().filter(series__in=scope).order_by(*series_order, *_release_order())


SeriesBatch = tuple[Columns, dict[int, list[Row]] | None]


def series_batches(rows: ExportRows) -> Iterator[SeriesBatch]:
    """The series in scope a batch at a time, in the feed's order; for `both`, their releases.

    A batch comes as columns (`exports.rows.columns`), which the writers
    read. Related rows (external ids, releases) are fetched with one query per
    batch and joined in Python: a related value is a column after the
    series' own (its `related_slot`), releases come as {series id: rows,
    newest first}.
    """
    reader = rows.series
    id_slot = reader.slot("id")
    with_external_ids = EXTERNAL_IDS in reader.related
    for batch in reader.batches(None, CHUNK_SIZE):
        values = columns(batch)
        del batch  # one copy of the batch alive at a time, not two
        ids = values[id_slot]
        if with_external_ids:
            refs = _external_ids_of(ids)
            # A fresh empty list per series: an empty value is `[]` in every format.
            values.append([refs.get(series_id) or [] for series_id in ids])
        yield values, None if rows.releases is None else _releases_of(rows.releases, ids)
        del values


def _external_ids_of(series_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each series' "provider:id" strings, ordered by provider.

    Plain SQL rather than `filter(series_id__in=...)`: the ORM prepares each
    of the batch's ids in Python, which cost more than the query itself; these
    ids are the database's own integers, bound as parameters as they are. The
    database joins "provider:id" (`||` on SQLite and PostgreSQL alike), so
    Python only groups the strings.
    """
    meta = ExternalId._meta
    connection = connections[router.db_for_read(ExternalId)]
    quote = connection.ops.quote_name
    series, provider, external_id = (
        quote(meta.get_field(name).column) for name in ("series", "provider", "external_id")
    )
    placeholders = ", ".join(["%s"] * len(series_ids))
    refs: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {series}, {provider} || ':' || {external_id} FROM {quote(meta.db_table)} "
            f"WHERE {series} IN ({placeholders}) ORDER BY {series}, {provider}",
            series_ids,
        )
        for series_id, ref in cursor.fetchall():
            refs[series_id].append(ref)
    return refs


def _releases_of(reader: RowReader, series_ids: Sequence[int]) -> dict[int, list[Row]]:
    """The exported releases of each series in the batch, newest first."""
    series_id = reader.column("series_id")
    releases: dict[int, list[Row]] = defaultdict(list)
    for chunk in reader.batches(reader.queryset.filter(series_id__in=series_ids), CHUNK_SIZE):
        for row in chunk:
            releases[series_id(row)].append(row)
    return releases


def write_export(
    spec: ExportSpec,
    stream: TextIO,
    *,
    checkpoint: Callable[[], None] | None = None,
    exported_at: datetime | None = None,
) -> int:
    """Stream the export to `stream` and return the number of rows written.

    `checkpoint` is called every `CHUNK_SIZE` rows; it may raise to stop the
    export (a cancelled job). Rows are series for `series`, releases for
    `releases`, and both counted for `both`.
    """
    header = ExportHeader(
        export_type=spec.export_type,
        exported_at=exported_at or timezone.now(),
        filters=spec.filters.as_query_params(),
    )
    rows = row_readers(spec)
    writer = WRITERS[spec.export_format](stream, rows.series, rows.releases, header)
    writer.start()
    written = checked = 0
    for count in _write_batches(spec, rows, writer):
        written += count
        if checkpoint is not None and written - checked >= CHUNK_SIZE:
            checkpoint()
            checked = written
    writer.finish(written)
    return written


def _write_batches(spec: ExportSpec, rows: ExportRows, writer: ExportWriter) -> Iterator[int]:
    """Write each batch of rows in scope, yielding how many rows each batch wrote."""
    if spec.export_type == ExportType.RELEASES:
        for batch in rows.releases.batches(None, CHUNK_SIZE):
            writer.write_releases(columns(batch))
            yield len(batch)
        return
    for values, releases in series_batches(rows):
        writer.write_series(values, releases)
        yield len(values[0]) + (sum(map(len, releases.values())) if releases is not None else 0)
