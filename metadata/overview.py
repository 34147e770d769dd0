"""What the Metadata page and its JSON status show: the installed dump, refreshes, the API.

One function, `dump_overview()`, feeds both the page and `status.json`, so the
page and the poller never disagree. It never carries the API key: only
whether one is set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from metadata.mangabaka.refresh import PROVIDER, dump_path, mangabaka_config
from metadata.models import DumpRefresh, RefreshOutcome
from metadata.tasks import refresh_in_flight

RECENT_REFRESHES = 10


@dataclass(frozen=True)
class DumpOverview:
    enabled: bool
    installed: bool
    dump_path: str
    size_bytes: int | None
    installed_at: datetime | None
    version: str
    records: int | None
    api_fallback: bool
    api_base_url: str
    api_key_set: bool
    refresh_cron: str | None
    dump_url: str
    running: DumpRefresh | None
    last: DumpRefresh | None

    def as_json(self) -> dict[str, Any]:
        data = {
            key: value
            for key, value in asdict(self).items()
            if key not in {"running", "last", "installed_at"}
        }
        data["installed_at"] = self.installed_at.isoformat() if self.installed_at else None
        data["running"] = _refresh_json(self.running)
        data["last"] = _refresh_json(self.last)
        return data


def _refresh_json(row: DumpRefresh | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.id,
        "outcome": row.outcome,
        "phase": row.phase,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "bytes_downloaded": row.bytes_downloaded,
        "bytes_total": row.bytes_total,
        "percent": row.percent,
        "records": row.records,
        "version": row.version,
        "warning": row.warning,
        "error": row.error,
    }


def dump_overview() -> DumpOverview:
    """The state of the MangaBaka dump and its refreshes (three small queries)."""
    config = mangabaka_config()
    path = dump_path()
    stat = path.stat() if path.is_file() else None
    refreshes = DumpRefresh.objects.filter(provider=PROVIDER)
    running = refresh_in_flight()
    last = refreshes.exclude(outcome__in=[RefreshOutcome.QUEUED, RefreshOutcome.RUNNING]).first()
    installed = refreshes.filter(outcome=RefreshOutcome.SUCCEEDED).first() if stat else None
    return DumpOverview(
        enabled=config["enabled"],
        installed=stat is not None,
        dump_path=str(path),
        size_bytes=stat.st_size if stat else None,
        installed_at=installed.finished_at if installed else None,
        version=installed.version if installed else "",
        records=installed.records if installed else None,
        api_fallback=config["api_fallback"],
        api_base_url=config["api_base_url"],
        api_key_set=bool(config["api_key"]),
        refresh_cron=config["refresh_cron"],
        dump_url=config["dump_url"],
        running=running,
        last=last,
    )


def recent_refreshes() -> list[DumpRefresh]:
    return list(DumpRefresh.objects.filter(provider=PROVIDER)[:RECENT_REFRESHES])
