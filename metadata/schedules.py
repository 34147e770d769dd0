"""The MangaBaka dump refresh's CRON schedule, from `providers.mangabaka.refresh_cron`."""

from __future__ import annotations

from django.conf import settings

from tsundoku.schedules import ScheduleSpec

PREFIX = "metadata-refresh:"


def metadata_schedules() -> list[ScheduleSpec]:
    config = settings.TSUNDOKU.section("providers.mangabaka")
    if not config.get("enabled") or not config.get("refresh_cron"):
        return []
    return [
        ScheduleSpec(
            name=f"{PREFIX}mangabaka",
            func="metadata.tasks.scheduled_refresh",
            args=(),
            cron=config["refresh_cron"],
        )
    ]
