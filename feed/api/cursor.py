"""The opaque `/series/feed` cursor: a position in `(updated_at, id)` order.

On the wire a cursor is base64url (no padding) of `"<updated_at>:<id>"`, where
`<updated_at>` is the series' `updated_at` as integer microseconds since the
Unix epoch (UTC). Microseconds are the resolution Django stores on SQLite and
PostgreSQL alike, so the round trip is exact and "strictly after the cursor"
never skips or repeats a series that shares its second with another. Integers
rather than ISO-8601 text keep the format free of time-zone spellings.

Clients must treat the string as opaque; Codex's release plugin only echoes
back the `nextCursor` it was given.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)

_BASE64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
# Both parts are plain non-negative integers; anything else is a forged or
# truncated cursor. The length cap keeps absurd numbers out of `timedelta`.
_PAYLOAD_RE = re.compile(r"(?P<micros>[0-9]{1,20}):(?P<series_id>[0-9]{1,20})")


class InvalidCursor(ValueError):
    """The cursor is not one this server handed out."""


@dataclass(frozen=True)
class FeedPosition:
    """The last `(updated_at, id)` a client has seen."""

    updated_at: datetime
    series_id: int

    def after(self) -> Q:
        """Rows strictly after this position in `(updated_at, id)` order."""
        return Q(updated_at__gt=self.updated_at) | Q(
            updated_at=self.updated_at, id__gt=self.series_id
        )


def encode_cursor(updated_at: datetime, series_id: int) -> str:
    """The cursor for the position of one series."""
    micros = (updated_at - EPOCH) // ONE_MICROSECOND
    payload = f"{micros}:{series_id}".encode("ascii")
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> FeedPosition:
    """The position a cursor stands for; `InvalidCursor` when it is malformed."""
    text = cursor.strip()
    if not _BASE64URL_RE.fullmatch(text):
        raise InvalidCursor("The cursor is not valid base64url.")
    try:
        padded = text + "=" * (-len(text) % 4)
        payload = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidCursor("The cursor is not valid base64url.") from exc
    match = _PAYLOAD_RE.fullmatch(payload)
    if match is None:
        raise InvalidCursor("The cursor does not name a feed position.")
    try:
        updated_at = EPOCH + int(match["micros"]) * ONE_MICROSECOND
    except OverflowError as exc:
        raise InvalidCursor("The cursor's time is out of range.") from exc
    return FeedPosition(updated_at=updated_at, series_id=int(match["series_id"]))
