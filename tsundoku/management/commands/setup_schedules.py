"""`manage.py setup_schedules`: make django-q2's schedules match the configuration.

Safe on every boot (`make run` runs it): each app describes what it wants,
`tsundoku.schedules.apply_schedules` creates, updates or removes rows under
that app's name prefix. A changed cron takes effect here, at the next boot.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from codex_sync.schedules import PREFIX as CODEX_PREFIX
from codex_sync.schedules import codex_schedules
from covers.schedules import PREFIX as COVERS_PREFIX
from covers.schedules import cover_schedules
from exports.schedules import PREFIX as EXPORTS_PREFIX
from exports.schedules import export_schedules
from feed.schedules import POLL_SCHEDULE_PREFIX, source_schedules
from metadata.schedules import PREFIX as METADATA_PREFIX
from metadata.schedules import metadata_schedules
from notifications.schedules import PREFIX as NOTIFICATIONS_PREFIX
from notifications.schedules import notification_schedules
from tsundoku.schedules import ScheduleSpec, apply_schedules


def wanted_schedules() -> list[tuple[str, str, list[ScheduleSpec]]]:
    """(label, name prefix, specs) for every app that schedules work."""
    return [
        ("source polls", POLL_SCHEDULE_PREFIX, source_schedules()),
        ("Codex sweep", CODEX_PREFIX, codex_schedules()),
        ("export cleanup", EXPORTS_PREFIX, export_schedules()),
        ("cover prefetch", COVERS_PREFIX, cover_schedules()),
        ("metadata dump refresh", METADATA_PREFIX, metadata_schedules()),
        ("notification digest", NOTIFICATIONS_PREFIX, notification_schedules()),
    ]


class Command(BaseCommand):
    help = "Create, update or remove the cron schedules described by the configuration."

    def handle(self, *args, **options) -> None:
        for label, prefix, specs in wanted_schedules():
            counts = apply_schedules(specs, prefix)
            crons = ", ".join(f"{spec.name} [{spec.cron}]" for spec in specs) or "none"
            self.stdout.write(
                f"{label}: {crons} — created {counts['created']}, updated {counts['updated']}, "
                f"removed {counts['removed']}, unchanged {counts['unchanged']}"
            )
