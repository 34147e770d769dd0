"""The MangaBaka live API (`https://api.mangabaka.org`, v1): one method per endpoint.

Responses are parsed into `MangaBakaRecord`s at the edge (`mapping.from_api`).
Retries (429 honouring Retry-After, 502/503/504) and per-host pacing come
from the shared session policy in `tsundoku.http`; what is left when they
run out becomes a `ProviderError` subclass saying what the operator can do.
The API key, when configured, travels only in the `x-api-key` header and is
never part of a message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from metadata.mangabaka.mapping import SOURCE_SLUGS, MangaBakaRecord, from_api
from metadata.providers import ProviderError
from tsundoku.http import HOST_LIMITER, HostRateLimiter, Sleep, build_session

logger = logging.getLogger(__name__)

MAX_SEARCH_LIMIT = 50  # the API documents 100, but has enforced 50 per request
MAX_MERGE_HOPS = 5


class MangaBakaUnreachable(ProviderError):
    """No answer (connection refused, timeout, DNS)."""


class MangaBakaRateLimited(ProviderError):
    """HTTP 429 after the bounded Retry-After retries."""


class MangaBakaKeyRejected(ProviderError):
    """HTTP 401/403: the configured API key is wrong or lacks access."""


class MangaBakaBadResponse(ProviderError):
    """An answer we cannot use: unexpected status, not JSON, or not the documented shape."""


class MangaBakaApi:
    """A client for the v1 series, search and source endpoints."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout_seconds: float = 30.0,
        min_request_gap_ms: int = 250,
        retries: int = 3,
        limiter: HostRateLimiter | None = None,
        sleep: Sleep | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._api_key = api_key
        self.limiter = limiter or HOST_LIMITER
        host = urlsplit(self.base_url).hostname or ""
        self.limiter.set_min_gap(host, min_request_gap_ms / 1000)
        headers = {"Accept": "application/json"}
        if api_key:
            headers["x-api-key"] = api_key
        self._session = session or build_session(
            retries=retries, headers=headers, limiter=self.limiter, sleep=sleep
        )
        if session is not None:
            self._session.headers.update(headers)

    def __repr__(self) -> str:  # never the key
        return (
            f"MangaBakaApi(base_url={self.base_url!r}, key={'set' if self._api_key else 'unset'})"
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **kwargs: Any) -> MangaBakaApi:
        return cls(
            config["api_base_url"],
            api_key=config["api_key"],
            timeout_seconds=config["timeout_seconds"],
            min_request_gap_ms=config["min_request_gap_ms"],
            **kwargs,
        )

    # -- endpoints ----------------------------------------------------------------

    def get_series(self, series_id: str) -> MangaBakaRecord | None:
        """`GET /v1/series/{id}`, following merges; None for unknown or deleted series."""
        current = str(series_id).strip()
        for _ in range(MAX_MERGE_HOPS):
            if not current.isdigit():
                return None
            body = self._get(f"/v1/series/{current}")
            if body is None:
                return None
            record = self._parse_series(body.get("data"))
            if record.is_active:
                return record
            if record.state != "merged" or not record.merged_with:
                return None  # deleted
            current = record.merged_with
        logger.warning("MangaBaka series %s: merge chain longer than %d", series_id, MAX_MERGE_HOPS)
        return None

    def search(self, query: str, limit: int = 10) -> list[MangaBakaRecord]:
        """`GET /v1/series/search?q=&page=1&limit=`: active series, the API's order."""
        query = query.strip()
        if not query:
            return []
        limit = max(1, min(limit, MAX_SEARCH_LIMIT))
        body = self._get("/v1/series/search", params={"q": query, "page": 1, "limit": limit})
        if body is None:
            return []
        data = body.get("data")
        if not isinstance(data, list):
            raise MangaBakaBadResponse("MangaBaka search answered without a `data` list")
        records = [self._parse_series(item) for item in data]
        return [record for record in records if record.is_active][:limit]

    def by_source(self, provider: str, external_id: str) -> MangaBakaRecord | None:
        """`GET /v1/source/{slug}/{id}`: the first active series in `data.series[]`.

        `provider` is our token (`mangaupdates`, `mal`, …); sources without a
        documented path (shikimori, ANN) answer None without a request.
        """
        slug = SOURCE_SLUGS.get(provider)
        external_id = str(external_id).strip()
        if slug is None or not external_id:
            return None
        body = self._get(f"/v1/source/{slug}/{quote(external_id, safe='')}")
        if body is None:
            return None
        data = body.get("data")
        series = data.get("series") if isinstance(data, Mapping) else None
        if not isinstance(series, list):
            raise MangaBakaBadResponse("MangaBaka source lookup answered without `data.series`")
        for item in series:
            record = self._parse_series(item)
            if record.is_active:
                return record
        return None

    # -- plumbing -----------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The decoded JSON body of a 200; None for 404; a `ProviderError` otherwise."""
        url = f"{self.base_url}{path}"
        try:
            response = self._session.get(url, params=params, timeout=self.timeout_seconds)
        except requests.RequestException as exc:
            raise MangaBakaUnreachable(
                f"MangaBaka API unreachable ({type(exc).__name__}) at {self.base_url}"
            ) from None
        status = response.status_code
        if status == 404:
            return None
        if status == 429:
            wait = response.headers.get("Retry-After")
            hint = f"; it asks to wait {wait} s" if wait else ""
            raise MangaBakaRateLimited(f"MangaBaka API rate limited the request (HTTP 429){hint}")
        if status in {401, 403}:
            raise MangaBakaKeyRejected(
                f"MangaBaka API rejected the API key (HTTP {status}); "
                "check providers.mangabaka.api_key"
            )
        if status != 200:
            raise MangaBakaBadResponse(f"MangaBaka API answered HTTP {status} for {path}")
        try:
            body = response.json()
        except ValueError:
            raise MangaBakaBadResponse(
                f"MangaBaka API sent a body that is not JSON for {path}"
            ) from None
        if not isinstance(body, dict):
            raise MangaBakaBadResponse(f"MangaBaka API sent an unexpected JSON shape for {path}")
        return body

    @staticmethod
    def _parse_series(item: Any) -> MangaBakaRecord:
        if not isinstance(item, Mapping) or not str(item.get("id", "")).isdigit():
            raise MangaBakaBadResponse("MangaBaka API sent a series without an id")
        record = from_api(item)
        if record.is_active and not record.metadata.title:
            raise MangaBakaBadResponse("MangaBaka API sent an active series without a title")
        return record
