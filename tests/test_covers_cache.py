"""The cover cache's service: pages read it, misses ask the worker, the worker fetches.

Only covers some series actually has are ever fetched, a failed fetch is
remembered (the tile stays, and the CDN is not asked again right away), and
a page asking for many covers queues one drain, not one task per cover.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from covers import cache, storage
from covers.cache import drain_wanted, local_src, prefetch_covers
from tests.covers_helpers import QueueRecorder, cache_cover, tiny_png
from tsundoku.http import USER_AGENT

COVER = "https://cdn.mangabaka.test/imgproxy/plain/x350@2/YmVyc2Vyaw"
OTHER = "https://cdn.mangabaka.test/imgproxy/plain/x350@2/dmlubGFuZA"


@pytest.fixture
def queue(monkeypatch) -> QueueRecorder:
    recorder = QueueRecorder()
    monkeypatch.setattr("covers.cache.async_task", recorder)
    return recorder


def wanted_keys() -> list[str]:
    directory = storage.wanted_dir()
    return sorted(p.name for p in directory.iterdir() if p.name != cache.DRAIN_FLAG)


def age_failure(url: str) -> None:
    """Pretend the failure's wait is over (as if the clock had moved past it)."""
    path = storage.failure_path(storage.cover_key(url))
    os.utime(path, (1, 1))


# ---- What a page sees --------------------------------------------------------


def test_a_cached_cover_is_served_from_our_origin(data_dir, queue):
    cache_cover(COVER)
    assert local_src(COVER) == f"/covers/{storage.cover_key(COVER)}"
    assert queue.calls == []


def test_a_miss_keeps_the_tile_and_asks_the_worker_once(data_dir, queue):
    assert local_src(COVER) == ""
    assert wanted_keys() == [storage.cover_key(COVER)]
    assert (storage.wanted_dir() / storage.cover_key(COVER)).read_text() == COVER
    assert queue.calls == [
        ("covers.tasks.drain_wanted_task", (), {"task_name": "covers-drain", "group": "covers"})
    ]
    # More misses before the drain runs join the queued one.
    assert local_src(COVER) == ""
    assert local_src(OTHER) == ""
    assert len(queue.calls) == 1
    assert len(wanted_keys()) == 2


def test_a_drain_queued_long_ago_and_never_run_is_queued_again(data_dir, queue):
    local_src(COVER)
    flag = storage.wanted_dir() / cache.DRAIN_FLAG
    os.utime(flag, (1, 1))
    local_src(COVER)
    assert len(queue.calls) == 2


def test_a_page_renders_even_when_the_queue_is_unavailable(data_dir, monkeypatch):
    def broken_queue(*args, **kwargs):
        raise RuntimeError("broker down")

    monkeypatch.setattr("covers.cache.async_task", broken_queue)
    assert local_src(COVER) == ""
    # Not flagged as queued, so the next miss tries again.
    assert not (storage.wanted_dir() / cache.DRAIN_FLAG).exists()


@pytest.mark.parametrize(
    "url", ["", None, "javascript:alert(1)", "data:image/png;base64,AAAA", "/local/cover.png"]
)
def test_no_src_and_no_request_for_urls_we_never_fetch(data_dir, queue, url):
    assert local_src(url) == ""
    assert queue.calls == []
    assert not storage.wanted_dir().exists()


def test_with_covers_disabled_pages_show_tiles_and_ask_for_nothing(
    data_dir, queue, tsundoku_config
):
    cache_cover(COVER)
    tsundoku_config(covers={"enabled": False})
    assert local_src(COVER) == ""
    assert local_src(OTHER) == ""
    assert queue.calls == []


# ---- What the worker fetches -------------------------------------------------


@responses.activate
def test_the_drain_fetches_what_pages_asked_for(data_dir, queue, make_series):
    make_series("Berserk", cover_url=COVER)
    responses.get(COVER, body=tiny_png())
    local_src(COVER)

    summary = drain_wanted()

    assert summary.fetched == 1
    (call,) = responses.calls
    assert call.request.method == "GET"
    assert call.request.url == COVER
    assert call.request.headers["User-Agent"] == USER_AGENT
    assert storage.image_path(storage.cover_key(COVER)).read_bytes() == tiny_png()
    assert wanted_keys() == []
    assert local_src(COVER) == f"/covers/{storage.cover_key(COVER)}"


@responses.activate
def test_a_url_no_series_has_is_never_fetched(data_dir, queue, make_series):
    make_series("Berserk", cover_url=COVER)
    planted = "http://169.254.169.254/latest/meta-data/"
    storage.add_wanted(storage.cover_key(planted), planted)

    summary = drain_wanted()

    assert summary.refused_not_in_catalog == 1
    assert summary.fetched == 0
    assert len(responses.calls) == 0
    assert not storage.image_path(storage.cover_key(planted)).exists()


@responses.activate
def test_a_request_whose_name_is_not_its_urls_hash_is_dropped(data_dir, queue, make_series):
    make_series("Berserk", cover_url=COVER)
    (storage.wanted_dir()).mkdir(parents=True)
    (storage.wanted_dir() / storage.cover_key(OTHER)).write_text(COVER)

    drain_wanted()

    assert len(responses.calls) == 0
    assert wanted_keys() == []


@responses.activate
def test_a_failed_fetch_keeps_the_tile_and_is_not_retried_right_away(data_dir, queue, make_series):
    make_series("Berserk", cover_url=COVER)
    responses.get(COVER, status=503)
    local_src(COVER)

    summary = drain_wanted()

    assert summary.failed == 1
    calls_after_first_run = len(responses.calls)
    assert calls_after_first_run >= 1
    key = storage.cover_key(COVER)
    assert not storage.image_path(key).exists()
    remembered = storage.failure(key)
    assert remembered.attempts == 1
    assert remembered.reason == "HTTP 503"

    # Pages keep the tile and do not ask again while the failure is remembered…
    queue.calls.clear()
    assert local_src(COVER) == ""
    assert wanted_keys() == []
    assert queue.calls == []
    # …and neither the drain nor the prefetch goes back to the CDN.
    storage.add_wanted(key, COVER)
    assert drain_wanted().waiting_after_failure == 1
    assert prefetch_covers().waiting_after_failure == 1
    assert len(responses.calls) == calls_after_first_run


@responses.activate
def test_once_the_wait_is_over_it_is_tried_again_and_waits_longer_if_it_fails(
    data_dir, queue, make_series
):
    make_series("Berserk", cover_url=COVER)
    responses.get(COVER, body=b"<html>gateway error page</html>")
    prefetch_covers()
    first = storage.failure(storage.cover_key(COVER))
    assert first.reason == "the body is not a JPEG, PNG, WebP, GIF or AVIF image"

    age_failure(COVER)
    prefetch_covers()

    second = storage.failure(storage.cover_key(COVER))
    assert second.attempts == 2
    assert len(responses.calls) == 2
    # The second wait is twice the first: about two hours from now.
    assert second.retry_at - time.time() > storage.FAILURE_BACKOFF_SECONDS * 1.5


@responses.activate
def test_a_success_after_failures_forgets_them(data_dir, queue, make_series):
    make_series("Berserk", cover_url=COVER)
    responses.get(COVER, status=500)
    prefetch_covers()
    age_failure(COVER)
    responses.replace(responses.GET, COVER, body=tiny_png())

    assert prefetch_covers().fetched == 1
    assert storage.failure(storage.cover_key(COVER)) is None


@responses.activate
def test_a_dead_cdn_stops_the_run_instead_of_timing_out_on_every_cover(
    data_dir, queue, make_series
):
    urls = [f"https://dead-cdn.test/cover/{n}.jpg" for n in range(12)]
    for n, url in enumerate(urls):
        make_series(f"Series {n}", cover_url=url)
        responses.get(url, body=requests.ConnectTimeout("timed out"))

    summary = prefetch_covers()

    assert summary.failed == cache.MAX_CONSECUTIVE_UPSTREAM_ERRORS
    assert summary.stopped == "the cover CDN looks down"
    assert len({call.request.url for call in responses.calls}) == 5


@responses.activate
def test_prefetch_goes_by_latest_release_and_fetches_each_url_once(data_dir, queue, make_series):
    make_series("Old", cover_url=OTHER, last_release_at=timezone.now() - timedelta(days=9))
    make_series("New", cover_url=COVER, last_release_at=timezone.now())
    make_series("Same cover", cover_url=COVER)
    make_series("No cover")
    responses.get(COVER, body=tiny_png())
    responses.get(OTHER, body=tiny_png())

    assert prefetch_covers(limit=1).fetched == 1
    assert [call.request.url for call in responses.calls] == [COVER]
    summary = prefetch_covers(limit=5)
    assert (summary.fetched, summary.already_cached) == (1, 1)
    assert [call.request.url for call in responses.calls] == [COVER, OTHER]


@responses.activate
def test_the_scheduled_prefetch_also_drains_requests_no_drain_picked_up(
    data_dir, make_series, monkeypatch
):
    from covers.tasks import prefetch_covers_task

    def broken_queue(*args, **kwargs):
        raise RuntimeError("broker down")

    monkeypatch.setattr("covers.cache.async_task", broken_queue)
    make_series("Berserk", cover_url=COVER, last_release_at=None)
    responses.get(COVER, body=tiny_png())
    local_src(COVER)  # asked for, but the drain could not be queued

    result = prefetch_covers_task()

    assert result["drained"]["fetched"] == 1
    assert result["prefetched"]["already_cached"] == 1
    assert len(responses.calls) == 1
