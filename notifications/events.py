"""What is worth a notification, read from what the other apps already store.

`collect_events` looks at the catalog, the Codex sweep history, the source
states and the metadata refreshes, and records each new thing once as a
`NotificationEvent` (its `key` is unique, so a second look — another poll,
a restart — adds nothing). Reading state rather than hooking into each
pipeline keeps those pipelines free of notification code.

Release events cover series followed by an admin (a staff user) or behind
on Codex: the targets are the operator's, so a reader's follows — private
to them — never reach them (readers subscribe to their own Atom feed).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q

from codex_sync.models import ConnectionStatus, SyncOutcome, SyncRun
from codex_sync.overlay import describe_gap, fills_of, with_codex
from codex_sync.status import CodexStatus
from feed.models import Release, Resolution, Series, SourceState
from follows.models import Follow
from metadata.models import DumpRefresh, RefreshOutcome
from notifications.models import (
    EventKind,
    NotificationCursor,
    NotificationEvent,
    SourceFailureStreak,
)
from tsundoku.logging import redact


@dataclass(frozen=True)
class Collected:
    """How many new events one look recorded, by kind."""

    releases: int = 0
    codex_auth: int = 0
    sources: int = 0
    metadata: int = 0

    @property
    def total(self) -> int:
        return self.releases + self.codex_auth + self.sources + self.metadata


def record_event(key: str, kind: str, title: str, detail: str = "", **fields) -> bool:
    """Record an event unless one with this key exists; True when it is new."""
    try:
        with transaction.atomic():
            NotificationEvent.objects.create(
                key=key, kind=kind, title=title, detail=redact(detail), **fields
            )
    except IntegrityError:
        return False
    return True


def collect_events() -> Collected:
    """Record every new event; safe to call as often as wanted."""
    return Collected(
        releases=_release_events(),
        codex_auth=_codex_auth_event(),
        sources=_source_events(),
        metadata=_metadata_events(),
    )


def _release_events() -> int:
    """New resolved releases of a series an admin follows or Codex is behind on."""
    newest = Release.objects.aggregate(newest=Max("id"))["newest"] or 0
    cursor, created = NotificationCursor.objects.get_or_create(
        pk=NotificationCursor.SINGLETON_ID, defaults={"last_release_id": newest}
    )
    if created or newest <= cursor.last_release_id:
        # The first look starts from now: an install never announces its history.
        return 0
    staff_follows = Follow.objects.filter(series=OuterRef("pk"), user__is_staff=True)
    wanted_series = with_codex(Series.objects.all()).filter(
        Q(codex_status=CodexStatus.BEHIND) | Q(Exists(staff_follows))
    )
    releases = (
        Release.objects.filter(
            id__gt=cursor.last_release_id,
            id__lte=newest,
            resolution=Resolution.RESOLVED,
            series__in=wanted_series.values("pk"),
        )
        .select_related("series__codex_link")
        .order_by("id")
    )
    recorded = 0
    for release in releases:
        fills = describe_gap(fills_of(release, release.series))
        detail = f"{release.series.canonical_title}" + (f" · fills {fills}" if fills else "")
        recorded += record_event(
            f"release:{release.pk}",
            EventKind.RELEASE,
            release.title,
            detail,
            series_id=release.series_id,
        )
    NotificationCursor.objects.filter(pk=cursor.pk).update(last_release_id=newest)
    return recorded


def _codex_auth_event() -> int:
    """One event per run of sweeps refused by Codex (until a sweep succeeds again)."""
    latest = SyncRun.objects.exclude(outcome=SyncOutcome.RUNNING).first()
    if latest is None or latest.outcome != SyncOutcome.AUTH_FAILED:
        return 0
    last_good = (
        SyncRun.objects.filter(outcome=SyncOutcome.SUCCESS).values_list("id", flat=True).first()
    )
    status = ConnectionStatus.get()
    return int(
        record_event(
            f"codex-auth:after-{last_good or 0}",
            EventKind.CODEX_AUTH,
            "Codex refused tsundoku's API key",
            status.get_auth_state_display() + (f": {latest.error}" if latest.error else ""),
        )
    )


def _source_events() -> int:
    """A source whose last `source_failures` polls all failed: one event per streak."""
    threshold = settings.TSUNDOKU.notifications["source_failures"]
    recorded = 0
    streaks = {streak.name: streak for streak in SourceFailureStreak.objects.all()}
    for state in SourceState.objects.all():
        streak = streaks.get(state.name) or SourceFailureStreak(name=state.name)
        if state.last_polled_at is None or state.last_polled_at == streak.last_polled_at:
            continue
        failed = bool(state.last_error)
        streak.failures = streak.failures + 1 if failed else 0
        streak.last_polled_at = state.last_polled_at
        if streak.failures == 1:
            streak.streak_started_at = state.last_polled_at
        streak.save()
        if failed and streak.failures >= threshold:
            recorded += record_event(
                f"source-failing:{state.name}:{streak.streak_started_at.isoformat()}",
                EventKind.SOURCE_FAILING,
                f"Release source {state.name} failed {streak.failures} polls in a row",
                state.last_error,
            )
    return recorded


def _metadata_events() -> int:
    """Each failed metadata dump refresh."""
    recorded = 0
    for refresh in DumpRefresh.objects.filter(outcome=RefreshOutcome.FAILED).order_by("-id")[:20]:
        recorded += record_event(
            f"metadata-refresh:{refresh.pk}",
            EventKind.METADATA_REFRESH,
            f"Metadata refresh ({refresh.provider}) failed",
            refresh.error,
        )
    return recorded
