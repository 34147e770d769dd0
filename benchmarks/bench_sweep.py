"""The sweep at scale: 100,000 Codex series against 100,000 catalog series on loopback.

Two Codexes: the project's simulator (renders every page per request, as a
real server does work per request) and a *fast* Codex (the same simulator
with every page rendered once and served from memory, `--prerender`), where
receiving the pages costs as little as it can and our own overhead shows.

Against each: the time to fetch every page with the real client and no
database work (the floor); a first sweep (every link new) and a re-sweep
(links exist); each sweep's ratio to the floor; peak RSS; HTTP requests
(must be pages + 1); SQL queries (must not grow with N).

Each measurement runs in a fresh child process, so its peak RSS is its own
and Django's start-up is not timed (the child sets Django up before the
clock starts; the fetch child needs no Django at all). The Codex runs in
another process so its memory is not counted. Rounds interleave fetch,
first sweep and re-sweep, so a neighbour's load falls on all three alike.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from benchmarks.common import CODEX_KEY, REPO, bench_environment

RUNS = 5  # medians of five: a shared 2-core machine is noisy
RESWEEP_TARGET = 1.2
FIRST_SWEEP_TARGET = 1.5
PEAK_RSS_TARGET_MB = 300
CODEXES = (("fast Codex (pages pre-rendered in memory)", True), ("Codex simulator", False))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_cpu_seconds() -> float:
    """CPU time of this process's children that have ended (the sweep's matching process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    """A port nothing listens on now: other engineers' benchmarks run on this machine too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Codex:
    """A `codex_simulator` process on a free loopback port (fast: `--prerender`)."""

    def __init__(self, series_count: int, *, fast: bool) -> None:
        self.base_url = f"http://127.0.0.1:{_free_port()}"
        command = [
            sys.executable,
            "manage.py",
            "codex_simulator",
            "--generate",
            str(series_count),
            "--port",
            self.base_url.rsplit(":", 1)[1],
            "--api-key",
            CODEX_KEY,
        ]
        if fast:
            command.append("--prerender")
        self._process = subprocess.Popen(
            command, cwd=REPO, env=bench_environment(), stdout=subprocess.DEVNULL
        )

    def __enter__(self) -> Codex:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base_url}/api/v1/info", timeout=1).read()
                return self
            except OSError:
                if self._process.poll() is not None:
                    break
                time.sleep(0.3)
        self._stop()
        raise RuntimeError("the Codex simulator did not start")

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)

    def cpu_seconds(self) -> float | None:
        """CPU time the Codex process has used so far (Linux's /proc), or None where unknown.

        The Codex shares the machine's cores with the sweep: what it uses is
        not there for the sweep.
        """
        try:
            with open(f"/proc/{self._process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # utime and stime, the 14th and 15th fields (11th and 12th after the name).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stats(self, reset: bool = False) -> dict:
        request = urllib.request.Request(
            f"{self.base_url}/__sim__/stats", method="DELETE" if reset else "GET"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def measure(self, mode: str) -> dict:
        """One child process run (`fetch`, `fresh-sweep` or `sweep`) and the requests it made."""
        self.stats(reset=True)
        codex_cpu = self.cpu_seconds()
        process = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_sweep", mode],
            cwd=REPO,
            env={**bench_environment(), "TSUNDOKU_CODEX__BASE_URL": self.base_url},
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(process.stdout.strip().splitlines()[-1])
        result["requests"] = self.stats()["total"]
        if codex_cpu is not None:
            result["codex_cpu_seconds"] = self.cpu_seconds() - codex_cpu
        return result


def child_fetch() -> dict:
    """Fetch every page with the real client and no database work."""
    from codex_sync.client import CodexClient

    baseline = _peak_rss_mb()
    client = CodexClient(os.environ["TSUNDOKU_CODEX__BASE_URL"], CODEX_KEY, timeout_seconds=60)
    started, cpu_started = time.perf_counter(), time.process_time()
    client.get_app_info()
    items = client.fetch_full_index()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
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
        connection.execute_wrappers.append(count)

    connection_created.connect(count_on_new_connection)
    if connection.connection is not None:  # already open: the signal has fired for it
        connection.execute_wrappers.append(count)
    baseline = _peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    children_cpu_started = _children_cpu_seconds()
    result = run_sweep("manual")
    seconds = time.perf_counter() - started
    # The sweep's matching process works beside it: its CPU is the sweep's too.
    children_cpu = _children_cpu_seconds() - children_cpu_started
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_started + children_cpu,
        "children_cpu_seconds": children_cpu,
        "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
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
    with Codex(series_count, fast=True) as codex:
        return codex.measure("sweep")["queries"]


def _spread(results: list[dict], key: str = "seconds") -> str:
    values = [result[key] for result in results]
    return (
        f"median {statistics.median(values):.2f} s (min {min(values):.2f}, "
        f"max {max(values):.2f}, {len(values)} runs)"
    )


def _cpu_budget(sweeps: list[dict], target_seconds: float) -> list[str]:
    """How much of the machine's cores a sweep would need to finish within its target.

    The sweep and the Codex share the cores: if their CPU time together is
    close to what every core offers over the target's wall time, no overlap
    can meet the target on this machine; only less work can.
    """
    if any("codex_cpu_seconds" not in sweep for sweep in sweeps):
        return []
    used = statistics.median(sweep["cpu_seconds"] + sweep["codex_cpu_seconds"] for sweep in sweeps)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    offered = cores * target_seconds
    return [
        f"      CPU of the sweep and the Codex together: median {used:.2f} s; {cores} cores over"
        f" the target's {target_seconds:.2f} s offer {offered:.2f} s: the target needs"
        f" {used / offered:.0%} of every core throughout"
    ]


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def measure_against(series_count: int, label: str, fast: bool) -> tuple[list[str], int]:
    """Interleaved rounds of fetch, first sweep and re-sweep against one Codex."""
    rounds: dict[str, list[dict]] = {"fetch": [], "fresh-sweep": [], "sweep": []}
    with Codex(series_count, fast=fast) as codex:
        for _ in range(RUNS):
            for mode, results in rounds.items():
                results.append(codex.measure(mode))
    fetches = rounds["fetch"]
    floor = statistics.median(result["seconds"] for result in fetches)
    lines = [
        f"  against the {label}:",
        f"    fetch only (no DB): {_spread(fetches)}; {fetches[0]['items']:,} series, "
        f"{fetches[0]['requests']} requests, peak RSS {fetches[0]['peak_rss_mb']:.0f} MB",
    ]
    for title, mode, target in (
        ("first sweep (every link new)", "fresh-sweep", FIRST_SWEEP_TARGET),
        ("re-sweep (links exist)", "sweep", RESWEEP_TARGET),
    ):
        sweeps = rounds[mode]
        failed = [sweep for sweep in sweeps if sweep["outcome"] != "success"]
        if failed:
            lines.append(f"    {title}: {failed[0]['outcome']} — {failed[0]['error']}")
            continue
        ratio = statistics.median(result["seconds"] for result in sweeps) / floor
        per_round = [
            sweep["seconds"] / fetch["seconds"]
            for sweep, fetch in zip(sweeps, fetches, strict=True)
        ]
        # CPU seconds of every thread and child process: the work we add, less
        # swayed by neighbours' load.
        cpu_ratio = statistics.median(sweep["cpu_seconds"] for sweep in sweeps) / statistics.median(
            fetch["cpu_seconds"] for fetch in fetches
        )
        peak = max(sweep["peak_rss_mb"] for sweep in sweeps)
        child_peak = max(sweep["children_peak_rss_mb"] for sweep in sweeps)
        last = sweeps[-1]
        lines += [
            f"    {title}: {_spread(sweeps)}",
            f"      ratio to fetch only {ratio:.2f} (target ≤ {target}: {_verdict(ratio, target)};"
            f" per round {min(per_round):.2f}–{max(per_round):.2f});"
            f" CPU time ratio {cpu_ratio:.2f}",
            f"      peak RSS {peak:.0f} MB (target ≤ {PEAK_RSS_TARGET_MB}:"
            f" {_verdict(peak, PEAK_RSS_TARGET_MB)}; {last['baseline_rss_mb']:.0f} MB before;"
            f" matching process {child_peak:.0f} MB:"
            f" {_verdict(child_peak, PEAK_RSS_TARGET_MB)})"
            f"  requests {last['requests']} (pages {last['pages']} + 1)"
            f"  SQL queries {last['queries']}",
            f"      fetched {last['fetched']:,}, linked {last['linked']:,}, new {last['new']:,},"
            f" conflicts {last['conflicts']}, unmatched {last['unmatched']:,}",
            *_cpu_budget(sweeps, target * floor),
        ]
    return lines, rounds["sweep"][-1]["queries"]


def run(series_count: int) -> list[str]:
    lines = [
        f"Codex sweep: {series_count:,} Codex series vs the catalog on loopback"
        " (Django start-up excluded)"
    ]
    queries = 0
    for label, fast in CODEXES:
        measured, queries = measure_against(series_count, label, fast)
        lines += measured
    small = max(10, series_count // 100)
    lines.append(
        f"  SQL queries per sweep: {queries_at(small)} at {small:,} Codex series, "
        f"{queries} at {series_count:,} (independent of N)"
    )
    return lines


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "fetch":
        print(json.dumps(child_fetch()))
    else:
        print(json.dumps(child_sweep(fresh=mode == "fresh-sweep")))
