"""Developer tooling: MangaBaka dumps in the real schema, for tests, the demo and benchmarks.

`write_dump` writes a `series` table with every column MangaBaka's dump
carries (MANGABAKA.md §2.2: what tsundoku reads plus what Komf reads), and
`pack_dump` wraps it the way MangaBaka publishes it: `series.sqlite.tar.gz`
holding one regular file, with a `.sha1` sidecar. `synthetic_rows` makes
realistic rows (titles JSON, string counts, some merged and deleted series)
in any number. Nothing here runs in production.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

# Column → SQLite type, in the dump's order. JSON columns hold JSON text.
DUMP_COLUMNS: dict[str, str] = {
    "id": "INTEGER PRIMARY KEY",
    "state": "TEXT",
    "merged_with": "INTEGER",
    "title": "TEXT",
    "native_title": "TEXT",
    "romanized_title": "TEXT",
    "secondary_titles_en": "TEXT",
    "titles": "TEXT",
    "cover_raw_url": "TEXT",
    "cover_raw_size": "INTEGER",
    "cover_raw_width": "INTEGER",
    "cover_raw_height": "INTEGER",
    "cover_raw_format": "TEXT",
    "cover_raw_blurhash": "TEXT",
    "cover_raw_thumbhash": "TEXT",
    "cover_x150_x1": "TEXT",
    "cover_x150_x2": "TEXT",
    "cover_x150_x3": "TEXT",
    "cover_x250_x1": "TEXT",
    "cover_x250_x2": "TEXT",
    "cover_x250_x3": "TEXT",
    "cover_x350_x1": "TEXT",
    "cover_x350_x2": "TEXT",
    "cover_x350_x3": "TEXT",
    "authors": "TEXT",
    "artists": "TEXT",
    "description": "TEXT",
    "year": "INTEGER",
    "published_start_date": "TEXT",
    "published_end_date": "TEXT",
    "status": "TEXT",
    "is_licensed": "INTEGER",
    "has_anime": "INTEGER",
    "content_rating": "TEXT",
    "type": "TEXT",
    "rating": "REAL",
    "final_volume": "TEXT",
    "final_chapter": "TEXT",
    "total_chapters": "TEXT",
    "links": "TEXT",
    "publishers": "TEXT",
    "genres": "TEXT",
    "tags": "TEXT",
    "last_updated_at": "TEXT",
    "relationships_main_story": "TEXT",
    "relationships_adaptation": "TEXT",
    "relationships_prequel": "TEXT",
    "relationships_sequel": "TEXT",
    "relationships_side_story": "TEXT",
    "relationships_spin_off": "TEXT",
    "relationships_alternative": "TEXT",
    "relationships_other": "TEXT",
    "source_anilist_id": "INTEGER",
    "source_anilist_rating": "REAL",
    "source_my_anime_list_id": "INTEGER",
    "source_my_anime_list_rating": "REAL",
    "source_manga_updates_id": "TEXT",
    "source_manga_updates_rating": "REAL",
    "source_kitsu_id": "INTEGER",
    "source_kitsu_rating": "REAL",
    "source_shikimori_id": "INTEGER",
    "source_shikimori_rating": "REAL",
    "source_anime_planet_id": "TEXT",
    "source_anime_planet_rating": "REAL",
    "source_anime_news_network_id": "INTEGER",
    "source_anime_news_network_rating": "REAL",
}

ARCHIVE_MEMBER = "series.sqlite"


def _cell(value: Any) -> Any:
    """Lists and objects are stored as JSON text, as in the real dump."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_dump(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write `rows` (dicts keyed by dump column names) as a fresh dump; return the row count.

    Missing columns are NULL; an unknown column is an error (a typo would
    otherwise vanish silently).
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    columns = list(DUMP_COLUMNS)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        definition = ", ".join(f'"{name}" {kind}' for name, kind in DUMP_COLUMNS.items())
        connection.execute(f"CREATE TABLE series ({definition})")
        insert = (
            f"INSERT INTO series ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )

        def values() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                unknown = set(row) - DUMP_COLUMNS.keys()
                if unknown:
                    raise ValueError(f"unknown dump column(s): {', '.join(sorted(unknown))}")
                yield tuple(_cell(row.get(name)) for name in columns)

        connection.executemany(insert, values())
        connection.commit()
        (count,) = connection.execute("SELECT COUNT(*) FROM series").fetchone()
    finally:
        connection.close()
    return count


def pack_dump(sqlite_path: Path, archive_path: Path, *, member: str = ARCHIVE_MEMBER) -> str:
    """Pack `sqlite_path` as MangaBaka publishes it; write `<archive>.sha1`; return the sha1."""
    archive_path = Path(archive_path)
    with tarfile.open(archive_path, "w:gz", compresslevel=1) as archive:
        archive.add(sqlite_path, arcname=member)
    digest = hashlib.sha1(usedforsecurity=False)
    with archive_path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    Path(f"{archive_path}.sha1").write_text(f"{digest.hexdigest()}  {archive_path.name}\n")
    return digest.hexdigest()


# --- synthetic rows --------------------------------------------------------------

_SYLLABLES = [
    "ka",
    "ki",
    "ku",
    "ke",
    "ko",
    "sa",
    "shi",
    "su",
    "se",
    "so",
    "ta",
    "chi",
    "tsu",
    "te",
    "to",
    "na",
    "ni",
    "nu",
    "ne",
    "no",
    "ha",
    "hi",
    "fu",
    "he",
    "ho",
    "ma",
    "mi",
    "mu",
    "me",
    "mo",
    "ya",
    "yu",
    "yo",
    "ra",
    "ri",
    "ru",
    "re",
    "ro",
    "wa",
    "n",
    "ga",
    "gi",
    "gu",
    "ge",
    "go",
    "za",
    "ji",
    "zu",
    "ze",
    "zo",
    "ba",
    "bi",
    "bu",
    "be",
    "bo",
]
_ENGLISH = [
    "the",
    "of",
    "a",
    "to",
    "in",
    "my",
    "is",
    "no",
    "and",
    "girl",
    "boy",
    "love",
    "world",
    "hero",
    "demon",
    "king",
    "queen",
    "sword",
    "magic",
    "school",
    "life",
    "story",
    "tale",
    "night",
    "moon",
    "star",
    "dragon",
    "blade",
    "kingdom",
    "reincarnated",
    "villainess",
    "witch",
    "knight",
    "prince",
    "princess",
    "academy",
    "dungeon",
    "level",
    "solo",
    "reader",
    "omniscient",
    "chainsaw",
    "man",
    "piece",
    "attack",
    "titan",
    "slayer",
    "hunter",
    "ghost",
    "spirit",
    "blue",
    "red",
    "black",
    "white",
    "summer",
    "winter",
    "spring",
    "days",
    "after",
    "end",
    "beginning",
    "last",
    "first",
    "secret",
    "garden",
    "city",
    "tokyo",
    "lost",
    "found",
    "return",
    "second",
    "chance",
    "another",
    "side",
    "heaven",
    "hell",
    "god",
    "beast",
    "tamer",
    "cook",
    "café",
    "family",
    "spy",
    "war",
]
_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわん"
_TYPES = ("manga", "manga", "manga", "manhwa", "manhwa", "manhua", "novel", "oel", "other")
_STATUSES = ("releasing", "completed", "completed", "hiatus", "cancelled", "unknown", "upcoming")
_GENRES = ("action", "adventure", "comedy", "drama", "fantasy", "romance", "horror", "sci-fi")


def _vocabulary(size: int = 40_000, seed: int = 7) -> tuple[list[str], list[float]]:
    """Pseudo-words with Zipf-like cumulative weights: a few common, a long rare tail.

    Real titles draw on a large vocabulary; a small one would make every
    token match tens of thousands of series and misstate search speed.
    """
    rng = random.Random(seed)
    words = list(_ENGLISH)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    cumulative, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


_WORDS, _WORD_WEIGHTS = _vocabulary()


def _english_title(rng: random.Random) -> str:
    count = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
    words = rng.choices(_WORDS, cum_weights=_WORD_WEIGHTS, k=count)
    return " ".join(word.capitalize() for word in words)


def _romanized(rng: random.Random) -> str:
    return " ".join(
        "".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))).capitalize()
        for _ in range(rng.randint(1, 4))
    )


def synthetic_row(series_id: int, rng: random.Random) -> dict[str, Any]:
    """One realistic dump row: titles JSON, string counts, covers, cross ids."""
    title = _english_title(rng)
    romanized = _romanized(rng)
    native = "".join(rng.choices(_KANA, k=rng.randint(3, 12)))
    titles = [
        {"language": "ja", "traits": ["native"], "title": native, "note": None, "is_primary": True},
        {"language": "ja-Latn", "traits": [], "title": romanized, "note": None, "is_primary": True},
        {
            "language": "en",
            "traits": ["official"],
            "title": title,
            "note": None,
            "is_primary": True,
        },
    ]
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
        titles.append(
            {
                "language": rng.choice(("en", "es", "fr", "unknown")),
                "traits": ["alternative"],
                "title": _english_title(rng),
                "note": None,
                "is_primary": False,
            }
        )
    state = rng.choices(("active", "merged", "deleted"), weights=(96, 3, 1))[0]
    year = rng.randint(1970, 2026)
    cover = f"https://cdn.mangabaka.dev/imgproxy/plain/x350@2/synthetic-{series_id}"
    return {
        "id": series_id,
        "state": state,
        "merged_with": rng.randint(1, max(1, series_id - 1)) if state == "merged" else None,
        "title": title,
        "native_title": native,
        "romanized_title": romanized,
        "titles": titles,
        "cover_raw_url": f"https://images.mangabaka.dev/synthetic/{series_id}",
        "cover_x350_x1": cover.replace("@2", "@1"),
        "cover_x350_x2": cover if rng.random() < 0.8 else None,
        "authors": [_romanized(rng)],
        "artists": [_romanized(rng)],
        "description": f"A synthetic series about {title.lower()}.",
        "year": year,
        "published_start_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "published_end_date": None,
        "status": rng.choice(_STATUSES),
        "is_licensed": rng.random() < 0.3,
        "has_anime": rng.random() < 0.1,
        "content_rating": rng.choice(("safe", "safe", "suggestive", "erotica")),
        "type": rng.choice(_TYPES),
        "rating": round(rng.uniform(40, 95), 3) if rng.random() < 0.7 else None,
        "final_volume": str(rng.randint(1, 40)) if rng.random() < 0.5 else None,
        "total_chapters": rng.choice((str(rng.randint(1, 400)), f"{rng.randint(1, 300)}.5", None)),
        "links": [f"https://mangabaka.org/{series_id}"],
        "genres": rng.sample(_GENRES, k=rng.randint(0, 3)),
        "tags": [],
        "last_updated_at": "2026-09-01T00:00:00.000Z",
        "source_anilist_id": 100_000 + series_id if rng.random() < 0.6 else None,
        "source_my_anime_list_id": 200_000 + series_id if rng.random() < 0.6 else None,
        "source_manga_updates_id": f"mu{series_id:x}" if rng.random() < 0.7 else None,
        "source_kitsu_id": 300_000 + series_id if rng.random() < 0.4 else None,
        "source_anime_planet_id": f"ap-{series_id}" if rng.random() < 0.4 else None,
    }


def synthetic_rows(count: int, *, seed: int = 1) -> Iterator[dict[str, Any]]:
    """`count` synthetic rows with ids 1…count, reproducible for a given seed."""
    rng = random.Random(seed)
    for series_id in range(1, count + 1):
        yield synthetic_row(series_id, rng)


def read_json_rows(path: Path) -> list[dict[str, Any]]:
    """Rows from a JSON file holding a list of dicts keyed by dump column names."""
    rows = json.loads(Path(path).read_text())
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f"{path}: expected a JSON list of objects (dump rows)")
    return rows
