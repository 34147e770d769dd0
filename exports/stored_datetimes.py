"""Datetimes as SQLite stores them (naive UTC), turned into an export's text directly.

Django's SQLite converter makes each value aware (reading `settings.USE_TZ`
every time), and the writer then converts it to UTC and formats it: round 2
of issue 12's profile put that at about a third of a series export's CPU.
With `USE_TZ` on and the connection in UTC (Django's default), SQLite holds
every datetime as naive UTC, which the driver hands over as a naive datetime
(Django registers a converter for the column type) or, read without it, as
the stored text "YYYY-MM-DD HH:MM:SS[.ffffff]". Either is already the UTC
wall time, so the export's text is that time formatted, with no time zone
work. Any other value (another backend's aware datetimes, an offset, an odd
string) goes through Django's converter and the writer's datetime form as
before, so both paths give the same text (the golden files, run through
both, and tests/test_exports_converters.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Func

# What the SQLite backend writes for an aware datetime with USE_TZ on: naive
# UTC, microseconds only when there are any.
_STORED_UTC_PATTERN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?"
_STORED_UTC = re.compile(_STORED_UTC_PATTERN)
# A column of stored values joined by newlines, checked in one match.
_STORED_UTC_LINES = re.compile(rf"(?:{_STORED_UTC_PATTERN}\n)*{_STORED_UTC_PATTERN}")


def iso_seconds(stored: datetime | str) -> str:
    """2024-01-01 12:34:56.789 → "2024-01-01T12:34:56Z" (`writers.iso_timestamp`'s text)."""
    if stored.__class__ is str:
        # `isoformat(timespec="seconds")` truncates the fraction; so does slicing.
        return stored[:10] + "T" + stored[11:19] + "Z"
    return stored.isoformat(timespec="seconds") + "Z"


def utc_minutes(stored: datetime | str) -> str:
    """2024-01-01 12:34:56 → "2024-01-01 12:34 UTC" (the Markdown writer's text)."""
    if stored.__class__ is str:
        return stored[:16] + " UTC"
    return stored.isoformat(" ", timespec="minutes") + " UTC"


def stores_utc_text(connection: Any) -> bool:
    """Whether this connection's datetime columns hold naive UTC (SQLite, USE_TZ, in UTC)."""
    return connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone_name == "UTC"


def is_datetime_column(expression: Any) -> bool:
    output = getattr(expression, "output_field", None)
    return output is not None and output.get_internal_type() == "DateTimeField"


class StoredText(Func):
    """A datetime column selected so SQLite's driver hands over its stored text.

    Django's SQLite connection asks the driver to convert each value of a
    column declared `datetime` into a datetime as rows are fetched (round 3 of
    issue 12's profile: about a tenth of a series export's CPU, before the
    export's own formatting even starts). The driver only knows a column's
    declared type for a bare column; `+column` is SQLite's no-op unary plus,
    the same value with no declared type, so the text arrives as stored. The
    output field is still the column's, so Django's converter (which parses
    text too) remains every other value's path.
    """

    template = "+%(expressions)s"

    def __init__(self, source: str):
        super().__init__(F(source))


def with_stored_text(
    text_form: Callable[[datetime | str], str], general: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """stored value (not None) → `text_form` of it when it is stored UTC, else `general`'s."""
    stored_utc = _STORED_UTC.fullmatch

    def form(value: Any) -> Any:
        kind = value.__class__
        if (kind is datetime and value.tzinfo is None) or (kind is str and stored_utc(value)):
            return text_form(value)
        return general(value)

    return form


def column_text(
    text_form: Callable[[datetime | str], str], general: Callable[[Any], Any], missing: Any
) -> Callable[[Sequence[Any]], list[Any]]:
    """Stored values → `text_form` of each, `general`'s for any other, `missing` for None.

    A batch's column is checked with one regular-expression match over its
    values joined by newlines (a match per value was most of the datetime
    cost in round 4 of issue 12's profile); a column holding anything else
    is checked value by value.
    """
    one_by_one = with_stored_text(text_form, general)
    all_stored = _STORED_UTC_LINES.fullmatch

    def texts(values: Sequence[Any]) -> list[Any]:
        present = [value for value in values if value is not None]
        if not present:
            return [missing] * len(values)
        form = one_by_one
        if set(map(type, present)) == {str}:
            joined = "\n".join(present)
            # A newline inside a value would hide a boundary: then one by one.
            if joined.count("\n") == len(present) - 1 and all_stored(joined):
                form = text_form
        return [missing if value is None else form(value) for value in values]

    return texts
