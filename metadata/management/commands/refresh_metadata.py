"""`manage.py refresh_metadata`: download, check and install MangaBaka's offline dump now."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from metadata.mangabaka.refresh import RefreshFailed, refresh_dump
from metadata.tasks import refresh_in_flight, update_catalog


class Command(BaseCommand):
    help = (
        "Download MangaBaka's dump (or read --file), validate it, build its indexes and "
        "install it. A bad dump never replaces the installed one; exits non-zero on failure."
    )

    def add_arguments(self, parser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--url", help="dump URL (default: providers.mangabaka.dump_url)")
        source.add_argument("--file", type=Path, help="a local series.sqlite.tar.gz")
        parser.add_argument(
            "--force", action="store_true", help="run even if another refresh looks in flight"
        )
        parser.add_argument(
            "--min-rows", type=int, help="override providers.mangabaka.min_dump_rows"
        )
        parser.add_argument(
            "--skip-catalog",
            action="store_true",
            help="install the dump only: do not refresh catalog series or retry waiting releases",
        )

    def handle(
        self,
        *args,
        url: str | None,
        file: Path | None,
        force: bool,
        min_rows,
        skip_catalog: bool,
        **options,
    ):
        running = refresh_in_flight()
        if running is not None and not force:
            raise CommandError(
                f"a refresh is already {running.outcome} (started {running.started_at:%H:%M}); "
                "use --force to run anyway"
            )
        bar = None
        progress = None
        if sys.stderr.isatty():
            bar = tqdm(unit="B", unit_scale=True, desc="MangaBaka dump", leave=False)

            def progress(done: int, total: int | None) -> None:
                bar.total = total
                bar.update(done - bar.n)

        try:
            result = refresh_dump(url=url, file=file, min_rows=min_rows, progress=progress)
        except RefreshFailed as exc:
            raise CommandError(f"MangaBaka dump not installed: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
        if result.warning:
            self.stderr.write(f"warning: {result.warning}")
        self.stdout.write(
            f"Installed MangaBaka dump {result.version[:12]}: {result.records:,} active series "
            f"of {result.rows:,} ({result.bytes_downloaded:,} bytes downloaded)"
        )
        if skip_catalog:
            return
        catalog = update_catalog()
        self.stdout.write(
            f"Catalog: {catalog['updated']} series updated, {catalog['unchanged']} unchanged; "
            f"{catalog['resolved']} waiting releases resolved."
        )
