"""Polling release sources: fetch, upsert releases, resolve the new ones (SPEC §4.2, §4.4).

One poll is set-based: one query loads the releases already known for the
document's posts, new ones are resolved in memory and inserted with
`bulk_create`, changed ones written with `bulk_update`. Re-polling a post
updates its source fields (title, size, links, …) but never its resolution.

A feed that cannot be fetched or read changes nothing: the error lands on the
source's `SourceState` and in the returned summary, and the poll returns
normally so one broken source never stops the others.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feed.coverage import recompute_coverage
from feed.enrichment import Progress as DetailProgress
from feed.enrichment import enrich_source, pace_host
from feed.models import Release, Resolution, SourceState
from feed.resolution import Resolver
from feed.sources.nyaa import FeedError, NyaaItem, fetch_page, parse_feed
from feed.spans import parse_spans
from tsundoku.config import SOURCE_KINDS, SourceConfig

logger = logging.getLogger(__name__)

# Fields a re-poll may change. `source_name` is not among them: a post that two
# configured feeds both list keeps the name of the one that found it first.
SOURCE_FIELDS = [
    "title",
    "post_url",
    "torrent_url",
    "magnet",
    "info_hash",
    "size_bytes",
    "category",
    "description",
    "posted_at",
    "volume_spans",
    "chapter_spans",
    "seeders",
    "leechers",
    "downloads",
    "trusted",
    "remake",
]

# Rows per INSERT/UPDATE statement and per `IN (...)` list.
BATCH_SIZE = 500

# Runs kept on `SourceState.history` for the Sources page.
RUN_HISTORY_LENGTH = 10


class UnknownSource(LookupError):
    """No `[[sources]]` entry has this name; the message lists the configured ones."""


@dataclass(frozen=True)
class PollSummary:
    """What one poll of one source did. `error` is empty when the poll succeeded."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    resolved: int = 0
    queued_for_review: int = 0
    skipped: int = 0
    # Detail pages read (and failed) after the feed; failures are retried next poll.
    enriched: int = 0
    detail_failed: int = 0
    # Listing pages walked (backfill and search); 0 for an RSS poll.
    pages: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One human line: "fetched 75, new 75, updated 0, resolved 3, …"."""
        if self.error:
            return f"failed: {self.error}"
        line = (
            f"fetched {self.fetched}, new {self.new}, updated {self.updated}, "
            f"resolved {self.resolved}, queued for review {self.queued_for_review}, "
            f"skipped {self.skipped}"
        )
        if self.enriched or self.detail_failed:
            line += f", detail pages read {self.enriched}, failed {self.detail_failed}"
        if self.pages:
            line += f", pages {self.pages}"
        return line

    def plus(self, other: PollSummary) -> PollSummary:
        """The two summaries added up (pages of one backfill, a poll and its enrichment)."""
        totals = {
            name: value + getattr(other, name)
            for name, value in self.as_dict().items()
            if name != "error"
        }
        return PollSummary(**totals, error=other.error or self.error)


def configured_source(name: str) -> SourceConfig:
    """The `[[sources]]` entry called `name`, enabled or not; `UnknownSource` otherwise."""
    sources = settings.TSUNDOKU.sources
    for source in sources:
        if source.name == name:
            return source
    names = ", ".join(source.name for source in sources)
    known = f"configured sources: {names}" if names else "no sources are configured"
    raise UnknownSource(f"unknown source {name!r} ({known})")


def poll_source(source: SourceConfig, *, progress: DetailProgress | None = None) -> PollSummary:
    """Fetch one source's feed, ingest it and read new detail pages; record the outcome.

    The feed's outcome decides success: a detail page that fails is counted
    and retried on the next poll, it never fails the poll.
    """
    ingestion = settings.TSUNDOKU.ingestion
    polled_at = timezone.now()
    try:
        pace_host(source.feed_url)
        document = fetch_page(
            source.feed_url,
            timeout=ingestion["timeout_seconds"],
            retries=ingestion["max_retries"],
        )
        summary = ingest_document(document, source_name=source.name, source_kind=source.kind)
        if source.detail_pages:
            enrichment = enrich_source(source, progress=progress)
            summary = summary.plus(
                PollSummary(
                    enriched=enrichment.enriched,
                    detail_failed=enrichment.failed,
                    resolved=enrichment.resolved,
                )
            )
    except FeedError as exc:
        summary = PollSummary(error=str(exc))
        logger.warning("Polling source %s failed: %s", source.name, exc)
    except Exception as exc:
        # A bug or a database problem in one source must not stop the others;
        # the traceback goes to the log, a one-line reason to the source state.
        logger.exception("Polling source %s failed unexpectedly", source.name)
        summary = PollSummary(error=f"unexpected error: {type(exc).__name__}: {exc}")
    else:
        logger.info("Polled source %s: %s", source.name, summary.describe())
    record_run(source, summary, polled_at, action="poll")
    return summary


def ingest_document(
    xml_bytes: bytes, *, source_name: str, source_kind: str = "nyaa"
) -> PollSummary:
    """Upsert the releases in one feed document and resolve the new ones.

    Raises `FeedError` (and changes nothing) when the document cannot be read.
    """
    parsed = parse_feed(xml_bytes)
    return ingest_items(
        parsed.items,
        skipped=len(parsed.skipped),
        source_name=source_name,
        source_kind=source_kind,
    )


def ingest_items(
    parsed_items: list[NyaaItem], *, skipped: int, source_name: str, source_kind: str = "nyaa"
) -> PollSummary:
    """Upsert these items (from a feed, a listing or a search page) and resolve the new ones.

    Re-ingesting an item updates its source fields (seeders and the like
    included) and never creates a second row for it.
    """
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {source_kind!r}")
    unique: dict[str, NyaaItem] = {}
    for item in parsed_items:
        unique.setdefault(item.external_id, item)
    items = list(unique.values())
    existing = _existing_releases(source_kind, [item.external_id for item in items])

    now = timezone.now()
    new_releases: list[Release] = []
    changed_releases: list[Release] = []
    touched_series: set[int] = set()
    for item in items:
        fields = _source_fields(item)
        release = existing.get(item.external_id)
        if release is None:
            new_releases.append(
                Release(
                    source_kind=source_kind,
                    external_id=item.external_id,
                    source_name=source_name,
                    observed_at=now,
                    **fields,
                )
            )
            continue
        changes = {name: value for name, value in fields.items() if getattr(release, name) != value}
        if not changes:
            continue
        for name, value in changes.items():
            setattr(release, name, value)
        changed_releases.append(release)
        if release.series_id and release.resolution == Resolution.RESOLVED:
            # New spans or a new date change the series' coverage and last release.
            touched_series.add(release.series_id)

    resolved = Resolver().resolve(new_releases)
    touched_series.update(release.series_id for release in new_releases if release.series_id)
    with transaction.atomic():
        # A concurrent poll of an overlapping feed may insert the same post first.
        Release.objects.bulk_create(new_releases, batch_size=BATCH_SIZE, ignore_conflicts=True)
        Release.objects.bulk_update(changed_releases, SOURCE_FIELDS, batch_size=BATCH_SIZE)
        recompute_coverage(touched_series)
    return PollSummary(
        fetched=len(parsed_items) + skipped,
        new=len(new_releases),
        updated=len(changed_releases),
        resolved=resolved.resolved,
        queued_for_review=resolved.queued_for_review,
        skipped=skipped,
    )


def _existing_releases(source_kind: str, external_ids: list[str]) -> dict[str, Release]:
    existing: dict[str, Release] = {}
    for offset in range(0, len(external_ids), BATCH_SIZE):
        chunk = external_ids[offset : offset + BATCH_SIZE]
        for release in Release.objects.filter(source_kind=source_kind, external_id__in=chunk):
            existing[release.external_id] = release
    return existing


def _source_fields(item: NyaaItem) -> dict:
    spans = parse_spans(item.title).to_json()
    fields = {
        "title": item.title,
        "post_url": item.post_url,
        "torrent_url": item.torrent_url,
        "magnet": item.magnet,
        "info_hash": item.info_hash,
        "size_bytes": item.size_bytes,
        "category": item.category,
        "description": item.description,
        "posted_at": item.posted_at,
        "volume_spans": spans["volumes"],
        "chapter_spans": spans["chapters"],
        "seeders": item.seeders,
        "leechers": item.leechers,
        "downloads": item.downloads,
        "trusted": item.trusted,
        "remake": item.remake,
    }
    if not item.description:
        # A listing or search row has no RSS summary; it must not blank the feed's.
        del fields["description"]
    return fields


def record_run(
    source: SourceConfig, summary: PollSummary, started_at: datetime, *, action: str = "poll"
) -> None:
    """Add a poll, backfill or search to the source's run history; a poll is also its last poll."""
    state, _created = SourceState.objects.get_or_create(
        name=source.name, defaults={"kind": source.kind}
    )
    finished_at = timezone.now()
    state.kind = source.kind
    if action == "poll":
        state.last_polled_at = started_at
        if summary.ok:
            state.last_success_at = finished_at
            state.last_error = ""
            state.last_summary = summary.as_dict()
        else:
            # The last good summary stays: it still describes what the catalog holds.
            state.last_error = summary.error
    run = {
        "action": action,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        **summary.as_dict(),
    }
    state.history = [run, *state.history][:RUN_HISTORY_LENGTH]
    state.save(
        update_fields=[
            "kind",
            "last_polled_at",
            "last_success_at",
            "last_error",
            "last_summary",
            "history",
        ]
    )
