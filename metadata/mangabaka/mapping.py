"""One mapping from MangaBaka's two shapes (live API object, dump row) to `SeriesMetadata`.

The API nests what the dump flattens (covers, published dates, cross ids), so
each side has a small reader (`from_api`, `from_dump_row`) that gathers the raw
values, and every rule — titles, kind, status, counts, rating, cover
priority, foreign ids, dates, the content hash — is written once below.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import date
from typing import Any

from metadata.records import SeriesMetadata

PROVIDER = "mangabaka"

# MangaBaka `source` keys (dump: `source_<key>_id`) → our `feed.models.Provider` tokens.
SOURCE_KEYS: dict[str, str] = {
    "anilist": "anilist",
    "my_anime_list": "mal",
    "manga_updates": "mangaupdates",
    "kitsu": "kitsu",
    "shikimori": "shikimori",
    "anime_planet": "anime_planet",
    "anime_news_network": "anime_news_network",
}
# Our token → the dump column holding that provider's id.
SOURCE_COLUMNS: dict[str, str] = {token: f"source_{key}_id" for key, token in SOURCE_KEYS.items()}
# Our token → the live API's `/v1/source/{slug}/{id}` slug (hyphenated, unlike `source` keys).
SOURCE_SLUGS: dict[str, str] = {
    "anilist": "anilist",
    "kitsu": "kitsu",
    "mangaupdates": "manga-updates",
    "mal": "my-anime-list",
    "anime_planet": "anime-planet",
}

KINDS = {
    "manga": "manga",
    "manhwa": "manhwa",
    "manhua": "manhua",
    "novel": "novel",
    "one_shot": "one_shot",
    "oneshot": "one_shot",
    "oel": "oel",
}
# `releasing` is MangaBaka's word for ongoing; `upcoming` has no counterpart in
# our vocabulary (a series with no release yet), so it reads as unknown.
STATUSES = {
    "releasing": "ongoing",
    "ongoing": "ongoing",
    "completed": "completed",
    "hiatus": "hiatus",
    "cancelled": "cancelled",
}

ACTIVE, MERGED, DELETED = "active", "merged", "deleted"


@dataclass(frozen=True)
class MangaBakaRecord:
    """A mapped series plus MangaBaka's lifecycle state (merged rows point elsewhere)."""

    metadata: SeriesMetadata
    state: str = ACTIVE
    merged_with: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state == ACTIVE


# --- the rules -------------------------------------------------------------------


def parse_kind(value: Any) -> str:
    return KINDS.get(str(value or "").strip().lower(), "other")


def parse_status(value: Any) -> str:
    return STATUSES.get(str(value or "").strip().lower(), "unknown")


def parse_state(value: Any) -> str:
    """`active`, `merged` or `deleted`; a missing state (old dumps) counts as active."""
    state = str(value or "").strip().lower()
    return state if state in {MERGED, DELETED} else ACTIVE


def parse_count(value: Any) -> int | None:
    """MangaBaka counts are strings: `"20"` → 20, `"232.5"` → 232, junk or blank → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text) if int(text) >= 0 else None
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number >= 0 else None


def parse_rating(value: Any) -> float | None:
    """MangaBaka's 0–100 rating on our 0–10 scale; anything outside 0–100 or non-numeric → None.

    A legacy object form `{average, bayesian, distribution}` is read through `average`.
    """
    if isinstance(value, Mapping):
        value = value.get("average")
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or not 0 <= number <= 100:
        return None
    return number / 10


def parse_date(value: Any) -> date | None:
    """`YYYY-MM-DD` (a datetime's date part is accepted); anything else → None."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_year(value: Any) -> int | None:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if 1000 <= year <= 9999 else None


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def string_list(value: Any) -> tuple[str, ...]:
    """A list of strings from a list or a JSON text holding one; malformed → ()."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return ()
    if not isinstance(value, list):
        return ()
    return tuple(item.strip() for item in value if isinstance(item, str) and item.strip())


def json_value(value: Any) -> Any:
    """A dump column holding JSON text, decoded; malformed or absent → None."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def titles_from(entries: Any) -> list[str]:
    """Every `title` in a `titles` array (`[{title, language, traits, …}]`)."""
    if not isinstance(entries, list):
        return []
    return [text(entry.get("title")) for entry in entries if isinstance(entry, Mapping)]


def alternate_titles(title: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """The candidates, non-empty, deduplicated (case-insensitively), without `title`."""
    seen = {title.casefold()}
    found: list[str] = []
    for candidate in candidates:
        candidate = candidate.strip()
        if candidate and candidate.casefold() not in seen:
            seen.add(candidate.casefold())
            found.append(candidate)
    return tuple(found)


def first_cover(candidates: Iterable[Any]) -> str:
    """The first non-empty URL, in the priority order the caller lists."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return ""


def foreign_ids(ids_by_source_key: Mapping[str, Any]) -> dict[str, str]:
    """MangaBaka source ids (numbers or slugs) → `{our token: str id}`, keys sorted.

    Unknown sources (mangadex, dropped by MangaBaka; simkl) are left out.
    """
    found: dict[str, str] = {}
    for key, token in SOURCE_KEYS.items():
        value = ids_by_source_key.get(key)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value).strip()
        if value:
            found[token] = value
    return dict(sorted(found.items()))


def content_hash(metadata: SeriesMetadata) -> str:
    """`sha256:<hex>` over the mapped fields: equal records hash equal, whichever shape."""
    # A shallow dict: `asdict` deep-copies every value, which dominated search time.
    fields = {
        field.name: getattr(metadata, field.name)
        for field in dataclass_fields(metadata)
        if field.name != "content_hash"
    }
    encoded = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(encoded.encode()).hexdigest()


def build(**fields: Any) -> SeriesMetadata:
    """A `SeriesMetadata` from already-parsed fields, with its content hash filled in."""
    metadata = SeriesMetadata(provider=PROVIDER, **fields)
    return replace(metadata, content_hash=content_hash(metadata))


def _common(
    raw: Mapping[str, Any],
    *,
    title_candidates: list[str],
    published_start: Any,
    published_end: Any,
    covers: list[Any],
    source_ids: Mapping[str, Any],
) -> MangaBakaRecord:
    title = text(raw.get("title"))
    native = text(raw.get("native_title"))
    romanized = text(raw.get("romanized_title"))
    metadata = build(
        external_id=str(raw.get("id")),
        title=title,
        native_title=native,
        romanized_title=romanized,
        alternate_titles=alternate_titles(title, [native, romanized, *title_candidates]),
        kind=parse_kind(raw.get("type")),
        status=parse_status(raw.get("status")),
        year=parse_year(raw.get("year")),
        published_start=parse_date(published_start),
        published_end=parse_date(published_end),
        description=text(raw.get("description")),
        cover_url=first_cover(covers),
        genres=string_list(raw.get("genres")),
        tags=string_list(raw.get("tags")),
        total_volumes=parse_count(raw.get("final_volume")),
        total_chapters=parse_count(raw.get("total_chapters")),
        rating=parse_rating(raw.get("rating")),
        foreign_ids=foreign_ids(source_ids),
    )
    merged_with = raw.get("merged_with")
    return MangaBakaRecord(
        metadata=metadata,
        state=parse_state(raw.get("state")),
        merged_with=str(merged_with) if merged_with not in (None, "") else None,
    )


# --- the two readers -------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def from_api(series: Mapping[str, Any]) -> MangaBakaRecord:
    """A `V1_Series_Default` object from the live API (`data` of `/v1/series/{id}`)."""
    cover = _mapping(series.get("cover"))
    x350, x250 = _mapping(cover.get("x350")), _mapping(cover.get("x250"))
    published = _mapping(series.get("published"))
    secondary = _mapping(series.get("secondary_titles"))
    secondary_titles = [
        text(entry.get("title"))
        for entries in secondary.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, Mapping)
    ]
    sources = _mapping(series.get("source"))
    return _common(
        series,
        title_candidates=titles_from(series.get("titles")) + secondary_titles,
        published_start=published.get("start_date"),
        published_end=published.get("end_date"),
        covers=[
            x350.get("x2"),
            x350.get("x1"),
            x250.get("x2"),
            x250.get("x1"),
            _mapping(cover.get("raw")).get("url"),
        ],
        source_ids={key: _mapping(value).get("id") for key, value in sources.items()},
    )


def from_dump_row(row: Mapping[str, Any]) -> MangaBakaRecord:
    """One row of the dump's `series` table (column names as in MangaBaka's schema)."""
    title_candidates = titles_from(json_value(row.get("titles")))
    secondary_en = json_value(row.get("secondary_titles_en"))
    if isinstance(secondary_en, list):
        title_candidates += [
            text(entry.get("title")) if isinstance(entry, Mapping) else text(entry)
            for entry in secondary_en
        ]
    return _common(
        row,
        title_candidates=title_candidates,
        published_start=row.get("published_start_date"),
        published_end=row.get("published_end_date"),
        covers=[
            row.get("cover_x350_x2"),
            row.get("cover_x350_x1"),
            row.get("cover_x250_x2"),
            row.get("cover_x250_x1"),
            row.get("cover_raw_url"),
        ],
        source_ids={key: row.get(f"source_{key}_id") for key in SOURCE_KEYS},
    )
