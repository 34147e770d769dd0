"""Every equality filter × sort is served by an index, and every total by an index alone.

Wall-clock figures live in `make bench`; this pins the plans that make them
flat with catalog size. A page query that sorts in a temporary B-tree sorts
all of the filter's rows (35,000 at 100k series) to show 50, and a COUNT that
reads the table reads every row's titles and JSON; both are what made the
filtered feed slow. SQLite only: the plans are SQLite's.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from feed.queries import FOLLOWED_SORT, SORTS, parse_filters, series_queryset
from feed.series_page import codex_total
from follows.queries import count_followed, followed_first

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plans"),
]

EQUALITY_FILTERS = ("kind=manhwa", "status=completed", "hasReleases=false")


def plans(
    query: str, *, is_admin: bool = False, follower_id: int | None = None
) -> tuple[list[str], list[str]]:
    """SQLite's plan steps for a feed page's COUNT and for its sorted, limited page."""
    filters = parse_filters(QueryDict(query), is_admin=is_admin, can_follow=follower_id is not None)
    queryset = series_queryset(
        filters, is_admin=is_admin, include_overlay=False, follower_id=follower_id
    )
    with CaptureQueriesContext(connection) as captured:
        queryset.count()
        list(queryset.values("pk")[:50])
    steps = []
    for statement in captured.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement['sql']}")
            steps.append([row[-1] for row in cursor.fetchall()])
    count_plan, page_plan = steps
    return count_plan, page_plan


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("filter_query", EQUALITY_FILTERS)
def test_a_filtered_page_reads_its_rows_in_sort_order_from_an_index(filter_query, sort):
    _count, page = plans(f"{filter_query}&sort={sort}")
    assert not any("TEMP B-TREE" in step for step in page), page
    assert any(step.startswith("SEARCH feed_series USING INDEX") for step in page), page


@pytest.mark.parametrize("sort", list(SORTS))
def test_an_unfiltered_page_walks_the_sort_index(sort):
    _count, page = plans(f"sort={sort}")
    assert not any("TEMP B-TREE" in step for step in page), page
    assert any(step.startswith("SCAN feed_series USING INDEX") for step in page), page


@pytest.mark.parametrize(
    "filter_query", ["", *EQUALITY_FILTERS, "hasReleases=true", "q=th", "scope=all"]
)
def test_totals_are_counted_from_an_index_alone(filter_query):
    count, _page = plans(filter_query)
    assert any("USING COVERING INDEX" in step for step in count), count
    assert "SCAN feed_series" not in count, count


@pytest.mark.parametrize("sort", list(SORTS))
def test_a_searched_word_is_looked_up_in_the_title_index_not_in_every_title(sort):
    # Words of three or more characters that few series contain (feed.search).
    count, page = plans(f"q=berserk&sort={sort}")
    for plan in (count, page):
        assert any(step.startswith("SCAN feed_series_search VIRTUAL TABLE") for step in plan), plan
        assert any("USING INTEGER PRIMARY KEY" in step for step in plan), plan
        assert not any(step.startswith("SCAN feed_series ") for step in plan), plan


@pytest.mark.parametrize("statuses", ["behind", "complete,present", "any"])
def test_a_codex_filter_reads_the_links_not_every_series(statuses):
    count, page = plans(f"codexStatus={statuses}", is_admin=True)
    for plan in (count, page):
        assert not any(step.startswith("SCAN feed_series") for step in plan), plan
        assert any("USING INTEGER PRIMARY KEY" in step for step in plan), plan


@pytest.mark.parametrize("sort", [*SORTS, FOLLOWED_SORT])
def test_the_following_filter_reads_the_visitors_follows_not_every_series(sort, reader):
    count, page = plans(f"following=true&sort={sort}", follower_id=reader.pk)
    for plan in (count, page):
        assert not any(step.startswith("SCAN feed_series") for step in plan), plan
        assert any("USING INTEGER PRIMARY KEY" in step for step in plan), plan


def page_plan(queryset) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        list(queryset.values("pk")[:50])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {captured.captured_queries[0]['sql']}")
        return [row[-1] for row in cursor.fetchall()]


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_the_followed_sort_reads_the_follows_then_the_id_order_and_never_sorts_the_catalog(
    order, reader
):
    filters = parse_filters(
        QueryDict(f"sort=followed&order={order}"), is_admin=False, can_follow=True
    )
    queryset = series_queryset(filters, is_admin=False, follower_id=reader.pk)
    followed, rest = followed_first(queryset, reader.pk, descending=order == "desc")
    first = page_plan(followed)
    assert any("USING INTEGER PRIMARY KEY" in step for step in first), first
    assert not any(step.startswith("SCAN feed_series") for step in first), first
    then = page_plan(rest)
    assert not any("TEMP B-TREE" in step for step in then), then


def explain(sql: str, params=()) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return [row[-1] for row in cursor.fetchall()]


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("statuses", ["complete", "any", "missing", "behind,missing"])
def test_a_walked_codex_page_reads_the_sort_index_in_order_and_never_sorts(statuses, sort):
    filters = parse_filters(QueryDict(f"codexStatus={statuses}&sort={sort}"), is_admin=True)
    queryset = series_queryset(
        filters, is_admin=True, include_overlay=False, codex_walks_sort_index=True
    )
    plan = page_plan(queryset)
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert any(step.startswith("SCAN feed_series USING") for step in plan), plan


@pytest.mark.parametrize("scope", ["discovered", "all"])
@pytest.mark.parametrize("statuses", ["behind", "complete,present", "any", "missing"])
def test_a_codex_total_reads_indexes_alone_never_the_series_rows(statuses, scope):
    filters = parse_filters(QueryDict(f"codexStatus={statuses}&scope={scope}"), is_admin=True)
    with CaptureQueriesContext(connection) as captured:
        codex_total(filters, series_queryset(filters, is_admin=True, include_overlay=False))
    (statement,) = captured.captured_queries
    plan = explain(statement["sql"])
    # No series looked up one by one per match (what made the old COUNT cost a
    # row read for each of 75,000 "complete"), and nothing scanned but an index.
    assert not any("INTEGER PRIMARY KEY" in step for step in plan), plan
    scans = [step for step in plan if step.startswith("SCAN ") and step != "SCAN CONSTANT ROW"]
    assert all("COVERING INDEX" in step for step in scans), plan
    assert any("codex_link_status_idx" in step or "codexlink" in step for step in plan), plan


@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("filter_query", ["", *EQUALITY_FILTERS])
def test_the_followed_sort_with_a_filter_starts_from_the_follows_and_walks_the_rest_in_id_order(
    filter_query, order, reader
):
    # Without stats SQLite takes `status = ?` for a handful of rows: as
    # `id IN (follows)` the followed part started from the filter's index.
    filters = parse_filters(
        QueryDict(f"{filter_query}&sort=followed&order={order}"), is_admin=False, can_follow=True
    )
    queryset = series_queryset(filters, is_admin=False, follower_id=reader.pk)
    followed, rest = followed_first(queryset, reader.pk, descending=order == "desc")
    first = page_plan(followed)
    assert first[0].startswith("SEARCH follows_follow USING INDEX follow_user_recent_idx"), first
    assert "USE TEMP B-TREE FOR ORDER BY" not in first, first  # only the id tie-break is sorted
    then = page_plan(rest)
    assert not any("TEMP B-TREE" in step for step in then), then
    with CaptureQueriesContext(connection) as captured:
        count_followed(queryset, reader.pk)
    count = explain(captured.captured_queries[0]["sql"])
    assert count[0].startswith("SEARCH follows_follow"), count
    assert not any(step.startswith("SCAN feed_series") for step in count), count
