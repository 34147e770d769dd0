"""Load the demo catalog, demo releases and a demo admin: `manage.py load_demo`.

Safe to run again: the import updates series by external id, re-ingesting the
same feed document changes nothing, and an existing demo user is left alone.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from feed.importer import import_series
from feed.models import Series
from feed.polling import ingest_document
from feed.sources.nyaa import FeedError

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
DEMO_SOURCE = "demo"
TRACKING_OFF_TITLE = "Naruto"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"


class Command(BaseCommand):
    help = (
        "Import fixtures/demo_series.json, ingest fixtures/demo_releases.xml as source "
        f'"{DEMO_SOURCE}", and create the admin user {DEMO_USERNAME} / {DEMO_PASSWORD} '
        "if it does not exist. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--series-file",
            type=Path,
            default=FIXTURES_DIR / "demo_series.json",
            help="Series to import (default: fixtures/demo_series.json).",
        )
        parser.add_argument(
            "--releases-file",
            type=Path,
            default=FIXTURES_DIR / "demo_releases.xml",
            help="Nyaa RSS document to ingest (default: fixtures/demo_releases.xml).",
        )

    def handle(self, *args, series_file: Path, releases_file: Path, **options):
        for path in (series_file, releases_file):
            if not path.is_file():
                raise CommandError(f"demo data not found: {path}")

        report = import_series(series_file)
        for error in report.errors:
            self.stderr.write(self.style.ERROR(error))
        self.stdout.write(
            f"Series: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.skipped} skipped."
        )

        try:
            summary = ingest_document(releases_file.read_bytes(), source_name=DEMO_SOURCE)
        except FeedError as exc:
            raise CommandError(f"{releases_file}: {exc}") from None
        self.stdout.write(f"Releases: {summary.describe()}.")

        # The demo Codex library owns Naruto in full; muting its tracking shows
        # the fourth badge ("tracking off") beside owned, behind and owned?.
        Series.objects.filter(canonical_title=TRACKING_OFF_TITLE).update(ignore_completion=True)

        user_model = get_user_model()
        if user_model.objects.filter(username=DEMO_USERNAME).exists():
            self.stdout.write(f"Admin user {DEMO_USERNAME!r} already exists (password unchanged).")
        else:
            user_model.objects.create_user(
                username=DEMO_USERNAME,
                password=DEMO_PASSWORD,
                is_staff=True,
                is_superuser=True,
            )
            self.stdout.write(f"Created admin user {DEMO_USERNAME!r}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready. Log in at {reverse('login')} as {DEMO_USERNAME} / {DEMO_PASSWORD}."
            )
        )
