"""Shared helpers for the cover cache tests: tiny images, a cached cover, a fake queue."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from covers import storage


def tiny_png() -> bytes:
    """A valid 1×1 PNG, built here so no binary fixture is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x88\x00")
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# The leading bytes of each format we accept, padded to a plausible body.
IMAGE_SAMPLES: dict[str, bytes] = {
    "image/png": tiny_png(),
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64,
    "image/gif": b"GIF89a\x01\x00\x01\x00" + b"\x00" * 64,
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64,
    "image/avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64,
}


def cache_cover(url: str, body: bytes | None = None, *, now: float | None = None) -> Path:
    """Put a cover for `url` straight into the cache, as if the worker had fetched it."""
    return storage.store_image(storage.cover_key(url), body or tiny_png(), now=now)


class QueueRecorder:
    """Stands in for django-q's `async_task`: records what would have been queued."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def __call__(self, func: str, *args, **options) -> str:
        self.calls.append((func, args, options))
        return f"task-{len(self.calls)}"
