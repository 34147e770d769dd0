"""The shared page helper: bounds, totals, and one COUNT plus one SELECT."""

from __future__ import annotations

import pytest

from feed.models import Series
from feed.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    clamp_page,
    clamp_page_size,
    int_or_none,
    paginate,
)


@pytest.fixture
def twelve_series(make_series):
    return [make_series(f"Title {n:02d}") for n in range(12)]


def test_paginate_returns_the_requested_slice_and_the_total(twelve_series):
    page = paginate(Series.objects.order_by("id"), 2, 5)
    assert [s.pk for s in page.items] == [s.pk for s in twelve_series[5:10]]
    assert (page.page, page.page_size, page.total, page.pages) == (2, 5, 12, 3)
    assert (page.first_index, page.last_index) == (6, 10)
    assert page.has_previous and page.has_next


def test_the_last_page_holds_the_remainder(twelve_series):
    page = paginate(Series.objects.order_by("id"), 3, 5)
    assert len(page.items) == 2
    assert not page.has_next


def test_a_page_past_the_end_is_empty_but_keeps_the_total(twelve_series):
    page = paginate(Series.objects.all(), 9, 5)
    assert page.items == []
    assert (page.total, page.pages, page.first_index, page.last_index) == (12, 3, 0, 0)


def test_an_empty_result_is_one_empty_page(db):
    page = paginate(Series.objects.all(), 1, 50)
    assert (page.items, page.total, page.pages) == ([], 0, 1)


def test_paginate_costs_one_count_and_one_select(twelve_series, django_assert_num_queries):
    with django_assert_num_queries(2):
        paginate(Series.objects.order_by("id"), 1, 5)


def test_a_count_the_caller_gives_stands_in_for_the_count(twelve_series, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = paginate(Series.objects.order_by("id"), 3, 5, counts=[12])
    assert [series.pk for series in page.items] == [series.pk for series in twelve_series[10:]]
    assert (page.total, page.pages) == (12, 3)


def test_counts_the_caller_gives_for_two_parts_place_each_row_as_counting_would(twelve_series):
    ids = [series.pk for series in twelve_series]
    first = Series.objects.filter(pk__in=ids[:3]).order_by("-id")
    then = Series.objects.exclude(pk__in=ids[:3]).order_by("id")
    counted = paginate(first, 1, 5, then=then)
    given = paginate(first, 1, 5, then=then, counts=[3, 9])
    assert [series.pk for series in given.items] == [series.pk for series in counted.items]
    assert [series.pk for series in given.items] == [*ids[2::-1], *ids[3:5]]
    assert given.total == counted.total == 12
    last = paginate(first, 3, 5, then=then, counts=[3, 9])
    assert [series.pk for series in last.items] == ids[10:]


@pytest.mark.parametrize(("raw", "expected"), [(None, 1), (0, 1), (-4, 1), (3, 3)])
def test_pages_start_at_one(raw, expected):
    assert clamp_page(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, DEFAULT_PAGE_SIZE), (0, 1), (10, 10), (500, MAX_PAGE_SIZE)],
)
def test_page_size_defaults_to_50_and_is_capped_at_200(raw, expected):
    assert clamp_page_size(raw) == expected
    assert (DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) == (50, 200)


@pytest.mark.parametrize(
    ("raw", "expected"), [("3", 3), (" 12 ", 12), ("-1", -1), ("x", None), ("", None), (None, None)]
)
def test_int_or_none_reads_query_string_numbers(raw, expected):
    assert int_or_none(raw) == expected
