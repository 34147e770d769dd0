"""`manage.py poll_sources` end to end, against a local HTTP server on a real socket."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from feed.models import Release, SourceState
from tsundoku.config import SourceConfig

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


class FeedServer:
    """Serves the Nyaa sample at /rss (anything else is a 404) and remembers each request."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.user_agents: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.user_agents.append(self.headers.get("User-Agent", ""))
                if self.path != "/rss?page=rss":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def feed_server(nyaa_sample) -> Iterator[FeedServer]:
    server = FeedServer(nyaa_sample)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join()


@pytest.fixture
def configure_sources(settings):
    def configure(*sources: SourceConfig) -> None:
        settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, sources=sources)

    return configure


def source(name: str, url: str, *, enabled: bool = True) -> SourceConfig:
    return SourceConfig(
        kind="nyaa", name=name, feed_url=url, cron=None, enabled=enabled, detail_pages=False
    )


def poll(*args: str) -> str:
    out = StringIO()
    call_command("poll_sources", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_polling_the_sample_ingests_75_releases_and_is_idempotent(feed_server, configure_sources):
    configure_sources(source("local", f"{feed_server.url}/rss?page=rss"))

    first = poll()
    second = poll()

    assert first.strip() == (
        "local: fetched 75, new 75, updated 0, resolved 0, queued for review 0, skipped 0"
    )
    assert second.strip() == (
        "local: fetched 75, new 0, updated 0, resolved 0, queued for review 0, skipped 0"
    )
    assert Release.objects.count() == 75
    assert Release.objects.filter(source_name="local").count() == 75
    assert all(agent.startswith("tsundoku/") for agent in feed_server.user_agents)
    assert SourceState.objects.get(name="local").last_summary["new"] == 0


def test_only_the_named_source_is_polled(feed_server, configure_sources):
    configure_sources(
        source("wanted", f"{feed_server.url}/rss?page=rss"),
        source("other", f"{feed_server.url}/rss?page=rss"),
    )

    output = poll("--source", "wanted")

    assert output.startswith("wanted: fetched 75, new 75")
    assert "other" not in output
    assert not SourceState.objects.filter(name="other").exists()


def test_disabled_sources_are_skipped_unless_named(feed_server, configure_sources):
    configure_sources(source("paused", f"{feed_server.url}/rss?page=rss", enabled=False))

    assert poll().startswith("No enabled sources")
    assert poll("--source", "paused").startswith("paused: fetched 75, new 75")


def test_an_unknown_source_name_lists_the_configured_ones(configure_sources):
    configure_sources(
        source("alpha", "http://127.0.0.1:9/rss"), source("beta", "http://127.0.0.1:9/rss")
    )

    with pytest.raises(
        CommandError, match=r"unknown source 'gamma' \(configured sources: alpha, beta\)"
    ):
        poll("--source", "gamma")


def test_a_failing_source_fails_the_command_after_the_others_are_polled(
    feed_server, configure_sources
):
    configure_sources(
        source("broken", f"{feed_server.url}/missing"),
        source("healthy", f"{feed_server.url}/rss?page=rss"),
    )
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="1 of 2 source\\(s\\) failed: broken"):
        call_command("poll_sources", stdout=out, stderr=err)

    assert "broken: failed: " in err.getvalue()
    assert "HTTP 404" in err.getvalue()
    assert out.getvalue().startswith("healthy: fetched 75, new 75")
    assert SourceState.objects.get(name="broken").last_error.endswith("HTTP 404 Not Found")
