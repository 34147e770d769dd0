"""The sweep at scale: 100,000 Codex series against 100,000 catalog series on loopback.

Figures: sweep wall time; the time to fetch the same pages with no database
work at all; their ratio (how much the matching and writing add on top of the
unavoidable HTTP); peak RSS; HTTP requests (must be pages + 1); SQL queries
(must not grow with N).

Each measurement runs in a fresh child process so its peak RSS is its own,
and the simulator runs in another process so its memory is not counted.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import urllib.request

from benchmarks.common import CODEX_KEY, CODEX_PORT, REPO, bench_environment

BASE_URL = f"http://127.0.0.1:{CODEX_PORT}"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_simulator(series_count: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "codex_simulator",
            "--generate",
            str(series_count),
            "--port",
            str(CODEX_PORT),
            "--api-key",
            CODEX_KEY,
        ],
        cwd=REPO,
        env=bench_environment(),
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{BASE_URL}/api/v1/info", timeout=1).read()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the Codex simulator did not start")


def _simulator_stats(reset: bool = False) -> dict:
    request = urllib.request.Request(
        f"{BASE_URL}/__sim__/stats", method="DELETE" if reset else "GET"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else {}


RUNS = 3  # medians of three: a shared 2-core machine is noisy


def _child(mode: str) -> dict:
    process = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_sweep", mode],
        cwd=REPO,
        env=bench_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(process.stdout.strip().splitlines()[-1])


def child_fetch() -> dict:
    """Fetch every page with the real client and no database work."""
    from codex_sync.client import CodexClient

    baseline = _peak_rss_mb()
    client = CodexClient(BASE_URL, CODEX_KEY, timeout_seconds=60)
    started = time.perf_counter()
    client.get_app_info()
    items = client.fetch_full_index()
    return {
        "seconds": time.perf_counter() - started,
        "items": len(items),
        "peak_rss_mb": _peak_rss_mb(),
        "baseline_rss_mb": baseline,
    }


def child_sweep(*, fresh: bool = False) -> dict:
    """One full sweep (preflight, fetch, match, persist) with SQL queries counted.

    `fresh` empties the link table first (untimed) so every link is new.
    """
    from benchmarks.common import setup_django

    setup_django()
    from django.db import connection
    from django.db.backends.signals import connection_created

    from codex_sync.models import CodexLink
    from codex_sync.sweep import run_sweep

    if fresh:
        CodexLink.objects.all().delete()

    # Count statements without keeping their text: CaptureQueriesContext would
    # hold every multi-megabyte JSON parameter and inflate the RSS we measure.
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    def count_on_new_connection(sender, connection, **kwargs):
        # The sweep reads the catalog on a second thread, with its own connection.
        connection.execute_wrappers.append(count)

    connection_created.connect(count_on_new_connection)
    if connection.connection is not None:  # already open: the signal has fired for it
        connection.execute_wrappers.append(count)
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    result = run_sweep("manual")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "outcome": result.outcome,
        "error": result.error,
        "fetched": result.fetched,
        "linked": result.linked,
        "new": result.new_links,
        "conflicts": result.conflicts,
        "unmatched": result.unmatched,
        "pages": result.pages,
        "queries": statements,
        "peak_rss_mb": _peak_rss_mb(),
        "baseline_rss_mb": baseline,
    }


def queries_at(series_count: int) -> int:
    """SQL queries of one sweep against a library of this size (to show they don't grow)."""
    simulator = start_simulator(series_count)
    try:
        return _child("sweep")["queries"]
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)


def run(series_count: int) -> list[str]:
    lines = [f"Codex sweep: {series_count:,} Codex series vs the catalog, simulator on loopback"]
    simulator = start_simulator(series_count)
    try:
        fetches = []
        for _ in range(RUNS):
            _simulator_stats(reset=True)
            fetches.append(_child("fetch"))
        fetch_requests = _simulator_stats()["total"]
        fetch = _median(fetches)
        sweeps = []
        for label, mode, runs in (
            ("first sweep (every link new)", "fresh-sweep", 1),
            ("re-sweep (links exist)", "sweep", RUNS),
        ):
            results = []
            for _ in range(runs):
                _simulator_stats(reset=True)
                result = _child(mode)
                result["requests"] = _simulator_stats()["total"]
                results.append(result)
            sweeps.append((label, _median(results)))
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)

    lines.append(
        f"  fetch only (no DB, median of {RUNS}): {fetch['seconds']:.2f} s, "
        f"{fetch['items']:,} series, {fetch_requests} requests, "
        f"peak RSS {fetch['peak_rss_mb']:.0f} MB"
    )
    for label, sweep in sweeps:
        if sweep["outcome"] != "success":
            lines.append(f"  {label}: {sweep['outcome']} — {sweep['error']}")
            continue
        lines.append(
            f"  {label}: {sweep['seconds']:.2f} s  ratio {sweep['seconds'] / fetch['seconds']:.2f}"
            f" (target ≤ 1.5)  peak RSS {sweep['peak_rss_mb']:.0f} MB (target ≤ 300;"
            f" {sweep['baseline_rss_mb']:.0f} MB before)  requests {sweep['requests']}"
            f" (pages {sweep['pages']} + 1)  SQL queries {sweep['queries']}"
        )
        lines.append(
            f"      fetched {sweep['fetched']:,}, linked {sweep['linked']:,}, new {sweep['new']:,},"
            f" conflicts {sweep['conflicts']}, unmatched {sweep['unmatched']:,}"
        )
    small = max(10, series_count // 100)
    small_queries = queries_at(small)
    lines.append(
        f"  SQL queries per sweep: {small_queries} at {small:,} Codex series, "
        f"{sweeps[0][1]['queries']} at {series_count:,} (independent of N)"
    )
    return lines


def _median(results: list[dict]) -> dict:
    """The run with the median wall time (its other figures come along)."""
    return sorted(results, key=lambda result: result["seconds"])[len(results) // 2]


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "fetch":
        print(json.dumps(child_fetch()))
    else:
        print(json.dumps(child_sweep(fresh=mode == "fresh-sweep")))
