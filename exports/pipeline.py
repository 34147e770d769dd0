"""The export pipeline: what goes in a file (spec), which rows (scope), and the streaming loop.

Scope is the feed's own query (`feed.queries.parse_filters` + `series_queryset`),
so an export holds exactly what the feed shows for the same filters, in the
same order; the Codex filter and ownership columns follow the same admin rule.
Rows are read with `.iterator(chunk_size=CHUNK_SIZE)` and written one by one:
memory depends on the chunk size, not on the size of the catalog.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TextIO, TypeVar

from django.db.models import F, QuerySet
from django.utils import timezone

from exports import fields as catalog
from exports.fields import EXTERNAL_IDS, FieldSelection
from exports.models import ExportFormat, ExportType
from exports.writers import WRITERS, ExportHeader, ExportWriter
from feed.models import ExternalId, Release, Resolution, Series
from feed.queries import SORTS, SeriesFilters, parse_filters, series_queryset

CHUNK_SIZE = 2000
T = TypeVar("T")

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


def _chunks(rows: Iterator[T]) -> Iterator[list[T]]:
    while chunk := list(islice(rows, CHUNK_SIZE)):
        yield chunk
        # Let the finished chunk go before the next is read: one chunk alive, not two.
        del chunk


def series_rows(spec: ExportSpec) -> Iterator[tuple[Series, list[Release] | None]]:
    """The series in scope, in the feed's order, each with its releases for `both`.

    Related rows are fetched with one query per chunk rather than Django's
    `prefetch_related`: that links each related row back to its series, and
    the reference cycles it builds outlive the chunk until a full garbage
    collection, so memory would grow with the catalog.
    """
    queryset = series_queryset(spec.filters, is_admin=spec.is_admin)
    with_external_ids = EXTERNAL_IDS in spec.selection.related
    with_releases = spec.export_type == ExportType.BOTH
    for chunk in _chunks(queryset.iterator(chunk_size=CHUNK_SIZE)):
        if with_external_ids:
            _attach_external_ids(chunk)
        releases = _releases_of(chunk) if with_releases else {}
        for series in chunk:
            yield series, releases.get(series.pk, []) if with_releases else None
            # `select_related("codex_link")` links series and link both ways; a
            # reference cycle waits for a full garbage collection, so cut it now.
            series._state.fields_cache.clear()
        del chunk, releases  # see _chunks


def _attach_external_ids(chunk: list[Series]) -> None:
    """Set `external_id_refs` ("provider:id" strings) on each series of the chunk."""
    refs: dict[int, list[str]] = defaultdict(list)
    rows = (
        ExternalId.objects.filter(series_id__in=[series.pk for series in chunk])
        .order_by("series_id", "provider")
        .values_list("series_id", "provider", "external_id")
    )
    for series_id, provider, external_id in rows:
        refs[series_id].append(f"{provider}:{external_id}")
    for series in chunk:
        series.external_id_refs = refs.get(series.pk, [])


def _releases_of(chunk: list[Series]) -> dict[int, list[Release]]:
    """The exported releases of each series in the chunk, newest first."""
    by_id = {series.pk: series for series in chunk}
    releases: dict[int, list[Release]] = defaultdict(list)
    queryset = _exported_releases().filter(series_id__in=list(by_id)).order_by(*_release_order())
    for release in queryset:
        # A forward assignment only: the series keeps no list of its releases.
        release.series = by_id[release.series_id]
        releases[release.series_id].append(release)
    return releases


def release_rows(spec: ExportSpec) -> Iterator[Release]:
    """Releases of the series in scope, grouped by series in the feed's order, newest first."""
    scope = series_queryset(spec.filters, is_admin=spec.is_admin).values("id")
    column = F(f"series__{SORTS[spec.filters.sort]}")
    if spec.filters.order == "desc":
        series_order = [column.desc(nulls_last=True), F("series_id").desc()]
    else:
        series_order = [column.asc(nulls_last=True), F("series_id").asc()]
    queryset = (
        _exported_releases()
        .filter(series__in=scope)
        .select_related("series")
        .order_by(*series_order, *_release_order())
    )
    return queryset.iterator(chunk_size=CHUNK_SIZE)


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
    writer = WRITERS[spec.export_format](stream, spec.selection, header)
    writer.start()
    rows = checked = 0
    for written in _write_rows(spec, writer):
        rows += written
        if checkpoint is not None and rows - checked >= CHUNK_SIZE:
            checkpoint()
            checked = rows
    writer.finish(rows)
    return rows


def _write_rows(spec: ExportSpec, writer: ExportWriter) -> Iterator[int]:
    """Write each row in scope, yielding how many rows each step wrote."""
    if spec.export_type == ExportType.RELEASES:
        for release in release_rows(spec):
            writer.write_release(release)
            yield 1
        return
    for series, releases in series_rows(spec):
        writer.write_series(series, releases)
        yield 1 + len(releases or ())
