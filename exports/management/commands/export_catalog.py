"""`manage.py export_catalog`: write an export straight to a file, for scripts and cron.

Runs in the foreground (no job row, no worker) with the same pipeline, fields
and filters as the API. It acts as the admin, so ownership fields and the
`--codex-status` filter are available. The file appears only when complete:
it is written beside the target and renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exports.fields import PRESET_LABELS, UnknownFields
from exports.models import ExportFormat, ExportType
from exports.pipeline import InvalidExport, build_spec, write_export
from feed.queries import SORTS


def _comma_separated(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


class Command(BaseCommand):
    help = (
        "Export the catalog to a file (series, releases or both; JSON, CSV or Markdown), "
        "scoped by the feed's filters. Acts as the admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--type", dest="export_type", choices=ExportType.values, default="series"
        )
        parser.add_argument(
            "--format", dest="export_format", choices=ExportFormat.values, default="json"
        )
        parser.add_argument(
            "--fields",
            action="append",
            help="Comma-separated field keys (repeatable); default: every field. "
            "GET /api/v1/exports/fields lists them.",
        )
        parser.add_argument("--preset", choices=list(PRESET_LABELS), help="Instead of --fields.")
        parser.add_argument("--q", default="", help="Search titles, as the feed's search box.")
        parser.add_argument("--kind", action="append", help="Kind(s), comma-separated.")
        parser.add_argument("--status", action="append", help="Publication status(es).")
        parser.add_argument("--has-releases", choices=["true", "false"])
        parser.add_argument(
            "--codex-status",
            action="append",
            help="Codex status(es): any, complete, behind, present, ignored, missing.",
        )
        parser.add_argument("--sort", choices=list(SORTS))
        parser.add_argument("--order", choices=["asc", "desc"])
        parser.add_argument("-o", "--output", required=True, help="The file to write.")

    def handle(self, *args, **options) -> None:
        filters = {
            "q": options["q"],
            "kind": _comma_separated(options["kind"]),
            "status": _comma_separated(options["status"]),
            "hasReleases": options["has_releases"],
            "codexStatus": _comma_separated(options["codex_status"]),
            "sort": options["sort"],
            "order": options["order"],
        }
        try:
            spec = build_spec(
                options["export_type"],
                options["export_format"],
                _comma_separated(options["fields"]) if options["fields"] else None,
                {key: value for key, value in filters.items() if value},
                is_admin=True,
                preset=options["preset"],
            )
        except (InvalidExport, UnknownFields) as exc:
            raise CommandError(str(exc)) from exc

        output = Path(options["output"])
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as stream:
                rows = write_export(spec, stream)
            os.replace(partial, output)
        except OSError as exc:
            raise CommandError(f"Could not write {output}: {exc.strerror or exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"Wrote {rows} row{'s' if rows != 1 else ''} to {output}.")
