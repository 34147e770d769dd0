"""Series coverage: derived from the releases linked to a series right now.

Every change of which releases belong to a series (link, unlink, reject,
re-resolve, import) calls `recompute_coverage` for the series it touched.
`updated_at` moves only when the merged coverage actually changes, because
the `/series/feed` cursor (Codex's release plugin) orders on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Max
from django.utils import timezone

from codex_sync import overlay
from feed.models import Release, Resolution, Series
from feed.spans import Span, highest, merge_spans, spans_to_json
from tsundoku.db import update_rows

# Chunk size for `IN (...)` lists: SQLite's variable limit is generous on
# modern builds, but large imports should not build a 100k-element statement.
CHUNK = 900

# Past these, a number in a release title is noise ("v999999999999999999999"),
# not a volume or chapter: the longest-running manga have ~200 volumes and
# ~2,000 chapters. Such spans are left out of coverage, never published.
MAX_PLAUSIBLE_VOLUME = 1_000
MAX_PLAUSIBLE_CHAPTER = 20_000

DERIVED_FIELDS = (
    "volume_coverage",
    "chapter_coverage",
    "highest_volume",
    "highest_chapter",
    "release_count",
    "last_release_at",
)

# The derived fields the Codex status rule reads.
STATUS_INPUTS = tuple(field for field in DERIVED_FIELDS if field in overlay.SERIES_INPUTS)


def derived_values(
    volume_spans: Iterable[Span],
    chapter_spans: Iterable[Span],
    release_count: int,
    last_release_at: datetime | None,
) -> dict:
    """The `DERIVED_FIELDS` of a series whose resolved releases carry these spans.

    The one coverage rule: `recompute_coverage` and `seed_synthetic` both call it.
    """
    volumes = merge_spans(plausible(volume_spans, MAX_PLAUSIBLE_VOLUME))
    chapters = merge_spans(plausible(chapter_spans, MAX_PLAUSIBLE_CHAPTER))
    return {
        "volume_coverage": spans_to_json(volumes),
        "chapter_coverage": spans_to_json(chapters),
        "highest_volume": highest(volumes),
        "highest_chapter": highest(chapters),
        "release_count": release_count,
        "last_release_at": last_release_at,
    }


def plausible(spans: Iterable[Span], limit: float) -> list[Span]:
    """The spans whose numbers are finite and within `0..limit`; the rest are ignored."""
    return [span for span in spans if all(0 <= number <= limit for number in span)]


def _as_spans(raw: Iterable) -> list[tuple[float, float]]:
    return [(float(start), float(end)) for start, end in raw]


def recompute_coverage(series_ids: Iterable[int]) -> int:
    """Recompute coverage, highest numbers, counts for these series; return how many changed."""
    ids = sorted({int(i) for i in series_ids if i is not None})
    changed = 0
    for offset in range(0, len(ids), CHUNK):
        changed += _recompute_chunk(ids[offset : offset + CHUNK])
    return changed


def _recompute_chunk(ids: list[int]) -> int:
    linked = Release.objects.filter(series_id__in=ids, resolution=Resolution.RESOLVED)
    volume_spans: dict[int, list] = defaultdict(list)
    chapter_spans: dict[int, list] = defaultdict(list)
    for series_id, volumes, chapters in linked.values_list(
        "series_id", "volume_spans", "chapter_spans"
    ):
        volume_spans[series_id].extend(_as_spans(volumes))
        chapter_spans[series_id].extend(_as_spans(chapters))
    aggregates = {
        row["series_id"]: row
        for row in linked.values("series_id").annotate(count=Count("id"), last=Max("posted_at"))
    }

    now = timezone.now()
    to_update = []
    # Series whose highest volume/chapter moved: the Codex status rule reads those.
    renumbered = []
    for series in Series.objects.filter(id__in=ids).only("id", "updated_at", *DERIVED_FIELDS):
        stats = aggregates.get(series.id, {})
        new_values = derived_values(
            volume_spans.get(series.id, []),
            chapter_spans.get(series.id, []),
            stats.get("count", 0),
            stats.get("last"),
        )
        coverage_changed = (
            new_values["volume_coverage"] != series.volume_coverage
            or new_values["chapter_coverage"] != series.chapter_coverage
        )
        if not coverage_changed and all(
            getattr(series, field) == value for field, value in new_values.items()
        ):
            continue
        if any(getattr(series, field) != new_values[field] for field in STATUS_INPUTS):
            renumbered.append(series.id)
        for field, value in new_values.items():
            setattr(series, field, value)
        if coverage_changed:
            series.updated_at = now
        to_update.append(series)

    update_rows(to_update, [*DERIVED_FIELDS, "updated_at"])
    if renumbered:
        overlay.series_numbers_changed(renumbered)
    return len(to_update)
