"""The metadata provider seam: what resolution and the UI may ask of any provider.

MangaBaka is the first provider (`metadata.mangabaka`). Another (AniList, …)
implements the same three questions and is picked by config; resolution,
the review queue and the "Add series" page never name a provider.
"""

from __future__ import annotations

from typing import Protocol

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


def active_provider() -> MetadataProvider | None:
    """The configured provider, or None when metadata lookups are off.

    Implemented with the MangaBaka provider (offline dump first, live API as
    the optional fallback); see `metadata.mangabaka`.
    """
    return None
