"""`/covers/<key>`: cached covers from our own origin, with the right headers, for everyone.

The view only reads the cache: no request can make tsundoku fetch a URL, so
it is not an open proxy.
"""

from __future__ import annotations

import pytest
import responses
from django.utils.http import http_date

from covers import storage
from tests.covers_helpers import IMAGE_SAMPLES, QueueRecorder, cache_cover, tiny_png
from tests.helpers import READ_KEY

COVER = "https://cdn.mangabaka.test/imgproxy/plain/x350@2/YmVyc2Vyaw"
KEY = storage.cover_key(COVER)


@pytest.fixture(autouse=True)
def quiet_queue(monkeypatch) -> QueueRecorder:
    recorder = QueueRecorder()
    monkeypatch.setattr("covers.cache.async_task", recorder)
    return recorder


def test_a_cached_cover_is_served_with_long_lived_cache_headers(client, data_dir):
    path = cache_cover(COVER)
    response = client.get(f"/covers/{KEY}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == tiny_png()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(tiny_png()))
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Last-Modified"] == http_date(int(path.stat().st_mtime))
    assert response["ETag"].startswith(f'"{KEY[:16]}-')
    assert "Set-Cookie" not in response


@pytest.mark.parametrize("content_type", sorted(IMAGE_SAMPLES))
def test_the_content_type_comes_from_the_cached_bytes(client, data_dir, content_type):
    cache_cover(COVER, IMAGE_SAMPLES[content_type])
    response = client.get(f"/covers/{KEY}")
    assert response["Content-Type"] == content_type


def test_revalidation_with_the_etag_gets_304_and_no_body(client, data_dir):
    cache_cover(COVER)
    etag = client.get(f"/covers/{KEY}")["ETag"]
    response = client.get(f"/covers/{KEY}", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_revalidation_by_date_gets_304_and_a_stale_etag_gets_the_image(client, data_dir):
    cache_cover(COVER)
    last_modified = client.get(f"/covers/{KEY}")["Last-Modified"]
    by_date = client.get(f"/covers/{KEY}", headers={"if-modified-since": last_modified})
    assert by_date.status_code == 304
    stale = client.get(f"/covers/{KEY}", headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200


def test_head_answers_the_headers(client, data_dir):
    cache_cover(COVER)
    response = client.head(f"/covers/{KEY}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_other_methods_are_refused(client, data_dir):
    cache_cover(COVER)
    assert client.post(f"/covers/{KEY}").status_code == 405


def test_anonymous_visitors_get_covers_they_are_catalog_data(client, data_dir):
    cache_cover(COVER)
    assert client.get(f"/covers/{KEY}").status_code == 200


def test_when_reading_requires_auth_covers_need_it_too(client, data_dir, tsundoku_config):
    cache_cover(COVER)
    tsundoku_config(auth={"read_requires_auth": True})
    assert client.get(f"/covers/{KEY}").status_code == 302
    assert client.get(f"/covers/{KEY}", headers={"x-api-key": READ_KEY}).status_code == 200


@responses.activate
def test_an_uncached_cover_is_404_and_nothing_is_fetched(client, data_dir, make_series):
    make_series("Berserk", cover_url=COVER)
    response = client.get(f"/covers/{KEY}")
    assert response.status_code == 404
    assert "Cache-Control" not in response or "immutable" not in response["Cache-Control"]
    assert len(responses.calls) == 0
    assert not storage.wanted_dir().exists()


@pytest.mark.parametrize(
    "path",
    [
        "/covers/https://evil.example/x.png",
        "/covers/https%3A%2F%2Fevil.example%2Fx.png",
        "/covers/..%2F..%2Fsecret_key",
        "/covers/" + "A" * 64,
        "/covers/" + KEY[:-1],
    ],
)
@responses.activate
def test_the_view_cannot_be_used_to_fetch_or_read_anything_else(client, data_dir, path):
    (data_dir / "secret_key").write_text("not for visitors")
    response = client.get(path)
    assert response.status_code == 404
    assert len(responses.calls) == 0
    assert b"not for visitors" not in response.content


def test_a_cached_file_that_is_not_an_image_is_not_served(client, data_dir):
    storage.store_image(KEY, b"<script>alert(1)</script>")
    assert client.get(f"/covers/{KEY}").status_code == 404


def test_with_covers_disabled_nothing_is_served(client, data_dir, tsundoku_config):
    cache_cover(COVER)
    tsundoku_config(covers={"enabled": False})
    assert client.get(f"/covers/{KEY}").status_code == 404
