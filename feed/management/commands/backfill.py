"""Walk a source's listing back in time: `manage.py backfill --source NAME --pages N`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from feed.listing import MAX_BACKFILL_PAGES, backfill_source
from feed.polling import PollSummary, UnknownSource, configured_source


class Command(BaseCommand):
    help = (
        "Ingest a source's HTML listing pages (?p=1, ?p=2, ...) so releases older than its "
        "feed reach the catalog. Safe to re-run: a post already stored is refreshed, never "
        "stored twice. Stops at the first page that fails, exiting non-zero."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", required=True, metavar="NAME")
        parser.add_argument("--pages", type=int, required=True, metavar="N")
        parser.add_argument("--start-page", type=int, default=1, metavar="P")

    def handle(self, *args, source: str, pages: int, start_page: int, **options):
        if not 1 <= pages <= MAX_BACKFILL_PAGES:
            raise CommandError(f"--pages must be between 1 and {MAX_BACKFILL_PAGES}")
        if start_page < 1:
            raise CommandError("--start-page must be 1 or more")
        try:
            config = configured_source(source)
        except UnknownSource as exc:
            raise CommandError(str(exc)) from None

        def progress(pages_done: int, summary: PollSummary) -> None:
            self.stdout.write(
                f"page {start_page + pages_done - 1} ({pages_done}/{pages}): "
                f"{summary.new} new, {summary.updated} updated so far"
            )

        summary = backfill_source(config, pages=pages, start_page=start_page, progress=progress)
        line = f"{config.name}: {summary.describe()}"
        if not summary.ok:
            raise CommandError(f"{line} (stopped there; pages before it are stored)")
        self.stdout.write(self.style.SUCCESS(line))
