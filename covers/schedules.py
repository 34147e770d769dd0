"""The cover cache's one schedule: the prefetch, when `covers.prefetch_cron` is set."""

from __future__ import annotations

from django.conf import settings

from tsundoku.schedules import ScheduleSpec

PREFIX = "covers-"


def cover_schedules() -> list[ScheduleSpec]:
    covers = settings.TSUNDOKU.covers
    if not covers["enabled"] or not covers["prefetch_cron"]:
        return []
    return [
        ScheduleSpec(
            name=f"{PREFIX}prefetch",
            func="covers.tasks.prefetch_covers_task",
            args=(),
            cron=covers["prefetch_cron"],
        )
    ]
