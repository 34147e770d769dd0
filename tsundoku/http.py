"""The one retry and timeout policy for every upstream tsundoku talks to.

Nyaa and Codex clients both build their sessions here so that "how do we retry,
how long do we wait, what do we say we are" lives in one place.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tsundoku import __version__

USER_AGENT = f"tsundoku/{__version__} (+self-hosted manga discovery)"

# 429 is rate limiting; 502/503/504 are a proxy or the upstream restarting.
# Anything else is an answer, not a hiccup, and retrying would only hide it.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After but never sleeps longer than a cap.

    A misbehaving upstream can send `Retry-After: 86400`; a sweep or a poll must
    not hang for a day on it. Past the cap we give up waiting that long and
    sleep the cap instead, so the bounded retry count still ends the attempt.
    """

    DEFAULT_RETRY_AFTER_CAP = 30.0

    def __init__(self, *args, retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP, **kwargs):
        self.retry_after_cap = retry_after_cap
        super().__init__(*args, **kwargs)

    def new(self, **kwargs) -> CappedRetry:
        kwargs.setdefault("retry_after_cap", self.retry_after_cap)
        return super().new(**kwargs)

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        if seconds is None:
            return None
        return min(seconds, self.retry_after_cap)


def build_session(
    *,
    retries: int = 3,
    backoff_factor: float = 0.5,
    retry_after_cap: float = CappedRetry.DEFAULT_RETRY_AFTER_CAP,
    headers: dict[str, str] | None = None,
) -> requests.Session:
    """A requests.Session with tsundoku's User-Agent and bounded retries.

    Timeouts are per call (requests has no session-wide timeout); every client
    passes one explicitly.
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
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json, application/xml;q=0.9, */*;q=0.5"
    if headers:
        session.headers.update(headers)
    return session
