"""django-q2 entry points for the dump refresh, and the public function that queues one.

`request_refresh` records a queued `DumpRefresh` row *before* queueing, so a
second click while one is queued or running is reported as skipped rather
than stacking a second 500 MB download behind the first.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from feed.catalog import refresh_from_provider
from feed.resolution import retry_releases
from metadata.mangabaka.refresh import PROVIDER, RefreshFailed, mangabaka_config, refresh_dump
from metadata.models import DumpRefresh, RefreshOutcome
from metadata.providers import active_provider

# A refresh row older than this still "running" is a crashed worker, not a live one.
STALE_AFTER = timedelta(hours=3)


class MetadataDisabled(Exception):
    """`[providers.mangabaka] enabled` is false."""


def refresh_in_flight() -> DumpRefresh | None:
    return (
        DumpRefresh.objects.filter(
            provider=PROVIDER,
            outcome__in=[RefreshOutcome.QUEUED, RefreshOutcome.RUNNING],
            started_at__gte=timezone.now() - STALE_AFTER,
        )
        .order_by("-started_at")
        .first()
    )


def request_refresh() -> dict[str, object]:
    """Queue a dump refresh unless one is queued or running."""
    config = mangabaka_config()
    if not config["enabled"]:
        raise MetadataDisabled("MangaBaka is disabled (providers.mangabaka.enabled = false).")
    with transaction.atomic():
        if refresh_in_flight() is not None:
            return {"triggered": False, "skipped": True}
        row = DumpRefresh.objects.create(provider=PROVIDER, source=config["dump_url"])
    try:
        async_task("metadata.tasks.refresh_task", row.id, task_name="mangabaka-refresh")
    except Exception:
        row.delete()
        raise
    return {"triggered": True, "skipped": False, "refresh_id": row.id}


def update_catalog() -> dict[str, int]:
    """After a new dump: rewrite catalog series whose record moved, retry waiting releases.

    Series are compared by content hash (`feed.catalog.refresh_series`), so an
    unchanged record writes nothing and a series edited by hand is left alone;
    releases nobody could place may now resolve against the new dump.
    """
    provider = active_provider()
    if provider is None:
        return {"updated": 0, "unchanged": 0, "resolved": 0}
    updated, unchanged = refresh_from_provider(provider)
    retried = retry_releases()
    return {"updated": updated, "unchanged": unchanged, "resolved": retried.resolved}


def refresh_task(refresh_id: int) -> dict[str, object]:
    """Worker entry point: run the refresh queued as `refresh_id`, then update the catalog."""
    try:
        result = refresh_dump(refresh_id=refresh_id)
    except RefreshFailed as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "records": result.records, "version": result.version, **update_catalog()}


def scheduled_refresh() -> dict[str, object]:
    """The CRON schedule's entry point (skips when a refresh is already in flight)."""
    if not mangabaka_config()["enabled"] or refresh_in_flight() is not None:
        return {"ok": False, "skipped": True}
    try:
        result = refresh_dump()
    except RefreshFailed as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "records": result.records, "version": result.version, **update_catalog()}
