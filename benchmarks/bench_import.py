"""Import benchmark: `import_series` of N records, two external ids each, into an empty catalog.

Runs in a child process on a throwaway SQLite database (the benchmark
catalog stays as it is). Times the first import (every series new), the
same file again (every series unchanged) and a file where every record
changes a field, and checks every hundredth record's deliberate error is
reported by its line.

    python -m benchmarks.bench_import [series_count]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO, bench_environment

TARGET_SECONDS = 15
BAD_EVERY = 100  # every hundredth record carries a bad year: reported, skipped


def write_records(path: Path, count: int, *, description: str) -> None:
    with path.open("w") as stream:
        for number in range(1, count + 1):
            record = {
                "canonicalTitle": f"Imported Series {number:06d}",
                "alternateTitles": [f"インポート {number}"],
                "kind": ("manga", "manhwa", "novel")[number % 3],
                "status": ("ongoing", "completed", "hiatus")[number % 3],
                "year": 1980 + number % 45 if number % BAD_EVERY else "soon",
                "description": description,
                "genres": ["Action", "Drama"],
                "externalIds": {"mangabaka": str(500000 + number), "anilist": str(number)},
            }
            stream.write(json.dumps(record) + "\n")


def child(count: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from feed.importer import import_series
    from feed.models import ExternalId, Series

    with tempfile.TemporaryDirectory(prefix="tsundoku-bench-import-") as scratch:
        first, changed = Path(scratch) / "first.jsonl", Path(scratch) / "changed.jsonl"
        write_records(first, count, description="First description.")
        write_records(changed, count, description="Second description.")
        runs = []
        for label, path in (("first import", first), ("same file", first), ("changed", changed)):
            started = time.perf_counter()
            report = import_series(path)
            seconds = time.perf_counter() - started
            bad = count // BAD_EVERY
            labels = {error.split(" (")[0] for error in report.errors}
            reported = sum(f"line {n}" in labels for n in range(BAD_EVERY, count + 1, BAD_EVERY))
            runs.append(
                {
                    "label": label,
                    "seconds": seconds,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "skipped": report.skipped,
                    "errors_by_line": f"{reported}/{bad}",
                }
            )
        runs.append({"series": Series.objects.count(), "ids": ExternalId.objects.count()})
    print(json.dumps(runs))


def run(count: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="tsundoku-bench-") as data_dir:
        env = {**bench_environment(), "TSUNDOKU_STORAGE__DATA_DIR": data_dir}
        process = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_import", "--child", str(count)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    *runs, totals = json.loads(process.stdout.strip().splitlines()[-1])
    lines = [
        f"import_series: {count:,} records, 2 external ids each, JSON lines, empty catalog;"
        f" load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}"
    ]
    for result in runs:
        lines.append(
            f"  {result['label']:<13} {result['seconds']:6.2f} s (target ≤ {TARGET_SECONDS} s)"
            f"  created {result['created']:,} updated {result['updated']:,}"
            f" unchanged {result['unchanged']:,} skipped {result['skipped']:,}"
            f" (bad records reported by line: {result['errors_by_line']})"
        )
    lines.append(f"  catalog afterwards: {totals['series']:,} series, {totals['ids']:,} ids")
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]))
    else:
        print("\n".join(run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
