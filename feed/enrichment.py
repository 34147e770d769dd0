"""Detail-page enrichment: read each new release's Nyaa post page once.

The RSS says little; the post page lists the files (so the formats), the
uploader's description and the "Information" link, which is where exact
provider links live. An exact link resolves a release by id instead of by a
title guess (`feed.resolution.resolve_by_links`).

A page that cannot be fetched or read leaves the release exactly as the RSS
gave it: only `detail_attempts` and `detail_error` move, and the next poll
tries again until `ingestion.detail_max_attempts`. Each page is fetched
outside any database transaction, paced by the shared per-host limiter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from feed.models import Release
from feed.resolution import resolve_by_links
from feed.sources.nyaa import HTML_ACCEPT, FeedError, fetch_page
from feed.sources.nyaa_html import NyaaDetail, PageError, parse_detail
from tsundoku.config import SourceConfig
from tsundoku.http import HOST_LIMITER

logger = logging.getLogger(__name__)

# Where the detail page's fields land on the release.
DETAIL_FIELDS = [
    "files",
    "formats",
    "information_url",
    "detail_description",
    "comment_links",
    "detail_fetched_at",
    "detail_attempts",
    "detail_error",
]
MAX_ERROR_LENGTH = 500

# Called with (detail pages done, detail pages in this batch).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EnrichSummary:
    """How many detail pages were read, failed, and how many releases they resolved."""

    enriched: int = 0
    failed: int = 0
    resolved: int = 0


def pace_host(url: str) -> None:
    """Apply `[ingestion]`'s gap and concurrency to the host of `url` in the shared limiter."""
    ingestion = settings.TSUNDOKU.ingestion
    host = urlsplit(url).hostname or ""
    HOST_LIMITER.set_min_gap(host, ingestion["min_request_gap_ms"] / 1000)
    HOST_LIMITER.set_max_concurrency(host, ingestion["max_connections_per_host"])


def pending_releases(source: SourceConfig, *, limit: int) -> list[Release]:
    """The source's releases whose detail page is still to be read, fewest attempts first."""
    ingestion = settings.TSUNDOKU.ingestion
    return list(
        Release.objects.filter(
            source_kind=source.kind,
            source_name=source.name,
            detail_fetched_at__isnull=True,
            detail_attempts__lt=ingestion["detail_max_attempts"],
        )
        .exclude(post_url="")
        .order_by("detail_attempts", "-id")[:limit]
    )


def enrich_source(
    source: SourceConfig, *, limit: int | None = None, progress: Progress | None = None
) -> EnrichSummary:
    """Read the detail pages of up to `limit` pending releases of this source, then resolve.

    `progress(done, total)` is called before each page and once when all are done.
    """
    ingestion = settings.TSUNDOKU.ingestion
    batch = ingestion["detail_batch_size"] if limit is None else limit
    enriched_ids: list[int] = []
    failed = 0
    pending = pending_releases(source, limit=batch)
    for done, release in enumerate(pending):
        if progress is not None:
            progress(done, len(pending))
        pace_host(release.post_url)
        try:
            html = fetch_page(
                release.post_url,
                timeout=ingestion["timeout_seconds"],
                retries=ingestion["max_retries"],
                accept=HTML_ACCEPT,
            )
            detail = parse_detail(html, page_url=release.post_url)
        except (FeedError, PageError) as exc:
            failed += 1
            record_failure(release, str(exc))
            continue
        apply_detail(release, detail)
        enriched_ids.append(release.id)
    if progress is not None and pending:
        progress(len(pending), len(pending))
    resolved = resolve_by_links(enriched_ids).resolved if enriched_ids else 0
    return EnrichSummary(enriched=len(enriched_ids), failed=failed, resolved=resolved)


def apply_detail(release: Release, detail: NyaaDetail) -> None:
    """Store what the page says on the release; RSS fields (title, hash, size) are kept."""
    release.files = [file.to_json() for file in detail.files]
    release.formats = detail.formats
    release.information_url = _http_url(detail.information_url)
    release.detail_description = detail.description
    release.comment_links = detail.comment_links
    release.detail_fetched_at = timezone.now()
    release.detail_attempts = F("detail_attempts") + 1
    release.detail_error = ""
    release.save(update_fields=DETAIL_FIELDS)
    release.refresh_from_db(fields=["detail_attempts"])


def record_failure(release: Release, reason: str) -> None:
    """Count a failed attempt; every other field stays as the RSS left it."""
    logger.warning("Detail page of release %s failed: %s", release.external_id, reason)
    Release.objects.filter(pk=release.pk).update(
        detail_attempts=F("detail_attempts") + 1, detail_error=reason[:MAX_ERROR_LENGTH]
    )


def _http_url(url: str) -> str:
    # The Information cell is free text upstream; only a web link is worth keeping.
    return url if url.startswith(("http://", "https://")) and len(url) <= 1000 else ""
