"""The cache stays under `covers.max_cache_mb`: least recently shown covers go first."""

from __future__ import annotations

import os
import time

import pytest
import responses

from covers import storage
from covers.cache import MEGABYTE, drain_wanted, local_src, prefetch_covers
from tests.covers_helpers import QueueRecorder, cache_cover

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * (300 * 1024 - 4)  # 300 KiB


@pytest.fixture(autouse=True)
def quiet_queue(monkeypatch) -> None:
    monkeypatch.setattr("covers.cache.async_task", QueueRecorder())


def shown_at(url: str, when: float) -> None:
    path = storage.image_path(storage.cover_key(url))
    os.utime(path, (when, path.stat().st_mtime))


def cached(url: str) -> bool:
    return storage.image_path(storage.cover_key(url)).exists()


def test_eviction_removes_least_recently_shown_first_down_to_the_bound(data_dir):
    now = time.time()
    urls = [f"https://cdn.test/{n}.jpg" for n in range(5)]
    for n, url in enumerate(urls):
        cache_cover(url, JPEG, now=now - 1000 + n)
    shown_at(urls[0], now)  # the oldest fetch was shown just now

    result = storage.evict(3 * len(JPEG))

    assert result.removed == 2
    assert result.freed_bytes == 2 * len(JPEG)
    assert result.remaining_bytes == 3 * len(JPEG) == storage.cache_usage()
    assert [cached(url) for url in urls] == [True, False, False, True, True]


def test_eviction_under_the_bound_removes_nothing(data_dir):
    cache_cover("https://cdn.test/a.jpg", JPEG)
    assert storage.evict(len(JPEG)).removed == 0
    assert cached("https://cdn.test/a.jpg")


def test_showing_a_cover_on_a_page_marks_it_recently_used(data_dir, tsundoku_config):
    long_ago = time.time() - 10 * storage.SHOWN_RESOLUTION_SECONDS
    urls = ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"]
    for url in urls:
        cache_cover(url, JPEG, now=long_ago)
    fetched_at = storage.image_path(storage.cover_key(urls[0])).stat().st_mtime

    assert local_src(urls[0])  # a page shows a

    assert storage.evict(len(JPEG)).removed == 1
    assert [cached(url) for url in urls] == [True, False]
    # Last-Modified (the fetch time) is untouched by being shown.
    assert storage.image_path(storage.cover_key(urls[0])).stat().st_mtime == fetched_at


def test_abandoned_temporary_files_are_removed_and_fresh_ones_kept(data_dir):
    cache_cover("https://cdn.test/a.jpg", JPEG)
    bucket = storage.image_path(storage.cover_key("https://cdn.test/a.jpg")).parent
    abandoned = bucket / f"{storage.TEMP_PREFIX}crashed"
    abandoned.write_bytes(b"half")
    os.utime(abandoned, (1, 1))
    writing = bucket / f"{storage.TEMP_PREFIX}writing"
    writing.write_bytes(b"half")

    storage.evict(10 * MEGABYTE)

    assert not abandoned.exists()
    assert writing.exists()


@responses.activate
def test_fetching_what_pages_ask_for_keeps_the_cache_under_the_bound(
    data_dir, make_series, tsundoku_config
):
    tsundoku_config(covers={"max_cache_mb": 1})
    urls = [f"https://cdn.test/{n}.jpg" for n in range(6)]
    for n, url in enumerate(urls):
        make_series(f"Series {n}", cover_url=url)
        responses.get(url, body=JPEG)
        local_src(url)

    summary = drain_wanted()

    assert summary.fetched == 6
    assert summary.evicted == 3
    assert storage.cache_usage() <= MEGABYTE
    assert sum(cached(url) for url in urls) == 3


@responses.activate
def test_prefetching_stops_when_the_cache_is_full_instead_of_evicting(
    data_dir, make_series, tsundoku_config
):
    tsundoku_config(covers={"max_cache_mb": 1})
    shown = [f"https://cdn.test/shown/{n}.jpg" for n in range(3)]
    for url in shown:
        cache_cover(url, JPEG)
    for n in range(4):
        url = f"https://cdn.test/new/{n}.jpg"
        make_series(f"New {n}", cover_url=url)
        responses.get(url, body=JPEG)

    summary = prefetch_covers()

    # 900 KiB cached; the first 300 KiB download does not fit in the 124 KiB left.
    assert summary.fetched == 0
    assert summary.evicted == 0
    assert summary.stopped == "the cache is full"
    assert len(responses.calls) == 1
    assert all(cached(url) for url in shown)
    assert storage.cache_usage() == 3 * len(JPEG)


@responses.activate
def test_prefetching_fills_the_free_space(data_dir, make_series, tsundoku_config):
    tsundoku_config(covers={"max_cache_mb": 1})
    cache_cover("https://cdn.test/shown.jpg", JPEG)
    for n in range(4):
        url = f"https://cdn.test/new/{n}.jpg"
        make_series(f"New {n}", cover_url=url)
        responses.get(url, body=JPEG)

    summary = prefetch_covers()

    assert (summary.fetched, summary.evicted) == (2, 0)
    assert summary.stopped == "the cache is full"
    assert cached("https://cdn.test/shown.jpg")
    assert storage.cache_usage() == 3 * len(JPEG) <= MEGABYTE
