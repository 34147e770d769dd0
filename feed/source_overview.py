"""What the Sources page shows: each configured source with its state, schedule and runs.

Sources are defined in the TOML file; their state (`SourceState`) and their
schedule (django-q2 `Schedule`) live in the database. This joins the three in
two queries however many sources there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django_q.models import Schedule

from feed.models import SourceState
from feed.schedules import POLL_SCHEDULE_PREFIX
from tsundoku.config import SourceConfig

# The summary counts a run reports, in the order the page shows them, with their labels.
COUNTS = {
    "fetched": "fetched",
    "new": "new",
    "updated": "updated",
    "resolved": "resolved",
    "queued_for_review": "queued for review",
    "skipped": "skipped",
    "enriched": "detail pages read",
    "detail_failed": "detail pages failed",
}


@dataclass(frozen=True)
class SourceRow:
    """One source as the Sources page and its status JSON describe it."""

    config: SourceConfig
    state: SourceState | None
    next_run: datetime | None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def last_polled_at(self) -> datetime | None:
        return self.state.last_polled_at if self.state else None

    @property
    def last_success_at(self) -> datetime | None:
        return self.state.last_success_at if self.state else None

    @property
    def last_error(self) -> str:
        return self.state.last_error if self.state else ""

    @property
    def outcome(self) -> str:
        """ "never polled", "ok" or "failed", from the last poll."""
        if self.last_polled_at is None:
            return "never polled"
        return "failed" if self.last_error else "ok"

    @property
    def counts(self) -> dict[str, int]:
        """The last successful poll's counts by summary key (0 for a count it lacks)."""
        summary = self.state.last_summary if self.state else {}
        return {name: summary.get(name, 0) for name in COUNTS}

    @property
    def labelled_counts(self) -> list[tuple[str, int]]:
        return [(COUNTS[name], count) for name, count in self.counts.items()]

    @property
    def running(self) -> dict | None:
        if self.state is None or not self.state.running_action:
            return None
        return {
            "action": self.state.running_action,
            "since": self.state.running_since.isoformat() if self.state.running_since else None,
            **self.state.progress,
        }

    @property
    def history(self) -> list[dict]:
        runs = self.state.history if self.state else []
        return [{**run, "started": parse_datetime(run.get("started_at", "") or "")} for run in runs]

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.config.kind,
            "enabled": self.config.enabled,
            "outcome": self.outcome,
            "lastPolledAt": _iso(self.last_polled_at),
            "lastSuccessAt": _iso(self.last_success_at),
            "lastError": self.last_error or None,
            "counts": self.counts,
            "nextRun": _iso(self.next_run),
            "running": self.running,
        }


def source_rows() -> list[SourceRow]:
    """Every configured source, in config order, with its state and next scheduled poll."""
    sources = settings.TSUNDOKU.sources
    names = [source.name for source in sources]
    states = {state.name: state for state in SourceState.objects.filter(name__in=names)}
    next_runs = dict(
        Schedule.objects.filter(
            name__in=[f"{POLL_SCHEDULE_PREFIX}{name}" for name in names]
        ).values_list("name", "next_run")
    )
    return [
        SourceRow(
            config=source,
            state=states.get(source.name),
            next_run=next_runs.get(f"{POLL_SCHEDULE_PREFIX}{source.name}")
            if source.enabled and source.cron
            else None,
        )
        for source in sources
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
