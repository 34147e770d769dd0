"""Twenty admin writers during Codex sweeps on one SQLite file (issue 11's load).

    python -m benchmarks.bench_contention [--series 50000] [--writers 20] [--sweeps 2]

A catalog of N synthetic series and a simulated Codex with the same N series;
sweeps run back to back in a child process (their own connection, as the
worker's would be) while `--writers` threads send admin API writes (toggle a
series' completion tracking) through the whole Django stack. Any answer but
200 counts as an error; the issue's probe saw 0.1–0.4 % `{"error":"internal"}`
here before the busy timeout and the 503 mapping. `tests/test_sqlite_contention.py`
runs it at a bounded size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import ADMIN_TOKEN, CODEX_KEY, REPO, bench_environment, describe_latencies


def _environment(data_dir: Path, codex_url: str) -> dict[str, str]:
    env = bench_environment()
    env.update(
        TSUNDOKU_STORAGE__DATA_DIR=str(data_dir),
        TSUNDOKU_CODEX__BASE_URL=codex_url,
        TSUNDOKU_LOGGING__LEVEL="ERROR",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run(series: int, writers: int, sweeps: int, data_dir: Path) -> dict:
    """Run the load; the figures as a dict (errors, statuses, latencies, sweep outcomes)."""
    # This process only writes through the API; the sweeps' children get Codex's URL.
    # Its own environment is replaced, not merged: an inherited DATABASE_URL or
    # TSUNDOKU_* would point the writers at another database than the sweeps.
    for name in [name for name in os.environ if name.startswith("TSUNDOKU_")]:
        del os.environ[name]
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(_environment(data_dir, "http://127.0.0.1:9"))
    os.chdir(REPO)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from devtools.codex_simulator import SimulatorServer
    from devtools.synthetic import generate_library
    from feed.models import Series

    with SimulatorServer(
        library=generate_library(series, seed=0), api_key=CODEX_KEY, port=0
    ) as simulator:
        env = _environment(data_dir, simulator.base_url)
        _manage(env, "migrate", "--no-input", "-v0")
        _manage(env, "seed_synthetic", "--series", str(series), "--releases", "0")
        _manage(env, "codex_sync")  # links exist: every later sweep re-derives them

        ids = list(Series.objects.order_by("id").values_list("id", flat=True)[: writers * 50])
        connection.close()
        statuses: dict[int, int] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        done = threading.Event()

        def writer(number: int) -> None:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {ADMIN_TOKEN}")
            mine = ids[number::writers] or ids
            turn = 0
            try:
                while not done.is_set():
                    series_id = mine[turn % len(mine)]
                    started = time.perf_counter()
                    try:
                        status = client.put(
                            f"/api/v1/series/{series_id}/ignore-completion",
                            json.dumps({"ignore": turn % 2 == 0}),
                            content_type="application/json",
                        ).status_code
                    except Exception:  # counted as a failed write (status 0), never lost
                        status = 0
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
                        latencies.append(elapsed)
                    turn += 1
            finally:
                connection.close()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        outcomes = []
        started = time.perf_counter()
        try:
            for _ in range(sweeps):
                sweep = subprocess.run(
                    [sys.executable, "manage.py", "codex_sync"],
                    cwd=REPO,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                outcomes.append(sweep.stdout.strip() or sweep.stderr.strip()[-300:])
        finally:
            done.set()
            for thread in threads:
                thread.join()
        writes = sum(statuses.values())
        return {
            "series": series,
            "writers": writers,
            "sweeps": outcomes,
            "seconds": time.perf_counter() - started,
            "writes": writes,
            "statuses": statuses,
            "errors": writes - statuses.get(200, 0),
            "latency": describe_latencies(latencies) if latencies else "",
            "max_ms": max(latencies, default=0.0),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_contention")
    parser.add_argument("--series", type=int, default=50_000)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--sweeps", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tsundoku-contention-") as scratch:
        figures = run(args.series, args.writers, args.sweeps, Path(scratch))
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"SQLite contention: {figures['writers']} admin writers during "
        f"{len(figures['sweeps'])} sweeps of {figures['series']:,} series"
    )
    for outcome in figures["sweeps"]:
        print(f"  sweep: {outcome}")
    print(
        f"  {figures['writes']:,} writes in {figures['seconds']:.1f} s, "
        f"errors {figures['errors']} (target 0), statuses {figures['statuses']}"
    )
    print(f"  write latency: {figures['latency']}   max {figures['max_ms']:.0f} ms")


if __name__ == "__main__":
    main()
