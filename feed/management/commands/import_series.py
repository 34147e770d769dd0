"""Import catalog series from a JSON file: `manage.py import_series FILE`."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from feed.importer import import_series


class Command(BaseCommand):
    help = (
        "Create or update series from a JSON list of records or one record per line "
        "(canonicalTitle, alternateTitles, kind, status, year, description, coverUrl, "
        "totalVolumes, totalChapters, genres, externalIds). Records whose external ids "
        'exist update that series. Use "-" to read standard input.'
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help='Path to the JSON file, or "-" for standard input.')

    def handle(self, *args, file: str, **options):
        try:
            report = import_series(sys.stdin.buffer if file == "-" else file)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from None

        for error in report.errors:
            self.stderr.write(self.style.ERROR(error))
        self.stdout.write(
            f"Created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
            f"skipped {report.skipped}."
        )
        if report.retried is not None:
            retried = report.retried
            self.stdout.write(
                f"Matched {retried.examined} waiting release(s) again: {retried.resolved} "
                f"resolved, {retried.queued_for_review} queued for review, "
                f"{retried.unresolved} still unresolved."
            )
        if report.errors and not report.loaded:
            raise CommandError(f"nothing imported: {len(report.errors)} error(s)")
