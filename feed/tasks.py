"""django-q2 entry points for sources, and the public functions that queue them.

Tasks take names and ids, not model instances or config objects: a queued
task may run after the configuration changed, so it looks the source up
again when it runs. "Poll now" and backfill claim the source first
(`request_run`: a conditional UPDATE on its `SourceState`), so a second click
while one is queued or running is reported instead of stacking a second walk.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from feed.listing import backfill_source, search_series
from feed.models import Series, SourceState
from feed.polling import PollSummary, UnknownSource, configured_source, poll_source
from notifications.tasks import request_digest

logger = logging.getLogger(__name__)

# A claim older than this is a crashed worker, not a live run.
STALE_AFTER = timedelta(hours=2)
RUN_ACTIONS = ("poll", "backfill")
DEFAULT_BACKFILL_PAGES = 10


def poll_source_task(source_name: str) -> dict:
    """Worker entry point for the schedules: poll one source by name, return its summary."""
    try:
        source = configured_source(source_name)
    except UnknownSource as exc:
        # A schedule can outlive its [[sources]] entry until setup_schedules runs again.
        logger.warning("Not polling: %s. Run `manage.py setup_schedules` to tidy up.", exc)
        return {"error": str(exc)}
    summary = poll_source(source)
    # New releases and failing sources are told in one digest per poll, sent apart from it.
    request_digest()
    return summary.as_dict()


def request_run(source_name: str, action: str, *, pages: int = DEFAULT_BACKFILL_PAGES) -> bool:
    """Queue a poll or a backfill of one source; False if one is already queued or running.

    Raises `UnknownSource` for a name the config does not define.
    """
    if action not in RUN_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    source = configured_source(source_name)
    now = timezone.now()
    SourceState.objects.get_or_create(name=source.name, defaults={"kind": source.kind})
    claimed = (
        SourceState.objects.filter(name=source.name)
        .filter(Q(running_action="") | Q(running_since__lt=now - STALE_AFTER))
        .update(
            running_action=action,
            running_since=now,
            progress={"pages_done": 0, "pages_total": pages if action == "backfill" else 0},
        )
    )
    if not claimed:
        return False
    try:
        async_task(
            "feed.tasks.source_run_task", source.name, action, pages, task_name=f"source-{action}"
        )
    except Exception:
        _release(source.name)
        raise
    return True


def source_run_task(source_name: str, action: str, pages: int = DEFAULT_BACKFILL_PAGES) -> dict:
    """Worker entry point for `request_run`: run it, report progress, release the claim."""
    try:
        source = configured_source(source_name)
        if action == "backfill":

            def report(pages_done: int, summary: PollSummary) -> None:
                SourceState.objects.filter(name=source_name).update(
                    progress={
                        "pages_done": pages_done,
                        "pages_total": pages,
                        "new": summary.new,
                        "fetched": summary.fetched,
                    }
                )

            summary = backfill_source(source, pages=pages, progress=report)
        else:

            def report_details(done: int, total: int) -> None:
                SourceState.objects.filter(name=source_name).update(
                    progress={"details_done": done, "details_total": total}
                )

            summary = poll_source(source, progress=report_details)
    except UnknownSource as exc:
        logger.warning("Not running %s: %s", action, exc)
        return {"error": str(exc)}
    finally:
        _release(source_name)
    return summary.as_dict()


def request_series_search(series_id: int) -> int:
    """Queue a search of every enabled source for one series; return how many sources."""
    sources = [source for source in settings.TSUNDOKU.sources if source.enabled]
    if sources:
        async_task("feed.tasks.series_search_task", series_id, task_name="series-search")
    return len(sources)


def series_search_task(series_id: int) -> dict:
    """Worker entry point: search each enabled source for the series' titles."""
    series = Series.objects.filter(pk=series_id).first()
    if series is None:
        return {"error": f"series {series_id} no longer exists"}
    results = {}
    for source in settings.TSUNDOKU.sources:
        if source.enabled:
            results[source.name] = search_series(source, series).as_dict()
    return results


def _release(source_name: str) -> None:
    SourceState.objects.filter(name=source_name).update(running_action="", running_since=None)
