"""Streaming writers: JSON, CSV and Markdown, a batch of rows at a time.

A writer is handed each batch as columns (`exports.rows.columns`) as the
database yields them, and makes each field's cells a column at a time
(`RowReader.values`, composed with the kind's formatting once per export;
some kinds a whole column in one pass). A row is then one `%` of a template
built once per export (JSON, Markdown) or one CSV record, and each batch
goes to the open text stream in one write, so memory does not grow with
the catalog.
Each format decides how a field's value kind looks: JSON keeps structure
(lists, `{start, end}` spans, null), CSV joins lists with `; ` and follows
RFC 4180, Markdown is for people (one section per series, tables escaped).
"""

from __future__ import annotations

import csv
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TextIO

from exports.fields import RELEASES, SERIES, ExportField, ValueKind
from exports.models import ExportFormat, ExportType
from exports.rows import ColumnGetter, Columns, Row, RowReader, columns
from exports.stored_datetimes import iso_seconds, utc_minutes
from feed.spans import plain_number
from tsundoku.templatetags.tsundoku_tags import format_number, format_numbers

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
    def write_series(self, batch: Columns, releases: Mapping[int, list[Row]] | None) -> None:
        """A batch of series, as columns; `releases` (series id → its release rows) for `both`."""

    @abstractmethod
    def write_releases(self, batch: Columns) -> None:
        """A batch of releases as columns (the `releases` type), grouped by series."""

    @abstractmethod
    def finish(self, row_count: int) -> None:
        """Write whatever comes after the last row."""


# ---------- JSON ----------


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
# `json.dumps` with options builds a new encoder per call; one encoder serves every value.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False)
# What that encoder writes for a str (C where available).
_encode_text = json.encoder.encode_basestring
if json.encoder.c_make_encoder is not None:
    # The C encoder `_JSON_ENCODER.encode` builds on every call, built once
    # (`JSONEncoder.iterencode`'s arguments, without the circular-reference
    # check: values read from a database cannot refer to themselves).
    _iterencode = json.encoder.c_make_encoder(
        None, _JSON_ENCODER.default, _encode_text, None, ": ", ", ", False, False, True
    )

    def _encode(value: Any) -> str:
        return "".join(_iterencode(value, 0))

else:
    _encode = _JSON_ENCODER.encode


def _json_text(value: Any) -> str:
    """A text value's JSON (`K.TEXT`'s form, then encoded): "" is null."""
    if value.__class__ is str:
        return _encode_text(value) if value else "null"
    return _encode(value or None)


def _json_integer(value: Any) -> str:
    return str(value) if value.__class__ is int else _encode(value)


def _json_number(value: Any) -> str:
    """`plain_number`'s JSON: whole floats as ints; NaN and infinity as the encoder writes them."""
    if value.__class__ is float and value - value == 0.0:  # finite
        return str(int(value)) if value.is_integer() else float.__repr__(value)
    return _encode(plain_number(value))


# Each kind's JSON text of a value that is not None: what the encoder writes for
# its `_JSON_FORMS` value, made directly for the scalar kinds (one call, no
# encoder set-up per value); other kinds encode their form.
_JSON_TEXTS: dict[ValueKind, Callable[[Any], str]] = {
    K.TEXT: _json_text,
    K.URL: _json_text,
    K.INTEGER: _json_integer,
    K.NUMBER: _json_number,
}


def json_text(kind: ValueKind) -> Callable[[Any], str]:
    """value (not None) → its JSON text for a field of this kind."""
    if kind in _JSON_TEXTS:
        return _JSON_TEXTS[kind]
    form = _JSON_FORMS.get(kind)
    if form is None:
        return _encode
    return lambda value: _encode(form(value))


def _json_iso_text(stored: datetime | str) -> str:
    return _encode_text(iso_seconds(stored))


class _JsonObjects:
    """One entity's rows as JSON object texts, a batch at a time, column by column.

    Each field's values become JSON text a column at a time; a row's object
    is then one `%` of a template holding the keys, so no dict is built and
    no encoder runs per row. The text is what the encoder writes for the
    row's dict: `{"key": value, ...}` with its default separators.
    """

    def __init__(self, reader: RowReader, extra_key: str | None = None):
        self.texts = [
            reader.values(
                field,
                json_text(field.kind),
                missing="null",
                stored_text=_json_iso_text if field.kind == K.DATETIME else None,
            )
            for field in reader.fields
        ]
        keys = [field.key for field in reader.fields] + ([extra_key] if extra_key else [])
        # `%` in a key would be read as a placeholder.
        members = ", ".join(f"{_encode_text(key).replace('%', '%%')}: %s" for key in keys)
        self.template = "{" + members + "}"

    def __call__(self, batch: Columns, *extra: list[str]) -> list[str]:
        """The batch's object texts; `extra` holds the text of the extra key's value per row."""
        if not batch:
            return []
        template = self.template
        return [
            template % values
            for values in zip(*[text(batch) for text in self.texts], *extra, strict=True)
        ]


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
        self.stream.write(_encode(preamble)[:-1] + f', "{items_key}": [')
        self._first = True
        with_releases = self.header.export_type == ExportType.BOTH
        if self.series is not None:
            self._series_objects = _JsonObjects(self.series, "releases" if with_releases else None)
        if self.releases is not None:
            self._release_objects = _JsonObjects(self.releases)

    def write_series(self, batch: Columns, releases: Mapping[int, list[Row]] | None) -> None:
        if releases is None:
            self._write_items(self._series_objects(batch))
            return
        lists = _grouped_texts(releases, self._release_objects, self._release_list)
        empty = self._release_list([])
        ids = batch[self.series.slot("id")]
        self._write_items(self._series_objects(batch, [lists.get(id_, empty) for id_ in ids]))

    def write_releases(self, batch: Columns) -> None:
        self._write_items(self._release_objects(batch))

    def finish(self, row_count: int) -> None:
        self.stream.write(f'\n], "rowCount": {row_count}}}\n')

    @staticmethod
    def _release_list(objects: list[str]) -> str:
        return "[" + ", ".join(objects) + "]"

    def _write_items(self, items: list[str]) -> None:
        if not items:
            return
        self.stream.write(("\n" if self._first else ",\n") + ",\n".join(items))
        self._first = False


def _grouped_texts(
    groups: Mapping[int, list[Row]],
    texts: Callable[[Columns], list[str]],
    joined: Callable[[list[str]], str],
) -> dict[int, str]:
    """Each group's rows as `texts` (one column-wise pass over every group's rows), `joined`."""
    rows = [row for group in groups.values() for row in group]
    all_texts = texts(columns(rows)) if rows else []
    grouped, start = {}, 0
    for key, group in groups.items():
        grouped[key] = joined(all_texts[start : start + len(group)])
        start += len(group)
    return grouped


# ---------- CSV ----------

# A cell starting with one of these is run as a formula by spreadsheet apps
# (OWASP "CSV injection"); release titles come from strangers, so text cells
# that start with one get a leading apostrophe, which spreadsheets hide.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def _csv_number(value: Any) -> str:
    """`str(plain_number(value))`, in one call for a float."""
    if value.__class__ is float:
        return str(int(value)) if value.is_integer() else str(value)
    return str(plain_number(value))


# Each kind's CSV cell for a value that is not None (text, text lists and spans:
# `_CSV_COLUMNS`); kinds not listed are written as read (the csv module writes
# None as an empty cell, numbers with `str`).
_CSV_CELLS: dict[ValueKind, Callable[[Any], str]] = {
    K.NUMBER: _csv_number,
    K.DATETIME: iso_timestamp,
    K.BOOLEAN: lambda value: "true" if value else "false",
}


def _spans_each(values: Sequence[Any], dash: str, separator: str) -> list[str]:
    """Each value's spans as text ("1-5; 7" in CSV), the numbers formatted a column at a time."""
    # Unpacking checks that each span is a (start, end) pair, as `format_spans` does.
    pairs = [(start, end) for value in values for start, end in value]
    numbers = iter(format_numbers([number for pair in pairs for number in pair]))
    spans = iter(
        [
            first if first == last else f"{first}{dash}{last}"
            for first, last in zip(numbers, numbers, strict=True)
        ]
    )
    return [separator.join(islice(spans, len(value))) for value in values]


def _csv_spans(values: Sequence[Any]) -> list[str | None]:
    """A spans column's cells: "1-5; 7", none left empty."""
    texts = iter(_spans_each([value for value in values if value is not None], "-", LIST_SEPARATOR))
    return [None if value is None else next(texts) for value in values]


def _csv_texts(values: Sequence[Any]) -> list[Any]:
    """A text column's cells: a leading apostrophe before a formula trigger; none left empty."""
    return [
        "'" + value if value is not None and value.startswith(FORMULA_TRIGGERS) else value
        for value in values
    ]


def _csv_text_lists(values: Sequence[Any]) -> list[Any]:
    """A text-list column's cells: items joined by `; `, then defused."""
    return _csv_texts([None if value is None else LIST_SEPARATOR.join(value) for value in values])


# Kinds whose cells are made a column at a time, from the values as read.
_CSV_COLUMNS: dict[ValueKind, Callable[[Sequence[Any]], list[Any]]] = {
    K.TEXT: _csv_texts,
    K.TEXT_LIST: _csv_text_lists,
    K.SPANS: _csv_spans,
}


def _csv_cells(reader: RowReader, field: ExportField) -> ColumnGetter:
    """A batch's columns → the field's CSV cells."""
    return _column_cells(
        reader,
        field,
        _CSV_COLUMNS,
        _CSV_CELLS.get(field.kind),
        # From stored text, `iso_seconds` is `iso_timestamp`'s text.
        stored_text=iso_seconds if field.kind == K.DATETIME else None,
    )


def _column_cells(
    reader: RowReader,
    field: ExportField,
    by_column: dict[ValueKind, Callable[[Sequence[Any]], list[Any]]],
    form: Callable[[Any], Any] | None,
    **value_options: Any,
) -> ColumnGetter:
    """A batch's columns → the field's cells: a whole column at once where the
    writer has a maker for the field's kind (`by_column`), else `form` value by value."""
    if field.kind in by_column:
        cells, values = by_column[field.kind], reader.values(field)
        return lambda columns: cells(values(columns))
    return reader.values(field, form, **value_options)


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
        # A batch's columns → the cells of one column, composed once per export.
        self.cells = [_csv_cells(self.reader, field) for field in self.reader.fields]

    def start(self) -> None:
        self.writer.writerow([field.key for field in self.reader.fields])

    def write_series(self, batch: Columns, releases: Mapping[int, list[Row]] | None) -> None:
        self._rows(batch)

    def write_releases(self, batch: Columns) -> None:
        self._rows(batch)

    def finish(self, row_count: int) -> None:
        """Nothing to close: a CSV file ends with its last row."""

    def _rows(self, batch: Columns) -> None:
        if batch:
            self.writer.writerows(zip(*[cells(batch) for cells in self.cells], strict=True))


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


def markdown_inline_each(texts: list[str]) -> list[str]:
    """`markdown_inline` of each text, escaped by one `translate` of them all.

    A text made one line holds no newline, so the texts joined by newlines
    split back exactly; escaping is per character, so escaping the joined
    text escapes each. A column at a time, this saves a call per cell.
    """
    if not texts:
        return []
    return _inline_lines(texts).split("\n")


def _inline_lines(texts: list[str]) -> str:
    """`markdown_inline` of each text, one per line."""
    if _single_spaced(texts):
        lines = "\n".join(texts)
    else:
        lines = "\n".join([" ".join(text.split()) for text in texts])
    return lines.translate(_MARKDOWN_ESCAPES)


def _single_spaced(texts: list[str]) -> bool:
    """Whether `" ".join(text.split())` leaves every text as it is, checked in two C scans.

    Splitting and joining each text was most of a Markdown column's cost,
    and titles, genres and descriptions are nearly always one line with
    single spaces already. Every whitespace character but the space is
    unprintable (`str.isprintable`), so a printable text holds no other; the
    texts that are not empty, joined by spaces, then hold two in a row or
    start or end with one exactly when one of them does.
    """
    spaced = " ".join([text for text in texts if text])
    if not spaced:
        return True
    return spaced.isprintable() and "  " not in spaced and spaced[0] != " " and spaced[-1] != " "


# `_BLOCK_START` at the start of every line of a text, as a substitution over
# the lines joined after a newline: one led by a literal newline is searched
# for by its newline, where `^` in multi-line mode is tried at every character.
_BLOCK_STARTS = re.compile("\n" + _BLOCK_START.pattern.removeprefix("^"))


def _escape_block_starts(lines: str) -> str:
    """`lines` with a backslash before each line's start that `_BLOCK_START` matches."""
    return _BLOCK_STARTS.sub(r"\n\\\1", "\n" + lines)[1:]


def markdown_paragraphs_each(texts: list[str]) -> list[str]:
    """Multi-paragraph texts (descriptions): breaks kept, each paragraph escaped and one line.

    A paragraph starting like a heading, list, quote or rule gets its start
    escaped. Made a column at a time: every paragraph of every text is made
    one line (`_inline_lines`), the starts escaped over all lines at once,
    and each text's non-empty lines joined again.
    """
    # A break holds two newlines: a text without one is one paragraph, unsplit.
    paragraphs = [
        _PARAGRAPH_BREAK.split(text.strip()) if "\n" in text else [text.strip()] for text in texts
    ]
    flat = [paragraph for parts in paragraphs for paragraph in parts]
    if not flat:
        return []
    lines = _escape_block_starts(_inline_lines(flat)).split("\n")
    if len(lines) == len(texts):
        # One paragraph each: a text is its line ("" as joining no lines gives).
        return lines
    lines = iter(lines)
    return [
        "\n\n".join([line for line in islice(lines, len(parts)) if line]) for parts in paragraphs
    ]


_BREAKS_AUTOLINK = re.compile(r"[\s<>]")


def _markdown_url(value: str) -> str:
    # An autolink keeps the URL verbatim; one that could break out is escaped instead.
    return f"<{value}>" if not _BREAKS_AUTOLINK.search(value) else markdown_inline(value)


def _markdown_urls(values: Sequence[Any]) -> list[str]:
    """A URL column's cells (`_markdown_url`, `—` for nothing), checked in one search.

    The search is for a single character, so no URL of a column can break
    out of an autolink exactly when their concatenation holds none.
    """
    present = [value for value in values if value]
    all_text = bool(present) and set(map(type, present)) == {str}
    if all_text and not _BREAKS_AUTOLINK.search("".join(present)):
        return [f"<{value}>" if value else EMPTY for value in values]
    return [_markdown_url(value) if value else EMPTY for value in values]


# Each kind's Markdown text for a value that is not empty; other kinds are inline
# text. Text, text lists, URLs and spans are made a column at a time
# (`_MARKDOWN_COLUMNS`).
_MARKDOWN_FORMS: dict[ValueKind, Callable[[Any], str]] = {
    K.NUMBER: format_number,
    K.DATETIME: _utc_minutes,
    K.BOOLEAN: lambda value: "yes" if value else "no",
}


def _markdown_inline_value(value: Any) -> str:
    # An integer's digits (and sign) need no escaping.
    return str(value) if value.__class__ is int else markdown_inline(str(value))


def _markdown_texts(values: Sequence[Any]) -> list[str]:
    """A text column's cells: each value inline, `—` for nothing (`K.TEXT`'s form, column-wise)."""
    escaped = markdown_inline_each([str(value) if value else "" for value in values])
    return [text if value else EMPTY for value, text in zip(values, escaped, strict=True)]


def _markdown_text_lists(values: Sequence[Any]) -> list[str]:
    """A text-list column's cells: items inline, joined by commas (`K.TEXT_LIST`'s form)."""
    items = iter(markdown_inline_each([item for value in values if value for item in value]))
    return [", ".join(islice(items, len(value))) if value else EMPTY for value in values]


def _markdown_spans(values: Sequence[Any]) -> list[str]:
    """A spans column's cells: `format_spans` ("1–5, 7"), `—` for nothing."""
    texts = iter(_spans_each([value for value in values if value], "–", ", "))
    return [next(texts) if value else EMPTY for value in values]


# Kinds whose cells are made a column at a time, from the values as read.
_MARKDOWN_COLUMNS: dict[ValueKind, Callable[[Sequence[Any]], list[str]]] = {
    K.TEXT: _markdown_texts,
    K.TEXT_LIST: _markdown_text_lists,
    K.URL: _markdown_urls,
    K.SPANS: _markdown_spans,
}


def markdown_values(export_field: ExportField, reader: RowReader) -> ColumnGetter:
    """A batch's columns → the field's Markdown text per row; `—` for none, "" or no items."""
    return _column_cells(
        reader,
        export_field,
        _MARKDOWN_COLUMNS,
        _MARKDOWN_FORMS.get(export_field.kind, _markdown_inline_value),
        missing=EMPTY,
        stored_text=utc_minutes if export_field.kind == K.DATETIME else None,
    )


def _anchor_texts(values: ColumnGetter) -> ColumnGetter:
    """The heading's text per row: inline, "" for none."""
    return lambda columns: markdown_inline_each(
        ["" if value is None else value for value in values(columns)]
    )


def _paragraph_blocks(values: ColumnGetter) -> ColumnGetter:
    """A paragraph field's block per row: its paragraphs after a blank line, "" for none."""

    def blocks(columns: Columns) -> list[str]:
        texts = markdown_paragraphs_each([text or "" for text in values(columns)])
        return [f"\n{text}\n" if text else "" for text in texts]

    return blocks


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
            anchor, *details = self.series.fields
            bullets = [field for field in details if field.key not in self.PARAGRAPH_FIELDS]
            # "- **Label:** " is the same on every row: one template per export,
            # filled with a row's texts by one `%` (`%` in a label is escaped).
            self._section = "\n## %s\n"
            if bullets:
                lines = "\n".join(
                    f"- **{field.label.replace('%', '%%')}:** %s" for field in bullets
                )
                self._section += f"\n{lines}\n"
            self._section_texts = [
                _anchor_texts(self.series.values(anchor)),
                *(markdown_values(field, self.series) for field in bullets),
                *(
                    _paragraph_blocks(self.series.values(field))
                    for field in details
                    if field.key in self.PARAGRAPH_FIELDS
                ),
            ]
            # Each paragraph field's block ("" for none) ends the section: filled
            # by the same `%`, not appended to every section's text afterwards.
            self._section += "%s" * (len(self._section_texts) - 1 - len(bullets))
        if self.releases is not None:
            fields = self.releases.fields
            labels = [markdown_inline(field.label) for field in fields]
            self._table_head = f"| {' | '.join(labels)} |\n|{'|'.join(' --- ' for _ in labels)}|\n"
            self._table_line = "| " + " | ".join(["%s"] * len(fields)) + " |\n"
            self._release_texts = [markdown_values(field, self.releases) for field in fields]

    def write_series(self, batch: Columns, releases: Mapping[int, list[Row]] | None) -> None:
        if not batch:
            return
        values = batch
        self._series_count += len(values[0])
        section = self._section
        sections = [
            section % texts
            for texts in zip(*[text(values) for text in self._section_texts], strict=True)
        ]
        if releases is not None:
            tables = _grouped_texts(releases, self._table_rows, self._release_table)
            empty = self._release_table([])
            sections = [
                f"{section}\n### Releases\n{tables.get(id_, empty)}"
                for section, id_ in zip(sections, values[self.series.slot("id")], strict=True)
            ]
        self.stream.write("".join(sections))

    def write_releases(self, batch: Columns) -> None:
        if not batch:
            return
        ids = batch[self.releases.slot("series_id")]
        titles = batch[self.releases.slot("series__canonical_title")]
        parts = []
        for series_id, title, line in zip(ids, titles, self._table_rows(batch), strict=True):
            if series_id != self._current_series_id:
                self._current_series_id = series_id
                parts.append(f"\n## {markdown_inline(title)}\n\n{self._table_head}")
            parts.append(line)
        self.stream.write("".join(parts))

    def finish(self, row_count: int) -> None:
        parts = []
        if self.header.export_type != ExportType.RELEASES:
            parts.append(f"{self._series_count} series")
        if self.header.export_type != ExportType.SERIES:
            plural = "" if self._release_count == 1 else "s"
            parts.append(f"{self._release_count} release{plural}")
        self.stream.write(f"\n---\n\n{' and '.join(parts)} exported.\n")

    def _release_table(self, lines: list[str]) -> str:
        if not lines:
            return "\n_No releases._\n"
        return "\n" + self._table_head + "".join(lines)

    def _table_rows(self, values: Columns) -> list[str]:
        """Each release in a batch's columns as its table line."""
        if not values:
            return []
        self._release_count += len(values[0])
        line = self._table_line
        return [
            line % texts
            for texts in zip(*[text(values) for text in self._release_texts], strict=True)
        ]


WRITERS: dict[str, type[ExportWriter]] = {
    ExportFormat.JSON: JsonWriter,
    ExportFormat.CSV: CsvWriter,
    ExportFormat.MARKDOWN: MarkdownWriter,
}
