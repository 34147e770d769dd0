"""Show the volume and chapter spans read from a release title (SPEC §4.3)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from feed.spans import parse_spans


class Command(BaseCommand):
    help = (
        'Print the spans parsed from a release title as JSON: {"volumes": [[start, end], ...], '
        '"chapters": [[start, end], ...]}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("title", help="The release title, quoted.")
        parser.add_argument(
            "--file",
            action="append",
            dest="files",
            default=[],
            metavar="NAME",
            help="A file name inside the release (repeatable); its markers count too.",
        )

    def handle(self, *args, title: str, files: list[str], **options):
        self.stdout.write(json.dumps(parse_spans(title, files).to_json()))
