"""`manage.py build_mangabaka_dump`: a MangaBaka dump in the real schema (developer tooling)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from devtools import mangabaka_dump


class Command(BaseCommand):
    help = (
        "Write a series.sqlite.tar.gz (+ .sha1) in MangaBaka's dump schema, from synthetic "
        "rows (--rows N) or a JSON list of rows keyed by dump column names (--from-json)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="the .tar.gz to write")
        parser.add_argument("--rows", type=int, default=0, help="synthetic rows to generate")
        parser.add_argument("--from-json", type=Path, help="a JSON list of dump rows")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, out: Path, rows: int, from_json: Path | None, seed: int, **options):
        if not from_json and rows < 1:
            raise CommandError("give --rows N (N ≥ 1) or --from-json FILE")
        try:
            given = mangabaka_dump.read_json_rows(from_json) if from_json else []
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        start = max((int(row.get("id") or 0) for row in given), default=0)
        # A generator: 585,000 synthetic rows never sit in memory at once.
        source = itertools.chain(
            given,
            (
                dict(row, id=row["id"] + start)
                for row in mangabaka_dump.synthetic_rows(rows, seed=seed)
            ),
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as work:
            sqlite_path = Path(work) / mangabaka_dump.ARCHIVE_MEMBER
            try:
                count = mangabaka_dump.write_dump(sqlite_path, source)
            except (ValueError, TypeError) as exc:
                raise CommandError(f"{from_json or 'rows'}: {exc}") from None
            digest = mangabaka_dump.pack_dump(sqlite_path, out)
        self.stdout.write(f"Wrote {out} ({count:,} series, sha1 {digest})")
