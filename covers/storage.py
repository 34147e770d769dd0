"""The cover cache on disk: where each file lives and the few atomic operations on it.

Everything is a file under `<DATA_DIR>/covers/`, so the web processes and the
worker share state without a table, and a page can ask "is this cover cached?"
with one `stat` instead of a query:

- `images/<2 hex>/<key>`: the image bytes. `key` is the SHA-256 of the source
  URL. mtime is when it was fetched (the `Last-Modified` we serve); atime is
  when a page last showed it, set explicitly (mount options such as
  `noatime` only stop the kernel's implicit updates), and eviction is
  least-recently-shown first.
- `failed/<key>`: a fetch that failed. Its mtime is the time before which we
  do not try again; its text is the attempt count and the reason.
- `wanted/<key>`: a page showed a series whose cover is not cached yet; the
  text is the source URL. The worker drains these.

Writes are atomic (a temporary file renamed into place) and removals tolerate
a file that another process removed first, so concurrent web and worker
processes never see half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

KEY_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# Showing a cover rewrites its atime at most this often: LRU needs hours, not
# seconds, and a busy feed page should not write 60 inodes on every view.
SHOWN_RESOLUTION_SECONDS = 3600
# A failed cover waits this long before the next attempt, doubling per
# consecutive failure up to the cap: a dead CDN is asked rarely, not hammered.
FAILURE_BACKOFF_SECONDS = 3600
FAILURE_BACKOFF_CAP_SECONDS = 7 * 24 * 3600
# Temporary files older than this belong to a process that died mid-write.
ABANDONED_TEMP_SECONDS = 3600
TEMP_PREFIX = ".tmp-"


def cover_key(url: str) -> str:
    """The cache key of a source URL: its SHA-256, hex."""
    return sha256(url.encode()).hexdigest()


def is_fetchable_url(url: str | None) -> bool:
    """Only absolute http(s) URLs are ever fetched (never file:, data: or relative ones)."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def covers_dir() -> Path:
    return Path(settings.DATA_DIR) / "covers"


def image_path(key: str) -> Path:
    return covers_dir() / "images" / key[:2] / key


def failure_path(key: str) -> Path:
    return covers_dir() / "failed" / key


def wanted_dir() -> Path:
    return covers_dir() / "wanted"


def _write_atomically(target: Path, data: bytes) -> None:
    """Write `data` beside `target` and rename it into place: readers see all or nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def store_image(key: str, body: bytes, *, now: float | None = None) -> Path:
    """Put a fetched image in the cache, as fetched and shown at `now`."""
    path = image_path(key)
    _write_atomically(path, body)
    stamp = time.time() if now is None else now
    os.utime(path, (stamp, stamp))
    return path


def cached_image(key: str, *, now: float | None = None) -> os.stat_result | None:
    """The cached image's stat if there is one, noting that a page is showing it."""
    path = image_path(key)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    stamp = time.time() if now is None else now
    if stamp - stat.st_atime >= SHOWN_RESOLUTION_SECONDS:
        # Evicted between the stat and here, or a read-only cache: the page still shows it.
        with contextlib.suppress(OSError):
            os.utime(path, ns=(int(stamp * 1e9), stat.st_mtime_ns))
    return stat


@dataclass(frozen=True)
class Failure:
    """A remembered failed fetch: how many in a row, why, and when we may try again."""

    attempts: int
    reason: str
    retry_at: float


def failure(key: str) -> Failure | None:
    """The remembered failure of `key`, if any (whether or not its wait is over)."""
    path = failure_path(key)
    try:
        retry_at = path.stat().st_mtime
        attempts_text, _, reason = path.read_text().partition("\n")
    except FileNotFoundError:
        return None
    try:
        attempts = int(attempts_text)
    except ValueError:
        attempts = 1
    return Failure(attempts=attempts, reason=reason.strip(), retry_at=retry_at)


def is_failing(key: str, *, now: float | None = None) -> bool:
    """Whether `key` failed recently enough that we must not try it yet."""
    try:
        retry_at = failure_path(key).stat().st_mtime
    except FileNotFoundError:
        return False
    return retry_at > (time.time() if now is None else now)


def record_failure(key: str, reason: str, *, now: float | None = None) -> Failure:
    """Remember a failed fetch; the wait doubles with each consecutive failure."""
    previous = failure(key)
    attempts = previous.attempts + 1 if previous else 1
    wait = min(FAILURE_BACKOFF_SECONDS * 2 ** (attempts - 1), FAILURE_BACKOFF_CAP_SECONDS)
    retry_at = (time.time() if now is None else now) + wait
    path = failure_path(key)
    _write_atomically(path, f"{attempts}\n{reason}\n".encode())
    os.utime(path, (retry_at, retry_at))
    return Failure(attempts=attempts, reason=reason, retry_at=retry_at)


def clear_failure(key: str) -> None:
    failure_path(key).unlink(missing_ok=True)


def add_wanted(key: str, url: str) -> bool:
    """Ask the worker for a cover; False when it was already asked for."""
    directory = wanted_dir()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(directory / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(handle, "w") as stream:
        stream.write(url)
    return True


def take_wanted(limit: int) -> list[tuple[str, str]]:
    """Claim up to `limit` wanted covers as (key, source URL), removing their requests.

    Removing is the claim: of two workers that read the same request, only the
    one whose unlink succeeds fetches it. A request whose URL does not hash to
    its name was not written by `add_wanted` and is dropped.
    """
    claimed: list[tuple[str, str]] = []
    try:
        entries = sorted(os.scandir(wanted_dir()), key=lambda entry: entry.name)
    except FileNotFoundError:
        return claimed
    for entry in entries:
        if len(claimed) >= limit:
            break
        if not KEY_PATTERN.match(entry.name):
            continue
        try:
            url = Path(entry.path).read_text().strip()
            os.unlink(entry.path)
        except FileNotFoundError:
            continue
        if cover_key(url) == entry.name:
            claimed.append((entry.name, url))
    return claimed


def _image_files() -> Iterator[os.DirEntry]:
    try:
        buckets = list(os.scandir(covers_dir() / "images"))
    except FileNotFoundError:
        return
    for bucket in buckets:
        if bucket.is_dir():
            with contextlib.suppress(FileNotFoundError):
                yield from os.scandir(bucket.path)


def cache_usage() -> int:
    """Bytes the cached images take."""
    total = 0
    for entry in _image_files():
        with contextlib.suppress(FileNotFoundError):
            total += entry.stat().st_size
    return total


@dataclass(frozen=True)
class Eviction:
    """What one eviction pass did: files removed, bytes freed, bytes left."""

    removed: int
    freed_bytes: int
    remaining_bytes: int


@contextlib.contextmanager
def _eviction_lock() -> Iterator[None]:
    """One evictor at a time across processes (two workers must not both trim)."""
    covers_dir().mkdir(parents=True, exist_ok=True)
    with (covers_dir() / ".evict.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def evict(max_bytes: int, *, now: float | None = None) -> Eviction:
    """Remove least-recently-shown images until the cache is at most `max_bytes`.

    Also removes temporary files a crashed writer left behind.
    """
    stamp = time.time() if now is None else now
    with _eviction_lock():
        images: list[tuple[float, int, str]] = []
        for entry in _image_files():
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            if entry.name.startswith(TEMP_PREFIX):
                if stamp - stat.st_mtime > ABANDONED_TEMP_SECONDS:
                    Path(entry.path).unlink(missing_ok=True)
                continue
            images.append((stat.st_atime, stat.st_size, entry.path))
        total = sum(size for _, size, _ in images)
        removed = freed = 0
        for _, size, path in sorted(images):
            if total <= max_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size
            removed += 1
            freed += size
    return Eviction(removed=removed, freed_bytes=freed, remaining_bytes=total)
