"""Covers on the feed and series pages: from our own origin only, with no query per card."""

from __future__ import annotations

import re

import pytest
from django_q.models import OrmQ

from covers import storage
from tests.covers_helpers import QueueRecorder, cache_cover

# Anonymous feed page: COUNT + the page of series. Covers add nothing.
FEED_PAGE_QUERIES = 2


def cover_url(number: int) -> str:
    return f"https://cdn.mangabaka.test/imgproxy/plain/x350@2/{number:04d}"


@pytest.fixture
def sixty_series(make_series) -> list:
    return [make_series(f"Series {n}", cover_url=cover_url(n), release_count=1) for n in range(60)]


def image_sources(html: str) -> list[str]:
    return re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)


def test_cached_covers_cost_no_query_per_card(
    client, data_dir, sixty_series, django_assert_num_queries
):
    for series in sixty_series:
        cache_cover(series.cover_url)
    for view in ("cards", "list"):
        with django_assert_num_queries(FEED_PAGE_QUERIES):
            response = client.get("/", {"pageSize": 60, "view": view})
        html = response.content.decode()
        sources = image_sources(html)
        assert len(sources) == 60
        assert sorted(sources) == sorted(
            f"/covers/{storage.cover_key(series.cover_url)}" for series in sixty_series
        )


def test_sixty_uncached_covers_queue_one_fetch_not_sixty(
    client, data_dir, sixty_series, django_assert_num_queries
):
    # The one extra query is the single django-q insert for the drain.
    with django_assert_num_queries(FEED_PAGE_QUERIES + 1):
        html = client.get("/", {"pageSize": 60}).content.decode()
    assert image_sources(html) == []
    assert html.count('class="cover__initials"') == 60
    assert OrmQ.objects.count() == 1
    assert len(list(storage.wanted_dir().glob("[0-9a-f]*"))) == 60
    # The drain is already queued: the next view queues nothing.
    with django_assert_num_queries(FEED_PAGE_QUERIES):
        client.get("/", {"pageSize": 60})


def test_the_rendered_feed_page_contains_no_third_party_image_url(
    client, data_dir, make_series, monkeypatch
):
    monkeypatch.setattr("covers.cache.async_task", QueueRecorder())
    cached = make_series("Berserk", cover_url="https://covers.example/berserk.jpg")
    make_series("Vinland Saga", cover_url="https://covers.example/vinland.jpg")
    make_series("Monster")
    cache_cover(cached.cover_url)

    html = client.get("/").content.decode()

    assert "covers.example" not in html
    assert image_sources(html) == [f"/covers/{storage.cover_key(cached.cover_url)}"]
    assert '<span class="cover__initials">VS</span>' in html
    assert '<span class="cover__initials">MO</span>' in html
    (img,) = re.findall(r"<img[^>]*>", html)
    assert 'loading="lazy"' in img
    assert 'decoding="async"' in img


def test_the_series_page_shows_the_cached_cover_from_our_origin(
    client, data_dir, make_series, monkeypatch
):
    monkeypatch.setattr("covers.cache.async_task", QueueRecorder())
    series = make_series("Berserk", cover_url="https://covers.example/berserk.jpg")
    cache_cover(series.cover_url)
    html = client.get(f"/series/{series.pk}/").content.decode()
    assert "covers.example" not in html
    assert image_sources(html) == [f"/covers/{storage.cover_key(series.cover_url)}"]
