"""Streaming writers: JSON, CSV and Markdown, one row at a time.

A writer is handed rows as the database yields them and writes each one
straight to the open text stream, so memory does not grow with the catalog.
Each format decides how a field's value kind looks: JSON keeps structure
(lists, `{start, end}` spans, null), CSV joins lists with `; ` and follows
RFC 4180, Markdown is for people (one section per series, tables escaped).
"""

from __future__ import annotations

import csv
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any, TextIO

from exports.fields import RELEASES, SERIES, ExportField, FieldSelection, ValueKind
from exports.models import ExportFormat, ExportType
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
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ExportWriter(ABC):
    """Base for the three formats: `start`, then rows, then `finish`."""

    def __init__(self, stream: TextIO, selection: FieldSelection, header: ExportHeader):
        self.stream = stream
        self.selection = selection
        self.header = header

    @abstractmethod
    def start(self) -> None:
        """Write whatever comes before the first row."""

    @abstractmethod
    def write_series(self, series: Any, releases: Iterable[Any] | None = None) -> None:
        """One series row; `releases` only for the `both` type."""

    @abstractmethod
    def write_release(self, release: Any) -> None:
        """One release row (the `releases` type); rows arrive grouped by series."""

    @abstractmethod
    def finish(self, row_count: int) -> None:
        """Write whatever comes after the last row."""


# ---------- JSON ----------


def _same(value: Any) -> Any:
    return value


# Each kind's JSON form of a value that is not None.
_JSON_FORMS: dict[ValueKind, Callable[[Any], Any]] = {
    K.TEXT: lambda value: value or None,
    K.URL: lambda value: value or None,
    K.NUMBER: plain_number,
    K.DATETIME: lambda value: iso_timestamp(value),
    K.TEXT_LIST: list,
    K.SPANS: lambda value: [
        {"start": plain_number(start), "end": plain_number(end)} for start, end in value
    ],
}


def _json_columns(fields: Iterable[ExportField]) -> list[tuple[str, Callable, Callable]]:
    """(key, getter, JSON form) per field, looked up once per export rather than per value."""
    return [(field.key, field.extract, _JSON_FORMS.get(field.kind, _same)) for field in fields]


def _json_object(columns: list[tuple[str, Callable, Callable]], item: Any) -> dict[str, Any]:
    row = {}
    for key, extract, form in columns:
        value = extract(item)
        row[key] = None if value is None else form(value)
    return row


class JsonWriter(ExportWriter):
    """One JSON document; each row on its own line so two exports diff line by line."""

    def start(self) -> None:
        fields = {}
        for entity, columns in (
            (SERIES, self.selection.series),
            (RELEASES, self.selection.releases),
        ):
            if columns:
                fields[entity] = [field.key for field in columns]
        preamble = {
            "exportedAt": iso_timestamp(self.header.exported_at),
            "type": self.header.export_type,
            "filters": dict(self.header.filters),
            "fields": fields,
        }
        items_key = RELEASES if self.header.export_type == ExportType.RELEASES else SERIES
        # The preamble is dumped as an object, then reopened to stream the list into it.
        self.stream.write(self._dumps(preamble)[:-1] + f', "{items_key}": [')
        self._first = True
        self._series_columns = _json_columns(self.selection.series)
        self._release_columns = _json_columns(self.selection.releases)

    def write_series(self, series: Any, releases: Iterable[Any] | None = None) -> None:
        item = _json_object(self._series_columns, series)
        if releases is not None:
            item["releases"] = [
                _json_object(self._release_columns, release) for release in releases
            ]
        self._write_item(item)

    def write_release(self, release: Any) -> None:
        self._write_item(_json_object(self._release_columns, release))

    def finish(self, row_count: int) -> None:
        self.stream.write(f'\n], "rowCount": {row_count}}}\n')

    def _write_item(self, item: dict[str, Any]) -> None:
        self.stream.write(("\n" if self._first else ",\n") + self._dumps(item))
        self._first = False

    @staticmethod
    def _dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)


# ---------- CSV ----------

# A cell starting with one of these is run as a formula by spreadsheet apps
# (OWASP "CSV injection"); release titles come from strangers, so text cells
# that start with one get a leading apostrophe, which spreadsheets hide.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def _defuse(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


# Each kind's CSV cell for a value that is not None.
_CSV_CELLS: dict[ValueKind, Callable[[Any], str]] = {
    K.TEXT: _defuse,
    K.URL: _same,
    K.NUMBER: lambda value: str(plain_number(value)),
    K.DATETIME: lambda value: iso_timestamp(value),
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

    def __init__(self, stream: TextIO, selection: FieldSelection, header: ExportHeader):
        if header.export_type == ExportType.BOTH:
            raise ValueError("CSV holds one table: export series or releases, not both.")
        super().__init__(stream, selection, header)
        releases_only = header.export_type == ExportType.RELEASES
        self.fields = selection.releases if releases_only else selection.series
        self.writer = csv.writer(stream, lineterminator="\r\n")
        # (getter, cell) per column, looked up once per export rather than per value.
        self.columns = [(field.extract, _CSV_CELLS.get(field.kind, str)) for field in self.fields]

    def start(self) -> None:
        self.writer.writerow([field.key for field in self.fields])

    def write_series(self, series: Any, releases: Iterable[Any] | None = None) -> None:
        self._row(series)

    def write_release(self, release: Any) -> None:
        self._row(release)

    def finish(self, row_count: int) -> None:
        """Nothing to close: a CSV file ends with its last row."""

    def _row(self, item: Any) -> None:
        cells = []
        for extract, cell in self.columns:
            value = extract(item)
            cells.append("" if value is None else cell(value))
        self.writer.writerow(cells)


# ---------- Markdown ----------

# Characters that would start emphasis, code, links, raw HTML or a table cell.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# A paragraph starting with these would become a heading, list, quote or rule.
_BLOCK_START = re.compile(r"^(#|[-+=]|\d+[.)])")
_WHITESPACE = re.compile(r"\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
EMPTY = "—"


def markdown_inline(text: str) -> str:
    """Text safe inside a line, heading or table cell: one line, specials escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _WHITESPACE.sub(" ", text).strip())


def markdown_paragraphs(text: str) -> str:
    """Multi-paragraph text (descriptions): breaks kept, each paragraph escaped."""
    paragraphs = []
    for paragraph in _PARAGRAPH_BREAK.split(text.strip()):
        line = markdown_inline(paragraph)
        if line:
            paragraphs.append(_BLOCK_START.sub(r"\\\1", line))
    return "\n\n".join(paragraphs)


def markdown_value(export_field: ExportField, value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    kind = export_field.kind
    if kind is K.URL:
        # An autolink keeps the URL verbatim; one that could break out is escaped instead.
        return f"<{value}>" if not re.search(r"[\s<>]", value) else markdown_inline(value)
    if kind is K.NUMBER:
        return format_number(value)
    if kind is K.DATETIME:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if kind is K.BOOLEAN:
        return "yes" if value else "no"
    if kind is K.TEXT_LIST:
        return ", ".join(markdown_inline(item) for item in value)
    if kind is K.SPANS:
        return format_spans(value)
    return markdown_inline(str(value))


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
        exported = self.header.exported_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        filters = ", ".join(f"{key} = {value}" for key, value in self.header.filters.items())
        self.stream.write(
            f"# tsundoku export: {TYPE_TITLES[self.header.export_type]}\n\n"
            f"Exported {exported}. Filters: {markdown_inline(filters) if filters else 'none'}.\n"
        )
        self._current_series_id: int | None = None
        self._series_count = 0
        self._release_count = 0

    def write_series(self, series: Any, releases: Iterable[Any] | None = None) -> None:
        self._series_count += 1
        anchor, *details = self.selection.series
        lines = [f"\n## {markdown_inline(anchor.extract(series))}\n"]
        bullets = [
            f"- **{field.label}:** {markdown_value(field, field.extract(series))}"
            for field in details
            if field.key not in self.PARAGRAPH_FIELDS
        ]
        if bullets:
            lines.append("\n" + "\n".join(bullets) + "\n")
        for field in details:
            if field.key in self.PARAGRAPH_FIELDS:
                text = markdown_paragraphs(field.extract(series) or "")
                if text:
                    lines.append(f"\n{text}\n")
        self.stream.write("".join(lines))
        if releases is not None:
            self.stream.write("\n### Releases\n")
            self._write_release_table(releases)

    def write_release(self, release: Any) -> None:
        if release.series_id != self._current_series_id:
            self._current_series_id = release.series_id
            title = markdown_inline(release.series.canonical_title)
            self.stream.write(f"\n## {title}\n\n{self._table_head()}")
        self.stream.write(self._table_row(release))

    def finish(self, row_count: int) -> None:
        parts = []
        if self.header.export_type != ExportType.RELEASES:
            parts.append(f"{self._series_count} series")
        if self.header.export_type != ExportType.SERIES:
            plural = "" if self._release_count == 1 else "s"
            parts.append(f"{self._release_count} release{plural}")
        self.stream.write(f"\n---\n\n{' and '.join(parts)} exported.\n")

    def _write_release_table(self, releases: Iterable[Any]) -> None:
        rows = [self._table_row(release) for release in releases]
        if rows:
            self.stream.write("\n" + self._table_head() + "".join(rows))
        else:
            self.stream.write("\n_No releases._\n")

    def _table_head(self) -> str:
        labels = [markdown_inline(field.label) for field in self.selection.releases]
        return f"| {' | '.join(labels)} |\n|{'|'.join(' --- ' for _ in labels)}|\n"

    def _table_row(self, release: Any) -> str:
        self._release_count += 1
        cells = [markdown_value(field, field.extract(release)) for field in self.selection.releases]
        return f"| {' | '.join(cells)} |\n"


WRITERS: dict[str, type[ExportWriter]] = {
    ExportFormat.JSON: JsonWriter,
    ExportFormat.CSV: CsvWriter,
    ExportFormat.MARKDOWN: MarkdownWriter,
}
