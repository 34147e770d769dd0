"""The digest's schedule, when notification targets are configured."""

from __future__ import annotations

from django.conf import settings

from tsundoku.schedules import ScheduleSpec

PREFIX = "notifications-"


def notification_schedules() -> list[ScheduleSpec]:
    config = settings.TSUNDOKU.notifications
    if not config["urls"] or not config["digest_cron"]:
        return []
    return [
        ScheduleSpec(
            name=f"{PREFIX}digest",
            func="notifications.tasks.digest_task",
            args=(),
            cron=config["digest_cron"],
        )
    ]
