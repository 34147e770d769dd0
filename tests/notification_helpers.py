"""A local JSON webhook for Apprise's `json://` URLs, and a minimal Nyaa feed for polls."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Webhook:
    """What the webhook received; `fail_with` makes it answer that status instead of 200."""

    port: int = 0
    received: list[dict] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    fail_with: int | None = None

    @property
    def apprise_url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"


@contextmanager
def json_webhook() -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 that records each JSON body posted to it."""
    webhook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            if webhook.fail_with:
                self.send_response(webhook.fail_with)
                self.end_headers()
                return
            webhook.paths.append(self.path)
            webhook.received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args) -> None:
            """Quiet: the test reads `received`, not stderr."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    webhook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield webhook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
