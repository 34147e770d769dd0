"""Feed and API latency at catalog scale: p50/p95, SQL queries and query plans.

Requests go through Django's full stack in-process (middleware, views,
serializers, templates) with the test client, so the figures are the
server's own time without socket noise.

Two parts: the issue's headline requests (with their targets), then every
filter × sort the feed offers, each with the index its page query and its
COUNT use (from SQLite's `EXPLAIN QUERY PLAN`). A plan that scans the table
or sorts in a temporary B-tree grows with N even when today's figure is small.

The API cells are every `/api/v1/series` filter × sort (Codex filters as the
admin); the follow cells (`following=true`, `sort=followed`) exist on the
feed page only, for a signed-in visitor, so they are measured there. When no
sweep has filled the link table (`--only feed`), a synthetic Codex overlay
is laid over a third of the catalog, so the Codex cells are never empty.
"""

from __future__ import annotations

import os
import random
import re
import time
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from benchmarks.common import ADMIN_TOKEN, describe_latencies, percentile

ROUNDS = 60
# The matrix has ~60 cells; fewer rounds each keeps `make bench` in minutes.
MATRIX_ROUNDS = int(os.environ.get("BENCH_MATRIX_ROUNDS", "15"))
TARGET_MS = 60

# The bench visitor who follows series: every FOLLOW_EVERY-th one by id.
FOLLOWER = "bench-follower"
FOLLOW_EVERY = 50
# Without a sweep, every CODEX_EVERY-th series is linked to a synthetic Codex series.
CODEX_EVERY = 3
SYNTHETIC_LINK = "bench"  # their `matched_provider`, so the report can say which links it used

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
    ("codexStatus=complete", "codexStatus=complete", True),
    ("codexStatus=any", "codexStatus=any", True),
    ("codexStatus=missing", "codexStatus=missing", True),
)
# The feed page's own cells, for the signed-in follower: "following" with every
# sort (and the "when followed" sort), and "when followed" alone or filtered.
FOLLOW_FILTERS: tuple[tuple[str, str], ...] = (
    ("following=true", "following=true"),
    ("no filter", ""),
    ("status=completed", "status=completed"),
    ("q={word}", "q={word}"),
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
        # The title search's FTS5 trigram index (feed.search): reads the
        # entries of the query's trigrams, never every series.
        detail = re.sub(r"^SCAN (\w+) VIRTUAL TABLE INDEX \S+", r"FTS lookup \1", detail)
        for long, short in _PLAN_WORDS:
            detail = detail.replace(long, short)
        detail = re.sub(r" \([^)]*=\?[^)]*\)", "", detail)  # the seek's columns
        detail = detail.replace("SEARCH ", "search ").replace("SCAN ", "scan ")
        if detail == "scan feed_series":
            # The table is stored in id order: a limited page in that order stops
            # after its rows; anything else reads them all.
            in_id_order = re.search(r'ORDER BY (1|"feed_series"\."id") (ASC|DESC) LIMIT', sql)
            detail = "walk feed_series in id order" if in_id_order else "FULL SCAN feed_series"
        steps.append(detail)
    return ", ".join(dict.fromkeys(steps)) or "?"


def _plans(query: str, *, is_admin: bool, follower_id: int | None = None) -> tuple[str, str]:
    """Plans of the statements a page runs: its COUNT, and the sorted, limited ids.

    Read as the page reads them (`feed.series_page.series_listing`): the
    "when followed" sort without the following filter in two parts, both
    plans with `;` between; a Codex filter's total counted from the links,
    and its page in the plan that total chose; the followed sort counted from the follows.
    """
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from feed.queries import parse_filters
    from feed.series_page import series_listing

    filters = parse_filters(QueryDict(query), is_admin=is_admin, can_follow=follower_id is not None)
    with CaptureQueriesContext(connection) as captured:
        listing = series_listing(filters, is_admin=is_admin, follower_id=follower_id)
    counted = [statement["sql"] for statement in captured.captured_queries]
    parts = [listing.queryset] if listing.then is None else [listing.queryset, listing.then]
    page_plans, count_plans = [], []
    for part in parts:
        with CaptureQueriesContext(connection) as captured:
            if listing.counts is None:
                part.count()
            list(part.values("pk")[:50])
        *count_sql, page_sql = (statement["sql"] for statement in captured.captured_queries)
        page_plans.append(plan_summary(page_sql))
        count_plans += [plan_summary(sql) for sql in count_sql]
    count_plans += [plan_summary(sql) for sql in counted]
    return " ; ".join(page_plans), " ; ".join(count_plans)


def grows_with_n(plan: str) -> bool:
    """A plan that reads every series, or sorts every match: slower as the catalog grows.

    A sort of the rows an id list names (`search feed_series by id` first: the
    visitor's follows, the Codex links in a status) grows with that list, not
    with the catalog, so it is not flagged.
    """
    if "FULL SCAN" in plan:
        return True
    return any(
        "TEMP SORT" in part and not part.startswith("search feed_series by id")
        for part in plan.split(" ; ")
    )


def ensure_follower() -> int:
    """The bench's signed-in visitor, following every FOLLOW_EVERY-th series (made once)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from feed.models import Series
    from follows.models import Follow

    user, _created = get_user_model().objects.get_or_create(username=FOLLOWER)
    if not Follow.objects.filter(user=user).exists():
        now = timezone.now()
        ids = Series.objects.order_by("id").values_list("id", flat=True)[::FOLLOW_EVERY]
        Follow.objects.bulk_create(
            Follow(user=user, series_id=series_id, created_at=now - timedelta(minutes=position))
            for position, series_id in enumerate(ids)
        )
    return user.pk


def ensure_codex_links() -> str:
    """Links for the Codex cells: the sweep's when it ran, else a synthetic third of the catalog.

    Codex's counts trail ours on every other linked series, so the statuses
    mix (behind, complete, present). The sweep benchmark empties the table
    before it measures, so these never reach its figures.
    """
    from django.utils import timezone

    from codex_sync.models import CodexLink, ConnectionStatus
    from codex_sync.status import refresh_link_status
    from feed.models import Series

    if not CodexLink.objects.exists():
        rows = Series.objects.order_by("id").values_list("id", "highest_volume", "highest_chapter")
        CodexLink.objects.bulk_create(
            (
                CodexLink(
                    series_id=series_id,
                    codex_series_uuid=uuid.UUID(int=series_id),
                    matched_provider=SYNTHETIC_LINK,
                    local_max_volume=None if volume is None else int(volume) - series_id % 2,
                    local_max_chapter=chapter,
                    volumes_owned=None if volume is None else int(volume),
                    synced_at=timezone.now(),
                )
                for series_id, volume, chapter in rows.iterator()
                if series_id % CODEX_EVERY == 0
            ),
            batch_size=5000,
        )
        # Stored the way a sweep's apply stores them (bulk_create skips save()).
        refresh_link_status()
        ConnectionStatus.objects.update_or_create(
            pk=ConnectionStatus.SINGLETON_ID, defaults={"last_success_at": timezone.now()}
        )
    links = CodexLink.objects.count()
    if CodexLink.objects.filter(matched_provider=SYNTHETIC_LINK).exists():
        return f"{links:,} synthetic Codex links (no sweep ran)"
    return f"{links:,} Codex links from the sweep"


def _search_title() -> str:
    from feed.models import Series

    count = Series.objects.count()
    titles = Series.objects.order_by("id").values_list("canonical_title", flat=True)
    return titles[count // 2]


def _search_word() -> str:
    return _search_title().split()[0]


def run() -> list[str]:
    from django.test import Client

    from feed.models import Release, Series
    from tsundoku.garbage_collection import freeze_start_up_objects

    client = Client()
    admin = {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"}
    # What every web process does once loaded (tsundoku.wsgi): requests are
    # timed as production serves them, not with this process's start-up in
    # every full collection.
    freeze_start_up_objects()
    series_count, release_count = Series.objects.count(), Release.objects.count()
    rnd = random.Random(7)
    max_id = Series.objects.order_by("-id").values_list("id", flat=True).first()
    word = _search_word()
    # A whole title: words few series share, so the search reads the title index.
    title = _search_title()
    links = ensure_codex_links()
    follower_id = ensure_follower()
    load = os.getloadavg()

    lines = [
        f"Feed/API latency at {series_count:,} series, {release_count:,} releases (SQLite),"
        f" {links}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
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
        ("GET / (feed page, HTML, admin)", "/", admin, None),
        (f"GET /?q={word} (feed page search)", f"/?q={word}", {}, None),
        (f"GET /api/v1/series?q={title}", f"/api/v1/series?{urlencode({'q': title})}", {}, None),
        (f"GET /?q={title}", f"/?{urlencode({'q': title})}", {}, None),
    ]
    verdicts: list[str] = []
    for label, path, headers, target in scenarios:
        samples, queries, status = _measure(client, path, **headers)
        verdict = ""
        if target is not None:
            p95 = percentile(samples, 0.95)
            verdict = f"  (target p95 ≤ {target} ms: {'met' if p95 <= target else 'MISSED'})"
            verdicts.append(f"  {label:<58} p95 {p95:6.1f} ms{verdict}")
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
    lines += run_matrix(client, admin, word, follower_id)
    lines.append("Issue 12 targets:")
    lines += verdicts
    return lines


def _cell_line(label: str, samples: list[float], queries: int, status: int, plans) -> str:
    page_plan, count_plan = plans
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    flag = "  ← grows with N" if grows_with_n(page_plan) or grows_with_n(count_plan) else ""
    return (
        f"  {label:<40} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {queries} q [{status}]"
        f"  {page_plan} | {count_plan}{flag}"
    )


def run_matrix(client, admin: dict[str, str], word: str, follower_id: int) -> list[str]:
    """Every filter × sort: p50/p95, queries, both plans, and a flag on plans that grow with N."""
    from django.contrib.auth import get_user_model

    from feed.queries import FOLLOWED_SORT, SORTS

    lines = [
        f"Feed filter × sort matrix, GET /api/v1/series ({MATRIX_ROUNDS} rounds each;"
        f" plans: page query | COUNT; FULL SCAN / TEMP SORT grow with N)"
    ]
    cells: list[tuple[str, list[float]]] = []
    flagged: list[str] = []

    def record(label: str, samples: list[float], queries: int, status: int, plans) -> None:
        cells.append((label, samples))
        if grows_with_n(plans[0]) or grows_with_n(plans[1]):
            flagged.append(label)
        lines.append(_cell_line(label, samples, queries, status, plans))

    for label, query, admin_only in MATRIX_FILTERS:
        for sort in SORTS:
            params = "&".join(p for p in (query.format(word=word), f"sort={sort}") if p)
            headers = admin if admin_only else {}
            samples, queries, status = _measure(
                client, f"/api/v1/series?{params}", rounds=MATRIX_ROUNDS, **headers
            )
            plans = _plans(params, is_admin=admin_only)
            record(f"{label.format(word=word)} × {sort}", samples, queries, status, plans)
    lines.append(
        "  (the Codex gap is not a filter of its own: a series has a gap exactly when its"
        " status is behind, so codexStatus=behind is its cell)"
    )

    lines.append(
        f"Follow cells, GET / as a signed-in visitor following every {FOLLOW_EVERY}th series"
    )
    page_client = type(client)()
    page_client.force_login(get_user_model().objects.get(pk=follower_id))
    for label, query in FOLLOW_FILTERS:
        sorts = [*SORTS, FOLLOWED_SORT] if query == "following=true" else [FOLLOWED_SORT]
        for sort in sorts:
            params = "&".join(p for p in (query.format(word=word), f"sort={sort}") if p)
            samples, queries, status = _measure(page_client, f"/?{params}", rounds=MATRIX_ROUNDS)
            plans = _plans(params, is_admin=False, follower_id=follower_id)
            record(f"{label.format(word=word)} × {sort}", samples, queries, status, plans)

    slow = [label for label, samples in cells if percentile(samples, 0.95) > TARGET_MS]
    lines.append(f"  cells over {TARGET_MS} ms p95: {len(slow)} of {len(cells)}")
    lines.append(
        f"  cells whose plan grows with N: {len(flagged)} of {len(cells)}"
        + (f" ({', '.join(flagged)})" if flagged else "")
    )
    return lines
