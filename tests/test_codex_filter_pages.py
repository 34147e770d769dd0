"""A Codex-filtered page lists what the straightforward query lists, whichever plan reads it.

`feed.series_page` counts a Codex filter from the link table and then reads
the page either by walking the sort's index (common statuses) or by sorting
the matches (rare ones). Both, and the counted total, must equal a plain
reading of the rule: the series in the scope whose link has the status (or
that have none, for `missing`), sorted by the column with nulls last and
the id breaking ties, for every status × sort × order.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from itertools import cycle

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus
from codex_sync.overlay import FILTER_VALUES
from feed.models import Series, SeriesKind, SeriesOrigin
from feed.queries import DISCOVERED, SORTS, parse_filters, series_queryset
from feed.series_page import codex_total, series_listing, walks_sort_index
from tests.helpers import ADMIN_TOKEN

pytestmark = pytest.mark.django_db

ADMIN = {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"}
# Lower-case letters only, so SQLite's and PostgreSQL's collations order them alike.
TITLES = ("kappa", "alpha", "mu", "alpha", "zeta", "beta", "kappa")
# Codex's volume count against ours (10): the link's status comes from the rule.
LINKS = cycle(("complete", "behind", "present", None, "complete", "ignored", "complete"))


def build_catalog(count: int = 42) -> None:
    """Series with ties and nulls in every sort column, in every status, in and out of scope."""
    now = timezone.now()
    ConnectionStatus.objects.create(pk=ConnectionStatus.SINGLETON_ID, last_success_at=now)
    for number, link in zip(range(count), LINKS, strict=False):
        undiscovered = number % 5 == 0  # a provider record no release names
        series = Series.objects.create(
            canonical_title=TITLES[number % len(TITLES)],
            kind=SeriesKind.MANGA if number % 2 else SeriesKind.MANHWA,
            origin=SeriesOrigin.PROVIDER
            if undiscovered or number % 3 == 0
            else SeriesOrigin.IMPORT,
            release_count=0 if undiscovered else number % 4,
            first_seen_at=now - timedelta(days=number % 6),
            last_release_at=None if number % 4 == 0 else now - timedelta(hours=number % 7),
            highest_volume=None if link == "present" else 10,
            highest_chapter=None if number % 3 == 0 else float(number % 8),
            ignore_completion=link == "ignored",
        )
        if link is None:
            continue
        CodexLink.objects.create(
            series=series,
            codex_series_uuid=uuid.uuid4(),
            local_max_volume=8 if link == "behind" else 10,
        )


def straightforward(codex_statuses: list[str], *, scope: str, sort: str, order: str) -> list[int]:
    """The ids the filter means, read the plain way: every series, tested and sorted in Python."""
    listed = Series.objects.all() if scope == "all" else Series.objects.filter(DISCOVERED)
    status_of = dict(CodexLink.objects.values_list("series_id", "status"))
    wanted = []
    for series in listed:
        linked = series.pk in status_of
        if (
            ("any" in codex_statuses and linked)
            or (linked and status_of[series.pk] in codex_statuses)
            or ("missing" in codex_statuses and not linked)
        ):
            wanted.append(series)
    column = SORTS[sort]
    descending = order == "desc"
    valued = [series for series in wanted if getattr(series, column) is not None]
    nulls = [series for series in wanted if getattr(series, column) is None]
    valued.sort(key=lambda series: (getattr(series, column), series.pk), reverse=descending)
    nulls.sort(key=lambda series: series.pk, reverse=descending)
    return [series.pk for series in valued + nulls]


def filters_of(query: str):
    return parse_filters(QueryDict(query), is_admin=True, strict=True)


STATUS_CHOICES = [*FILTER_VALUES, "behind,missing", "complete,present"]


@pytest.mark.parametrize("scope", ["discovered", "all"])
@pytest.mark.parametrize("statuses", STATUS_CHOICES)
def test_both_page_plans_list_the_straightforward_rows_for_every_sort_and_order(statuses, scope):
    build_catalog()
    for sort in SORTS:
        for order in ("asc", "desc"):
            filters = filters_of(f"codexStatus={statuses}&scope={scope}&sort={sort}&order={order}")
            expected = straightforward(statuses.split(","), scope=scope, sort=sort, order=order)
            assert expected, "the catalog has series in every status, in and out of scope"
            for walk in (False, True):
                listed = series_queryset(
                    filters, is_admin=True, include_overlay=False, codex_walks_sort_index=walk
                )
                assert list(listed.values_list("pk", flat=True)) == expected, (sort, order, walk)
            total, catalog_size = codex_total(filters, series_queryset(filters, is_admin=True))
            assert total == len(expected), (sort, order)
            ids = Series.objects.values_list("pk", flat=True)
            assert catalog_size == max(ids) - min(ids) + 1


@pytest.mark.parametrize("statuses", STATUS_CHOICES)
def test_the_api_pages_through_the_straightforward_rows_and_total(client, statuses):
    build_catalog()
    for sort in SORTS:
        expected = straightforward(
            statuses.split(","),
            scope="discovered",
            sort=sort,
            order="asc" if sort == "title" else "desc",
        )
        seen, page = [], 1
        while True:
            body = client.get(
                f"/api/v1/series?codexStatus={statuses}&sort={sort}&pageSize=4&page={page}", **ADMIN
            ).json()
            assert body["total"] == len(expected), sort
            seen += [item["id"] for item in body["items"]]
            if not body["items"]:
                break
            page += 1
        assert seen == expected, sort


def test_a_codex_filter_combined_with_other_filters_counts_the_plain_way(client):
    build_catalog()
    filters = filters_of("codexStatus=complete&kind=manga&hasReleases=true")
    listed = series_queryset(filters, is_admin=True)
    assert codex_total(filters, listed)[0] == listed.count() > 0
    body = client.get("/api/v1/series?codexStatus=complete&kind=manga&hasReleases=true", **ADMIN)
    assert [item["id"] for item in body.json()["items"]] == list(
        listed.values_list("pk", flat=True)
    )


def test_a_common_status_walks_the_sort_index_and_a_rare_one_sorts_its_matches():
    build_catalog(60)
    common = series_listing(filters_of("codexStatus=any"), is_admin=True, page_size=5)
    rare = series_listing(filters_of("codexStatus=ignored"), is_admin=True, page_size=5)
    assert "EXISTS" in str(common.queryset.query)
    assert "EXISTS" not in str(rare.queryset.query)
    assert " IN (SELECT" in str(rare.queryset.query)
    # A deep page of a common status is cheaper sorted than walked to.
    deep = series_listing(filters_of("codexStatus=any"), is_admin=True, page=9, page_size=5)
    assert "EXISTS" not in str(deep.queryset.query)


def test_walking_is_chosen_when_it_reads_no_more_rows_than_sorting_would():
    assert walks_sort_index(matches=75_000, catalog_size=100_000, rows_needed=50)
    assert walks_sort_index(matches=5_700, catalog_size=100_000, rows_needed=50)
    assert not walks_sort_index(matches=1_000, catalog_size=100_000, rows_needed=50)
    assert not walks_sort_index(matches=5_700, catalog_size=100_000, rows_needed=5_000)
    assert not walks_sort_index(matches=0, catalog_size=100_000, rows_needed=50)


@pytest.mark.parametrize("statuses", ["behind", "complete", "any", "missing", "behind,missing"])
def test_a_codex_filtered_api_page_costs_three_queries(client, statuses):
    build_catalog()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/series?codexStatus={statuses}", **ADMIN)
    assert response.status_code == 200 and response.json()["items"]
    # The total (links counted in one statement), the page, the last sweep's time.
    assert len(captured.captured_queries) == 3, [q["sql"] for q in captured.captured_queries]


def test_the_public_ignores_the_codex_filter_and_sees_no_codex_keys(client):
    build_catalog()
    public = client.get("/api/v1/series?codexStatus=behind&pageSize=200").json()
    everything = client.get("/api/v1/series?pageSize=200").json()
    assert public["total"] == everything["total"]
    assert [item["id"] for item in public["items"]] == [item["id"] for item in everything["items"]]
    assert all("codex" not in item for item in public["items"])
    assert "codexSyncedAt" not in public
