"""The exports' one schedule: the daily retention cleanup."""

from __future__ import annotations

from tsundoku.schedules import ScheduleSpec

PREFIX = "exports-"
# Daily, at a quiet hour. Downloads already refuse a file past its expiry, so
# the cleanup only has to reclaim disk, not enforce retention to the minute.
CLEANUP_CRON = "17 3 * * *"


def export_schedules() -> list[ScheduleSpec]:
    return [
        ScheduleSpec(
            name=f"{PREFIX}cleanup",
            func="exports.tasks.cleanup_exports_task",
            args=(),
            cron=CLEANUP_CRON,
        )
    ]
