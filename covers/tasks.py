"""django-q2 entry points for the cover cache; they take no model instances."""

from __future__ import annotations

from covers import cache


def drain_wanted_task() -> dict:
    """Queued by a page that showed uncached covers: fetch what pages asked for."""
    return cache.drain_wanted().as_dict()


def prefetch_covers_task() -> dict:
    """The `covers.prefetch_cron` schedule: what pages asked for, then covers never fetched.

    Draining first makes the schedule the safety net for a drain that was
    never queued (the broker was down) or never ran.
    """
    return {
        "drained": cache.drain_wanted().as_dict(),
        "prefetched": cache.prefetch_covers().as_dict(),
    }
