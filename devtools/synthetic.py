"""The synthetic-id scheme, and synthetic Codex libraries built on it.

One scheme serves both sides of a benchmark: `seed_synthetic` gives catalog
series k the ids `scheme_ids(k, CATALOG_PROVIDERS)`, and `generate_library`
gives Codex series k ids from the same `scheme_ids(k)`, spelled the many
ways Codex spells them, so the two match without reading each other.
`synthetic_catalog_ids(k)` is what a correct matcher must find for Codex
series k: every scheme id, except for the tenth of series that carry none.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from typing import Any

from feed.external_ids import to_base36

MANGABAKA_BASE = 100_000
ANILIST_BASE = 200_000
MAL_BASE = 300_000
# Real MangaUpdates ids are ~38 billion (`hly6oqa` in base 36).
MANGAUPDATES_BASE = 30_000_000_000

# provider → (id base, every how many series carry it): series k carries
# `str(base + k)` when `k % every == 0`.
SCHEME: dict[str, tuple[int, int]] = {
    "mangabaka": (MANGABAKA_BASE, 1),
    "anilist": (ANILIST_BASE, 3),
    "mal": (MAL_BASE, 4),
    "mangaupdates": (MANGAUPDATES_BASE, 5),
}
# The synthetic catalog carries these; MangaUpdates stays Codex-side only.
CATALOG_PROVIDERS = ("mangabaka", "anilist", "mal")

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


def scheme_ids(k: int, providers: Iterable[str] = tuple(SCHEME)) -> list[tuple[str, str]]:
    """The `(provider, external_id)` pairs series number k carries, for these providers."""
    pairs = []
    for provider in providers:
        base, every = SCHEME[provider]
        if k % every == 0:
            pairs.append((provider, str(base + k)))
    return pairs


def has_matchable_ids(k: int) -> bool:
    """Whether series k carries any id a matcher should use (9 in 10 do)."""
    return k % 10 != 9


def synthetic_catalog_ids(k: int) -> list[tuple[str, str]]:
    """The canonical `(provider, external_id)` pairs series k of the scheme carries.

    Provider tokens are tsundoku's (`mangabaka`, `anilist`, `mal`,
    `mangaupdates`); MangaUpdates is given in decimal even where the library
    spells it as a base-36 slug, so matching it exercises slug/decimal equivalence.
    """
    return scheme_ids(k) if has_matchable_ids(k) else []


def synthetic_external_ids(k: int) -> list[dict[str, str]]:
    """The `externalIds` entries of series k, spelled the many ways Codex spells them."""
    entries: list[dict[str, str]] = []
    for provider, external_id in synthetic_catalog_ids(k):
        if provider == "mangabaka":
            entry = {"source": _MANGABAKA_SOURCES[k % 4], "externalId": external_id}
            if k % 4 != 3:
                entry["externalUrl"] = f"https://mangabaka.dev/{external_id}"
        elif provider == "anilist":
            # Older Codex plugins wrote bare, mixed-case source names.
            entry = {
                "source": "AniList" if k % 9 == 0 else "api:anilist",
                "externalId": external_id,
                "externalUrl": f"https://anilist.co/manga/{external_id}",
            }
        elif provider == "mal":
            entry = {"source": "api:myanimelist", "externalId": external_id}
        elif k % 10 == 0:
            entry = {"source": "api:mangaupdates", "externalId": to_base36(int(external_id))}
        else:
            entry = {"source": "mangaupdates", "externalId": external_id}
        entries.append(entry)
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
