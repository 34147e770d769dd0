"""Downloading a cover: the request we send, and what we refuse (non-images, oversize)."""

from __future__ import annotations

import io

import pytest
import requests
import responses

from covers.fetch import (
    ACCEPT,
    ImageTooLarge,
    NotAnImage,
    NotFetchable,
    UpstreamError,
    build_cover_session,
    fetch_image,
    image_type,
)
from tests.covers_helpers import IMAGE_SAMPLES, tiny_png
from tsundoku.http import USER_AGENT

COVER_URL = "https://cdn.mangabaka.test/imgproxy/plain/x350@2/aHR0cHM6Ly9leGFtcGxlLw"


def fetch(url: str = COVER_URL, *, max_bytes: int = 1024 * 1024):
    return fetch_image(url, session=build_cover_session(), max_bytes=max_bytes, timeout=3)


@responses.activate
def test_the_request_is_a_plain_get_with_our_user_agent_asking_for_images():
    responses.get(COVER_URL + "?v=2", body=tiny_png(), content_type="application/octet-stream")
    image = fetch(COVER_URL + "?v=2")
    assert image.body == tiny_png()
    assert image.content_type == "image/png"  # from the bytes, not the server's header
    (call,) = responses.calls
    assert call.request.method == "GET"
    assert call.request.url == COVER_URL + "?v=2"
    assert call.request.path_url == "/imgproxy/plain/x350@2/aHR0cHM6Ly9leGFtcGxlLw?v=2"
    assert call.request.headers["User-Agent"] == USER_AGENT
    assert call.request.headers["Accept"] == ACCEPT
    assert "Cookie" not in call.request.headers
    assert call.request.body is None


@pytest.mark.parametrize("content_type", sorted(IMAGE_SAMPLES))
@responses.activate
def test_each_image_format_is_recognised_by_its_magic_bytes(content_type):
    responses.get(COVER_URL, body=IMAGE_SAMPLES[content_type], content_type="text/plain")
    assert fetch().content_type == content_type


@pytest.mark.parametrize(
    "body",
    [
        b"<!doctype html><html><body>Not found</body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"BM" + b"\x00" * 64,  # a BMP: an image, but not one we serve
        b"",
    ],
)
@responses.activate
def test_a_body_that_is_not_one_of_our_image_formats_is_refused(body):
    responses.get(COVER_URL, body=body, content_type="image/jpeg")
    with pytest.raises(NotAnImage):
        fetch()


@responses.activate
def test_an_image_declared_larger_than_the_limit_is_refused_before_reading_it():
    body = tiny_png() + b"\x00" * 5000
    responses.get(COVER_URL, body=body, auto_calculate_content_length=True)
    with pytest.raises(ImageTooLarge, match=f"{len(body)} bytes declared, the limit is 4096"):
        fetch(max_bytes=4096)


class EndlessJpeg(io.RawIOBase):
    """A body with no declared length that never ends, counting how much was read."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        start = b"\xff\xd8\xff\xe0" if self.bytes_read == 0 else b""
        data = (start + b"\x00" * len(buffer))[: len(buffer)]
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


@responses.activate
def test_a_stream_without_a_length_is_cut_off_past_the_limit():
    stream = EndlessJpeg()
    responses.get(COVER_URL, body=io.BufferedReader(stream))
    with pytest.raises(ImageTooLarge, match="more than 200000 bytes"):
        fetch(max_bytes=200_000)
    assert stream.bytes_read < 400_000  # aborted, not read to the end


@pytest.mark.parametrize("status", [404, 403, 500])
@responses.activate
def test_an_error_status_is_an_upstream_error(status):
    responses.get(COVER_URL, status=status, body=tiny_png())
    with pytest.raises(UpstreamError, match=f"HTTP {status}"):
        fetch()


@responses.activate
def test_an_unreachable_cdn_is_an_upstream_error():
    responses.get(COVER_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(UpstreamError, match="ConnectionError"):
        fetch()


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "data:image/png;base64,AAAA", "/relative/cover.png", "ftp://x/y.png"],
)
@responses.activate
def test_only_http_urls_are_fetched(url):
    with pytest.raises(NotFetchable):
        fetch(url)
    assert len(responses.calls) == 0


def test_image_type_reads_only_the_leading_bytes():
    assert image_type(tiny_png()[:16]) == "image/png"
    assert image_type(b"GIF87a") == "image/gif"
    assert image_type(b"plain text") is None
