"""The django-q2 schedules the feed wants: one poll per enabled source with a cron."""

from __future__ import annotations

from django.conf import settings

from tsundoku.schedules import ScheduleSpec

POLL_SCHEDULE_PREFIX = "poll-source:"
POLL_TASK = "feed.tasks.poll_source_task"


def source_schedules() -> list[ScheduleSpec]:
    """One CRON schedule per enabled `[[sources]]` entry that has a `cron`."""
    return [
        ScheduleSpec(
            name=f"{POLL_SCHEDULE_PREFIX}{source.name}",
            func=POLL_TASK,
            args=(source.name,),
            cron=source.cron,
        )
        for source in settings.TSUNDOKU.sources
        if source.enabled and source.cron
    ]
