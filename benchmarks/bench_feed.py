"""Feed and API latency at catalog scale: p50/p95 and SQL queries per request.

Requests go through Django's full stack in-process (middleware, views,
serializers, templates) with the test client, so the figures are the
server's own time without socket noise.
"""

from __future__ import annotations

import random
import time

from benchmarks.common import ADMIN_TOKEN, describe_latencies

ROUNDS = 60


def _measure(client, path: str, rounds: int = ROUNDS, **headers) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path, **headers)  # warm caches (SQLite page cache, template loader)
    samples: list[float] = []
    queries = set()
    status = 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, **headers)
            samples.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        queries.add(len(captured.captured_queries))
    return samples, max(queries), status


def run() -> list[str]:
    from django.test import Client

    from feed.models import Release, Series

    client = Client()
    admin = {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"}
    series_count, release_count = Series.objects.count(), Release.objects.count()
    rnd = random.Random(7)
    max_id = Series.objects.order_by("-id").values_list("id", flat=True).first()
    word = (
        Series.objects.order_by("id")
        .values_list("canonical_title", flat=True)[series_count // 2]
        .split()[0]
    )

    lines = [f"Feed/API latency at {series_count:,} series, {release_count:,} releases (SQLite)"]
    scenarios = [
        ("GET /api/v1/series (default sort)", "/api/v1/series", {}),
        ("GET /api/v1/series?kind=manhwa (filter)", "/api/v1/series?kind=manhwa", {}),
        (
            "GET /api/v1/series?status=completed&sort=highest_volume",
            "/api/v1/series?status=completed&sort=highest_volume",
            {},
        ),
        (f"GET /api/v1/series?q={word} (search)", f"/api/v1/series?q={word}", {}),
        ("GET /api/v1/series (admin, Codex overlay)", "/api/v1/series", admin),
        (
            "GET /api/v1/series?codexStatus=behind (admin)",
            "/api/v1/series?codexStatus=behind",
            admin,
        ),
        ("GET / (feed page, HTML)", "/", {}),
        (f"GET /?q={word} (feed page search)", f"/?q={word}", {}),
    ]
    for label, path, headers in scenarios:
        samples, queries, status = _measure(client, path, **headers)
        lines.append(f"  {label:<58} {describe_latencies(samples)}   {queries} queries  [{status}]")

    detail_samples: list[float] = []
    detail_queries = 0
    for _ in range(ROUNDS):
        samples, queries, _status = _measure(
            client, f"/api/v1/series/{rnd.randint(1, max_id)}", rounds=1
        )
        detail_samples += samples
        detail_queries = max(detail_queries, queries)
    lines.append(
        f"  {'GET /api/v1/series/{id} (detail, random ids)':<58} "
        f"{describe_latencies(detail_samples)}   {detail_queries} queries"
    )
    return lines
