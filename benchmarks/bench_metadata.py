"""MangaBaka dump at full size: refresh time and peak RSS, then title search latency.

    python -m benchmarks metadata [--rows 585000] [--queries 300]

Generates (once, then reuses) a synthetic 585,000-row dump in the real
schema under data/bench/mangabaka/, runs `refresh_metadata --file` in a
child process (so its peak RSS is measured alone), then times title
searches through `DumpStore.search` for a few hundred realistic queries
(exact titles, lower-cased, partial titles, alternates, romanized titles).
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO, bench_environment, describe_latencies, percentile

TARGET_REFRESH_SECONDS = 300
TARGET_REFRESH_RSS_MB = 500
TARGET_SEARCH_P95_MS = 20.0
TARGET_RESOLVE_P95_MS = 20.0
TARGET_BACKLOG_SECONDS = 60.0
BACKLOG = 10_000


def ensure_archive(rows: int, directory: Path) -> Path:
    archive = directory / f"series-{rows}.sqlite.tar.gz"
    if archive.is_file():
        print(f"Reusing {archive}")
        return archive
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "build_mangabaka_dump",
            "--rows",
            str(rows),
            "--out",
            str(archive),
        ],
        cwd=REPO,
        env=bench_environment(),
        check=True,
    )
    print(f"Generated a {rows:,}-row dump in {time.perf_counter() - started:.0f} s")
    return archive


# Runs the command in a fresh interpreter and reports that process's own peak RSS.
REFRESH_CHILD = """
import resource, sys, django
django.setup()
from django.core.management import call_command
arguments = ["--file", sys.argv[1], "--force", "--min-rows", sys.argv[2], "--skip-catalog"]
call_command("refresh_metadata", *arguments)
print("peak_rss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_refresh(archive: Path, rows: int) -> tuple[float, float]:
    """(seconds, peak RSS MB) of `refresh_metadata --file` alone, in a child process."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", REFRESH_CHILD, str(archive), str(min(rows, 100_000))],
        cwd=REPO,
        env=bench_environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    print(result.stdout.strip().splitlines()[0])
    peak_kb = int(result.stdout.split("peak_rss_kb")[1].split()[0])
    return seconds, peak_kb / 1024


def sample_queries(dump: Path, count: int) -> list[tuple[str, int]]:
    """Realistic queries drawn from the installed dump's own active titles, with their series."""
    rng = random.Random(3)
    connection = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    (max_id,) = connection.execute("SELECT MAX(rowid) FROM series_title_fts").fetchone()
    queries: list[tuple[str, int]] = []
    while len(queries) < count:
        found = connection.execute(
            "SELECT rowid, title, romanized_title, alternate_titles FROM series_title_fts "
            "WHERE rowid >= ? LIMIT 1",
            (rng.randint(1, max_id),),
        ).fetchone()
        if not found:
            continue
        series_id, title, romanized, alternates = found
        shape = rng.random()
        if shape < 0.4:
            query = title
        elif shape < 0.55:
            query = title.lower()
        elif shape < 0.7 and len(title.split()) > 2:
            query = " ".join(title.split()[:2])
        elif shape < 0.85 and alternates:
            query = rng.choice(alternates.split("\n"))
        else:
            query = romanized
        queries.append((query, series_id))
    connection.close()
    return queries


def run(rows: int = 585_000, query_count: int = 300) -> list[str]:
    from django.conf import settings

    from metadata.mangabaka.refresh import dump_path
    from metadata.mangabaka.store import DumpStore

    archive = ensure_archive(rows, Path(settings.DATA_DIR) / "mangabaka")
    seconds, peak_mb = run_refresh(archive, rows)
    store = DumpStore(dump_path())
    queries = sample_queries(dump_path(), query_count)
    for query, _ in queries[:20]:  # warm the page cache as a running server would be
        store.search(query, 10)
    latencies: list[float] = []
    hits = 0
    for query, series_id in queries:
        started = time.perf_counter()
        found = store.search(query, 10)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += str(series_id) in {series.external_id for series in found}
    source_latencies = time_source_lookups(store, dump_path(), query_count)
    resolution = time_resolution(queries, sample_queries(dump_path(), BACKLOG))
    return [
        f"MangaBaka dump ({rows:,} rows)",
        f"  refresh (hash + extract + validate + index): {seconds:6.1f} s "
        f"(target ≤ {TARGET_REFRESH_SECONDS} s)   peak RSS {peak_mb:6.0f} MB "
        f"(target ≤ {TARGET_REFRESH_RSS_MB} MB)",
        f"  title search, {len(queries)} queries (their series in the top 10: {hits}): "
        f"{describe_latencies(latencies)}   (target p95 ≤ {TARGET_SEARCH_P95_MS:.0f} ms"
        f"{', met' if percentile(latencies, 0.95) <= TARGET_SEARCH_P95_MS else ', MISSED'})",
        f"  foreign-id lookup, {len(source_latencies)} AniList/MangaUpdates ids: "
        f"{describe_latencies(source_latencies)}",
        *resolution,
    ]


def time_source_lookups(store, dump: Path, count: int) -> list[float]:
    """Latency of `find_by_source` for ids that exist (half AniList numbers, half MU slugs)."""
    connection = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    rng = random.Random(5)
    (max_id,) = connection.execute("SELECT MAX(id) FROM series").fetchone()
    lookups: list[tuple[str, str]] = []
    while len(lookups) < count:
        found = connection.execute(
            "SELECT source_anilist_id, source_manga_updates_id FROM series WHERE id >= ? LIMIT 1",
            (rng.randint(1, max_id),),
        ).fetchone()
        if found and found[0] is not None and len(lookups) % 2 == 0:
            lookups.append(("anilist", str(found[0])))
        elif found and found[1] is not None and len(lookups) % 2 == 1:
            lookups.append(("mangaupdates", found[1]))
    connection.close()
    latencies = []
    for provider, external_id in lookups:
        started = time.perf_counter()
        store.find_by_source(provider, external_id)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _feed(posts: list[tuple[int, str]]) -> bytes:
    """A Nyaa RSS document of `(post id, title)` items."""
    from xml.sax.saxutils import escape

    items = "".join(
        f"<item><title>{escape(title)}</title>"
        f"<link>https://nyaa.si/download/{post}.torrent</link>"
        f"<guid>https://nyaa.si/view/{post}</guid>"
        "<pubDate>Mon, 18 May 2026 23:34:56 -0000</pubDate>"
        f"<nyaa:infoHash>{post:0>40}</nyaa:infoHash><nyaa:size>1 MiB</nyaa:size></item>"
        for post, title in posts
    )
    return (
        '<rss xmlns:nyaa="https://nyaa.si/xmlns/nyaa" version="2.0"><channel>'
        f"{items}</channel></rss>"
    ).encode()


def time_resolution(
    queries: list[tuple[str, int]], backlog_queries: list[tuple[str, int]]
) -> list[str]:
    """Resolution through the provider against the installed dump, all rolled back after.

    - per release: a release titled like an upload of a dump series, resolved
      alone (provider search, rescoring, series creation) — the catalog's
      title index is built once beforehand, as a poll's resolver does;
    - a backlog: `BACKLOG` waiting releases of distinct series, `retry_releases()`;
    - queries per poll: the same poll shape at two sizes, for series that exist.
    """
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from feed.models import Release, Resolution, Series
    from feed.polling import ingest_document
    from feed.resolution import Resolver, retry_releases
    from metadata.providers import active_provider, reset_provider

    reset_provider()
    if active_provider() is None:
        return ["  resolution: no provider (dump not installed?)"]
    lines = []
    with transaction.atomic():
        catalog_size = Series.objects.count()
        resolver = Resolver()
        started = time.perf_counter()
        resolver.index  # noqa: B018 - built once per resolver, as in a poll
        index_seconds = time.perf_counter() - started
        latencies = []
        for number, (query, _series_id) in enumerate(queries):
            release = Release(external_id=f"bench-{number}", title=f"{query} v01-03 (Digital)")
            started = time.perf_counter()
            resolver.resolve([release])
            latencies.append((time.perf_counter() - started) * 1000)
        met = percentile(latencies, 0.95) <= TARGET_RESOLVE_P95_MS
        lines.append(
            f"  title resolution per release ({len(latencies)}, catalog of {catalog_size:,}; "
            f"title index built once in {index_seconds:.1f} s): {describe_latencies(latencies)}"
            f"   (target p95 ≤ {TARGET_RESOLVE_P95_MS:.0f} ms, {'met' if met else 'MISSED'})"
        )

        Release.objects.bulk_create(
            [
                Release(
                    external_id=f"backlog-{number}",
                    source_name="bench",
                    title=f"[Group] {query} - Chapter {number % 90 + 1} [ABCD1234].zip",
                    resolution=Resolution.UNRESOLVED,
                )
                for number, (query, _series_id) in enumerate(backlog_queries)
            ],
            batch_size=1000,
        )
        started = time.perf_counter()
        summary = retry_releases(Release.objects.filter(source_name="bench"))
        backlog_seconds = time.perf_counter() - started
        lines.append(
            f"  backlog of {len(backlog_queries):,} waiting releases: {backlog_seconds:.1f} s "
            f"(target ≤ {TARGET_BACKLOG_SECONDS:.0f} s, "
            f"{'met' if backlog_seconds <= TARGET_BACKLOG_SECONDS else 'MISSED'}); "
            f"{summary.resolved:,} resolved, {summary.queued_for_review:,} to review, "
            f"{summary.unresolved:,} unmatched"
        )

        counts = []
        for size in (20, 200):
            posts = [
                (
                    10_000_000 + size * 1000 + n,
                    f"[G] {backlog_queries[n % 5][0]} - Chapter {n + 1} [AB12CD34].zip",
                )
                for n in range(size)
            ]
            with CaptureQueriesContext(connection) as captured:
                ingest_document(_feed(posts), source_name=f"bench-poll-{size}")
            counts.append((size, len(captured.captured_queries)))
        lines.append(
            "  queries per poll (releases of 5 known series): "
            + ", ".join(f"{size} items → {queries_made} queries" for size, queries_made in counts)
        )
        transaction.set_rollback(True)
    reset_provider()
    return lines
