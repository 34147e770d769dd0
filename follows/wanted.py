"""The Wanted page's rule: which series are wanted, and which release to grab first.

A series is wanted by a visitor when they follow it, or (the admin only) when
Codex is behind on it. Each wanted series lists its releases best first: how
much of Codex's gap a release fills (admin only; the gap is Codex data), then
how recent it is. The gap itself is `codex_sync.status.codex_gap`, the one
rule, reached through `codex_sync.overlay`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from codex_sync import overlay
from codex_sync.status import NO_GAP, CodexGap, CodexStatus, Span
from feed.models import Release, Resolution, Series
from follows.models import Follow
from follows.queries import only_followed, with_followed_at
from torrents.sending import with_sent

# Releases shown per wanted series: the best, and a couple to choose from.
RELEASES_PER_SERIES = 3

RELEASE_FIELDS = (
    "id",
    "series_id",
    "title",
    "post_url",
    "torrent_url",
    "magnet",
    "info_hash",
    "size_bytes",
    "source_name",
    "posted_at",
    "volume_spans",
    "chapter_spans",
    "remake",
    "trusted",
    "seeders",
)


@dataclass(frozen=True)
class RankedRelease:
    """A release of a wanted series and what of Codex's gap it fills (empty if nothing)."""

    release: Release
    fills: CodexGap = NO_GAP


@dataclass
class WantedEntry:
    """One wanted series with its gap (admin only) and its releases, best first."""

    series: Series
    gap: CodexGap = NO_GAP
    releases: list[RankedRelease] = field(default_factory=list)
    release_total: int = 0


def wanted_series(user_id: int | None, *, is_admin: bool) -> QuerySet[Series]:
    """The series this visitor wants, newest release first, with `followed_at`.

    Followed by this user, or, for the admin, behind on Codex. Codex data is
    joined for the admin only.
    """
    queryset = Series.objects.all()
    if is_admin:
        followed = Exists(Follow.objects.filter(user_id=user_id, series=OuterRef("pk")))
        queryset = overlay.with_codex(queryset).filter(
            Q(codex_status=CodexStatus.BEHIND) | Q(followed)
        )
    else:
        queryset = only_followed(queryset, user_id)
    return with_followed_at(queryset, user_id).order_by(
        F("last_release_at").desc(nulls_last=True), F("id").desc()
    )


def numbers_in(spans: tuple[Span, ...]) -> float:
    """How many volume/chapter numbers spans name: whole numbers, or 1 for a lone extra."""
    total = 0.0
    for start, end in spans:
        wholes = math.floor(end) - math.ceil(start) + 1
        total += wholes if wholes > 0 else 1
    return total


def gap_coverage(fills: CodexGap, gap: CodexGap) -> float:
    """The share of the gap a release fills, per axis, summed (0 to 2)."""
    share = 0.0
    for filled, wanted in ((fills.volumes, gap.volumes), (fills.chapters, gap.chapters)):
        if wanted:
            share += min(1.0, numbers_in(filled) / numbers_in(wanted))
    return share


def _recency(release: Release) -> float:
    return release.posted_at.timestamp() if isinstance(release.posted_at, datetime) else 0.0


def rank_releases(series: Series, releases: list[Release], gap: CodexGap) -> list[RankedRelease]:
    """Releases best first: coverage of the gap, then usefulness, then recency.

    Usefulness is `feed.queries.releases_by_usefulness`'s order in memory:
    not a remake, a trusted uploader, the most seeders (unknown last).
    """
    ranked = [
        RankedRelease(release=release, fills=overlay.fills_of(release, series) if gap else NO_GAP)
        for release in releases
    ]
    ranked.sort(
        key=lambda item: (
            -gap_coverage(item.fills, gap),
            item.release.remake,
            not item.release.trusted,
            -(item.release.seeders if item.release.seeders is not None else -1),
            -_recency(item.release),
            -item.release.pk,
        )
    )
    return ranked


def wanted_entries(series_page: list[Series], *, is_admin: bool) -> list[WantedEntry]:
    """Gap and best releases for a page of wanted series: one query for all their releases."""
    releases: dict[int, list[Release]] = defaultdict(list)
    rows = Release.objects.filter(
        series_id__in=[series.pk for series in series_page], resolution=Resolution.RESOLVED
    ).only(*RELEASE_FIELDS)
    if is_admin:
        rows = with_sent(rows)
    for release in rows:
        releases[release.series_id].append(release)
    entries = []
    for series in series_page:
        gap = overlay.gap_of(series) if is_admin else NO_GAP
        ranked = rank_releases(series, releases.get(series.pk, []), gap)
        entries.append(
            WantedEntry(
                series=series,
                gap=gap,
                releases=ranked[:RELEASES_PER_SERIES],
                release_total=len(ranked),
            )
        )
    return entries
