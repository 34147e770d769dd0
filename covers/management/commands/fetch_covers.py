"""`manage.py fetch_covers`: warm the cover cache by hand.

Fetches covers not cached yet, most recently active series first, into the
cache's free space (the same work as the `covers.prefetch_cron` schedule),
and prints what happened.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from covers.cache import prefetch_covers


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Fetch covers that are not cached yet into the cover cache's free space."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=_positive,
            default=None,
            help="download at most N covers (default: until every cover is cached or the "
            "cache is full)",
        )

    def handle(self, *args, limit: int | None, **options) -> None:
        if not settings.TSUNDOKU.covers["enabled"]:
            raise CommandError("covers.enabled is false: there is no cover cache to warm.")
        summary = prefetch_covers(limit)
        line = (
            f"fetched {summary.fetched}, failed {summary.failed}, "
            f"already cached {summary.already_cached}, "
            f"waiting after a failure {summary.waiting_after_failure}, "
            f"evicted {summary.evicted}"
        )
        if summary.stopped:
            line += f" (stopped: {summary.stopped})"
        self.stdout.write(line)
