"""Export rows as plain tuples: the columns a selection needs, in batches, a getter per field.

Building a model instance per row cost more than everything else an export
does (issue 12's profile: `Model.__init__`, every column's converter, the
JSON of `tags` and other columns no export shows). So an export asks the
database for the columns its fields name (`ExportField.source`), in one
`values_list` query, and reads the raw rows a batch at a time straight from
the cursor. Each field gets a column getter: a batch's columns in, the
field's value per row out, with the database's own converters (the same
Django applies, so a datetime is aware and a JSON column decoded whatever
the backend) applied to that column only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.scanner import make_scanner
from operator import itemgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import JSONField, QuerySet, UUIDField
from django.db.models.sql.constants import MULTI

from exports import stored_datetimes
from exports.fields import ExportField

Row = tuple
Getter = Callable[[Row], Any]
# A batch as columns (`columns(batch)`): each a sequence with one value per row.
Columns = list[Sequence[Any]]
# A batch's columns → one value per row.
ColumnGetter = Callable[[Columns], Sequence[Any]]


class RowReader:
    """How to read one entity's rows: which columns, in which slot, and each field's values.

    Columns come in the order of `sources` (the `extra` ones the pipeline or a
    writer needs, then each field's, without repeats); related values the
    pipeline loads per batch (external ids) follow them, one slot each.
    """

    def __init__(
        self, queryset: QuerySet, fields: Iterable[ExportField], extra: Iterable[str] = ()
    ):
        self.fields = tuple(fields)
        self.sources = tuple(
            dict.fromkeys([*extra, *(field.source for field in self.fields if not field.related)])
        )
        self.related = tuple(dict.fromkeys(field.related for field in self.fields if field.related))
        self.queryset = queryset
        self._connection = connections[queryset.db]
        self._stores_utc_text = stored_datetimes.stores_utc_text(self._connection)
        # Datetime columns SQLite's driver would convert while fetching: read
        # as their stored text instead (`stored_datetimes.StoredText`).
        self._as_stored_text = frozenset()
        if self._stores_utc_text:
            plain = _select(queryset.values_list(*self.sources))
            self._as_stored_text = frozenset(
                source
                for source, expression in zip(self.sources, plain, strict=False)
                if stored_datetimes.is_datetime_column(expression)
            )
        self._converters = _converters(self.columns_of(queryset))
        self._columns = {source: self._column(index) for index, source in enumerate(self.sources)}

    def columns_of(self, queryset: QuerySet) -> QuerySet:
        """`queryset` (this entity's, with any filters and order) reading this reader's columns."""
        return queryset.values_list(
            *(
                stored_datetimes.StoredText(source) if source in self._as_stored_text else source
                for source in self.sources
            )
        )

    def column(self, source: str) -> Getter:
        """The getter of one of the `sources` (e.g. the release's series, for grouping)."""
        return self._columns[source]

    def slot(self, source: str) -> int:
        """Where one of the `sources` is in a row (and in a batch's columns)."""
        return self.sources.index(source)

    def related_slot(self, related: str) -> int:
        return len(self.sources) + self.related.index(related)

    def batches(self, queryset: QuerySet | None, size: int) -> Iterator[list[Row]]:
        """The rows of `queryset` (default: the reader's own), `size` at a time, as fetched."""
        values = self.columns_of(self.queryset if queryset is None else queryset)
        compiler = values.query.get_compiler(using=values.db)
        # What `QuerySet.iterator()` does (a server-side cursor where the
        # backend has one), minus the per-row converter loop: `values` converts
        # each column as a writer reads it.
        chunked = not connections[values.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
        yield from compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=size)

    def values(
        self,
        field: ExportField,
        form: Callable[[Any], Any] | None = None,
        missing: Any = None,
        stored_text: Callable[[Any], str] | None = None,
    ) -> ColumnGetter:
        """A batch's columns → `form` of the field's value per row, `missing` where it is None.

        Column-wise, so a writer pays one comprehension per field and batch
        instead of a chain of calls per cell (issue 12's round-4 profile: the
        per-cell layers and a dict per row were half of a JSON export). The
        column's converters, the field's `derive` and the writer's `form` are
        composed here once per export. `stored_text`, for a datetime column,
        is `form`'s text made straight from SQLite's stored naive UTC
        (`exports.stored_datetimes`); other values still take the converter.
        """
        if field.related:
            slot = self.related_slot(field.related)  # never None: a list
            if form is None:
                return itemgetter(slot)
            return lambda columns: list(map(form, columns[slot]))
        if field.derive is not None:
            derive, source = field.derive(), self._column_values(self.sources.index(field.source))
            if form is None and missing is None:
                return lambda columns: list(map(derive, source(columns)))
            form = form or _same
            return lambda columns: [
                missing if (value := derive(raw)) is None else form(value)
                for raw in source(columns)
            ]
        index = self.sources.index(field.source)
        conversion = self._converters.get(index)
        if conversion is None:
            if form is None and missing is None:
                return itemgetter(index)
            form = form or _same
            return lambda columns: [
                missing if value is None else form(value) for value in columns[index]
            ]
        # A converter turns None into None: only other values need it.
        convert = _converter(conversion, self._connection)
        if form is not None:
            convert = _composed(form, convert)
        if (
            stored_text is not None
            and self._stores_utc_text
            and stored_datetimes.is_datetime_column(conversion[1])
        ):
            texts = stored_datetimes.column_text(stored_text, convert, missing)
            return lambda columns: texts(columns[index])
        if _is_plain_json(*conversion):
            return lambda columns: _each_distinct(convert, columns[index], missing)
        return lambda columns: [
            missing if value is None else convert(value) for value in columns[index]
        ]

    def _column_values(self, index: int) -> ColumnGetter:
        conversion = self._converters.get(index)
        if conversion is None:
            return itemgetter(index)
        convert = _converter(conversion, self._connection)
        return lambda columns: [
            None if value is None else convert(value) for value in columns[index]
        ]

    def _column(self, index: int) -> Getter:
        conversion = self._converters.get(index)
        if conversion is None:
            return itemgetter(index)
        convert = _converter(conversion, self._connection)
        return lambda row: None if (value := row[index]) is None else convert(value)


def _same(value: Any) -> Any:
    return value


def _each_distinct(convert: Callable[[Any], Any], values: Sequence[Any], missing: Any) -> list:
    """`convert` of each value (`missing` for None), called once per distinct value.

    For JSON columns, whose values repeat from row to row (genres, coverage
    such as `[[1, 12]]`): decoding (and formatting) each distinct text once
    per batch spares most of their cost. The converted values are shared
    between the rows that hold the same text, so nothing may change them
    (writers only read). Values other than text (a driver's decoded JSON)
    are converted one by one.
    """
    try:
        distinct = set(values)
    except TypeError:
        distinct = {0}  # not text: one by one, below
    distinct.discard(None)
    # Only text: keys of other kinds may be equal across kinds (1 == 1.0 == True).
    if set(map(type, distinct)) - {str}:
        return [missing if value is None else convert(value) for value in values]
    converted = {value: convert(value) for value in distinct}
    converted[None] = missing
    return [converted[value] for value in values]


def _composed(form: Callable[[Any], Any], convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: form(convert(value))


def columns(batch: Sequence[Row]) -> Columns:
    """A batch's rows as columns, in the rows' slots: what `RowReader.values` reads."""
    return list(zip(*batch, strict=True))


def _select(values: QuerySet) -> list[Any]:
    """The selected expressions of a `values_list` query, in order (none if it cannot match)."""
    compiler = values.query.get_compiler(using=values.db)
    try:
        compiler.as_sql()  # fills `compiler.select`
    except EmptyResultSet:
        return []
    return [expression for expression, _, _ in compiler.select[: compiler.col_count]]


def _converters(values: QuerySet) -> dict[int, tuple[list[Callable], Any]]:
    """The database converters of each column of a `values_list` query, by position."""
    compiler = values.query.get_compiler(using=values.db)
    return compiler.get_converters(_select(values))


def _converter(conversion: tuple[list[Callable], Any], connection: Any) -> Callable[[Any], Any]:
    """One column's converters (what Django applies to it) as a function of the value.

    A UUID column gives the UUID's text (`_uuid_text`) rather than a `UUID`.
    """
    functions, expression = conversion
    if _is_plain_json(functions, expression):
        return _json_value(functions[0], expression, connection)
    if isinstance(getattr(expression, "output_field", None), UUIDField):
        return _uuid_text(_converter_of(functions, expression, connection))
    return _converter_of(functions, expression, connection)


def _converter_of(
    functions: list[Callable], expression: Any, connection: Any
) -> Callable[[Any], Any]:
    if len(functions) == 1:
        (convert,) = functions
        return lambda value: convert(value, expression, connection)

    def converted(value: Any) -> Any:
        for convert in functions:
            value = convert(value, expression, connection)
        return value

    return converted


_HEX_DIGITS = "0123456789abcdef"


def _uuid_text(convert: Callable[[Any], Any]) -> Callable[[Any], str]:
    """A UUID column's value as its canonical text ("1b4e28ba-2fa1-…"), which is all exports show.

    SQLite stores a UUID as its 32 lowercase hex digits (`UUID.hex`): those
    are dashed directly, where Django's converter builds a `UUID` per value
    (a tenth of a CSV export in round 4 of issue 12's profile) only for the
    export to turn it back into text. Any other value (a native UUID,
    other text) takes the converter, then `str`.
    """

    def text(value: Any) -> str:
        if value.__class__ is str and len(value) == 32 and not value.strip(_HEX_DIGITS):
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return str(convert(value))

    return text


def _is_plain_json(functions: list[Callable], expression: Any) -> bool:
    """Whether a column's only converter is `JSONField.from_db_value` with the default decoder."""
    if (
        len(functions) != 1
        or getattr(functions[0], "__func__", None) is not JSONField.from_db_value
    ):
        return False
    output = expression.output_field
    return isinstance(output, JSONField) and output.decoder is None


_decoder = json.JSONDecoder()
_decode_json = _decoder.decode
# The decoder's scanner (C where available): one JSON value from an index,
# without `decode`'s two whitespace regex matches around it. Those matches
# were a fifth of the decoding's CPU in round 3 of issue 12's profile.
_scan_json = make_scanner(_decoder)


def _json_value(convert: Callable, expression: Any, connection: Any) -> Callable[[Any], Any]:
    """`JSONField.from_db_value` for a column's text, without its per-value checks and layers.

    `json.loads` of a str with no `cls` is this decoder's `decode`, and text
    that is not JSON comes back as it is, as Django returns it; any value
    that is not text goes through Django's converter. Stored JSON is one
    value with no surrounding whitespace, which the scanner reads alone; any
    other text (whitespace, trailing data, not JSON) takes `decode`.
    """

    def decoded(value: Any) -> Any:
        if value.__class__ is str:
            try:
                parsed, end = _scan_json(value, 0)
                if end == len(value):
                    return parsed
            except (StopIteration, ValueError):
                pass  # `decode` below answers (or raises) for this text as json.loads would
            try:
                return _decode_json(value)
            except json.JSONDecodeError:
                return value
        return convert(value, expression, connection)

    return decoded
