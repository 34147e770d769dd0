"""Feed and API latency at catalog scale: p50/p95, SQL queries and query plans.

Requests go through Django's full stack in-process (middleware, views,
serializers, templates) with the test client, so the figures are the
server's own time without socket noise.

Two parts: the issue's headline requests (with their targets), then every
filter × sort the feed offers, each with the index its page query and its
COUNT use (from SQLite's `EXPLAIN QUERY PLAN`). A plan that scans the table
or sorts in a temporary B-tree grows with N even when today's figure is small.
"""

from __future__ import annotations

import os
import random
import re
import time

from benchmarks.common import ADMIN_TOKEN, describe_latencies, percentile

ROUNDS = 60
# The matrix has ~60 cells; fewer rounds each keeps `make bench` in minutes.
MATRIX_ROUNDS = int(os.environ.get("BENCH_MATRIX_ROUNDS", "15"))
TARGET_MS = 60

# (label, query string, admin only). Every filter the feed offers, alone.
MATRIX_FILTERS: tuple[tuple[str, str, bool], ...] = (
    ("no filter", "", False),
    ("kind=manhwa", "kind=manhwa", False),
    ("status=completed", "status=completed", False),
    ("hasReleases=true", "hasReleases=true", False),
    ("hasReleases=false", "hasReleases=false", False),
    ("scope=all", "scope=all", False),
    ("q={word}", "q={word}", False),
    ("codexStatus=behind", "codexStatus=behind", True),
    ("codexStatus=any", "codexStatus=any", True),
    ("codexStatus=missing", "codexStatus=missing", True),
)


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


# SQLite's plan wording → a short form for one line per cell.
_PLAN_WORDS = (
    ("USE TEMP B-TREE FOR ORDER BY", "TEMP SORT"),
    ("USING COVERING INDEX ", "covering "),
    ("USING INDEX ", ""),
    ("USING INTEGER PRIMARY KEY (rowid=?)", "by id"),
    ("LIST SUBQUERY", "IN subquery"),
)


def plan_summary(sql: str) -> str:
    """How SQLite runs `sql`, step by step: what it searches or scans, and any sort.

    `SCAN feed_series` alone is a full table scan and `TEMP SORT` a sort of
    every matching row: plans that grow with the catalog.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        details = [row[-1] for row in cursor.fetchall()]
    steps: list[str] = []
    for detail in details:
        for long, short in _PLAN_WORDS:
            detail = detail.replace(long, short)
        detail = re.sub(r" \([^)]*=\?[^)]*\)", "", detail)  # the seek's columns
        detail = detail.replace("SEARCH ", "search ").replace("SCAN ", "scan ")
        if detail == "scan feed_series":
            detail = "FULL SCAN feed_series"
        steps.append(detail)
    return ", ".join(dict.fromkeys(steps)) or "?"


def _plans(query: str, *, is_admin: bool) -> tuple[str, str]:
    """Plans of the statements a page runs: its COUNT, and the sorted, limited ids."""
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from feed.queries import parse_filters, series_queryset

    filters = parse_filters(QueryDict(query), is_admin=is_admin)
    queryset = series_queryset(filters, is_admin=is_admin, include_overlay=False)
    with CaptureQueriesContext(connection) as captured:
        queryset.count()
        list(queryset.values("pk")[:50])
    count_sql, page_sql = (query["sql"] for query in captured.captured_queries)
    return plan_summary(page_sql), plan_summary(count_sql)


def _search_word() -> str:
    from feed.models import Series

    count = Series.objects.count()
    titles = Series.objects.order_by("id").values_list("canonical_title", flat=True)
    return titles[count // 2].split()[0]


def run() -> list[str]:
    from django.test import Client

    from feed.models import Release, Series

    client = Client()
    admin = {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"}
    series_count, release_count = Series.objects.count(), Release.objects.count()
    rnd = random.Random(7)
    max_id = Series.objects.order_by("-id").values_list("id", flat=True).first()
    word = _search_word()
    load = os.getloadavg()

    lines = [
        f"Feed/API latency at {series_count:,} series, {release_count:,} releases (SQLite);"
        f" load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    ]
    # (label, path, headers, target in ms or None): the three are first.
    scenarios = [
        (
            "GET /api/v1/series?status=completed&sort=highest_volume",
            "/api/v1/series?status=completed&sort=highest_volume",
            {},
            TARGET_MS,
        ),
        (
            "GET /api/v1/series?codexStatus=behind (admin)",
            "/api/v1/series?codexStatus=behind",
            admin,
            TARGET_MS,
        ),
        ("GET /?q=The (feed page search)", "/?q=The", {}, TARGET_MS),
        ("GET /api/v1/series (default sort)", "/api/v1/series", {}, None),
        ("GET /api/v1/series?kind=manhwa (filter)", "/api/v1/series?kind=manhwa", {}, None),
        (f"GET /api/v1/series?q={word} (search)", f"/api/v1/series?q={word}", {}, None),
        ("GET /api/v1/series (admin, Codex overlay)", "/api/v1/series", admin, None),
        ("GET / (feed page, HTML)", "/", {}, None),
        (f"GET /?q={word} (feed page search)", f"/?q={word}", {}, None),
    ]
    for label, path, headers, target in scenarios:
        samples, queries, status = _measure(client, path, **headers)
        verdict = ""
        if target is not None:
            p95 = percentile(samples, 0.95)
            verdict = f"  (target p95 ≤ {target} ms: {'met' if p95 <= target else 'MISSED'})"
        lines.append(
            f"  {label:<58} {describe_latencies(samples)}   {queries} queries  [{status}]{verdict}"
        )

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
    lines += run_matrix(client, admin, word)
    return lines


def run_matrix(client, admin: dict[str, str], word: str) -> list[str]:
    """Every filter × sort of `/api/v1/series`: p50/p95, queries, and both plans."""
    from feed.queries import SORTS

    lines = [
        f"Feed filter × sort matrix, GET /api/v1/series ({MATRIX_ROUNDS} rounds each;"
        f" plans: page query | COUNT)"
    ]
    slow = 0
    for label, query, admin_only in MATRIX_FILTERS:
        for sort in SORTS:
            params = "&".join(p for p in (query.format(word=word), f"sort={sort}") if p)
            headers = admin if admin_only else {}
            samples, queries, status = _measure(
                client, f"/api/v1/series?{params}", rounds=MATRIX_ROUNDS, **headers
            )
            page_plan, count_plan = _plans(params, is_admin=admin_only)
            p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
            slow += p95 > TARGET_MS
            cell = f"{label.format(word=word)} × {sort}"
            lines.append(
                f"  {cell:<40} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {queries} q [{status}]"
                f"  {page_plan} | {count_plan}"
            )
    lines.append(f"  cells over {TARGET_MS} ms p95: {slow}")
    return lines
