"""Nyaa RSS: fetch a feed page and parse it into `NyaaItem`s (SPEC §4.4).

`fetch_page` also fetches the HTML pages `feed.sources.nyaa_html` reads.

The feed is untrusted XML from the internet. defusedxml refuses entity
declarations and external references, so a billion-laughs or XXE document
fails as a `FeedError` instead of exhausting memory or reading local files.
One bad `<item>` is skipped with a warning; only a document that cannot be
read at all fails the poll.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from tsundoku.http import build_session

logger = logging.getLogger(__name__)

NYAA_NAMESPACE = "https://nyaa.si/xmlns/nyaa"
MAX_FEED_BYTES = 16 * 1024**2
RSS_ACCEPT = "application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
# The whole download of one page, however slowly its bytes trickle in: the
# per-read timeout alone lets a server sending 1 byte/s hold the worker for hours.
FETCH_DEADLINE_SECONDS = 120.0
# A post dated further ahead than this is a bad clock or a hostile feed.
MAX_FUTURE_SKEW = timedelta(days=2)

# The post id is the last path segment of the guid: https://nyaa.si/view/2111533.
_EXTERNAL_ID_RE = re.compile(r"(\d+)/?$")
_INFO_HASH_RE = re.compile(r"[0-9a-f]{40}")
_SIZE_RE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]*)", re.IGNORECASE)

# Nyaa prints binary units ("11.6 MiB"); other trackers and older pages print
# decimal ones ("1.2 GB"). Both are accepted, each with its own base.
SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
}


class FeedError(Exception):
    """The feed could not be fetched or is not a readable RSS document."""


class MalformedItem(ValueError):
    """One `<item>` lacks a field tsundoku needs or carries one it cannot trust."""


@dataclass(frozen=True)
class NyaaItem:
    """One Nyaa post as the RSS feed describes it."""

    title: str
    post_url: str
    torrent_url: str
    external_id: str
    posted_at: datetime | None
    info_hash: str
    size_bytes: int | None
    category: str
    description: str
    seeders: int | None = None
    leechers: int | None = None
    downloads: int | None = None
    trusted: bool = False
    remake: bool = False

    @property
    def magnet(self) -> str:
        return magnet_link(self.info_hash, self.title)


@dataclass(frozen=True)
class ParsedFeed:
    """The items read from one document, and why any others were skipped."""

    items: list[NyaaItem]
    skipped: list[str]


def magnet_link(info_hash: str, title: str) -> str:
    """`magnet:?xt=urn:btih:<hash>&dn=<url-encoded title>`, or "" without a hash."""
    if not info_hash:
        return ""
    return f"magnet:?xt=urn:btih:{info_hash}&dn={quote(title, safe='')}"


def fetch_page(
    url: str,
    *,
    timeout: float,
    retries: int,
    accept: str = RSS_ACCEPT,
    deadline: float = FETCH_DEADLINE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """Download one feed or HTML page with the shared retry policy; `FeedError` on failure.

    `timeout` bounds each connect and read; `deadline` bounds the whole body.
    """
    session = build_session(retries=retries, headers={"Accept": accept})
    give_up_at = clock() + deadline
    try:
        with session, session.get(url, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                status = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
                raise FeedError(f"{url} answered {status}")
            return _read_capped(response, url, give_up_at, clock)
    except requests.RequestException as exc:
        raise FeedError(f"could not reach {url}: {_describe_request_error(exc)}") from exc


def parse_feed(xml_bytes: bytes) -> ParsedFeed:
    """Parse an RSS document; skip malformed items with a warning, raise `FeedError` otherwise."""
    try:
        root = fromstring(xml_bytes)
    except DefusedXmlException as exc:
        raise FeedError(f"refused unsafe XML ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise FeedError(f"not well-formed XML ({exc})") from exc
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise FeedError(f"not an RSS document (root element <{root.tag}>)")

    items: list[NyaaItem] = []
    skipped: list[str] = []
    for position, element in enumerate(channel.iter("item"), start=1):
        try:
            items.append(parse_item(element))
        except (MalformedItem, ValueError, OverflowError) as exc:
            reason = f"item {position}: {exc}"
            logger.warning("Skipping malformed Nyaa item: %s", reason)
            skipped.append(reason)
    return ParsedFeed(items=items, skipped=skipped)


def parse_item(element: Element) -> NyaaItem:
    """Read one `<item>`; raise `MalformedItem` naming the field that is missing or bad."""
    title = _text(element, "title")
    if not title:
        raise MalformedItem("no <title>")
    post_url = _text(element, "guid")
    match = _EXTERNAL_ID_RE.search(urlsplit(post_url).path)
    if not match:
        raise MalformedItem(f"<guid> {post_url!r} does not end in a post id ({title!r})")
    return NyaaItem(
        title=title,
        post_url=post_url,
        torrent_url=_text(element, "link"),
        external_id=match.group(1),
        posted_at=_posted_at(_text(element, "pubDate"), title),
        info_hash=_info_hash(_text(element, f"{{{NYAA_NAMESPACE}}}infoHash"), title),
        size_bytes=_size(_text(element, f"{{{NYAA_NAMESPACE}}}size"), title),
        category=_text(element, f"{{{NYAA_NAMESPACE}}}category"),
        description=_text(element, "description"),
        seeders=_count(element, "seeders", title),
        leechers=_count(element, "leechers", title),
        downloads=_count(element, "downloads", title),
        trusted=_text(element, f"{{{NYAA_NAMESPACE}}}trusted").lower() == "yes",
        remake=_text(element, f"{{{NYAA_NAMESPACE}}}remake").lower() == "yes",
    )


def parse_size(text: str) -> int:
    """Bytes in a human size: "11.6 MiB", "1.2 GB", "512 KiB", "800 Bytes"; ValueError if not."""
    match = _SIZE_RE.fullmatch(text.strip())
    unit = match.group("unit").lower() if match else None
    if unit not in SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size")
    # Nyaa rounds the size it prints; truncating the product matches its byte counts.
    return int(float(match.group("number")) * SIZE_UNITS[unit])


def _read_capped(
    response: requests.Response, url: str, give_up_at: float, clock: Callable[[], float]
) -> bytes:
    # A Nyaa page is ~200 KB; anything far larger is not a feed we want in memory.
    # read1 returns whatever one socket read brought (iter_content would block
    # until a whole chunk arrived), so the deadline is checked after every read.
    body = bytearray()
    while chunk := response.raw.read1(64 * 1024, decode_content=True):
        body.extend(chunk)
        if len(body) > MAX_FEED_BYTES:
            raise FeedError(f"{url} sent more than {MAX_FEED_BYTES:,} bytes; not a feed page")
        if clock() > give_up_at:
            raise FeedError(f"{url} took too long to send its page (gave up mid-download)")
    return bytes(body)


def _text(element: Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _posted_at(text: str, title: str) -> datetime | None:
    if not text:
        return None
    try:
        posted_at = parsedate_to_datetime(text)
        # RFC 2822's "-0000" means "UTC, origin unknown"; Python returns it naive.
        posted_at = posted_at if posted_at.tzinfo else posted_at.replace(tzinfo=UTC)
        in_utc = posted_at.astimezone(UTC)  # year 9999 at -0100 overflows here
    except (TypeError, ValueError, OverflowError):
        raise MalformedItem(f"<pubDate> {text!r} is not an RFC 2822 date ({title!r})") from None
    if in_utc > datetime.now(UTC) + MAX_FUTURE_SKEW:
        raise MalformedItem(f"<pubDate> {text!r} is in the future ({title!r})")
    return posted_at


def _info_hash(text: str, title: str) -> str:
    info_hash = text.lower()
    if info_hash and not _INFO_HASH_RE.fullmatch(info_hash):
        raise MalformedItem(f"<nyaa:infoHash> {text!r} is not a 40-digit hex hash ({title!r})")
    return info_hash


def _size(text: str, title: str) -> int | None:
    if not text:
        return None
    try:
        return parse_size(text)
    except ValueError:
        raise MalformedItem(f"<nyaa:size> {text!r} is not a size ({title!r})") from None


def _count(element: Element, tag: str, title: str) -> int | None:
    text = _text(element, f"{{{NYAA_NAMESPACE}}}{tag}")
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise MalformedItem(f"<nyaa:{tag}> {text!r} is not a count ({title!r})")
    return int(text)


def _describe_request_error(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__
