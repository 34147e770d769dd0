"""The seam between the feed and the Codex integration.

`feed` imports only this module (and the `codex_tags` template library) from
`codex_sync`. Everything here is for admins: callers decide tier first, via
`tsundoku.access.is_admin`, and only then ask for the overlay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from codex_sync.client import without_credentials
from codex_sync.models import CodexLink, ConnectionStatus, LinkKind
from codex_sync.status import (
    NO_GAP,
    CodexGap,
    CodexStatus,
    codex_gap,
    refresh_link_status,
    surfaced_beyond,
)
from codex_sync.status import SERIES_INPUTS as SERIES_INPUTS  # for feed, which imports only this
from feed.spans import plain_number
from tsundoku.templatetags.tsundoku_tags import format_number, format_spans

# What every surface (API, command, task) says when the integration is off.
DISABLED_MESSAGE = (
    "The Codex integration is disabled: set codex.enabled = true, codex.base_url and codex.api_key."
)

# `codexStatus` filter values (comma-separated, OR). `any` = on Codex at all;
# `missing` = not on Codex.
ANY = "any"
MISSING = "missing"
FILTER_VALUES = (ANY, *CodexStatus.ALL, MISSING)

# status → (badge label, meaning), SPEC §5.4: the badge, its tooltip and the
# `codexStatus` filter's choices all read these.
# Plain-text labels: the coloured dot before each is drawn in CSS (`.codex-badge::before`),
# since emoji render as empty boxes where no emoji font is installed.
BADGES: dict[str, tuple[str, str]] = {
    CodexStatus.COMPLETE: ("owned", "On Codex and caught up"),
    CodexStatus.BEHIND: ("behind", "Newer volumes/chapters surfaced than Codex owns"),
    CodexStatus.PRESENT: ("owned?", "On Codex, but counts can't be compared"),
    CodexStatus.IGNORED: ("tracking off", "Completion tracking muted"),
}
# The filter's choices, in FILTER_VALUES order.
FILTER_LABELS: dict[str, str] = {
    ANY: "On Codex (any)",
    **{status: BADGES[status][0] for status in CodexStatus.ALL},
    MISSING: "Not on Codex",
}


def parse_codex_statuses(values: Iterable[str]) -> list[str]:
    """Keep the known filter values, in order; unknown ones are dropped."""
    wanted = [value.strip().lower() for value in values]
    return [value for value in FILTER_VALUES if value in wanted]


def enabled() -> bool:
    return bool(settings.TSUNDOKU.codex["enabled"])


def with_codex(queryset: QuerySet) -> QuerySet:
    """Join each series' Codex link and annotate `codex_status` (NULL = not on Codex).

    The status is the one stored on the link (`CodexLink.status`), the same
    column `filter_by_codex_status` reads, so a badge always equals the filter.
    Also `codex_last_sweep_at`, the last successful sweep's time (for
    `synced_at_of`), read in the same query rather than once more per page.
    Idempotent, so a page can be decorated whether or not a filter already joined.
    """
    queryset = queryset.select_related("codex_link")
    if "codex_last_sweep_at" not in queryset.query.annotations:
        queryset = queryset.annotate(codex_last_sweep_at=last_synced_at_expression())
    if "codex_status" in queryset.query.annotations:
        return queryset
    return queryset.annotate(codex_status=F("codex_link__status"))


def filter_by_codex_status(
    queryset: QuerySet, statuses: Iterable[str], *, walk_sort_index: bool = False
) -> QuerySet:
    """OR of the requested statuses, in SQL so totals and pages stay right.

    A status other than `missing` selects linked series only, so it is asked
    of the link table. By default as `id IN (links whose stored status
    matches)`: the `(status, series)` index names just those series, the
    best way to count them or to sort a few of them.

    `walk_sort_index=True` asks the same as a test on each series instead
    (`EXISTS` a link in those statuses, probed by its series): a sorted,
    limited page then reads the sort's index in order and stops after its
    rows, where `IN` would sort every match (75,000 "complete" at 100k
    series) to show 50. Same rows either way; `feed.series_page` picks.
    """
    statuses = list(statuses)
    matching = links_in_status(statuses)
    condition = Q()
    if walk_sort_index:
        if matching is not None:
            condition |= Q(Exists(matching.filter(series=OuterRef("pk"))))
        if MISSING in statuses:
            condition |= ~Q(Exists(CodexLink.objects.filter(series=OuterRef("pk"))))
    else:
        if matching is not None:
            condition |= Q(pk__in=matching.values("series_id"))
        if MISSING in statuses:
            condition |= Q(codex_link__isnull=True)
    return queryset.filter(condition) if condition else queryset


def links_in_status(statuses: Iterable[str]) -> QuerySet[CodexLink] | None:
    """The links the non-`missing` part of a `codexStatus` filter selects (None: no such part)."""
    statuses = list(statuses)
    if ANY in statuses:
        return CodexLink.objects.all()
    rule_statuses = [status for status in statuses if status in CodexStatus.ALL]
    return CodexLink.objects.filter(status__in=rule_statuses) if rule_statuses else None


def series_numbers_changed(series_ids: Iterable[int]) -> None:
    """Feed's hook: these series' highest volume/chapter or tracking flag changed.

    Their links' stored status is recomputed by the one rule, so the filter
    and badges never read a stale status (a no-op for series not on Codex).
    """
    refresh_link_status(series_ids)


def last_synced_at() -> datetime | None:
    """When the last successful sweep finished; badges stay hidden until there is one."""
    return (
        ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID)
        .values_list("last_success_at", flat=True)
        .first()
    )


def last_synced_at_expression() -> Subquery:
    """`last_synced_at()` as a subquery, to annotate rows with it in the same query."""
    return Subquery(
        ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID).values("last_success_at")[
            :1
        ]
    )


def synced_at_of(link: CodexLink, last_sweep_at: datetime | None) -> datetime | None:
    """When Codex's counts on `link` were last read: the time every reader shows.

    A successful sweep re-derives every automatic link from the whole index,
    so each one left standing was synced by the last successful sweep
    (`last_synced_at()`, passed in so a page of links asks once). Stored once
    on the connection, not rewritten on ~100k rows by every sweep; an
    automatic link's own `synced_at` column says when it last changed. A
    manual link keeps its own time: a sweep refreshes it only if its Codex
    series was in the index.
    """
    if link.link_kind == LinkKind.AUTO:
        return last_sweep_at
    return link.synced_at


def series_url(codex_series_uuid) -> str:
    """Deep link to the series in Codex's web UI (never carrying URL credentials)."""
    return series_urls()(codex_series_uuid)


def series_urls() -> Callable[[Any], str]:
    """`series_url` with the base URL read once: for many links at a time (exports)."""
    base = without_credentials(settings.TSUNDOKU.codex["base_url"])
    return lambda codex_series_uuid: f"{base}/series/{codex_series_uuid}"


def link_of(series) -> CodexLink | None:
    try:
        return series.codex_link
    except CodexLink.DoesNotExist:
        return None


def status_of(series) -> str | None:
    """The status for one series: the annotation if present, else the link's stored one."""
    if hasattr(series, "codex_status"):
        return series.codex_status
    link = link_of(series)
    return None if link is None else link.status


def gap_of(series) -> CodexGap:
    """The series' gap (what surfaced beyond Codex's counts); empty when not on Codex."""
    link = link_of(series)
    if link is None:
        return NO_GAP
    return codex_gap(
        volume_coverage=series.volume_coverage,
        chapter_coverage=series.chapter_coverage,
        local_max_volume=link.local_max_volume,
        local_max_chapter=link.local_max_chapter,
        ignore_completion=series.ignore_completion,
    )


def fills_of(release, series) -> CodexGap:
    """What of Codex's gap one release of `series` carries ("fills vol. 109–111")."""
    link = link_of(series)
    if link is None or series.ignore_completion:
        return NO_GAP
    return CodexGap(
        volumes=surfaced_beyond(release.volume_spans, link.local_max_volume),
        chapters=surfaced_beyond(release.chapter_spans, link.local_max_chapter),
    )


def describe_gap(gap: CodexGap) -> str:
    """A gap as people read it: "vol. 109–111, ch. 1135–1176"; "" when empty."""
    parts = []
    if gap.volumes:
        parts.append(f"vol. {format_spans(gap.volumes)}")
    if gap.chapters:
        parts.append(f"ch. {format_spans(gap.chapters)}")
    return ", ".join(parts)


def describe_owned(link: CodexLink) -> str:
    """What Codex owns, as people read it: "up to vol. 108, ch. 1134"."""
    parts = []
    if link.local_max_volume is not None:
        parts.append(f"vol. {format_number(link.local_max_volume)}")
    if link.local_max_chapter is not None:
        parts.append(f"ch. {format_number(link.local_max_chapter)}")
    return f"up to {', '.join(parts)}" if parts else "no counts"


def gap_payload(gap: CodexGap) -> dict[str, list[dict[str, int | float]]]:
    """A gap on the wire: `{"volumes": [{"start", "end"}], "chapters": [...]}`."""

    def spans(axis: tuple) -> list[dict[str, int | float]]:
        return [{"start": plain_number(start), "end": plain_number(end)} for start, end in axis]

    return {"volumes": spans(gap.volumes), "chapters": spans(gap.chapters)}


def codex_payload(series) -> dict | None:
    """The admin-only `codex` object of an API item; None when not on Codex."""
    link = link_of(series)
    if link is None:
        return None
    last_sweep_at = (
        series.codex_last_sweep_at
        if hasattr(series, "codex_last_sweep_at")  # `with_codex` pages: no query per item
        else last_synced_at()
    )
    synced_at = synced_at_of(link, last_sweep_at)
    return {
        "status": status_of(series),
        "codexSeriesUuid": str(link.codex_series_uuid),
        "url": series_url(link.codex_series_uuid),
        "linkKind": link.link_kind,
        "localMaxVolume": link.local_max_volume,
        "localMaxChapter": link.local_max_chapter,
        "volumesOwned": link.volumes_owned,
        "gap": gap_payload(gap_of(series)),
        "matchedProvider": link.matched_provider or None,
        "syncedAt": int(synced_at.timestamp()) if synced_at else None,
    }
