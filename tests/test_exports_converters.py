"""Datetimes (and JSON columns) read without Django's per-value converters give the same values.

`exports.stored_datetimes` rewrites SQLite's naive UTC text straight into an
export's text; the general path (Django's converter, then the writer's
datetime form) stays for every other value and backend. Both must give the
same text for any datetime the SQLite backend can store.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from exports.fields import resolve_fields
from exports.rows import RowReader, _each_distinct, _json_value, columns
from exports.stored_datetimes import (
    column_text,
    iso_seconds,
    stores_utc_text,
    utc_minutes,
    with_stored_text,
)
from exports.writers import _utc_minutes, iso_timestamp
from feed.models import Series

# Aware datetimes in any offset, with and without microseconds, over the years SQLite stores.
aware_datetimes = st.datetimes(
    min_value=datetime(1000, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]),
)


def _converted(stored: str) -> datetime:
    """What Django's SQLite backend reads back for a stored value."""
    return connection.ops.convert_datetimefield_value(stored, None, connection)


# The fast path is SQLite's: other backends' drivers hand over datetimes, not stored text.
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="stored datetime text is SQLite's"
)


@sqlite_only
@given(aware_datetimes)
def test_stored_text_gives_the_converters_text(value):
    stored = connection.ops.adapt_datetimefield_value(value)
    assert iso_seconds(stored) == iso_timestamp(_converted(stored))
    assert utc_minutes(stored) == _utc_minutes(_converted(stored))
    # What the driver hands over (Django's converter for the column type): naive UTC.
    naive = value.astimezone(UTC).replace(tzinfo=None)
    assert iso_seconds(naive) == iso_timestamp(_converted(naive))
    assert utc_minutes(naive) == _utc_minutes(_converted(naive))


def _refuse(value):
    raise AssertionError(f"the general path ran for {value!r}")


@pytest.mark.parametrize("stored", ["2024-05-01 08:00:00", "2024-05-01 08:00:59.999999"])
def test_stored_utc_text_skips_the_converter(stored):
    assert with_stored_text(iso_seconds, _refuse)(stored) == stored[:10] + "T" + stored[11:19] + "Z"


def test_naive_datetimes_skip_the_converter():
    value = datetime(2024, 5, 1, 8, 0, 59, 999999)
    assert with_stored_text(iso_seconds, _refuse)(value) == "2024-05-01T08:00:59Z"
    assert with_stored_text(utc_minutes, _refuse)(value) == "2024-05-01 08:00 UTC"


@pytest.mark.parametrize(
    "odd",
    [
        "2024-05-01 08:00:00+00:00",  # an offset: parsed, not sliced
        "2024-05-01T08:00:00",
        "2024-05-01 08:00",
        "2024-05-01 08:00:00.",
        datetime(2024, 5, 1, 8, tzinfo=UTC),  # what other backends return
    ],
)
def test_other_values_take_the_general_path(odd):
    assert with_stored_text(iso_seconds, lambda value: ("general", value))(odd) == ("general", odd)


@sqlite_only
@pytest.mark.django_db
def test_a_datetime_column_reads_stored_text_without_the_converter():
    assert stores_utc_text(connection)  # the test database is SQLite in UTC
    field = next(
        f for f in resolve_fields("series", None, is_admin=False).series if f.key == "updatedAt"
    )
    reader = RowReader(Series.objects.all(), [field])

    def column(*values):
        """A batch's columns with `values` as its `updated_at`."""
        batch = [[None] * len(reader.sources) for _ in values]
        for row, value in zip(batch, values, strict=True):
            row[reader.sources.index("updated_at")] = value
        return columns([tuple(row) for row in batch])

    texts = reader.values(field, _refuse, missing="-", stored_text=iso_seconds)
    stored = ["2024-05-01 08:00:00.5", None, "2024-05-02 09:00:00"]
    assert texts(column(*stored)) == ["2024-05-01T08:00:00Z", "-", "2024-05-02T09:00:00Z"]
    assert texts(column(datetime(2024, 5, 1, 8, 0, 0, 500000))) == ["2024-05-01T08:00:00Z"]
    # One odd value sends the column value by value: the others still skip the converter.
    general = reader.values(field, iso_timestamp, stored_text=iso_seconds)
    assert general(column("2024-05-01 08:00:00", "2024-05-01 08:00:00+09:00")) == [
        "2024-05-01T08:00:00Z",
        "2024-04-30T23:00:00Z",
    ]


@pytest.mark.parametrize(
    "values",
    [
        ["2024-05-01 08:00:00\n2024-05-01 08:00:00"],  # a newline inside a value
        ["2024-05-01 08:00:00", "2024-05-01 08:00"],
        ["2024-05-01 08:00:00", datetime(2024, 5, 1, 8, tzinfo=UTC)],
    ],
)
def test_a_column_with_any_odd_value_is_checked_value_by_value(values):
    texts = column_text(iso_seconds, lambda value: ("general", value), missing=None)
    one_by_one = with_stored_text(iso_seconds, lambda value: ("general", value))
    assert texts(values) == [one_by_one(value) for value in values]
    assert texts(values)[-1] == ("general", values[-1])


@sqlite_only
@given(st.lists(st.none() | aware_datetimes.map(connection.ops.adapt_datetimefield_value)))
def test_a_stored_column_gives_each_values_text(stored):
    texts = column_text(iso_seconds, _refuse, missing="-")
    assert texts(stored) == ["-" if value is None else iso_seconds(value) for value in stored]


def _fetched_updated_at(monkeypatch, *, stored_text: bool):
    """`updated_at` of a series as it comes from the cursor, with SQLite's fast path on or off."""
    from exports import stored_datetimes

    if not stored_text:
        monkeypatch.setattr(stored_datetimes, "stores_utc_text", lambda connection: False)
    field = next(
        f for f in resolve_fields("series", None, is_admin=False).series if f.key == "updatedAt"
    )
    reader = RowReader(Series.objects.order_by("id"), [field])
    (row,) = [row for batch in reader.batches(None, 10) for row in batch]
    return row[reader.sources.index("updated_at")], reader.column("updated_at")(row)


@sqlite_only
@pytest.mark.django_db
def test_sqlite_datetime_columns_arrive_as_stored_text(monkeypatch):
    """On SQLite the driver does not parse datetime columns; the column getter still converts."""
    moment = datetime(2024, 5, 1, 8, 0, 0, 500000, tzinfo=UTC)
    Series.objects.create(canonical_title="Stored", updated_at=moment)
    fetched, value = _fetched_updated_at(monkeypatch, stored_text=True)
    assert fetched == "2024-05-01 08:00:00.500000"
    assert value == moment
    fetched, value = _fetched_updated_at(monkeypatch, stored_text=False)
    assert fetched.__class__ is datetime  # the general path: the driver's conversion, as before
    assert value == moment


# JSON columns are decoded by `exports.rows` without `JSONField.from_db_value`'s layers.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=8,
)


@given(st.one_of(json_values.map(lambda value: json.dumps(value)), st.text()))
def test_json_columns_decode_as_django_does(text):
    field = Series._meta.get_field("genres")
    expression = field.get_col(Series._meta.db_table)
    convert = _json_value(field.from_db_value, expression, connection)
    # repr, not ==: text such as "NaN" decodes to a float that is not equal to itself.
    assert repr(convert(text)) == repr(field.from_db_value(text, expression, connection))


@pytest.mark.parametrize(
    "text",
    [' ["a"]', '["a"] ', '["a"]x', '["a"', "[1,]", "", " ", "NaN", '"\\ud800"', "1e400", "{}{}"],
)
def test_json_text_the_scanner_does_not_take_alone_decodes_as_django_does(text):
    field = Series._meta.get_field("genres")
    expression = field.get_col(Series._meta.db_table)
    convert = _json_value(field.from_db_value, expression, connection)
    assert repr(convert(text)) == repr(field.from_db_value(text, expression, connection))


@sqlite_only
@pytest.mark.django_db
def test_uuid_columns_read_as_the_uuids_text():
    """On SQLite; PostgreSQL's driver gives `UUID`s, with no converter, as before."""
    field = next(
        f for f in resolve_fields("series", None, is_admin=True).series if f.key == "codexUrl"
    )
    reader = RowReader(Series.objects.all(), [field])
    value = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    text = reader.column("codex_link__codex_series_uuid")
    slot = reader.sources.index("codex_link__codex_series_uuid")

    def row(stored):
        return tuple(stored if index == slot else None for index in range(len(reader.sources)))

    assert text(row(value.hex)) == str(value)  # what SQLite stores
    assert text(row(value.hex.upper())) == str(value)  # other text: Django's converter


@pytest.mark.django_db
def test_a_json_column_decodes_each_distinct_text_once_per_batch():
    field = next(
        f for f in resolve_fields("series", None, is_admin=False).series if f.key == "genres"
    )
    reader = RowReader(Series.objects.all(), [field])
    slot = reader.slot("genres")
    stored = ['["Action", "Drama"]', None, '["Action", "Drama"]', "[]", "not JSON"]
    batch = [
        tuple(value if index == slot else None for index in range(slot + 1)) for value in stored
    ]
    genres = reader.values(field, missing="-")(columns(batch))
    assert genres == [["Action", "Drama"], "-", ["Action", "Drama"], [], "not JSON"]
    assert genres[0] is genres[2]  # one decode for both rows


def test_values_other_than_text_are_converted_one_by_one():
    assert _each_distinct(len, [[1], None, [1, 2]], "-") == [1, "-", 2]
    assert _each_distinct(str, [1, 1.0, True], "-") == ["1", "1.0", "True"]
