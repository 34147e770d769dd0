"""A title search's total, counted in the trigram index, is exactly the COUNT of its series.

`feed.queries.count_series` counts a search with no other filter in the FTS5
index, less the series outside the feed's default scope; the reference is
the COUNT(*) of `series_queryset`, which reads every series' titles.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed.models import Series, SeriesOrigin
from feed.pagination import paginate
from feed.queries import (
    DISCOVERED,
    UNDISCOVERED,
    count_series,
    for_list_rows,
    parse_filters,
    series_queryset,
)

pytestmark = pytest.mark.django_db

# (title, alternates, origin, release_count): every scope case, words common and rare.
CATALOG = [
    ("The Promised Neverland", ["Yakusoku no Neverland"], SeriesOrigin.PROVIDER, 3),
    ("The Breaker", [], SeriesOrigin.PROVIDER, 0),  # outside the default scope
    ("Theatre of the Absurd", ["Thé"], SeriesOrigin.IMPORT, 0),
    ("Another World", [], SeriesOrigin.ADDED, 0),
    ("Pokémon Adventures", ["Pocket Monsters SPECIAL"], SeriesOrigin.PROVIDER, 0),
    ("Shingeki no Kyojin", ["Attack on Titan", "進撃の巨人"], SeriesOrigin.PROVIDER, 12),
    ('NEAR(the) AND -x "hi"', ["a*b OR c"], SeriesOrigin.IMPORT, 1),
    ("100% Perfect Girl", ["under_score"], SeriesOrigin.PROVIDER, 0),
    ("Berserk", ["Kenpuu Denki Berserk"], SeriesOrigin.PROVIDER, 5),
]

QUERIES = [
    "the",
    "The",
    "THE NEVERLAND",
    "pokemon",
    "pokémon adv",
    "進撃の巨人",
    "another",
    '"hi"',
    "near(the)",
    "a*b",
    "100%",
    "under_score",
    "berserk denki",
    "zzz",
]


@pytest.fixture
def catalog() -> list[Series]:
    return [
        Series.objects.create(
            canonical_title=title,
            alternate_titles=alternates,
            origin=origin,
            release_count=release_count,
        )
        for title, alternates, origin, release_count in CATALOG
    ]


def counted_both_ways(query_string: str) -> tuple[int | None, int]:
    """(the index's count, or None when it does not apply; the queryset's COUNT)."""
    filters = parse_filters(QueryDict(query_string), is_admin=False)
    return count_series(filters), series_queryset(filters, is_admin=False).count()


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")


@sqlite_only
@pytest.mark.parametrize("scope", ["", "&scope=all"])
@pytest.mark.parametrize("query", QUERIES)
def test_a_search_counted_in_the_index_matches_the_count_of_its_series(catalog, query, scope):
    counted, expected = counted_both_ways(urlencode({"q": query}) + scope)
    assert counted == expected


@sqlite_only
def test_the_index_counts_common_words_in_either_scope(catalog):
    # Not vacuous: "the" is in five series, one of them outside the default scope.
    assert counted_both_ways("q=the") == (4, 4)
    assert counted_both_ways("q=the&scope=all") == (5, 5)
    assert counted_both_ways("q=pokemon") == (0, 0)
    assert counted_both_ways("q=pokemon&scope=all") == (1, 1)


@sqlite_only
def test_words_the_index_cannot_look_up_leave_the_count_to_the_queryset(catalog):
    assert counted_both_ways("q=no")[0] is None  # two characters: no trigram
    assert counted_both_ways("q=the no")[0] is None
    assert counted_both_ways("q=")[0] is None  # no search at all


@sqlite_only
def test_a_nul_separates_words_so_the_index_counts_what_is_left(catalog):
    counted, expected = counted_both_ways("q=the%00")  # the words: "the"
    assert counted is not None
    assert counted == expected == counted_both_ways("q=the")[1]


@pytest.mark.parametrize(
    "narrowing", ["kind=manhwa", "status=completed", "hasReleases=true", "hasReleases=false"]
)
def test_a_search_narrowed_by_another_filter_is_counted_by_the_queryset(catalog, narrowing):
    counted, _expected = counted_both_ways(f"q=the&{narrowing}")
    assert counted is None


def test_undiscovered_is_exactly_what_the_default_scope_leaves_out(db):
    for origin in SeriesOrigin.values:
        for release_count in (0, 1, 7):
            Series.objects.create(
                canonical_title=f"{origin} {release_count}",
                origin=origin,
                release_count=release_count,
            )
    inside = set(Series.objects.filter(DISCOVERED).values_list("pk", flat=True))
    outside = set(Series.objects.filter(UNDISCOVERED).values_list("pk", flat=True))
    assert inside.isdisjoint(outside)
    assert inside | outside == set(Series.objects.values_list("pk", flat=True))
    assert len(outside) == 1


def test_known_counts_replace_the_count_of_each_part(catalog, django_assert_num_queries):
    first = Series.objects.filter(release_count__gt=0).order_by("id")
    rest = Series.objects.exclude(release_count__gt=0).order_by("id")
    in_first = first.count()
    with django_assert_num_queries(2):  # no COUNT, one SELECT per part
        page = paginate(first, 1, 5, then=rest, counts=[in_first, len(CATALOG) - in_first])
    assert page.total == len(CATALOG)
    assert [series.pk for series in page.items] == [series.pk for series in [*first, *rest][:5]]


@sqlite_only
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.text(
        st.sampled_from(sorted({c for t, alts, *_ in CATALOG for c in t + "".join(alts)})),
        max_size=10,
    ),
    scope=st.sampled_from(["discovered", "all"]),
)
def test_any_search_total_is_the_count_of_its_series(catalog, query, scope):
    filters = parse_filters({"q": query, "scope": scope}, is_admin=False)
    counted = count_series(filters)
    if counted is not None:
        assert (
            counted
            == for_list_rows(series_queryset(filters, is_admin=False), is_admin=False).count()
        )
