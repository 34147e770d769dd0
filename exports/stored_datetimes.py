"""Datetimes as SQLite stores them (UTC text), turned into an export's text without a datetime.

Django's SQLite converter parses each stored value into an aware datetime
(reading `settings.USE_TZ` every time), and the writer then turns it back
into text: round 2 of issue 12's profile put that at about a fifth of a
series export's CPU. With `USE_TZ` on and the connection in UTC (Django's
default), SQLite holds every datetime as naive UTC text,
"YYYY-MM-DD HH:MM:SS[.ffffff]", so the export's text is a rearrangement of
those characters. Only values of exactly that shape take this path; anything
else (another backend's datetime objects, an offset, an odd string) goes
through Django's converter and the writer's datetime form as before, so both
paths give the same text (the golden files and tests/test_exports_datetimes.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings

# What the SQLite backend writes for an aware datetime with USE_TZ on: naive
# UTC, microseconds only when there are any.
_STORED_UTC = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?")


def iso_seconds(stored: str) -> str:
    """ "2024-01-01 12:34:56.789" → "2024-01-01T12:34:56Z" (`writers.iso_timestamp`'s text)."""
    # `isoformat(timespec="seconds")` truncates the fraction; so does slicing.
    return stored[:10] + "T" + stored[11:19] + "Z"


def utc_minutes(stored: str) -> str:
    """ "2024-01-01 12:34:56" → "2024-01-01 12:34 UTC" (the Markdown writer's text)."""
    return stored[:16] + " UTC"


def stores_utc_text(connection: Any) -> bool:
    """Whether this connection's datetime columns hold naive UTC text (SQLite, USE_TZ, UTC)."""
    return connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone_name == "UTC"


def is_datetime_column(expression: Any) -> bool:
    output = getattr(expression, "output_field", None)
    return output is not None and output.get_internal_type() == "DateTimeField"


def with_stored_text(
    text_form: Callable[[str], str], general: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """stored value (not None) → `text_form` of it when it is stored UTC text, else `general`'s."""
    stored_utc = _STORED_UTC.fullmatch

    def form(value: Any) -> Any:
        if value.__class__ is str and stored_utc(value):
            return text_form(value)
        return general(value)

    return form
