"""The metadata provider seam: what resolution and the UI may ask of any provider.

MangaBaka is the first provider (`metadata.mangabaka`). Another (AniList, …)
implements the same three questions and is picked by config; resolution,
the review queue and the "Add series" page never name a provider.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from django.conf import settings

from metadata.records import SeriesMetadata


class ProviderError(Exception):
    """The provider could not answer (unreachable, rate limited, bad payload).

    The message is safe to show an admin: it never carries a key.
    """


class MetadataProvider(Protocol):
    """A source of series metadata."""

    name: str  # the provider token, e.g. "mangabaka"

    def get(self, external_id: str) -> SeriesMetadata | None:
        """The series with this provider id, following merges; None when unknown."""

    def search(self, query: str, limit: int = 10) -> list[SeriesMetadata]:
        """Series whose titles match `query`, best first (at most `limit`)."""

    def find_by_foreign_id(self, provider: str, external_id: str) -> SeriesMetadata | None:
        """The series another provider knows by `external_id` (provider: our token)."""


_lock = threading.Lock()
# (the config object it was built from, the data dir, the provider): one per process.
_cached: tuple[Any, Any, Any] | None = None


def active_provider() -> MetadataProvider | None:
    """The configured provider, or None when metadata lookups are off.

    The MangaBaka provider (offline dump first, live API as the optional
    fallback; see `metadata.mangabaka`) when `[providers.mangabaka] enabled`
    and either a dump is installed or `api_fallback` is on. The instance is
    kept per process and rebuilt when the configuration object changes;
    `reset_provider()` (also `active_provider.cache_clear()`) drops it.
    """
    global _cached
    config = settings.TSUNDOKU.section("providers.mangabaka")
    if not config.get("enabled"):
        return None
    with _lock:
        if (
            _cached is None
            or _cached[0] is not settings.TSUNDOKU
            or _cached[1] != str(settings.DATA_DIR)
        ):
            from metadata.mangabaka.provider import MangaBakaProvider

            if _cached is not None:
                _cached[2].close()
            _cached = (
                settings.TSUNDOKU,
                str(settings.DATA_DIR),
                MangaBakaProvider.from_config(config),
            )
        provider = _cached[2]
    return provider if provider.available() else None


def reset_provider() -> None:
    """Forget the cached provider (closing its dump): after a refresh, and in tests."""
    global _cached
    with _lock:
        if _cached is not None:
            _cached[2].close()
        _cached = None


active_provider.cache_clear = reset_provider  # type: ignore[attr-defined]
