"""The Codex sweep's CRON schedule, from `codex.sync_cron` (none → no schedule)."""

from __future__ import annotations

from django.conf import settings

from tsundoku.schedules import ScheduleSpec

PREFIX = "codex-sweep"


def codex_schedules() -> list[ScheduleSpec]:
    codex = settings.TSUNDOKU.codex
    if not codex["enabled"] or not codex["sync_cron"]:
        return []
    return [
        ScheduleSpec(
            name=PREFIX, func="codex_sync.tasks.scheduled_sweep", args=(), cron=codex["sync_cron"]
        )
    ]
