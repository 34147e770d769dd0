"""`make bench`: feed/API latency, the Codex sweep and exports at 100,000 series.

    python -m benchmarks [--series 100000] [--releases 500000] [--only feed,sweep,exports,import]
    python -m benchmarks metadata [--rows 585000]   # the MangaBaka dump alone

Builds (once, then reuses) a synthetic catalog in ./data/bench with
`seed_synthetic`, then prints figures. Targets are printed beside the
figures; benchmarks report, tests assert.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.common import manage, setup_django

PARTS = ("feed", "sweep", "exports", "import")


def main_metadata(argv: list[str]) -> None:
    """`python -m benchmarks metadata`: the MangaBaka dump refresh and search, alone."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks metadata")
    parser.add_argument("--rows", type=int, default=585_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    setup_django()
    manage("migrate", "--no-input", "-v0")
    from benchmarks import bench_metadata

    report = bench_metadata.run(args.rows, args.queries)
    print()
    print("\n".join(report))


def ensure_catalog(series: int, releases: int) -> None:
    manage("migrate", "--no-input", "-v0")
    from feed.models import Release, Series

    if Series.objects.count() == series and Release.objects.count() == releases:
        print(f"Reusing the catalog in data/bench: {series:,} series, {releases:,} releases")
        return
    started = time.perf_counter()
    manage("seed_synthetic", "--series", str(series), "--releases", str(releases), "--clear")
    seconds = time.perf_counter() - started
    print(f"Seeded {series:,} series and {releases:,} releases in {seconds:.0f} s")


def main() -> None:
    if sys.argv[1:2] == ["metadata"]:
        main_metadata(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=500_000)
    parser.add_argument("--only", default=",".join(PARTS))
    args = parser.parse_args()
    parts = [part.strip() for part in args.only.split(",") if part.strip()]

    setup_django()
    ensure_catalog(args.series, args.releases)
    report: list[str] = []
    if "sweep" in parts:
        from benchmarks import bench_sweep

        report += bench_sweep.run(args.series)
    if "feed" in parts:
        # After the sweep, so the admin figures include the Codex overlay join.
        from benchmarks import bench_feed

        report += bench_feed.run()
    if "exports" in parts:
        from benchmarks import bench_exports

        report += bench_exports.run(args.series)
    if "import" in parts:
        from benchmarks import bench_import

        report += bench_import.run(args.series)
    print()
    print("\n".join(report))


if __name__ == "__main__":
    main()
