"""The one retry, pacing and timeout policy for every upstream tsundoku talks to.

Nyaa, Codex and MangaBaka clients all build their sessions here so that "how
do we retry, how often may we ask, how long do we wait, what do we say we
are" lives in one place. Pacing is per host and shared by every session in
the process (`HOST_LIMITER`): two clients of one upstream never add up to
more than its minimum gap allows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
import urllib3.util.retry as urllib3_retry
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tsundoku import __version__

USER_AGENT = f"tsundoku/{__version__} (+self-hosted manga discovery)"

# 429 is rate limiting; 502/503/504 are a proxy or the upstream restarting.
# Anything else is an answer, not a hiccup, and retrying would only hide it.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


Sleep = Callable[[float], None]
Clock = Callable[[], float]


class HostRateLimiter:
    """A minimum gap between the starts of two requests to one host, and a cap on
    how many may be in flight to it at once, across threads.

    Each caller reserves the next free slot under a lock and sleeps outside
    it, so waiting threads queue up one gap apart instead of stampeding.
    Hosts without a configured gap are not paced, hosts without a configured
    concurrency are not capped. `clock` and `sleep` are injectable so tests
    can check the spacing without waiting for it.
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._gaps: dict[str, float] = {}
        self._next_slot: dict[str, float] = {}
        self._concurrency: dict[str, threading.BoundedSemaphore] = {}
        self._concurrency_limits: dict[str, int] = {}

    def set_max_concurrency(self, host: str, requests: int) -> None:
        """Allow at most `requests` in flight to `host` at once (0: no cap)."""
        host = host.lower()
        with self._lock:
            if self._concurrency_limits.get(host, 0) == requests:
                return
            if requests > 0:
                self._concurrency[host] = threading.BoundedSemaphore(requests)
                self._concurrency_limits[host] = requests
            else:
                self._concurrency.pop(host, None)
                self._concurrency_limits.pop(host, None)

    def max_concurrency(self, host: str) -> int:
        return self._concurrency_limits.get(host.lower(), 0)

    @contextmanager
    def slot(self, host: str) -> Iterator[float]:
        """Hold one of the host's concurrent slots, started at its paced time; yield the wait."""
        with self._lock:
            semaphore = self._concurrency.get(host.lower())
        if semaphore is None:
            yield self.wait(host)
            return
        with semaphore:
            yield self.wait(host)

    def set_min_gap(self, host: str, seconds: float) -> None:
        """Pace requests to `host` (a hostname, lower-case) at least `seconds` apart."""
        with self._lock:
            if seconds > 0:
                self._gaps[host.lower()] = seconds
            else:
                self._gaps.pop(host.lower(), None)

    def min_gap(self, host: str) -> float:
        return self._gaps.get(host.lower(), 0.0)

    def wait(self, host: str) -> float:
        """Block until a request to `host` may start; return the seconds waited."""
        host = host.lower()
        with self._lock:
            gap = self._gaps.get(host, 0.0)
            if gap <= 0:
                return 0.0
            now = self._clock()
            start = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = start + gap
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return delay

    def reset(self) -> None:
        """Forget every gap and reservation (tests)."""
        with self._lock:
            self._gaps.clear()
            self._next_slot.clear()
            self._concurrency.clear()
            self._concurrency_limits.clear()


# The process-wide limiter every `build_session` session uses unless given another.
HOST_LIMITER = HostRateLimiter()


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After but never sleeps longer than a cap.

    A misbehaving upstream can send `Retry-After: 86400`; a sweep or a poll must
    not hang for a day on it. Past the cap we give up waiting that long and
    sleep the cap instead, so the bounded retry count still ends the attempt.
    `sleep` is injectable (tests record the waits instead of sleeping them).
    """

    DEFAULT_RETRY_AFTER_CAP = 30.0

    def __init__(
        self,
        *args,
        retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
        sleep: Sleep | None = None,
        **kwargs,
    ):
        self.retry_after_cap = retry_after_cap
        self.sleep_function = sleep
        super().__init__(*args, **kwargs)

    def new(self, **kwargs) -> CappedRetry:
        kwargs.setdefault("retry_after_cap", self.retry_after_cap)
        kwargs.setdefault("sleep", self.sleep_function)
        return super().new(**kwargs)

    def _pause(self, seconds: float) -> None:
        # Without an injected sleep, defer to urllib3's own module clock, which
        # existing tests patch (`urllib3.util.retry.time`).
        if self.sleep_function is not None:
            self.sleep_function(seconds)
        else:
            urllib3_retry.time.sleep(seconds)

    def sleep_for_retry(self, response) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self._pause(retry_after)
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self._pause(backoff)

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        if seconds is None:
            return None
        return min(seconds, self.retry_after_cap)


class PacedHTTPAdapter(HTTPAdapter):
    """An HTTPAdapter that holds the host's slot in a `HostRateLimiter` while sending.

    Retries happen inside `send` (urllib3) and are spaced by their own
    Retry-After or backoff sleep, so pacing the first attempt is enough; the
    concurrency slot is held until the response headers are in. Streaming
    bodies are read after `send` returns and so outside the slot.
    """

    def __init__(self, *args, limiter: HostRateLimiter, **kwargs) -> None:
        self.limiter = limiter
        super().__init__(*args, **kwargs)

    def send(self, request, *args, **kwargs):
        with self.limiter.slot(urlsplit(request.url).hostname or ""):
            return super().send(request, *args, **kwargs)


def build_session(
    *,
    retries: int = 3,
    backoff_factor: float = 0.5,
    retry_after_cap: float = CappedRetry.DEFAULT_RETRY_AFTER_CAP,
    headers: dict[str, str] | None = None,
    limiter: HostRateLimiter | None = None,
    sleep: Sleep | None = None,
) -> requests.Session:
    """A requests.Session with tsundoku's User-Agent, per-host pacing and bounded retries.

    Timeouts are per call (requests has no session-wide timeout); every client
    passes one explicitly. `limiter` defaults to the process-wide
    `HOST_LIMITER`; `sleep` replaces the retry sleeps (tests).
    """
    retry = CappedRetry(
        total=retries,
        connect=retries,
        read=0,  # a read timeout may have had side effects upstream; surface it
        status=retries,
        backoff_factor=backoff_factor,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # hand the final 429/5xx to the caller to classify
        retry_after_cap=retry_after_cap,
        sleep=sleep,
    )
    session = requests.Session()
    adapter = PacedHTTPAdapter(max_retries=retry, limiter=limiter or HOST_LIMITER)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json, application/xml;q=0.9, */*;q=0.5"
    if headers:
        session.headers.update(headers)
    return session
