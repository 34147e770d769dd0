"""Streaming writers: JSON, CSV and Markdown, a batch of rows at a time.

A writer is handed batches of row tuples as the database yields them and
reads each field through its getter (`exports.rows`); each batch goes to the
open text stream in one write, so memory does not grow with the catalog.
Per field, the writer composes the getter with its kind's formatting once per
export, so a row costs one call per column.
Each format decides how a field's value kind looks: JSON keeps structure
(lists, `{start, end}` spans, null), CSV joins lists with `; ` and follows
RFC 4180, Markdown is for people (one section per series, tables escaped).
"""

from __future__ import annotations

import csv
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any, TextIO

from exports.fields import RELEASES, SERIES, ExportField, ValueKind
from exports.models import ExportFormat, ExportType
from exports.rows import Getter, Row, RowReader
from exports.stored_datetimes import iso_seconds, utc_minutes
from feed.spans import plain_number
from tsundoku.templatetags.tsundoku_tags import format_number, format_spans

K = ValueKind


@dataclass(frozen=True)
class ExportHeader:
    """What the file says about itself."""

    export_type: str
    exported_at: datetime
    filters: Mapping[str, str] = dataclass_field(default_factory=dict)


def iso_timestamp(value: datetime) -> str:
    """UTC, whole seconds, `Z` suffix: sorts as text and reads in every spreadsheet."""
    # `isoformat` is several times faster than `strftime` (a datetime per row
    # and column) and writes the same text for every four-digit year; in UTC
    # its offset is always the six characters "+00:00".
    return value.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"


def _utc_minutes(value: datetime) -> str:
    """UTC to the minute, for people: "2025-03-01 12:00 UTC"."""
    return value.astimezone(UTC).isoformat(" ", timespec="minutes")[:-6] + " UTC"


class ExportWriter(ABC):
    """Base for the three formats: `start`, then batches of rows, then `finish`."""

    def __init__(
        self,
        stream: TextIO,
        series: RowReader | None,
        releases: RowReader | None,
        header: ExportHeader,
    ):
        self.stream = stream
        self.series = series
        self.releases = releases
        self.header = header

    @abstractmethod
    def start(self) -> None:
        """Write whatever comes before the first row."""

    @abstractmethod
    def write_series(self, batch: list[Row], releases: Mapping[int, list[Row]] | None) -> None:
        """A batch of series rows; `releases` (series id → its release rows) only for `both`."""

    @abstractmethod
    def write_releases(self, batch: list[Row]) -> None:
        """A batch of release rows (the `releases` type); rows arrive grouped by series."""

    @abstractmethod
    def finish(self, row_count: int) -> None:
        """Write whatever comes after the last row."""


# ---------- JSON ----------


def _same(value: Any) -> Any:
    return value


# Each kind's JSON form of a value that is not None; kinds not listed are as read.
_JSON_FORMS: dict[ValueKind, Callable[[Any], Any]] = {
    K.TEXT: lambda value: value or None,
    K.URL: lambda value: value or None,
    K.NUMBER: plain_number,
    K.DATETIME: iso_timestamp,
    K.TEXT_LIST: list,
    K.SPANS: lambda value: [
        {"start": plain_number(start), "end": plain_number(end)} for start, end in value
    ],
}
# `json.dumps` with options builds a new encoder per call; one encoder serves every row.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _json_columns(reader: RowReader | None) -> list[tuple[str, Getter]]:
    """(key, row → JSON value) per field, composed once per export."""
    if reader is None:
        return []
    return [
        (field.key, reader.cell(field, _JSON_FORMS.get(field.kind), stored_text=_iso_text(field)))
        for field in reader.fields
    ]


def _iso_text(field: ExportField) -> Callable[[Any], str] | None:
    # JSON and CSV write datetimes as `iso_timestamp`; from stored text, `iso_seconds`.
    return iso_seconds if field.kind == K.DATETIME else None


class JsonWriter(ExportWriter):
    """One JSON document; each row on its own line so two exports diff line by line."""

    def start(self) -> None:
        fields = {}
        for entity, reader in ((SERIES, self.series), (RELEASES, self.releases)):
            if reader is not None and reader.fields:
                fields[entity] = [field.key for field in reader.fields]
        preamble = {
            "exportedAt": iso_timestamp(self.header.exported_at),
            "type": self.header.export_type,
            "filters": dict(self.header.filters),
            "fields": fields,
        }
        items_key = RELEASES if self.header.export_type == ExportType.RELEASES else SERIES
        # The preamble is dumped as an object, then reopened to stream the list into it.
        self.stream.write(_JSON_ENCODER.encode(preamble)[:-1] + f', "{items_key}": [')
        self._first = True
        self._series_columns = _json_columns(self.series)
        self._release_columns = _json_columns(self.releases)

    def write_series(self, batch: list[Row], releases: Mapping[int, list[Row]] | None) -> None:
        columns = self._series_columns
        items = [{key: cell(row) for key, cell in columns} for row in batch]
        if releases is not None:
            series_id = self.series.column("id")
            for item, row in zip(items, batch, strict=True):
                item["releases"] = self._release_objects(releases.get(series_id(row), ()))
        self._write_items(items)

    def write_releases(self, batch: list[Row]) -> None:
        self._write_items(self._release_objects(batch))

    def finish(self, row_count: int) -> None:
        self.stream.write(f'\n], "rowCount": {row_count}}}\n')

    def _release_objects(self, rows: list[Row]) -> list[dict[str, Any]]:
        columns = self._release_columns
        return [{key: cell(row) for key, cell in columns} for row in rows]

    def _write_items(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        encode = _JSON_ENCODER.encode
        text = ",\n".join([encode(item) for item in items])
        self.stream.write(("\n" if self._first else ",\n") + text)
        self._first = False


# ---------- CSV ----------

# A cell starting with one of these is run as a formula by spreadsheet apps
# (OWASP "CSV injection"); release titles come from strangers, so text cells
# that start with one get a leading apostrophe, which spreadsheets hide.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def _defuse(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


# Each kind's CSV cell for a value that is not None; kinds not listed are
# written as read (the csv module writes None as an empty cell, numbers with `str`).
_CSV_CELLS: dict[ValueKind, Callable[[Any], str]] = {
    K.TEXT: _defuse,
    K.NUMBER: lambda value: str(plain_number(value)),
    K.DATETIME: iso_timestamp,
    K.BOOLEAN: lambda value: "true" if value else "false",
    K.TEXT_LIST: lambda value: _defuse(LIST_SEPARATOR.join(value)),
    K.SPANS: lambda value: LIST_SEPARATOR.join(_span_text(start, end, "-") for start, end in value),
}


def _span_text(start: float, end: float, dash: str) -> str:
    first, last = format_number(start), format_number(end)
    return first if first == last else f"{first}{dash}{last}"


class CsvWriter(ExportWriter):
    """RFC 4180: a header row of field keys, CRLF line ends, quotes only where needed.

    The stream must be opened with `newline=""` so the csv module owns line ends.
    """

    def __init__(
        self,
        stream: TextIO,
        series: RowReader | None,
        releases: RowReader | None,
        header: ExportHeader,
    ):
        if header.export_type == ExportType.BOTH:
            raise ValueError("CSV holds one table: export series or releases, not both.")
        super().__init__(stream, series, releases, header)
        self.reader = releases if header.export_type == ExportType.RELEASES else series
        self.writer = csv.writer(stream, lineterminator="\r\n")
        # row → cell per column, composed once per export rather than per value.
        self.cells = [
            self.reader.cell(field, _CSV_CELLS.get(field.kind), stored_text=_iso_text(field))
            for field in self.reader.fields
        ]

    def start(self) -> None:
        self.writer.writerow([field.key for field in self.reader.fields])

    def write_series(self, batch: list[Row], releases: Mapping[int, list[Row]] | None) -> None:
        self._rows(batch)

    def write_releases(self, batch: list[Row]) -> None:
        self._rows(batch)

    def finish(self, row_count: int) -> None:
        """Nothing to close: a CSV file ends with its last row."""

    def _rows(self, batch: list[Row]) -> None:
        cells = self.cells
        self.writer.writerows([[cell(row) for cell in cells] for row in batch])


# ---------- Markdown ----------

# Characters that would start emphasis, code, links, raw HTML or a table cell,
# each escaped with a backslash (`str.translate`: one C call per text, where
# two regular-expression substitutions cost more than the rest of a row).
_MARKDOWN_ESCAPES = str.maketrans({char: "\\" + char for char in "\\`*_[]<>|~"})
# A paragraph starting with these would become a heading, list, quote or rule.
_BLOCK_START = re.compile(r"^(#|[-+=]|\d+[.)])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
EMPTY = "—"


def markdown_inline(text: str) -> str:
    """Text safe inside a line, heading or table cell: one line, specials escaped."""
    # `split()` splits on runs of the same Unicode whitespace `\s` matches.
    return " ".join(text.split()).translate(_MARKDOWN_ESCAPES)


def markdown_paragraphs(text: str) -> str:
    """Multi-paragraph text (descriptions): breaks kept, each paragraph escaped."""
    paragraphs = []
    for paragraph in _PARAGRAPH_BREAK.split(text.strip()):
        line = markdown_inline(paragraph)
        if line:
            paragraphs.append(_BLOCK_START.sub(r"\\\1", line))
    return "\n\n".join(paragraphs)


_BREAKS_AUTOLINK = re.compile(r"[\s<>]")


def _markdown_url(value: str) -> str:
    # An autolink keeps the URL verbatim; one that could break out is escaped instead.
    return f"<{value}>" if not _BREAKS_AUTOLINK.search(value) else markdown_inline(value)


# Each kind's Markdown text for a value that is not empty; other kinds are inline text.
_MARKDOWN_FORMS: dict[ValueKind, Callable[[Any], str]] = {
    K.URL: _markdown_url,
    K.NUMBER: format_number,
    K.DATETIME: _utc_minutes,
    K.BOOLEAN: lambda value: "yes" if value else "no",
    K.TEXT_LIST: lambda value: ", ".join(markdown_inline(item) for item in value),
    K.SPANS: format_spans,
}


def _markdown_inline_value(value: Any) -> str:
    return markdown_inline(str(value))


# Kinds whose value can be empty ("" or no items) without being None.
_MAY_BE_EMPTY = (K.TEXT, K.URL, K.TEXT_LIST, K.SPANS)


def markdown_cell(export_field: ExportField, reader: RowReader) -> Getter:
    """row → the field's Markdown text; `—` for nothing (None, "" or no items)."""
    form = _MARKDOWN_FORMS.get(export_field.kind, _markdown_inline_value)
    if export_field.kind in _MAY_BE_EMPTY:
        text = form

        def form(value: Any) -> str:
            return text(value) if value else EMPTY

    stored_text = utc_minutes if export_field.kind == K.DATETIME else None
    return reader.cell(export_field, form, missing=EMPTY, stored_text=stored_text)


TYPE_TITLES = {
    ExportType.SERIES: "series",
    ExportType.RELEASES: "releases",
    ExportType.BOTH: "series and releases",
}


class MarkdownWriter(ExportWriter):
    """A readable document: one `##` section per series, releases as tables."""

    # Long text reads better as its own paragraph than squeezed into a bullet.
    PARAGRAPH_FIELDS = ("description",)

    def start(self) -> None:
        exported = _utc_minutes(self.header.exported_at)
        filters = ", ".join(f"{key} = {value}" for key, value in self.header.filters.items())
        self.stream.write(
            f"# tsundoku export: {TYPE_TITLES[self.header.export_type]}\n\n"
            f"Exported {exported}. Filters: {markdown_inline(filters) if filters else 'none'}.\n"
        )
        self._current_series_id: int | None = None
        self._series_count = 0
        self._release_count = 0
        if self.series is not None:
            self._anchor, *details = self.series.fields
            self._anchor_text = self.series.cell(self._anchor, markdown_inline, missing="")
            # "- **Label:** " is the same on every row: built once, then a cell per row.
            self._bullets = [
                (f"- **{field.label}:** ", markdown_cell(field, self.series))
                for field in details
                if field.key not in self.PARAGRAPH_FIELDS
            ]
            self._paragraphs = [
                self.series.cell(field) for field in details if field.key in self.PARAGRAPH_FIELDS
            ]
        if self.releases is not None:
            fields = self.releases.fields
            labels = [markdown_inline(field.label) for field in fields]
            self._table_head = f"| {' | '.join(labels)} |\n|{'|'.join(' --- ' for _ in labels)}|\n"
            self._release_cells = [markdown_cell(field, self.releases) for field in fields]

    def write_series(self, batch: list[Row], releases: Mapping[int, list[Row]] | None) -> None:
        self._series_count += len(batch)
        series_id = self.series.column("id")
        parts = []
        for row in batch:
            parts.append(f"\n## {self._anchor_text(row)}\n")
            if self._bullets:
                bullets = "\n".join([label + cell(row) for label, cell in self._bullets])
                parts.append(f"\n{bullets}\n")
            for get in self._paragraphs:
                text = markdown_paragraphs(get(row) or "")
                if text:
                    parts.append(f"\n{text}\n")
            if releases is not None:
                parts.append("\n### Releases\n")
                parts.append(self._release_table(releases.get(series_id(row), ())))
        self.stream.write("".join(parts))

    def write_releases(self, batch: list[Row]) -> None:
        series_id = self.releases.column("series_id")
        series_title = self.releases.column("series__canonical_title")
        parts = []
        for row in batch:
            if series_id(row) != self._current_series_id:
                self._current_series_id = series_id(row)
                parts.append(f"\n## {markdown_inline(series_title(row))}\n\n{self._table_head}")
            parts.append(self._table_row(row))
        self.stream.write("".join(parts))

    def finish(self, row_count: int) -> None:
        parts = []
        if self.header.export_type != ExportType.RELEASES:
            parts.append(f"{self._series_count} series")
        if self.header.export_type != ExportType.SERIES:
            plural = "" if self._release_count == 1 else "s"
            parts.append(f"{self._release_count} release{plural}")
        self.stream.write(f"\n---\n\n{' and '.join(parts)} exported.\n")

    def _release_table(self, rows: list[Row]) -> str:
        if not rows:
            return "\n_No releases._\n"
        return "\n" + self._table_head + "".join([self._table_row(row) for row in rows])

    def _table_row(self, row: Row) -> str:
        self._release_count += 1
        return f"| {' | '.join([cell(row) for cell in self._release_cells])} |\n"


WRITERS: dict[str, type[ExportWriter]] = {
    ExportFormat.JSON: JsonWriter,
    ExportFormat.CSV: CsvWriter,
    ExportFormat.MARKDOWN: MarkdownWriter,
}
