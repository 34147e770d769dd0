"""A local Nyaa on a real socket, and small Nyaa documents, for the discovery tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

NYAA_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nyaa"

# Post id → the reference detail page for it.
DETAIL_PAGES = {
    "2111533": "nyaa_detail_single_file.html",
    "1505969": "nyaa_detail_multi_file.html",
    "2167316": "nyaa_detail_information_mangabaka.html",
}


def nyaa_page(name: str) -> bytes:
    """One reference page from `tests/fixtures/nyaa/`."""
    return (NYAA_FIXTURES / name).read_bytes()


def rss(base_url: str, *items: tuple[str, str], seeders: int = 5) -> bytes:
    """A Nyaa RSS document of `(post id, title)` items whose posts live under `base_url`."""
    body = "".join(
        f"<item><title>{title}</title>"
        f"<link>{base_url}/download/{post}.torrent</link>"
        f"<guid>{base_url}/view/{post}</guid>"
        f"<pubDate>Mon, 18 May 2026 23:34:56 -0000</pubDate>"
        f"<nyaa:infoHash>{post:0>40}</nyaa:infoHash><nyaa:size>1 MiB</nyaa:size>"
        f"<nyaa:seeders>{seeders}</nyaa:seeders><nyaa:trusted>No</nyaa:trusted></item>"
        for post, title in items
    )
    return (
        '<rss xmlns:nyaa="https://nyaa.si/xmlns/nyaa" version="2.0"><channel>'
        f"{body}</channel></rss>"
    ).encode()


class NyaaSite:
    """Serves `routes` ("/path?query" → (status, body)) and records every request's path."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.requests: list[str] = []
        self.accepts: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.accepts.append(self.headers.get("Accept", ""))
                status, body = site.routes.get(self.path, (404, b"not found"))
                kind = "application/rss+xml" if body.startswith(b"<rss") else "text/html"
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, url_or_path: str, body: bytes, status: int = 200) -> None:
        parts = urlsplit(url_or_path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.routes[path] = (status, body)

    def serve_detail_pages(self) -> None:
        for post, name in DETAIL_PAGES.items():
            self.serve(f"/view/{post}", nyaa_page(name))


@contextmanager
def running_nyaa() -> Iterator[NyaaSite]:
    """A `NyaaSite` on 127.0.0.1, shut down afterwards."""
    site = NyaaSite()
    thread = threading.Thread(target=site.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.httpd.shutdown()
        site.httpd.server_close()
        thread.join()
