"""Match Codex series to catalog series by shared external id (SPEC §5.2 step 4).

Pure functions over plain data: the sweep loads the catalog's ids and the
Codex index, and this module decides who links to whom — including the
conflicts, which are settled deterministically and reported, never silently.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from codex_sync.client import CodexSeries
from codex_sync.models import ConflictKind
from feed.external_ids import canonicalizer, normalize_provider
from feed.models import Provider

# Which shared id wins when one Codex series points at several catalog series:
# the order of `feed.models.Provider` (MangaBaka aggregates the others, so it
# is the most specific, and comes first), then the lowest series id.
PROVIDER_RANK = {provider: rank for rank, provider in enumerate(Provider.values)}
SOURCE_PREFIXES = ("plugin:", "api:")


@functools.lru_cache(maxsize=1024)  # a library uses a handful of distinct source strings
def normalize_source(source: str) -> str | None:
    """A Codex `source` string as a catalog provider token, or None to ignore it.

    Codex writes one provider many ways (`plugin:mangabaka`,
    `plugin:metadata-mangabaka`, `api:myanimelist`, legacy bare `AniList`):
    one `plugin:`/`api:` prefix comes off, the rest is the catalog's alias map.
    Unknown sources (`manual`, `comicinfo`, ...) are ignored.
    """
    token = (source or "").strip().lower()
    for prefix in SOURCE_PREFIXES:
        if token.startswith(prefix):
            token = token[len(prefix) :]
            break
    return normalize_provider(token)


# provider → canonical id → the catalog series carrying it: one series id (the
# usual case) or, where the catalog holds one id on several series, their ids
# sorted. Nested rather than keyed by (provider, id) pairs: 250k lookups a
# sweep then hash a string each instead of building and hashing a tuple.
CatalogIndex = dict[str, dict[str, int | tuple[int, ...]]]


def catalog_index(stored_ids: dict[str, dict[str, int]]) -> CatalogIndex:
    """The catalog's ids as a `CatalogIndex`, from `{provider: {stored id: series id}}`.

    The database builds that lookup in one step (`tsundoku.db.select_lookup_json`),
    so no Python loop runs over its 250k rows; only ids not stored in their
    canonical spelling are re-keyed here, in place. Usually that is none, but
    the catalog may hold one MangaUpdates id in both spellings on two series;
    both stay candidates, so a Codex series carrying that id is reported as
    matching many rather than silently linked to whichever row came last.
    """
    for provider, ids in stored_ids.items():
        canonical = canonicalizer(provider)
        respelled = [key for key in ids if canonical(key) != key]
        for key in respelled:
            series_id = ids.pop(key)
            found = ids.get(canonical(key))
            ids[canonical(key)] = (
                series_id if found is None else tuple(sorted((*_series_of(found), series_id)))
            )
    return stored_ids


def _series_of(found: int | tuple[int, ...]) -> tuple[int, ...]:
    """The catalog series an index entry names (see `CatalogIndex`)."""
    return (found,) if type(found) is int else found


@dataclass(slots=True)  # one per Codex series at 100k scale: keep it cheap to build
class Match:
    codex: CodexSeries
    series_id: int
    provider: str
    external_id: str


@dataclass(frozen=True)
class Conflict:
    kind: str  # ConflictKind value
    codex_series_uuids: tuple[str, ...]
    series_ids: tuple[int, ...]
    chosen_codex_series_uuid: str
    chosen_series_id: int
    detail: str


@dataclass
class MatchResult:
    matches: list[Match] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unmatched: list[CodexSeries] = field(default_factory=list)
    # Codex series with the same UUID as a manual link: their counts refresh it.
    manual_refresh: dict[str, CodexSeries] = field(default_factory=dict)


class _SourceTable(dict):
    """Codex `source` string → what matching needs for it, worked out on first sight.

    Each entry is (provider, rank, the catalog's ids for that provider, the
    provider's canonicalizer), or None when the source names no provider the
    catalog has ids for. A library spells its sources a handful of ways, so
    250k lookups a sweep each cost one dict hit instead of normalising the
    source and finding its provider's ids and rank again.
    """

    def __init__(self, index: CatalogIndex) -> None:
        super().__init__()
        self._index = index

    def __missing__(self, source: str) -> tuple | None:
        provider = normalize_source(source)
        ids = self._index.get(provider) if provider else None
        entry = (provider, PROVIDER_RANK[provider], ids, canonicalizer(provider)) if ids else None
        self[source] = entry
        return entry


def _candidates(item: CodexSeries, sources: _SourceTable) -> list[Match]:
    """Every catalog series this Codex series shares an id with, best first.

    This runs once per Codex series (100k times in a large sweep), so it keeps
    plain tuples while comparing, allocates nothing for a series that shares
    no id, and builds a `Match` only for each winner.
    """
    found: dict[int, tuple[int, str, str]] | None = None  # series id → (rank, provider, id)
    for ref in item.external_ids:
        source = sources[ref.source]
        if source is None:
            continue
        provider, rank, ids, canonical = source
        series_ids = ids.get(canonical(ref.external_id))
        if series_ids is None:
            continue
        if found is None:
            found = {}
        # `_series_of`, inlined: a call per shared id is a measurable cost here.
        for series_id in (series_ids,) if type(series_ids) is int else series_ids:
            best = found.get(series_id)
            if best is None or rank < best[0]:
                found[series_id] = (rank, provider, ref.external_id)
    if found is None:
        return []
    if len(found) == 1:  # the usual case: no sort, no comprehension
        ((series_id, (_rank, provider, external_id)),) = found.items()
        return [Match(item, series_id, provider, external_id.strip())]
    ordered = sorted(found.items(), key=lambda kv: (kv[1][0], kv[0]))
    return [
        Match(item, series_id, provider, external_id.strip())
        for series_id, (_rank, provider, external_id) in ordered
    ]


class IndexMatcher:
    """Decide the auto links for one sweep, a page of the index at a time.

    The sweep feeds each page as it arrives, so matching overlaps the
    download; `result()` settles what only the whole index can (several
    Codex series claiming one catalog series). Series with a manual link are
    not auto-linked (the admin's choice stands), and a Codex series the admin
    linked by hand is not auto-linked elsewhere; it only refreshes the manual
    link's counts. The outcome does not depend on how the index was paged.
    """

    def __init__(
        self,
        index: CatalogIndex,
        *,
        manual_series_ids: set[int] = frozenset(),
        manual_codex_uuids: set[str] = frozenset(),
    ) -> None:
        self._sources = _SourceTable(index)
        self._manual_series_ids = manual_series_ids
        self._manual_codex_uuids = manual_codex_uuids
        self._result = MatchResult()
        # First claim per series; a list only where two Codex series compete.
        # (One of each per Codex series at 100k scale: keep the common path cheap.)
        self._claims: dict[int, Match] = {}
        self._rivals_of: dict[int, list[Match]] = {}

    def add(self, items: Iterable[CodexSeries]) -> None:
        """Match these Codex series (each listed once in the whole index)."""
        result, sources = self._result, self._sources
        manual_series_ids, manual_codex_uuids = self._manual_series_ids, self._manual_codex_uuids
        claims, rivals_of = self._claims, self._rivals_of
        for item in items:
            if item.id in manual_codex_uuids:
                result.manual_refresh[item.id] = item
                continue
            shared = _candidates(item, sources)
            if not shared:
                result.unmatched.append(item)
                continue
            candidates = (
                [m for m in shared if m.series_id not in manual_series_ids]
                if manual_series_ids
                else shared
            )
            if not candidates:
                continue
            chosen = candidates[0]
            if len(candidates) > 1:
                result.conflicts.append(_matches_many(item, candidates))
            first = claims.setdefault(chosen.series_id, chosen)
            if first is not chosen:
                rivals_of.setdefault(chosen.series_id, [first]).append(chosen)

    def result(self) -> MatchResult:
        """Settle rival claims and return the sweep's matches, sorted by series id.

        The conflicts of several Codex series claiming one catalog series
        follow, in series id order too (after those of one Codex series
        matching many, in index order). Call once, after the last page.
        """
        result = self._result
        claims = self._claims
        # Ints sort in C, where sorting the matches by an attribute called
        # Python 90k times.
        for series_id in sorted(claims):
            chosen = claims[series_id]
            rivals = self._rivals_of.get(series_id)
            if rivals is None:
                result.matches.append(chosen)
                continue
            # Several Codex series claim one catalog series (duplicates in the
            # library, or a shared id): keep the best provider, then lowest UUID.
            rivals.sort(key=lambda m: (PROVIDER_RANK[m.provider], m.codex.id))
            chosen = rivals[0]
            result.matches.append(chosen)
            result.conflicts.append(
                Conflict(
                    kind=ConflictKind.MANY_CLAIM_ONE,
                    codex_series_uuids=tuple(m.codex.id for m in rivals),
                    series_ids=(series_id,),
                    chosen_codex_series_uuid=chosen.codex.id,
                    chosen_series_id=series_id,
                    detail=(
                        f"{len(rivals)} Codex series claim this series; kept "
                        f"{chosen.codex.id} (matched by {chosen.provider}:{chosen.external_id})."
                    ),
                )
            )
        return result


def _matches_many(item: CodexSeries, candidates: list[Match]) -> Conflict:
    chosen = candidates[0]
    return Conflict(
        kind=ConflictKind.CODEX_MATCHES_MANY,
        codex_series_uuids=(item.id,),
        series_ids=tuple(m.series_id for m in candidates),
        chosen_codex_series_uuid=item.id,
        chosen_series_id=chosen.series_id,
        detail=(
            "Matched by "
            + ", ".join(f"{m.provider}:{m.external_id}" for m in candidates)
            + f"; kept {chosen.provider}:{chosen.external_id}."
        ),
    )


def match_index(
    items: Iterable[CodexSeries],
    index: CatalogIndex,
    *,
    manual_series_ids: set[int] = frozenset(),
    manual_codex_uuids: set[str] = frozenset(),
) -> MatchResult:
    """Decide the auto links for a whole index at once (see `IndexMatcher`)."""
    matcher = IndexMatcher(
        index, manual_series_ids=manual_series_ids, manual_codex_uuids=manual_codex_uuids
    )
    matcher.add(items)
    return matcher.result()
