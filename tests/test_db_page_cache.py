"""`tsundoku.db.larger_page_cache`: more SQLite page cache for one large write, then the usual."""

from __future__ import annotations

import pytest
from django.db import connection

from tsundoku.db import LARGE_WRITE_CACHE_KIB, larger_page_cache

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own page cache"),
]


def cache_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return cursor.fetchone()[0]


def test_the_block_runs_with_the_larger_cache_and_the_usual_one_comes_back():
    usual = cache_size()
    assert usual != -LARGE_WRITE_CACHE_KIB

    with larger_page_cache():
        assert cache_size() == -LARGE_WRITE_CACHE_KIB  # negative: a size in KiB

    assert cache_size() == usual


def test_the_usual_cache_comes_back_when_the_block_fails():
    usual = cache_size()

    with pytest.raises(RuntimeError), larger_page_cache(1024):
        assert cache_size() == -1024
        raise RuntimeError("the write failed")

    assert cache_size() == usual
