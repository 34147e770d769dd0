"""Downloading one cover image: http(s) only, bounded in size, and only real images.

The session comes from the project's one HTTP policy (`tsundoku.http`), so a
cover CDN gets the same User-Agent, retry and Retry-After handling as Nyaa and
Codex. The body is streamed and the download aborted as soon as it passes the
size limit; what arrives must start with the magic bytes of JPEG, PNG, WebP,
GIF or AVIF, whatever the server's Content-Type says.
"""

from __future__ import annotations

from dataclasses import dataclass

import filetype
import requests

from covers.storage import is_fetchable_url
from tsundoku.http import build_session

# The formats browsers show in an <img>; filetype's extension → what we serve.
# APNG is a PNG that animates; browsers take it as image/png.
IMAGE_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "apng": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
}
ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9"
# filetype looks at most at this many leading bytes.
SNIFF_BYTES = 8192
CHUNK_BYTES = 64 * 1024


class CoverFetchError(Exception):
    """A cover could not be fetched; the message is the reason we remember."""


class NotFetchable(CoverFetchError):
    """The URL is not an absolute http(s) URL."""


class UpstreamError(CoverFetchError):
    """The CDN was unreachable, timed out, or answered with an error status."""


class ImageTooLarge(CoverFetchError):
    """The image is larger than `covers.max_image_mb`."""


class NotAnImage(CoverFetchError):
    """The body is not a JPEG, PNG, WebP, GIF or AVIF image."""


@dataclass(frozen=True)
class FetchedImage:
    body: bytes
    content_type: str


def image_type(head: bytes) -> str | None:
    """The Content-Type of an image from its leading bytes; None for anything else."""
    kind = filetype.image_match(bytearray(head[:SNIFF_BYTES]))
    return IMAGE_TYPES.get(kind.extension) if kind else None


def build_cover_session() -> requests.Session:
    """A session for cover CDNs: the shared policy, asking for images."""
    return build_session(retries=2, headers={"Accept": ACCEPT})


def fetch_image(
    url: str, *, session: requests.Session, max_bytes: int, timeout: float
) -> FetchedImage:
    """GET one image, refusing it past `max_bytes` or when it is not an image.

    Raises a `CoverFetchError` subclass saying why.
    """
    if not is_fetchable_url(url):
        raise NotFetchable("not an http(s) URL")
    try:
        with session.get(url, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                raise UpstreamError(f"HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ImageTooLarge(f"{declared} bytes declared, the limit is {max_bytes}")
            body = bytearray()
            for chunk in response.iter_content(CHUNK_BYTES):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ImageTooLarge(f"more than {max_bytes} bytes, the limit")
    except requests.RequestException as exc:
        raise UpstreamError(f"{type(exc).__name__}") from exc
    content_type = image_type(bytes(body[:SNIFF_BYTES]))
    if content_type is None:
        raise NotAnImage("the body is not a JPEG, PNG, WebP, GIF or AVIF image")
    return FetchedImage(body=bytes(body), content_type=content_type)
