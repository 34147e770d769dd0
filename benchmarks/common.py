"""Shared set-up for the benchmarks: a dedicated config, data dir and timing helpers."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_CONFIG = REPO / "benchmarks" / "bench.toml"
ADMIN_TOKEN = "bench-admin-token"
CODEX_KEY = "bench-codex-key"


def bench_environment() -> dict[str, str]:
    """The environment every benchmark process runs with (no operator config leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNDOKU_")}
    env.pop("DATABASE_URL", None)
    env.update(
        TSUNDOKU_CONFIG=str(BENCH_CONFIG),
        TSUNDOKU_ENV_FILE=os.devnull,
        DJANGO_SETTINGS_MODULE="tsundoku.settings",
    )
    return env


def setup_django() -> None:
    os.environ.update(bench_environment())
    os.chdir(REPO)
    import django

    django.setup()


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=bench_environment(), check=True
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe_latencies(samples_ms: list[float]) -> str:
    return (
        f"p50 {percentile(samples_ms, 0.5):7.1f} ms   p95 {percentile(samples_ms, 0.95):7.1f} ms"
        f"   mean {statistics.fmean(samples_ms):7.1f} ms"
    )
