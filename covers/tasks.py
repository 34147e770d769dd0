"""django-q2 entry points for the cover cache; they take no model instances."""

from __future__ import annotations

from covers import cache


def drain_wanted_task() -> dict:
    """Queued by a page that showed uncached covers: fetch what pages asked for."""
    return cache.drain_wanted().as_dict()


def prefetch_covers_task() -> dict:
    """The `covers.prefetch_cron` schedule: fill free cache space with covers not yet fetched."""
    return cache.prefetch_covers().as_dict()
