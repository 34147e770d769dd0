"""Synthetic Codex libraries for benchmarks and end-to-end tests of the simulator.

The external ids follow a fixed scheme so a benchmark can build a tsundoku
catalog that matches (or deliberately misses) them without reading the library:
`synthetic_catalog_ids(k)` returns, for series number k, the canonical
`(provider, external_id)` pairs a correct matcher must find.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

MANGABAKA_BASE = 100_000
ANILIST_BASE = 200_000
MAL_BASE = 300_000
# Real MangaUpdates ids are ~38 billion (`hly6oqa` in base 36).
MANGAUPDATES_BASE = 30_000_000_000

_TITLE_WORDS = (
    "Blade",
    "Moon",
    "academy",
    "Dragon",
    "hero",
    "Silent",
    "Witch",
    "garden",
    "Eternal",
    "Tower",
    "chef",
    "Ghost",
    "Summer",
    "Knight",
    "Cat",
    "Ocean",
    "shadow",
    "Star",
    "Iron",
    "Love",
)
_MANGABAKA_SOURCES = (
    "plugin:mangabaka",
    "api:mangabaka",
    "plugin:metadata-mangabaka",
    "plugin:mangabaka",
)


def to_base36(number: int) -> str:
    """Lower-case base 36, the form of MangaUpdates' newer slugs (`hly6oqa`)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    out = []
    while number:
        number, remainder = divmod(number, 36)
        out.append(digits[remainder])
    return "".join(reversed(out))


def has_matchable_ids(k: int) -> bool:
    """Whether series k carries any id a matcher should use (9 in 10 do)."""
    return k % 10 != 9


def synthetic_catalog_ids(k: int) -> list[tuple[str, str]]:
    """The canonical `(provider, external_id)` pairs series k of the scheme carries.

    Provider tokens are tsundoku's (`mangabaka`, `anilist`, `mal`,
    `mangaupdates`); MangaUpdates is given in decimal even where the library
    spells it as a base-36 slug, so matching it exercises slug/decimal equivalence.
    """
    if not has_matchable_ids(k):
        return []
    pairs = [("mangabaka", str(MANGABAKA_BASE + k))]
    if k % 3 == 0:
        pairs.append(("anilist", str(ANILIST_BASE + k)))
    if k % 4 == 0:
        pairs.append(("mal", str(MAL_BASE + k)))
    if k % 5 == 0:
        pairs.append(("mangaupdates", str(MANGAUPDATES_BASE + k)))
    return pairs


def synthetic_external_ids(k: int) -> list[dict[str, str]]:
    """The `externalIds` entries of series k, spelled the many ways Codex spells them."""
    entries: list[dict[str, str]] = []
    if has_matchable_ids(k):
        mangabaka_id = str(MANGABAKA_BASE + k)
        source = _MANGABAKA_SOURCES[k % 4]
        entry = {"source": source, "externalId": mangabaka_id}
        if k % 4 != 3:
            entry["externalUrl"] = f"https://mangabaka.dev/{mangabaka_id}"
        entries.append(entry)
        if k % 3 == 0:
            # Older Codex plugins wrote bare, mixed-case source names.
            source = "AniList" if k % 9 == 0 else "api:anilist"
            anilist_id = str(ANILIST_BASE + k)
            entries.append(
                {
                    "source": source,
                    "externalId": anilist_id,
                    "externalUrl": f"https://anilist.co/manga/{anilist_id}",
                }
            )
        if k % 4 == 0:
            entries.append({"source": "api:myanimelist", "externalId": str(MAL_BASE + k)})
        if k % 5 == 0:
            number = MANGAUPDATES_BASE + k
            if k % 10 == 0:
                entries.append({"source": "api:mangaupdates", "externalId": to_base36(number)})
            else:
                entries.append({"source": "mangaupdates", "externalId": str(number)})
    if k % 7 == 0 or k % 20 == 19:
        entries.append({"source": "manual", "externalId": f"shelf-{k}"})
    return entries


def generate_library(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """A synthetic Codex library of n series in the simulator's library format.

    Deterministic for a given `(n, seed)`. Series k (0-based) gets its ids from
    `synthetic_external_ids(k)`:

    - every k with `k % 10 != 9`: a MangaBaka id `str(100000 + k)` under
      `plugin:mangabaka`, `api:mangabaka` or `plugin:metadata-mangabaka`
      (mostly with an `externalUrl`, every fourth without);
    - `k % 3 == 0`: AniList `str(200000 + k)` (`api:anilist`, or legacy `AniList`);
    - `k % 4 == 0`: MyAnimeList `str(300000 + k)` (`api:myanimelist`);
    - `k % 5 == 0`: MangaUpdates number `30000000000 + k`, as a base-36 slug
      under `api:mangaupdates` when `k % 10 == 0`, as decimal under the legacy
      bare `mangaupdates` otherwise;
    - `k % 7 == 0` or `k % 20 == 19`: a `manual` entry (never matchable);
    - `k % 10 == 9`: no matchable ids (so some series have none at all).

    Counts come from a seeded RNG: about 12% of volumes and 15% of chapters
    are null, a fifth of the chapters are fractional (`.5`), and volumesOwned
    is null or at most the highest volume. Titles are word pairs plus k, so
    Codex's title order differs from k order.
    """
    rng = random.Random(seed)
    library = []
    for k in range(n):
        local_max_volume = None if rng.random() < 0.12 else rng.randint(1, 60)
        local_max_chapter: float | None = None
        if rng.random() >= 0.15:
            local_max_chapter = float(rng.randint(1, 400))
            if rng.random() < 0.2:
                local_max_chapter += 0.5
        volumes_owned = None
        if local_max_volume is not None and rng.random() >= 0.1:
            volumes_owned = rng.randint(0, local_max_volume)
        title = f"{rng.choice(_TITLE_WORDS)} {rng.choice(_TITLE_WORDS)} {k}"
        library.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "title": title,
                "externalIds": synthetic_external_ids(k),
                "localMaxVolume": local_max_volume,
                "localMaxChapter": local_max_chapter,
                "volumesOwned": volumes_owned,
            }
        )
    return library
