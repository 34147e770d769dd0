"""The cover cache as a service: what a page asks, what the worker fetches, and the bound.

Pages only ever read the cache. `local_src` answers with one `stat` (no
query): the same-origin URL of a cached cover, or "" so the template keeps
its initials tile. A miss leaves a request in `wanted/` and, when no drain is
already queued, queues one django-q task, so a page with sixty new covers
costs at most one insert and never waits for the CDN.

The worker fills the cache two ways:

- `drain_wanted`: the covers pages asked for, right away. Demand decides,
  so these may evict the least recently shown covers to stay under
  `covers.max_cache_mb`.
- `prefetch_covers` (the `covers.prefetch_cron` schedule and `manage.py
  fetch_covers`): covers never fetched, most recently active series first,
  only into free space. Prefetching never evicts, or a catalog with more
  covers than the cache holds would churn on every run.

Only URLs that some series has as its `cover_url` are fetched, checked when
the fetch happens; nothing a visitor sends names a URL, so the cover view is
not a proxy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import requests
from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django_q.tasks import async_task

from covers import storage
from covers.fetch import CoverFetchError, UpstreamError, build_cover_session, fetch_image
from feed.models import Series

logger = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024
DRAIN_FLAG = ".drain-queued"
# A queued drain that has not started after this long is presumed lost (the
# worker was down, the task failed): the next miss queues another.
DRAIN_REQUEUE_SECONDS = 600
DRAIN_BATCH = 50
# After this many unreachable/erroring fetches in a row the CDN looks down:
# stop the run rather than wait out a timeout per remaining cover.
MAX_CONSECUTIVE_UPSTREAM_ERRORS = 5
PREFETCH_LIMIT_PER_RUN = 200


def covers_config() -> dict:
    """The validated `[covers]` section."""
    return settings.TSUNDOKU.covers


def max_cache_bytes() -> int:
    return covers_config()["max_cache_mb"] * MEGABYTE


def max_image_bytes() -> int:
    return covers_config()["max_image_mb"] * MEGABYTE


def local_src(cover_url: str | None) -> str:
    """The same-origin `src` for a cover, or "" while it is not cached (and ask for it)."""
    if not covers_config()["enabled"] or not storage.is_fetchable_url(cover_url):
        return ""
    key = storage.cover_key(cover_url)
    if storage.cached_image(key) is not None:
        return reverse("covers:image", args=[key])
    try:
        request_fetch(key, cover_url)
    except OSError:
        # An unwritable data dir must not break the page; the tile is shown.
        logger.warning("Could not ask for a cover: %s is not writable", storage.wanted_dir())
    return ""


def request_fetch(key: str, cover_url: str) -> None:
    """Ask the worker for one cover unless it is waiting out a failure; make sure a drain is due.

    An earlier request for the same cover may still be waiting (its drain
    stopped when the CDN looked down), so the drain is checked either way.
    """
    if storage.is_failing(key):
        return
    storage.add_wanted(key, cover_url)
    _queue_drain()


def _queue_drain() -> None:
    flag = storage.wanted_dir() / DRAIN_FLAG
    try:
        if time.time() - flag.stat().st_mtime < DRAIN_REQUEUE_SECONDS:
            return
    except FileNotFoundError:
        pass
    flag.touch()
    try:
        async_task("covers.tasks.drain_wanted_task", task_name="covers-drain", group="covers")
    except Exception:
        # The page must render whatever the queue does; the next miss or the
        # prefetch schedule (which drains first) picks the request up.
        logger.exception("Could not queue the cover fetch; it stays requested")
        flag.unlink(missing_ok=True)


@dataclass
class FillSummary:
    """What one worker run did, by outcome."""

    fetched: int = 0
    failed: int = 0
    already_cached: int = 0
    waiting_after_failure: int = 0
    refused_not_in_catalog: int = 0
    evicted: int = 0
    stopped: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def catalog_cover_urls(urls: Iterable[str]) -> set[str]:
    """The subset of `urls` that some series has as its cover: the only URLs we fetch."""
    wanted = list(dict.fromkeys(urls))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # stay under SQLite's parameter limit
        batch = wanted[start : start + 500]
        found.update(Series.objects.filter(cover_url__in=batch).values_list("cover_url", flat=True))
    return found


class NoRoom(Exception):
    """A fetched cover does not fit in the space left; it was not stored."""


class _Fetcher:
    """Fetches covers into the cache for one run, stopping if the CDN looks down."""

    def __init__(self, summary: FillSummary, session: requests.Session | None) -> None:
        self.summary = summary
        self.session = session or build_cover_session()
        self.consecutive_upstream_errors = 0

    @property
    def cdn_down(self) -> bool:
        return self.consecutive_upstream_errors >= MAX_CONSECUTIVE_UPSTREAM_ERRORS

    def fetch(self, key: str, url: str, *, room: int | None = None) -> int:
        """Fetch one cover unless cached or failing; return the bytes added to the cache.

        With `room`, an image larger than that is not stored: `NoRoom` is raised.
        """
        if storage.image_path(key).exists():
            self.summary.already_cached += 1
            return 0
        if storage.is_failing(key):
            self.summary.waiting_after_failure += 1
            return 0
        try:
            image = fetch_image(
                url,
                session=self.session,
                max_bytes=max_image_bytes(),
                timeout=covers_config()["timeout_seconds"],
            )
        except CoverFetchError as exc:
            remembered = storage.record_failure(key, str(exc))
            self.summary.failed += 1
            if isinstance(exc, UpstreamError):
                self.consecutive_upstream_errors += 1
            logger.info(
                "Cover %s not fetched (%s, attempt %d); the tile stays",
                url,
                exc,
                remembered.attempts,
            )
            return 0
        self.consecutive_upstream_errors = 0
        if room is not None and len(image.body) > room:
            raise NoRoom
        storage.store_image(key, image.body)
        storage.clear_failure(key)
        self.summary.fetched += 1
        return len(image.body)


def drain_wanted(*, session: requests.Session | None = None) -> FillSummary:
    """Fetch every cover pages asked for, then evict down to the bound."""
    summary = FillSummary()
    # Unflag first: a miss from now on queues a fresh drain instead of being lost.
    (storage.wanted_dir() / DRAIN_FLAG).unlink(missing_ok=True)
    if not covers_config()["enabled"]:
        summary.stopped = "covers are disabled"
        return summary
    fetcher = _Fetcher(summary, session)
    while not fetcher.cdn_down:
        batch = storage.take_wanted(DRAIN_BATCH)
        if not batch:
            break
        allowed = catalog_cover_urls(url for _, url in batch)
        for key, url in batch:
            if url not in allowed:
                summary.refused_not_in_catalog += 1
                continue
            if fetcher.cdn_down:
                # Not fetched: drop the request; the next page view asks again.
                continue
            fetcher.fetch(key, url)
        summary.evicted += storage.evict(max_cache_bytes()).removed
    if fetcher.cdn_down:
        summary.stopped = "the cover CDN looks down"
    return summary


def prefetch_covers(
    limit: int | None = PREFETCH_LIMIT_PER_RUN, *, session: requests.Session | None = None
) -> FillSummary:
    """Fetch covers not cached yet into free space, most recently active series first.

    `limit` bounds the downloads attempted (None: no bound). Stops at the
    first cover that does not fit: prefetching never evicts what pages have
    been showing.
    """
    summary = FillSummary()
    if not covers_config()["enabled"]:
        summary.stopped = "covers are disabled"
        return summary
    budget = max_cache_bytes()
    used = storage.cache_usage()
    fetcher = _Fetcher(summary, session)
    # Read up front, not through an open cursor: on SQLite a read held open
    # across minutes of downloads would keep the WAL from being checkpointed.
    urls = list(
        Series.objects.exclude(cover_url="")
        .order_by(F("last_release_at").desc(nulls_last=True), "-id")
        .values_list("cover_url", flat=True)
    )
    seen: set[str] = set()
    for url in urls:
        if url in seen or not storage.is_fetchable_url(url):
            continue
        seen.add(url)
        if limit is not None and summary.fetched + summary.failed >= limit:
            summary.stopped = f"reached the limit of {limit} downloads"
            break
        if fetcher.cdn_down:
            summary.stopped = "the cover CDN looks down"
            break
        if used >= budget:
            summary.stopped = "the cache is full"
            break
        try:
            used += fetcher.fetch(storage.cover_key(url), url, room=budget - used)
        except NoRoom:
            summary.stopped = "the cache is full"
            break
    return summary
