"""The Codex connection page's data: what the card, the tables and the status API show.

Shared by the page (`codex_sync.views`) and the status API (`codex_sync.api.views`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from codex_sync import overlay
from codex_sync.client import CodexInfo, without_credentials
from codex_sync.connection import ConnectionCheck
from codex_sync.lock import sweep_running
from codex_sync.matching import normalize_source
from codex_sync.models import (
    AuthState,
    CodexLink,
    ConnectionStatus,
    HealthCheck,
    SyncConflict,
    SyncOutcome,
    SyncRun,
    UnmatchedCodexSeries,
)
from codex_sync.sweep import close_orphaned_runs
from feed.catalog import ProviderResult, identify
from feed.models import Series
from metadata.providers import MetadataProvider
from tsundoku.logging import redact

RECENT_ROWS = 5
UNMATCHED_PAGE_SIZE = 25
# Conflicts are few in a tidy library; past this many the card points to the Django admin.
CONFLICTS_SHOWN = 50
ENABLE_HINT = (
    "Set codex.enabled = true, codex.base_url and codex.api_key (an API key of a Codex "
    "account with series:read) in tsundoku.toml, or TSUNDOKU_CODEX__ENABLED, "
    "TSUNDOKU_CODEX__BASE_URL and TSUNDOKU_CODEX__API_KEY in the environment, then restart."
)


def version_supported(version: str) -> bool | None:
    """Whether a Codex version serves the external index (>= 1.32.0); None when unknown.

    Only ever a warning: Codex's `/info` numbering may not follow its releases,
    and the sweep itself reports a missing route.
    """
    if not version:
        return None
    return CodexInfo(name="", version=version).supports_external_index


@dataclass(frozen=True)
class ConnectionOverview:
    """Everything the connection card and the status API show, read in a fixed number of queries."""

    enabled: bool
    base_url: str
    reachable: bool | None
    codex_name: str
    codex_version: str
    version_supported: bool | None
    auth_state: str
    auth_state_label: str
    last_preflight_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    linked_count: int
    fetched_count: int
    sweep_running: bool
    progress_pages: int
    progress_total_pages: int
    conflicts: int
    unmatched: int
    recent_sweeps: list[SyncRun]
    recent_checks: list[HealthCheck]

    @property
    def held_back(self) -> SyncRun | None:
        """The latest sweep, when it was held back (the card offers to apply it anyway)."""
        latest = self.recent_sweeps[0] if self.recent_sweeps else None
        return latest if latest and latest.outcome == SyncOutcome.HELD_BACK else None


def connection_overview() -> ConnectionOverview:
    """Read the connection's state now; stored error texts come back redacted."""
    status = ConnectionStatus.get()
    recent_sweeps = list(SyncRun.objects.order_by("-started_at", "-id")[:RECENT_ROWS])
    recent_checks = list(HealthCheck.objects.order_by("-checked_at", "-id")[:RECENT_ROWS])
    running = sweep_running()
    if not running and any(run.outcome == SyncOutcome.RUNNING for run in recent_sweeps):
        # No sweep holds the lock, so these runs' processes died (see sweep.close_orphaned_runs).
        close_orphaned_runs()
        recent_sweeps = list(SyncRun.objects.order_by("-started_at", "-id")[:RECENT_ROWS])
    for row in [*recent_sweeps, *recent_checks]:
        row.error = redact(row.error)
    return ConnectionOverview(
        enabled=overlay.enabled(),
        base_url=without_credentials(settings.TSUNDOKU.codex["base_url"]),
        reachable=status.reachable,
        codex_name=status.codex_name,
        codex_version=status.codex_version,
        version_supported=version_supported(status.codex_version),
        auth_state=status.auth_state,
        auth_state_label=AuthState(status.auth_state).label,
        last_preflight_at=status.last_preflight_at,
        last_success_at=status.last_success_at,
        last_error=redact(status.last_error),
        last_error_at=status.last_error_at,
        # Counted live: a hand-link counts at once, not after the next sweep.
        linked_count=CodexLink.objects.count(),
        fetched_count=status.fetched_count,
        sweep_running=running,
        progress_pages=status.progress_pages,
        progress_total_pages=status.progress_total_pages,
        conflicts=SyncConflict.objects.count(),
        unmatched=UnmatchedCodexSeries.objects.count(),
        recent_sweeps=recent_sweeps,
        recent_checks=recent_checks,
    )


def check_result(check: ConnectionCheck) -> ConnectionCheck:
    """A connection check fit to show: its message redacted."""
    return ConnectionCheck(
        reachable=check.reachable,
        auth_state=check.auth_state,
        codex_name=check.codex_name,
        codex_version=check.codex_version,
        message=redact(check.message),
    )


# --- the connection card -------------------------------------------------------


@dataclass(frozen=True)
class ExternalIdLink:
    source: str
    external_id: str
    url: str | None


@dataclass(frozen=True)
class UnmatchedRow:
    codex_series_uuid: str
    codex_url: str
    external_ids: list[ExternalIdLink]
    local_max_volume: int | None
    local_max_chapter: float | None
    volumes_owned: int | None
    # What the metadata provider calls the series its ids name (None: unknown there).
    provider_result: ProviderResult | None = None


@dataclass(frozen=True)
class ConflictRow:
    kind_label: str
    detail: str
    series: list[tuple[int, str]]
    codex: list[tuple[str, str]]
    chosen_series_id: int | None
    chosen_codex_series_uuid: str


def format_duration(milliseconds: int | None) -> str:
    """A sweep's duration as people read it: "850 ms", "4.2 s", "3 min 5 s"."""
    if milliseconds is None:
        return "—"
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _safe_url(url: object) -> str | None:
    # These URLs come from Codex's data: only http(s) may become a link.
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _provider_ids(row: UnmatchedCodexSeries) -> list[tuple[str, str]]:
    """A Codex series' external ids as `(provider token, id)`, unknown sources left out."""
    pairs = []
    for ref in row.external_ids:
        if not isinstance(ref, dict):
            continue
        token = normalize_source(str(ref.get("source", "")))
        if token:
            pairs.append((token, str(ref.get("externalId", ""))))
    return pairs


def unmatched_rows(
    rows: list[UnmatchedCodexSeries], provider: MetadataProvider | None = None
) -> list[UnmatchedRow]:
    """The page's rows; with a provider, each names the series its external ids point at."""
    identified: list[ProviderResult | None] = [None] * len(rows)
    if provider is not None:
        identified = identify(provider, [_provider_ids(row) for row in rows])
    return [
        UnmatchedRow(
            codex_series_uuid=str(row.codex_series_uuid),
            codex_url=overlay.series_url(row.codex_series_uuid),
            external_ids=[
                ExternalIdLink(
                    source=str(ref.get("source", "")),
                    external_id=str(ref.get("externalId", "")),
                    url=_safe_url(ref.get("externalUrl")),
                )
                for ref in row.external_ids
                if isinstance(ref, dict)
            ],
            local_max_volume=row.local_max_volume,
            local_max_chapter=row.local_max_chapter,
            volumes_owned=row.volumes_owned,
            provider_result=result,
        )
        for row, result in zip(rows, identified, strict=True)
    ]


def conflict_rows(conflicts: list[SyncConflict]) -> list[ConflictRow]:
    series_ids = {int(series_id) for conflict in conflicts for series_id in conflict.series_ids}
    titles = dict(Series.objects.filter(pk__in=series_ids).values_list("pk", "canonical_title"))
    return [
        ConflictRow(
            kind_label=conflict.get_kind_display(),
            detail=conflict.detail,
            series=[
                (int(series_id), titles.get(int(series_id), f"Series {series_id} (deleted)"))
                for series_id in conflict.series_ids
            ],
            codex=[(str(uuid), overlay.series_url(uuid)) for uuid in conflict.codex_series_uuids],
            chosen_series_id=conflict.chosen_series_id,
            chosen_codex_series_uuid=conflict.chosen_codex_series_uuid,
        )
        for conflict in conflicts
    ]
