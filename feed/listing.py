"""Walking a source's HTML listing: backfill back in time, and searching it for a series.

The RSS only ever shows the newest page, so a fresh install starts empty.
`backfill_source` walks the listing pages (`?p=1`, `?p=2`, ...) the feed is
the RSS of; `search_series` asks the same listing for a series' titles
(`?q=...`). Both hand the rows to `feed.polling.ingest_items`, so a row is a
release like any other: one row per post however often it is walked, new
ones resolved, known ones refreshed. A page that fails stops the walk with
the page named; what earlier pages stored stays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone

from feed.enrichment import pace_host
from feed.models import Series
from feed.polling import PollSummary, ingest_items, record_run
from feed.sources.nyaa import HTML_ACCEPT, FeedError, fetch_page
from feed.sources.nyaa_html import PageError, parse_listing
from tsundoku.config import SourceConfig

logger = logging.getLogger(__name__)

MAX_BACKFILL_PAGES = 1000
# Titles of one series searched at most (canonical first, then alternates).
MAX_SEARCH_TITLES = 3

# Called after each page with (pages done, summary so far).
Progress = Callable[[int, PollSummary], None]


def listing_url(source: SourceConfig, **params: str | int) -> str:
    """The source's HTML listing with `params` set (`p=3`, `q=frieren`), others kept."""
    parts = urlsplit(source.listing_url)
    query = dict(parse_qsl(parts.query))
    query.update({key: str(value) for key, value in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query)))


def backfill_source(
    source: SourceConfig, *, pages: int, start_page: int = 1, progress: Progress | None = None
) -> PollSummary:
    """Ingest up to `pages` listing pages from `start_page` on; stop early on the last page."""
    if not 1 <= pages <= MAX_BACKFILL_PAGES:
        raise ValueError(f"pages must be between 1 and {MAX_BACKFILL_PAGES}, got {pages}")
    started_at = timezone.now()
    summary = PollSummary()
    for number in range(start_page, start_page + pages):
        url = listing_url(source, p=number)
        page_summary, has_next = _ingest_listing_page(source, url, label=f"page {number}")
        summary = summary.plus(page_summary)
        if progress is not None and page_summary.ok:
            progress(summary.pages, summary)
        if not page_summary.ok or not has_next:
            break
    record_run(source, summary, started_at, action="backfill")
    logger.info("Backfilled source %s: %s", source.name, summary.describe())
    return summary


def search_series(source: SourceConfig, series: Series) -> PollSummary:
    """Search the source for the series' titles now; hits are ingested like any release."""
    started_at = timezone.now()
    summary = PollSummary()
    for title in series_search_titles(series):
        url = listing_url(source, q=title, p=1)
        page_summary, _has_next = _ingest_listing_page(source, url, label=f"search {title!r}")
        summary = summary.plus(page_summary)
        if not page_summary.ok:
            break
    record_run(source, summary, started_at, action="search")
    logger.info("Searched source %s for %s: %s", source.name, series, summary.describe())
    return summary


def series_search_titles(series: Series) -> list[str]:
    """The series' distinct titles to search for, canonical first."""
    titles: list[str] = []
    for title in [series.canonical_title, series.romanized_title, *series.alternate_titles]:
        title = (title or "").strip()
        if title and title.casefold() not in {known.casefold() for known in titles}:
            titles.append(title)
    return titles[:MAX_SEARCH_TITLES]


def _ingest_listing_page(source: SourceConfig, url: str, *, label: str) -> tuple[PollSummary, bool]:
    """Fetch, parse and ingest one listing page; a failure becomes the summary's error."""
    ingestion = settings.TSUNDOKU.ingestion
    pace_host(url)
    try:
        html = fetch_page(
            url,
            timeout=ingestion["timeout_seconds"],
            retries=ingestion["max_retries"],
            accept=HTML_ACCEPT,
        )
        listing = parse_listing(html, page_url=url)
    except (FeedError, PageError) as exc:
        logger.warning("Listing %s of source %s failed: %s", label, source.name, exc)
        return PollSummary(error=f"{label}: {exc}"), False
    summary = ingest_items(
        listing.items,
        skipped=len(listing.skipped),
        source_name=source.name,
        source_kind=source.kind,
    )
    return summary.plus(PollSummary(pages=1)), listing.has_next
