"""Hostile feeds and titles (issue 11).

A bad item is skipped, a trickling download is cut off, noise is not a volume.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from feed.coverage import MAX_PLAUSIBLE_CHAPTER, MAX_PLAUSIBLE_VOLUME, derived_values
from feed.sources.nyaa import FeedError, fetch_page, parse_feed

HEADER = (
    '<rss xmlns:nyaa="https://nyaa.si/xmlns/nyaa" version="2.0"><channel>'
    "<title>Nyaa - Home - Torrent File RSS</title>"
)
FOOTER = "</channel></rss>"


def item(number: int, pub_date: str) -> str:
    return (
        f"<item><title>Series {number} v01</title>"
        f"<link>https://nyaa.si/download/{number}.torrent</link>"
        f"<guid>https://nyaa.si/view/{number}</guid>"
        f"<pubDate>{pub_date}</pubDate></item>"
    )


GOOD_DATE = "Mon, 18 May 2026 23:34:56 -0000"


@pytest.mark.parametrize(
    "bad_date",
    [
        "Fri, 31 Dec 9999 23:59:59 -0100",  # OverflowError in the conversion to UTC
        "Fri, 31 Dec 99999 23:59:59 -0000",  # ValueError: year out of range
        "Fri, 31 Dec 9999 23:59:59 -0000",  # parses, but no post is from the year 9999
    ],
)
def test_one_bad_pubdate_skips_that_item_and_the_rest_land(bad_date, caplog):
    document = HEADER + item(1, GOOD_DATE) + item(2, bad_date) + item(3, GOOD_DATE) + FOOTER

    parsed = parse_feed(document.encode())

    assert [entry.external_id for entry in parsed.items] == ["1", "3"]
    assert len(parsed.skipped) == 1 and parsed.skipped[0].startswith("item 2:")
    assert "Skipping malformed Nyaa item" in caplog.text


@contextmanager
def trickling_server(pieces: int) -> Iterator[str]:
    """A local HTTP server that sends its body in `pieces` separate small writes."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                + f"Content-Length: {pieces}\r\n\r\n".encode()
            )
            for _ in range(pieces):
                if stop.is_set():
                    return
                try:
                    connection.sendall(b" ")
                except OSError:
                    return  # the client gave up: what the test wants

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/?page=rss"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=10)


@pytest.mark.e2e
def test_a_page_that_trickles_past_the_deadline_fails_the_fetch():
    # Each read advances the fake clock a minute: the deadline passes on the
    # third read whatever the real speed, so the test waits for nothing.
    ticks = itertools.count(step=60.0)

    with trickling_server(pieces=100_000) as url, pytest.raises(FeedError, match="took too long"):
        fetch_page(url, timeout=5, retries=0, deadline=150, clock=lambda: next(ticks))


@pytest.mark.e2e
def test_a_page_within_the_deadline_is_read_whole():
    with trickling_server(pieces=10) as url:
        assert fetch_page(url, timeout=5, retries=0) == b" " * 10


def test_absurd_volume_and_chapter_numbers_are_ignored_not_published():
    values = derived_values(
        [(1.0, 3.0), (1e21, 1e21)],
        [(10.0, 12.0), (MAX_PLAUSIBLE_CHAPTER + 1.0, MAX_PLAUSIBLE_CHAPTER + 1.0)],
        release_count=3,
        last_release_at=None,
    )

    assert values["highest_volume"] == 3
    assert values["highest_chapter"] == 12
    assert values["volume_coverage"] == [[1, 3]]


def test_the_largest_plausible_volume_still_counts():
    values = derived_values([(MAX_PLAUSIBLE_VOLUME, MAX_PLAUSIBLE_VOLUME)], [], 1, None)

    assert values["highest_volume"] == MAX_PLAUSIBLE_VOLUME
