"""The cover cache's files: failure backoff, claiming requests once, atomic writes."""

from __future__ import annotations

import os

from covers import storage
from covers.cache import local_src
from tests.covers_helpers import QueueRecorder, cache_cover, tiny_png

URL = "https://cdn.test/berserk.png"
KEY = storage.cover_key(URL)


def test_the_key_is_the_sha256_of_the_url():
    assert KEY == "bcfd9b800770653d8203342d433b8d36f6b6496cbdf101a998a810051a597cd8"
    assert storage.cover_key(URL + "?v=2") != KEY


def test_each_consecutive_failure_doubles_the_wait_up_to_a_cap(data_dir):
    now = 1_000_000.0
    waits = [storage.record_failure(KEY, "HTTP 503", now=now).retry_at - now for _ in range(12)]
    assert waits[:3] == [3600, 7200, 14400]
    assert waits[-1] == storage.FAILURE_BACKOFF_CAP_SECONDS
    assert storage.failure(KEY).attempts == 12
    assert storage.is_failing(KEY, now=now + waits[-1] - 1)
    assert not storage.is_failing(KEY, now=now + waits[-1] + 1)


def test_a_request_is_claimed_by_one_worker_only(data_dir):
    assert storage.add_wanted(KEY, URL) is True
    assert storage.add_wanted(KEY, URL) is False  # already asked for
    assert storage.take_wanted(10) == [(KEY, URL)]
    assert storage.take_wanted(10) == []


def test_take_wanted_honours_its_limit_and_leaves_the_rest(data_dir):
    urls = [f"https://cdn.test/{n}.png" for n in range(5)]
    for url in urls:
        storage.add_wanted(storage.cover_key(url), url)
    first = storage.take_wanted(3)
    rest = storage.take_wanted(3)
    assert len(first) == 3
    assert len(rest) == 2
    assert sorted(url for _, url in first + rest) == sorted(urls)


def test_storing_leaves_no_temporary_file_and_marks_fetch_and_shown_time(data_dir):
    path = storage.store_image(KEY, tiny_png(), now=1_000_000.0)
    # Before reading: a read may itself move atime (relatime), which also counts as use.
    assert (path.stat().st_mtime, path.stat().st_atime) == (1_000_000.0, 1_000_000.0)
    assert os.listdir(path.parent) == [KEY]
    assert path.read_bytes() == tiny_png()


def test_showing_a_cover_rewrites_its_atime_at_most_hourly(data_dir):
    path = cache_cover(URL, now=1_000_000.0)
    storage.cached_image(KEY, now=1_000_000.0 + 60)
    assert path.stat().st_atime == 1_000_000.0
    storage.cached_image(KEY, now=1_000_000.0 + storage.SHOWN_RESOLUTION_SECONDS)
    assert path.stat().st_atime == 1_000_000.0 + storage.SHOWN_RESOLUTION_SECONDS
    assert path.stat().st_mtime == 1_000_000.0


def test_a_covers_src_is_the_local_url_or_nothing(data_dir, monkeypatch):
    monkeypatch.setattr("covers.cache.async_task", QueueRecorder())
    assert local_src(URL) == ""
    cache_cover(URL)
    assert local_src(URL) == f"/covers/{KEY}"
    assert local_src("") == ""
