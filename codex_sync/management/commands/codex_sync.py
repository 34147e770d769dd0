"""`manage.py codex_sync`: run one Codex sweep now, in this process, and report it.

A progress bar (pages fetched of total) shows on a terminal only, so cron
mail and logs get just the one-line summary. The exit status is non-zero
unless the sweep succeeded, so a wrapper script can tell.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from codex_sync import overlay
from codex_sync.models import SyncOutcome, SyncTrigger
from codex_sync.sweep import SweepResult, run_sweep
from tsundoku.logging import redact


class PageProgress:
    """A tqdm bar over the external-index pages, created when the total is known."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None

    def __call__(self, pages_done: int, total_pages: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = tqdm(total=total_pages, unit="page", desc="Codex external index")
        self.bar.total = max(total_pages, pages_done)
        self.bar.update(pages_done - self.bar.n)
        if pages_done >= total_pages:
            # Finish the line now, before the sweep logs its outcome under it.
            self.bar.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def summary(result: SweepResult) -> str:
    return (
        f"Codex sweep {result.outcome}: fetched {result.fetched}, linked {result.linked}, "
        f"new {result.new_links}, removed {result.removed_links}, "
        f"conflicts {result.conflicts}, unmatched {result.unmatched} "
        f"in {result.duration_ms / 1000:.1f}s"
    )


class Command(BaseCommand):
    help = "Run one Codex sweep now (the same sweep as the schedule and the Refresh button)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--apply-anyway",
            action="store_true",
            help=(
                "Apply the index even if it would remove most automatic links "
                "(a sweep that was held back)."
            ),
        )

    def handle(self, *args, **options) -> None:
        if not overlay.enabled():
            raise CommandError(overlay.DISABLED_MESSAGE)
        # tqdm draws on stderr; draw only when a person is watching the terminal.
        progress = PageProgress(enabled=self.stdout.isatty() and self.stderr.isatty())
        try:
            result = run_sweep(
                SyncTrigger.MANUAL, on_progress=progress, apply_anyway=options["apply_anyway"]
            )
        finally:
            progress.close()
        if result.skipped:
            raise CommandError("Codex sweep skipped: another sweep is running.")
        self.stdout.write(summary(result))
        if result.outcome != SyncOutcome.SUCCESS:
            raise CommandError(
                f"Codex sweep did not succeed ({result.outcome}): {redact(result.error)}"
            )
