"""What a metadata provider answers, in our vocabulary, whatever the upstream said.

Every provider (MangaBaka's offline dump, its live API, later AniList, …)
parses its own wire or row shapes into these dataclasses at the edge, so
resolution and the catalog never see a raw dict. Values are already mapped:
`kind` is a `feed.models.SeriesKind` value, `status` a `SeriesStatus` value,
`foreign_ids` keys are `feed.models.Provider` tokens, `rating` is on 0–10.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SeriesMetadata:
    """One series as a provider describes it."""

    provider: str  # the provider's own token, e.g. "mangabaka"
    external_id: str  # the provider's id for the series, e.g. "1677"
    title: str
    native_title: str = ""
    romanized_title: str = ""
    # Every other title (native and romanized included), deduplicated, without `title`.
    alternate_titles: tuple[str, ...] = ()
    kind: str = "other"
    status: str = "unknown"
    year: int | None = None
    published_start: date | None = None
    published_end: date | None = None
    description: str = ""
    cover_url: str = ""
    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    total_volumes: int | None = None
    total_chapters: int | None = None
    rating: float | None = None  # 0–10
    # Cross ids on other providers: {"anilist": "105778", "mangaupdates": "ylx5wzn", …}.
    foreign_ids: dict[str, str] = field(default_factory=dict)
    # "sha256:<hex>" over the mapped fields: a refresh rewrites a series only when it moved.
    content_hash: str = ""

    @property
    def all_ids(self) -> dict[str, str]:
        """Every (provider → id) this record carries, its own id first."""
        return {self.provider: self.external_id, **self.foreign_ids}
