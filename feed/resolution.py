"""Which series a release belongs to (SPEC §4.4), and the review-queue actions.

Resolution tries, in order:
1. provider links in the release description (MangaBaka, AniList, MyAnimeList,
   MangaUpdates, MangaDex) that hit a catalog external id — an uploader who
   links the series page has told us the answer;
2. the same links looked up at the metadata provider (`metadata.providers`):
   a series it knows is created in the catalog with its metadata and every
   cross id (`feed.catalog`), or found there by any of them;
3. a fuzzy match of the cleaned release title against every canonical and
   alternate title of the catalog, then against the provider's search
   results (rescored the same way): at or above
   `ingestion.resolve_threshold` the release is linked (a provider series is
   created first), at or above `ingestion.review_threshold` it waits in the
   review queue with its best candidates — catalog series and provider
   series not yet in the catalog —, below that it stays unresolved.

Without a metadata provider (off, or no dump and no API) steps 2 and the
provider half of 3 are skipped. A provider that fails answers nothing for
this pass: the release stays where it was and the next retry asks again.

A `Resolver` builds the `TitleIndex` once and looks provider ids up in
batches, so resolving a whole poll (or retrying thousands of pending
releases) costs a handful of queries, not several per release.

Every action that changes which series a release belongs to recomputes the
coverage of every series it touched, old and new.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from rapidfuzz import fuzz, process

from feed.catalog import first_known_record, known_series, upsert_many
from feed.coverage import recompute_coverage
from feed.external_ids import provider_links
from feed.models import ExternalId, MatchMethod, Release, Resolution, Series
from feed.titles import clean_title, title_candidates
from metadata.providers import MetadataProvider, ProviderError, active_provider
from metadata.records import SeriesMetadata
from tsundoku.db import update_rows

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 5

# What resolution writes on a release; source fields are the poll's business.
RESOLUTION_FIELDS = ["series", "resolution", "match_method", "confidence", "candidates"]

# What `Release.link_text` reads, plus what resolving by title needs.
LINK_TEXT_FIELDS = ["id", "title", "description", "information_url", "detail_description"]

# Matches a provider link should overrule: a title guess, or nothing yet.
# Manual links, rejections and existing link matches are left alone.
LINK_OVERRULES = [MatchMethod.NONE, MatchMethod.FUZZY_TITLE, MatchMethod.PROVIDER_TITLE]

# How many releases `retry_releases` loads, resolves and writes at a time.
RETRY_BATCH = 500

# `IN (...)` chunk for external-id lookups; see feed.coverage.CHUNK.
LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class Candidate:
    """A series a release may belong to, with the fuzzy score (0–1) that suggested it.

    A catalog series has a `series_id`; a series only the metadata provider
    knows has `provider` and `external_id` instead, and is created when the
    admin picks it.
    """

    series_id: int | None
    title: str
    score: float
    provider: str = ""
    external_id: str = ""
    year: int | None = None

    def to_json(self) -> dict:
        if self.series_id is not None:
            return {"seriesId": self.series_id, "title": self.title, "score": self.score}
        found = {
            "seriesId": None,
            "title": self.title,
            "score": self.score,
            "provider": self.provider,
            "externalId": self.external_id,
        }
        if self.year is not None:
            found["year"] = self.year
        return found


@dataclass
class ResolveSummary:
    """How many releases one resolution pass looked at and where they ended up."""

    examined: int = 0
    resolved: int = 0
    queued_for_review: int = 0
    unresolved: int = 0

    def add(self, other: ResolveSummary) -> None:
        self.examined += other.examined
        self.resolved += other.resolved
        self.queued_for_review += other.queued_for_review
        self.unresolved += other.unresolved


@dataclass
class TitleIndex:
    """Every catalog title, cleaned once, ready for fuzzy matching.

    Releases are scored with `fuzz.ratio` (normalised Indel similarity) on
    cleaned titles. Word order is kept on purpose: sorting words first
    (`token_sort_ratio`) makes unrelated titles look alike ("Look Back" →
    "back look" ≈ "black lagoon"), and set- or partial-based scorers (`WRatio`,
    `token_set_ratio`) score a spin-off such as "Dragon Ball Super" as its parent.
    Identical cleaned titles share one entry, listing every series that has it.
    """

    choices: list[str] = field(default_factory=list)
    series_by_choice: list[list[int]] = field(default_factory=list)
    canonical_titles: dict[int, str] = field(default_factory=dict)
    # Chapter releases of one series clean to the same name ("[Doki] X - Chapter
    # 88", "… 89"), so each cleaned name is scored against the catalog once.
    _matches: dict[tuple[str, float], list[tuple[float, int]]] = field(default_factory=dict)

    @classmethod
    def build(cls) -> TitleIndex:
        """Load every series' titles with one query."""
        index = cls()
        positions: dict[str, int] = {}
        rows = Series.objects.values_list("id", "canonical_title", "alternate_titles")
        for series_id, canonical_title, alternate_titles in rows.iterator(chunk_size=5000):
            index.canonical_titles[series_id] = canonical_title
            keys = {clean_title(title) for title in [canonical_title, *alternate_titles]}
            for key in keys - {""}:
                position = positions.get(key)
                if position is None:
                    positions[key] = position = len(index.choices)
                    index.choices.append(key)
                    index.series_by_choice.append([])
                index.series_by_choice[position].append(series_id)
        return index

    def candidates(self, release_title: str, *, min_score: float) -> list[Candidate]:
        """The best-scoring series for a release title, best first, at most `MAX_CANDIDATES`."""
        best: dict[int, float] = {}
        for query in title_candidates(release_title):
            for score, position in self._scored(query, min_score):
                for series_id in self.series_by_choice[position]:
                    best[series_id] = max(best.get(series_id, 0.0), score)
        ranked = sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[:MAX_CANDIDATES]
        return [
            Candidate(series_id, self.canonical_titles[series_id], round(score, 4))
            for series_id, score in ranked
        ]

    def add_many(self, series: Iterable[Series]) -> None:
        """Make series created during this pass matchable by the releases after them."""
        for one in series:
            self.canonical_titles[one.pk] = one.canonical_title
            keys = {clean_title(t) for t in [one.canonical_title, *one.alternate_titles]}
            for key in keys - {""}:
                self.choices.append(key)
                self.series_by_choice.append([one.pk])
        self._matches.clear()

    def _scored(self, query: str, min_score: float) -> list[tuple[float, int]]:
        key = (query, min_score)
        if key not in self._matches:
            matches = process.extract(
                query,
                self.choices,
                scorer=fuzz.ratio,
                score_cutoff=min_score * 100,
                # Several series can share a title; ask for enough rows to fill the list.
                limit=MAX_CANDIDATES * 4,
            )
            self._matches[key] = [(score / 100, position) for _, score, position in matches]
        return self._matches[key]


# Sentinel: "ask `metadata.providers.active_provider()`" (None means no provider).
_ACTIVE = object()

# Provider search results scored per cleaned query.
PROVIDER_SEARCH_LIMIT = 10


@dataclass(frozen=True)
class ProviderMatch:
    """A provider series a release title resembles, scored like catalog titles."""

    record: SeriesMetadata
    score: float


class Resolver:
    """Resolves batches of releases against the catalog, sharing one `TitleIndex`.

    Provider answers are memoised for the resolver's lifetime: chapter
    releases of one series ask the provider once, and a series created for
    the first of them is found by the rest.
    """

    def __init__(self, provider: MetadataProvider | object | None = _ACTIVE) -> None:
        ingestion = settings.TSUNDOKU.ingestion
        self.resolve_threshold: float = ingestion["resolve_threshold"]
        self.review_threshold: float = ingestion["review_threshold"]
        self.provider: MetadataProvider | None = (
            active_provider() if provider is _ACTIVE else provider  # type: ignore[assignment]
        )
        self._index: TitleIndex | None = None
        self._lookups: dict[tuple[str, str], SeriesMetadata | None] = {}
        self._searches: dict[str, list[ProviderMatch]] = {}
        self._series_by_record: dict[tuple[str, str], int] = {}
        # Releases resolved to a provider series not in the catalog yet: created
        # together at the end of the batch (`_create_pending`), set-based.
        self._pending: dict[tuple[str, str], tuple[SeriesMetadata, list[Release]]] = {}

    @property
    def index(self) -> TitleIndex:
        # Built on first use: a batch resolved entirely by provider links never pays for it.
        if self._index is None:
            self._index = TitleIndex.build()
        return self._index

    def resolve(self, releases: Iterable[Release]) -> ResolveSummary:
        """Set series, resolution, method, confidence and candidates on each release (unsaved).

        Series the provider describes are created (and committed) at the end.
        """
        releases = list(releases)
        summary = ResolveSummary(examined=len(releases))
        links = [provider_links(release.link_text()) for release in releases]
        linked = _series_for_links({pair for pairs in links for pair in pairs})
        for release, pairs in zip(releases, links, strict=True):
            series_id = next((linked[pair] for pair in pairs if pair in linked), None)
            if series_id is not None:
                _mark_resolved(release, series_id, MatchMethod.PROVIDER_LINK, 1.0)
            elif (record := self._record_from_links(pairs)) is not None:
                self._resolve_to_record(release, record, MatchMethod.PROVIDER_LOOKUP, 1.0)
            else:
                self._resolve_by_title(release)
        self._create_pending()
        for release in releases:
            if release.resolution == Resolution.RESOLVED:
                summary.resolved += 1
            elif release.resolution == Resolution.REVIEW_PENDING:
                summary.queued_for_review += 1
            else:
                summary.unresolved += 1
        return summary

    def _resolve_by_title(self, release: Release) -> None:
        candidates = self.index.candidates(release.title, min_score=self.review_threshold)
        if _confident(candidates, self.resolve_threshold):
            top = candidates[0]
            _mark_resolved(release, top.series_id, MatchMethod.FUZZY_TITLE, top.score)
            return
        matches = self._provider_matches(release.title)
        best_catalog = candidates[0].score if candidates else 0.0
        if matches and matches[0].score > best_catalog:
            top = matches[0]
            tied = len(matches) > 1 and matches[1].score == top.score
            if top.score >= self.resolve_threshold and not tied:
                self._resolve_to_record(release, top.record, MatchMethod.PROVIDER_TITLE, top.score)
                return
        candidates = _merge_candidates(candidates, matches, self.review_threshold)
        if not candidates:
            _clear(release, Resolution.UNRESOLVED)
            return
        _clear(release, Resolution.REVIEW_PENDING)
        release.confidence = candidates[0].score
        release.candidates = [candidate.to_json() for candidate in candidates]

    def _record_from_links(self, pairs: list[tuple[str, str]]) -> SeriesMetadata | None:
        """The provider's record for the first link it knows."""
        if self.provider is None:
            return None
        return first_known_record(self.provider, pairs, self._lookups)

    def _provider_matches(self, release_title: str) -> list[ProviderMatch]:
        """Provider series for the title's cleaned names, rescored like the catalog, best first."""
        if self.provider is None:
            return []
        best: dict[str, ProviderMatch] = {}
        for query in title_candidates(release_title):
            if query not in self._searches:
                records = self._ask(self.provider.search, query, PROVIDER_SEARCH_LIMIT) or []
                self._searches[query] = [
                    ProviderMatch(record, _title_score(query, record)) for record in records
                ]
            for match in self._searches[query]:
                known = best.get(match.record.external_id)
                if known is None or match.score > known.score:
                    best[match.record.external_id] = match
        return sorted(best.values(), key=lambda m: (-m.score, m.record.title))

    def _resolve_to_record(
        self, release: Release, record: SeriesMetadata, method: str, confidence: float
    ) -> None:
        """Resolve to the record's series: known now, or created with the batch's others."""
        key = (record.provider, record.external_id)
        _mark_resolved(release, self._series_by_record.get(key), method, confidence)
        if release.series_id is None:
            self._pending.setdefault(key, (record, []))[1].append(release)

    def _create_pending(self) -> None:
        """Find or create every series the batch resolved to, and point its releases at it."""
        if not self._pending:
            return
        records = [record for record, _releases in self._pending.values()]
        series_ids = upsert_many(records)
        for key, (_record, releases) in self._pending.items():
            for release in releases:
                release.series_id = series_ids[key]
        self._series_by_record.update(series_ids)
        self._pending.clear()
        # Later batches match these series by title without asking the provider.
        self.index.add_many(Series.objects.filter(pk__in=set(series_ids.values())))

    def _ask(self, question, *args):
        """Call the provider; a failure is logged and answers nothing for this pass."""
        try:
            return question(*args)
        except ProviderError as exc:
            logger.warning("Metadata provider %s: %s", getattr(self.provider, "name", "?"), exc)
            return None


def _confident(candidates: list[Candidate], threshold: float) -> bool:
    """A clear winner: at or above the threshold and not tied with the runner-up."""
    if not candidates or candidates[0].score < threshold:
        return False
    # Two series scoring the same at the top is a coin toss; let a human decide.
    return not (len(candidates) > 1 and candidates[1].score == candidates[0].score)


def _title_score(query: str, record: SeriesMetadata) -> float:
    """The best `fuzz.ratio` (0–1) of a cleaned release name against the record's titles."""
    titles = [record.title, record.native_title, record.romanized_title, *record.alternate_titles]
    keys = {clean_title(title) for title in titles if title} - {""}
    if not keys:
        return 0.0
    return round(max(fuzz.ratio(query, key) for key in keys) / 100, 4)


def _merge_candidates(
    catalog: list[Candidate], matches: list[ProviderMatch], min_score: float
) -> list[Candidate]:
    """Catalog candidates and provider series not yet in the catalog, best first."""
    matches = [match for match in matches if match.score >= min_score]
    in_catalog = known_series(match.record for match in matches)
    merged = list(catalog)
    shown = {candidate.series_id for candidate in catalog}
    for match in matches:
        record = match.record
        series_id = in_catalog.get((record.provider, record.external_id))
        if series_id is None:
            merged.append(
                Candidate(
                    None,
                    record.title,
                    match.score,
                    provider=record.provider,
                    external_id=record.external_id,
                    year=record.year,
                )
            )
        elif series_id not in shown:
            merged.append(Candidate(series_id, record.title, match.score))
            shown.add(series_id)
    merged.sort(key=lambda candidate: -candidate.score)
    return merged[:MAX_CANDIDATES]


def retry_releases(releases: QuerySet | None = None) -> ResolveSummary:
    """Re-run resolution on unresolved and review-pending releases (all of them by default)."""
    queryset = Release.objects.all() if releases is None else releases
    pending = queryset.filter(resolution__in=[Resolution.UNRESOLVED, Resolution.REVIEW_PENDING])
    ids = list(pending.order_by("id").values_list("id", flat=True))
    resolver = Resolver()
    summary = ResolveSummary()
    for batch_ids in _chunks(ids, RETRY_BATCH):
        batch = list(
            Release.objects.filter(id__in=batch_ids).only(*LINK_TEXT_FIELDS, *RESOLUTION_FIELDS)
        )
        before = {release.id: _resolution_state(release) for release in batch}
        summary.add(resolver.resolve(batch))
        changed = [r for r in batch if _resolution_state(r) != before[r.id]]
        with transaction.atomic():
            update_rows(changed, RESOLUTION_FIELDS)
            recompute_coverage(r.series_id for r in changed if r.series_id)
    return summary


def resolve_by_links(release_ids: Iterable[int]) -> ResolveSummary:
    """Re-resolve these releases if their texts now carry provider links (after enrichment).

    An exact provider id beats a title guess: a release matched by title, or
    not at all, is resolved again; manual links and rejections stay.
    """
    batch = [
        release
        for release in Release.objects.filter(id__in=list(release_ids))
        .exclude(resolution=Resolution.REJECTED)
        .filter(match_method__in=LINK_OVERRULES)
        .only(*LINK_TEXT_FIELDS, *RESOLUTION_FIELDS)
        if provider_links(release.link_text())
    ]
    if not batch:
        return ResolveSummary()
    before = {release.id: _resolution_state(release) for release in batch}
    Resolver().resolve(batch)
    changed = [release for release in batch if _resolution_state(release) != before[release.id]]
    # Counted once: a release the title already resolved is not "resolved" again.
    summary = ResolveSummary(
        examined=len(batch),
        resolved=sum(
            release.resolution == Resolution.RESOLVED
            and before[release.id][1] != Resolution.RESOLVED
            for release in changed
        ),
    )
    with transaction.atomic():
        update_rows(changed, RESOLUTION_FIELDS)
        # Both sides move: the series a title guess had and the one the link names.
        recompute_coverage(
            [before[release.id][0] for release in changed]
            + [release.series_id for release in changed]
        )
    return summary


def link_release(release: Release, series: Series, *, method: str = MatchMethod.MANUAL) -> Release:
    """Link a release to a series (from the review queue or by hand)."""
    previous_series_id = release.series_id
    _mark_resolved(release, series.id, method, 1.0)
    return _save_link_change(release, previous_series_id)


def reject_release(release: Release) -> Release:
    """Mark a release as not belonging to any catalog series; retries leave it alone."""
    previous_series_id = release.series_id
    _clear(release, Resolution.REJECTED)
    return _save_link_change(release, previous_series_id)


def unlink_release(release: Release) -> Release:
    """Detach a release from its series; it becomes unresolved again."""
    previous_series_id = release.series_id
    _clear(release, Resolution.UNRESOLVED)
    return _save_link_change(release, previous_series_id)


def _save_link_change(release: Release, previous_series_id: int | None) -> Release:
    with transaction.atomic():
        release.save(update_fields=RESOLUTION_FIELDS)
        recompute_coverage([previous_series_id, release.series_id])
    return release


def _mark_resolved(release: Release, series_id: int, method: str, confidence: float) -> None:
    release.series_id = series_id
    release.resolution = Resolution.RESOLVED
    release.match_method = method
    release.confidence = confidence
    release.candidates = []


def _clear(release: Release, resolution: str) -> None:
    """Take the release off any series and set `resolution`, with no method or score."""
    release.series_id = None
    release.resolution = resolution
    release.match_method = MatchMethod.NONE
    release.confidence = None
    release.candidates = []


def _resolution_state(release: Release) -> tuple:
    return (
        release.series_id,
        release.resolution,
        release.match_method,
        release.confidence,
        release.candidates,
    )


def _series_for_links(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Map each `(provider, external_id)` that exists in the catalog to its series."""
    by_provider: dict[str, list[str]] = defaultdict(list)
    for provider, external_id in pairs:
        by_provider[provider].append(external_id)
    found: dict[tuple[str, str], int] = {}
    for provider, external_ids in by_provider.items():
        for chunk in _chunks(sorted(external_ids), LOOKUP_CHUNK):
            # Ids are stored verbatim (a MangaDex UUID may be upper-case) and links
            # are lower-cased, so compare folded; the provider narrows the scan.
            rows = (
                ExternalId.objects.filter(provider=provider)
                .annotate(folded_id=Lower("external_id"))
                .filter(folded_id__in=chunk)
                .values_list("folded_id", "series_id")
            )
            for folded_id, series_id in rows:
                found[(provider, folded_id)] = series_id
    return found


def _chunks(items: list, size: int) -> Iterator[list]:
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]
