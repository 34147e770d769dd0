"""Poll the configured release sources now: `manage.py poll_sources [--source NAME]`."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feed.polling import UnknownSource, configured_source, poll_source


class Command(BaseCommand):
    help = (
        "Fetch every enabled [[sources]] feed (or the ones named with --source), store new "
        "releases and match them to series. Exits non-zero if any source failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            action="append",
            dest="sources",
            metavar="NAME",
            help="Poll only this source (repeatable); disabled sources may be named too.",
        )

    def handle(self, *args, sources: list[str] | None = None, **options):
        try:
            targets = (
                [configured_source(name) for name in sources]
                if sources
                else [source for source in settings.TSUNDOKU.sources if source.enabled]
            )
        except UnknownSource as exc:
            raise CommandError(str(exc)) from None
        if not targets:
            self.stdout.write("No enabled sources are configured ([[sources]] in the config file).")
            return

        failed = []
        for source in targets:
            summary = poll_source(source)
            line = f"{source.name}: {summary.describe()}"
            if summary.ok:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                self.stderr.write(self.style.ERROR(line))
                failed.append(source.name)
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(targets)} source(s) failed: {', '.join(failed)}"
            )
