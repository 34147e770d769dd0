"""Covers end to end: a real HTTP server on 127.0.0.1 plays the CDN.

A page view asks for the cover, the worker's task fetches it over a real
socket, the next page view shows it from our origin, and serving it never
goes back to the CDN.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from covers import storage
from covers.tasks import drain_wanted_task
from tests.covers_helpers import QueueRecorder, tiny_png
from tsundoku.http import USER_AGENT

pytestmark = pytest.mark.e2e

COVER_PATH = "/imgproxy/plain/x350@2/aHR0cHM6Ly9leGFtcGxlLmNvbS9iZXJzZXJrLmpwZw"


class FakeCdn(BaseHTTPRequestHandler):
    """Serves a tiny PNG at COVER_PATH, an HTML error page elsewhere; records requests."""

    seen: list[tuple[str, str, dict[str, str]]]

    def do_GET(self) -> None:
        self.seen.append((self.command, self.path, dict(self.headers)))
        if self.path == COVER_PATH:
            body, status, content_type = tiny_png(), 200, "image/png"
        else:
            body, status, content_type = b"<html>no such image</html>", 200, "text/html"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # keep test output clean
        pass


@pytest.fixture
def cdn() -> Iterator[tuple[str, list]]:
    seen: list = []
    handler = type("RecordingCdn", (FakeCdn,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_cover_is_fetched_once_over_a_real_socket_then_served_locally(
    client, data_dir, make_series, monkeypatch, cdn
):
    base_url, seen = cdn
    queue = QueueRecorder()
    monkeypatch.setattr("covers.cache.async_task", queue)
    series = make_series("Berserk", cover_url=base_url + COVER_PATH, release_count=1)
    key = storage.cover_key(series.cover_url)

    first = client.get("/").content.decode()
    assert "<img" not in first  # the tile, while the worker fetches
    assert [call[0] for call in queue.calls] == ["covers.tasks.drain_wanted_task"]
    assert seen == []  # the page itself never contacted the CDN

    summary = drain_wanted_task()  # what the worker runs
    assert summary["fetched"] == 1

    second = client.get("/").content.decode()
    assert f'src="/covers/{key}"' in second
    assert base_url not in second
    image = client.get(f"/covers/{key}")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == tiny_png()

    client.get("/")
    client.get(f"/covers/{key}")
    (request,) = seen  # fetched exactly once
    method, path, headers = request
    assert (method, path) == ("GET", COVER_PATH)
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept"].startswith("image/")


def test_fetch_covers_warms_the_cache_and_refuses_a_page_that_is_not_an_image(
    data_dir, make_series, cdn, capsys
):
    base_url, seen = cdn
    make_series("Berserk", cover_url=base_url + COVER_PATH)
    broken = make_series("Monster", cover_url=base_url + "/error-page")

    call_command("fetch_covers")

    assert "fetched 1, failed 1" in capsys.readouterr().out
    assert sorted(path for _, path, _ in seen) == sorted([COVER_PATH, "/error-page"])
    assert storage.image_path(storage.cover_key(base_url + COVER_PATH)).exists()
    assert not storage.image_path(storage.cover_key(broken.cover_url)).exists()
    assert storage.failure(storage.cover_key(broken.cover_url)).reason.startswith("the body is not")
