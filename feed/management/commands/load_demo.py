"""Load the demo catalog, metadata dump, releases and admin: `manage.py load_demo`.

The demo shows the whole pipeline: a hand-made import (the catalog's core), a
small MangaBaka dump in the real schema (`fixtures/mangabaka_demo_rows.json`)
installed as the metadata provider, then a Nyaa feed whose releases resolve
against both — releases for series the import lacks create them from the dump.

Safe to run again: the import updates series by external id, the dump is
re-installed whole, re-ingesting the same feed document changes nothing, and
an existing demo user is left alone.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from codex_sync import overlay
from devtools.mangabaka_dump import pack_dump, read_json_rows, write_dump
from feed.importer import import_series
from feed.models import Series
from feed.polling import ingest_document
from feed.sources.nyaa import FeedError
from follows.queries import follow
from metadata.mangabaka.refresh import RefreshFailed, refresh_dump

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
DEMO_SOURCE = "demo"
TRACKING_OFF_TITLE = "Naruto"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
# Followed by the demo admin, so the Wanted page shows follows beside behind series.
DEMO_FOLLOWS = ("Vinland Saga", "Dorohedoro")


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
            "--metadata-file",
            type=Path,
            default=FIXTURES_DIR / "mangabaka_demo_rows.json",
            help="MangaBaka dump rows to install (default: fixtures/mangabaka_demo_rows.json).",
        )
        parser.add_argument(
            "--no-metadata",
            action="store_true",
            help="Install no metadata dump: releases resolve against the imported catalog only.",
        )
        parser.add_argument(
            "--releases-file",
            type=Path,
            default=FIXTURES_DIR / "demo_releases.xml",
            help="Nyaa RSS document to ingest (default: fixtures/demo_releases.xml).",
        )

    def handle(
        self,
        *args,
        series_file: Path,
        releases_file: Path,
        metadata_file: Path,
        no_metadata: bool,
        **options,
    ):
        for path in (series_file, releases_file, *([] if no_metadata else [metadata_file])):
            if not path.is_file():
                raise CommandError(f"demo data not found: {path}")

        report = import_series(series_file)
        for error in report.errors:
            self.stderr.write(self.style.ERROR(error))
        self.stdout.write(
            f"Series: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.skipped} skipped."
        )

        if not no_metadata:
            self._install_dump(metadata_file)

        try:
            summary = ingest_document(releases_file.read_bytes(), source_name=DEMO_SOURCE)
        except FeedError as exc:
            raise CommandError(f"{releases_file}: {exc}") from None
        self.stdout.write(f"Releases: {summary.describe()}.")

        # The demo Codex library owns Naruto in full; muting its tracking shows
        # the fourth badge ("tracking off") beside owned, behind and owned?.
        muted = Series.objects.filter(canonical_title=TRACKING_OFF_TITLE)
        muted.update(ignore_completion=True)
        overlay.series_numbers_changed(muted.values_list("id", flat=True))

        user_model = get_user_model()
        admin = user_model.objects.filter(username=DEMO_USERNAME).first()
        if admin is not None:
            self.stdout.write(f"Admin user {DEMO_USERNAME!r} already exists (password unchanged).")
        else:
            admin = user_model.objects.create_user(
                username=DEMO_USERNAME,
                password=DEMO_PASSWORD,
                is_staff=True,
                is_superuser=True,
            )
            self.stdout.write(f"Created admin user {DEMO_USERNAME!r}.")
            for series in Series.objects.filter(canonical_title__in=DEMO_FOLLOWS):
                follow(admin.pk, series)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready. Log in at {reverse('login')} as {DEMO_USERNAME} / {DEMO_PASSWORD}."
            )
        )

    def _install_dump(self, rows_file: Path) -> None:
        """Pack the demo rows as MangaBaka publishes its dump, and install it."""
        work = Path(settings.DATA_DIR) / "demo-metadata"
        work.mkdir(parents=True, exist_ok=True)
        rows = write_dump(work / "series.sqlite", read_json_rows(rows_file))
        pack_dump(work / "series.sqlite", work / "series.sqlite.tar.gz")
        try:
            # The real dump's row-count floor (100,000) would refuse a demo of this size.
            result = refresh_dump(file=work / "series.sqlite.tar.gz", min_rows=1)
        except RefreshFailed as exc:
            raise CommandError(f"{rows_file}: demo metadata dump not installed: {exc}") from None
        self.stdout.write(
            f"Metadata: MangaBaka demo dump installed ({result.records} active series of {rows})."
        )
