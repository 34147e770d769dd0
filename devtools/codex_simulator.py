"""A faithful stand-in for the two Codex routes tsundoku uses, over a real socket.

Serves `GET /api/v1/info` and `GET /api/v1/series/external-index` the way
Codex does (SPEC §5.1, Codex's `src/api/extractors/auth.rs`, `error.rs` and
rate-limit middleware), from a JSON library file, plus switches that make it
misbehave for fault tests. Standard library only (`http.server`), so it runs
anywhere the project runs.

Library file format: a JSON list of
`{"id": "<uuid>", "title": "<str>", "externalIds": [{"source", "externalId",
"externalUrl"?}], "localMaxVolume": int|null, "localMaxChapter": number|null,
"volumesOwned": int|null}`. Missing count keys mean null; `title` only orders
the index (Codex sorts by name, then id) and is never emitted.

`prerender_page_size` makes it a *fast* Codex: every page at that page size
is rendered and serialised once, when the library is set, and served as
bytes from memory, so a client's fetch costs what receiving it costs (the
benchmarks' floor for a sweep). The pages are exactly what the ordinary path
renders, `externalIds` shuffled once rather than per request.

Control routes (not part of Codex, never rate limited or counted):
`GET|POST /__sim__/faults` (POST a JSON object such as `{"mode": "down"}`),
`GET|DELETE /__sim__/stats`, `PUT /__sim__/library` (a JSON library list).
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tsundoku.config import CODEX_MAX_PAGE_SIZE

logger = logging.getLogger(__name__)

INFO_PATH = "/api/v1/info"
EXTERNAL_INDEX_PATH = "/api/v1/series/external-index"
CONTROL_PREFIX = "/__sim__/"

DEFAULT_VERSION = "1.40.0"
LEGACY_VERSION = "1.31.0"
DEFAULT_API_KEY = "codex-sim-key"
DEFAULT_PAGE_SIZE = 50
_U64_MAX = 2**64 - 1

FAULT_MODES = (
    "none",
    "down",
    "error_5xx",
    "slow",
    "truncated",
    "shrinking_total",
    "garbage",
    "fail_on_page",
    "legacy",
)


# ---------------------------------------------------------------------------- library


def normalize_library(entries: Iterable[Any]) -> list[dict[str, Any]]:
    """Validate library entries and fill in missing count keys with None.

    Raises ValueError naming the offending entry, so a typo in a library file
    fails at start-up rather than as a strange response later.
    """
    library = []
    seen_ids: set[str] = set()
    for position, entry in enumerate(entries):
        where = f"library entry {position}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} is not an object")
        series_id = entry.get("id")
        if not isinstance(series_id, str) or not series_id:
            raise ValueError(f"{where} has no string 'id'")
        if series_id in seen_ids:
            raise ValueError(f"{where} repeats id {series_id}")
        seen_ids.add(series_id)
        title = entry.get("title", "")
        if not isinstance(title, str):
            raise ValueError(f"{where}: 'title' must be a string")
        external_ids = []
        for ref in entry.get("externalIds") or []:
            if not isinstance(ref, Mapping):
                raise ValueError(f"{where}: an externalIds entry is not an object")
            source, external_id = ref.get("source"), ref.get("externalId")
            if not isinstance(source, str) or not isinstance(external_id, str):
                raise ValueError(f"{where}: externalIds need string 'source' and 'externalId'")
            external_url = ref.get("externalUrl")
            if external_url is not None and not isinstance(external_url, str):
                raise ValueError(f"{where}: 'externalUrl' must be a string")
            external_ids.append(
                {"source": source, "externalId": external_id, "externalUrl": external_url}
            )
        library.append(
            {
                "id": series_id,
                "title": title,
                "externalIds": external_ids,
                "localMaxVolume": _count(entry, "localMaxVolume", where),
                "localMaxChapter": _chapter(entry, where),
                "volumesOwned": _count(entry, "volumesOwned", where),
            }
        )
    return library


def load_library(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate a library file (see the module docstring for the format)."""
    with open(path, encoding="utf-8") as handle:
        entries = json.load(handle)
    if not isinstance(entries, list):
        raise ValueError(f"{path}: a library file holds a JSON list of series")
    return normalize_library(entries)


def _count(entry: Mapping[str, Any], key: str, where: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: {key!r} must be a non-negative integer or null")
    return value


def _chapter(entry: Mapping[str, Any], where: str) -> float | None:
    value = entry.get("localMaxChapter")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: 'localMaxChapter' must be a number or null")
    # Codex stores chapters as floats, so whole chapters print as 12.0.
    return float(value)


# ----------------------------------------------------------------------------- faults

_SERVER_ERROR_STATUSES = frozenset(status.value for status in HTTPStatus if status.value >= 500)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class SimulatorFaults:
    """How the simulator should misbehave; `mode` picks one behaviour.

    - `none`: behave.
    - `down`: every Codex route answers 503, or drops the connection without an
      answer when `close_connection` is true.
    - `error_5xx`: external-index requests answer `status` (default 502), the
      first `count` times then recover, or always when `count` is None.
    - `slow`: sleep `delay_seconds` before answering any Codex route.
    - `truncated`: pages at or after `page` come back with empty `data` while
      `total` still claims every series.
    - `shrinking_total`: from page `page` on, the first `shrink_by` series have
      vanished, so `total` drops and rows shift (a deletion mid-sweep).
    - `garbage`: external-index answers 200 with a body that is not JSON.
    - `fail_on_page`: page `page` answers 500 with Codex's internal-error body.
    - `legacy`: behave like Codex < 1.32.0: external-index is a 400 plain text
      (the route does not exist) and info reports version 1.31.0.
    """

    mode: str = "none"
    close_connection: bool = False
    status: int = 502
    count: int | None = None
    delay_seconds: float = 2.0
    page: int = 2
    shrink_by: int = 1

    def __post_init__(self) -> None:
        if self.mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}; one of {', '.join(FAULT_MODES)}")
        if self.status not in _SERVER_ERROR_STATUSES:
            raise ValueError(f"fault status must be a 5xx HTTP status, not {self.status!r}")
        if self.count is not None and not (_is_whole(self.count) and self.count >= 0):
            raise ValueError("fault count must be a non-negative integer or null")
        if not (_is_whole(self.page) and self.page >= 1):
            raise ValueError("fault page must be an integer >= 1")
        if not (_is_whole(self.shrink_by) and self.shrink_by >= 0):
            raise ValueError("fault shrink_by must be a non-negative integer")
        if not isinstance(self.delay_seconds, int | float) or not self.delay_seconds >= 0:
            raise ValueError("fault delay_seconds must be a non-negative number")

    @classmethod
    def from_dict(cls, options: Mapping[str, Any]) -> SimulatorFaults:
        """Build from a JSON object, rejecting keys this class does not know."""
        known = {item.name for item in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        return cls(**options)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------- rate limiting


class TokenBucketLimiter:
    """Per-client token buckets: `rate` tokens a second, holding at most `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> tuple[bool, int, int]:
        """Spend one token for `client`: `(allowed, remaining, retry_after_seconds)`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, updated = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
            if tokens >= 1:
                tokens -= 1
                self._buckets[client] = (tokens, now)
                return True, int(tokens), 0
            self._buckets[client] = (tokens, now)
            return False, 0, max(1, math.ceil((1 - tokens) / self.rate))


# ---------------------------------------------------------------------------- the app


@dataclass
class SimulatorResponse:
    """What to send back; `close_connection` means hang up without answering."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    close_connection: bool = False


class CodexSimulator:
    """The routing and behaviour of the fake Codex, independent of any socket.

    `api_key` is the valid key; `expired_keys` answer 401 "API key has expired"
    and `forbidden_keys` 403 "Missing required permission: SeriesRead".
    `rate_limit`/`burst` enable Codex's per-IP token bucket (Codex's defaults
    are 10/s, burst 50). `shuffle_seed` makes the per-request shuffle of each
    item's `externalIds` reproducible. `prerender_page_size` serves pages of
    that size from bytes rendered once (see the module docstring).
    """

    def __init__(
        self,
        library: Iterable[Mapping[str, Any]] = (),
        *,
        api_key: str = DEFAULT_API_KEY,
        expired_keys: Iterable[str] = (),
        forbidden_keys: Iterable[str] = (),
        version: str = DEFAULT_VERSION,
        rate_limit: float | None = None,
        burst: int | None = None,
        faults: SimulatorFaults | Mapping[str, Any] | str | None = None,
        shuffle_seed: int | None = None,
        prerender_page_size: int | None = None,
    ) -> None:
        if prerender_page_size is not None and not 1 <= prerender_page_size <= CODEX_MAX_PAGE_SIZE:
            raise ValueError(f"prerender page size must be between 1 and {CODEX_MAX_PAGE_SIZE}")
        self.prerender_page_size = prerender_page_size
        self._prerendered: list[bytes] = []
        self.api_key = api_key
        self.expired_keys = frozenset(expired_keys)
        self.forbidden_keys = frozenset(forbidden_keys)
        self.version = version
        self.limiter = (
            TokenBucketLimiter(rate_limit, burst if burst is not None else max(1, int(rate_limit)))
            if rate_limit
            else None
        )
        self._lock = threading.Lock()
        self._rng = random.Random(shuffle_seed)
        self._stop = threading.Event()
        self._library: list[dict[str, Any]] = []
        self._faults = SimulatorFaults()
        self._error_5xx_served = 0
        self._route_counts: Counter[str] = Counter()
        self._status_counts: Counter[str] = Counter()
        self._index_pages: list[int] = []
        self.set_library(library)
        self.set_faults(faults)

    # -- runtime configuration ------------------------------------------------------

    def set_library(self, library: Iterable[Mapping[str, Any]]) -> None:
        """Replace the library; it is served in Codex's order (title, then id)."""
        normalized = normalize_library(library)
        normalized.sort(key=lambda series: (series["title"].casefold(), series["id"]))
        prerendered = self._prerender(normalized)
        with self._lock:
            self._library = normalized
            self._prerendered = prerendered

    def _prerender(self, library: list[dict[str, Any]]) -> list[bytes]:
        """Every page at `prerender_page_size`, serialised; empty when not prerendering."""
        page_size = self.prerender_page_size
        if page_size is None:
            return []
        total = len(library)
        total_pages = math.ceil(total / page_size)
        return [
            json.dumps(
                self._index_body(
                    library[(page - 1) * page_size : page * page_size],
                    page,
                    page_size,
                    total,
                    total_pages,
                )
            ).encode()
            for page in range(1, total_pages + 1)
        ]

    def set_faults(self, faults: SimulatorFaults | Mapping[str, Any] | str | None = None) -> None:
        """Switch misbehaviour: a mode name, a dict of `SimulatorFaults` fields, or None."""
        if faults is None:
            faults = SimulatorFaults()
        elif isinstance(faults, str):
            faults = SimulatorFaults(mode=faults)
        elif not isinstance(faults, SimulatorFaults):
            faults = SimulatorFaults.from_dict(faults)
        with self._lock:
            self._faults = faults
            self._error_5xx_served = 0

    @property
    def faults(self) -> SimulatorFaults:
        with self._lock:
            return self._faults

    @property
    def stats(self) -> dict[str, Any]:
        """Requests to Codex routes so far: per route, per status, and pages asked for."""
        with self._lock:
            return {
                "total": sum(self._route_counts.values()),
                "routes": dict(self._route_counts),
                "statuses": dict(self._status_counts),
                "index_pages": list(self._index_pages),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._route_counts.clear()
            self._status_counts.clear()
            self._index_pages.clear()

    def stop(self) -> None:
        """Wake any request sleeping in `slow` mode so shutdown is prompt."""
        self._stop.set()

    # -- dispatch -----------------------------------------------------------------------

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        client_ip: str,
        body: bytes = b"",
    ) -> SimulatorResponse:
        """Answer one request; `headers` must be case-insensitive (http.client's are)."""
        parts = urlsplit(target)
        path = parts.path
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path, body)
        response = self._codex(method, path, parts.query, headers, client_ip)
        with self._lock:
            self._route_counts[path] += 1
            status = "closed" if response.close_connection else str(response.status)
            self._status_counts[status] += 1
        return response

    def _codex(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        client_ip: str,
    ) -> SimulatorResponse:
        known_route = path in (INFO_PATH, EXTERNAL_INDEX_PATH)
        faults = self.faults
        if faults.mode == "down" and known_route:
            if faults.close_connection:
                return SimulatorResponse(status=0, close_connection=True)
            return _text(HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable")
        if faults.mode == "slow" and known_route:
            self._stop.wait(faults.delay_seconds)

        limited = self._rate_limit(headers, client_ip)
        if limited is not None:
            return limited

        if not known_route:
            return _error(HTTPStatus.NOT_FOUND, "NotFound", f"No route for {path}")
        if method != "GET":
            # axum answers a wrong method on a known route with an empty 405.
            return SimulatorResponse(status=HTTPStatus.METHOD_NOT_ALLOWED, headers={"Allow": "GET"})
        if path == INFO_PATH:
            return self._info(faults)
        return self._external_index(query, headers, faults)

    def _rate_limit(self, headers: Mapping[str, str], client_ip: str) -> SimulatorResponse | None:
        if self.limiter is None:
            return None
        allowed, _remaining, retry_after = self.limiter.take(_client_identity(headers, client_ip))
        if allowed:
            return None
        body = {
            "error": "rate_limit_exceeded",
            "message": f"Too many requests. Please retry after {retry_after} seconds.",
            "retry_after": retry_after,
        }
        return _json(
            HTTPStatus.TOO_MANY_REQUESTS,
            body,
            headers={
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": str(self.limiter.burst),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(retry_after),
            },
        )

    # -- Codex routes ---------------------------------------------------------------------

    def _info(self, faults: SimulatorFaults) -> SimulatorResponse:
        # Public: credentials are not even looked at.
        version = LEGACY_VERSION if faults.mode == "legacy" else self.version
        return _json(HTTPStatus.OK, {"version": version, "name": "codex"})

    def _external_index(
        self, query: str, headers: Mapping[str, str], faults: SimulatorFaults
    ) -> SimulatorResponse:
        if faults.mode == "error_5xx":
            with self._lock:
                failing = faults.count is None or self._error_5xx_served < faults.count
                if failing:
                    self._error_5xx_served += 1
            if failing:
                # What a reverse proxy in front of a restarting Codex says.
                reason = HTTPStatus(faults.status).phrase
                return SimulatorResponse(
                    status=faults.status,
                    body=f"<html><body><h1>{faults.status} {reason}</h1></body></html>".encode(),
                    content_type="text/html",
                )

        denied = self._authenticate(headers)
        if denied is not None:
            return denied

        if faults.mode == "legacy":
            # Before 1.32.0 this path hits /series/{id} and the UUID parse fails.
            return _text(
                HTTPStatus.BAD_REQUEST,
                "Invalid URL: UUID parsing failed: invalid character: expected an optional "
                "prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `x` at 2",
            )

        parsed = _parse_paging(query)
        if isinstance(parsed, SimulatorResponse):
            return parsed
        page, page_size = parsed
        with self._lock:
            self._index_pages.append(page)

        if faults.mode == "fail_on_page" and page == faults.page:
            return _error(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An internal error occurred",
            )
        if faults.mode == "garbage":
            return SimulatorResponse(
                status=HTTPStatus.OK,
                body=b'{"data": [{"id": "550e8400-e29b-41d4-a716-44665544',
                content_type="application/json",
            )

        with self._lock:
            library, prerendered = self._library, self._prerendered
        reshaped = faults.mode in ("shrinking_total", "truncated") and page >= faults.page
        if page_size == self.prerender_page_size and page <= len(prerendered) and not reshaped:
            return SimulatorResponse(
                status=HTTPStatus.OK, body=prerendered[page - 1], content_type="application/json"
            )
        if faults.mode == "shrinking_total" and page >= faults.page:
            library = library[faults.shrink_by :]
        total = len(library)
        total_pages = math.ceil(total / page_size)
        rows = library[(page - 1) * page_size : page * page_size]
        if faults.mode == "truncated" and page >= faults.page:
            rows = []
        return _json(HTTPStatus.OK, self._index_body(rows, page, page_size, total, total_pages))

    def _index_body(
        self,
        rows: list[dict[str, Any]],
        page: int,
        page_size: int,
        total: int,
        total_pages: int,
    ) -> dict[str, Any]:
        """One external-index page (Codex's `ExternalIndexResponse`) holding these rows."""
        return {
            "data": [self._render_series(series) for series in rows],
            "page": page,
            "pageSize": page_size,
            "total": total,
            "totalPages": total_pages,
            "links": _pagination_links(page, page_size, total_pages),
        }

    def _authenticate(self, headers: Mapping[str, str]) -> SimulatorResponse | None:
        """Codex's AuthContext extractor: Authorization first, then X-API-Key."""
        authorization = headers.get("Authorization")
        if authorization is not None:
            # Codex treats any Bearer as a JWT, so an API key there never works.
            if authorization.startswith("Bearer "):
                return _error(
                    HTTPStatus.UNAUTHORIZED, "Unauthorized", "Invalid JWT token: InvalidToken"
                )
            if authorization.startswith("Basic "):
                return _error(HTTPStatus.UNAUTHORIZED, "Unauthorized", "Invalid credentials")
        # KOReader sends the key as x-auth-user; Codex accepts it as an API key too.
        api_key = headers.get("X-API-Key")
        if api_key is None:
            api_key = headers.get("X-Auth-User")
        if api_key is None:
            return _error(
                HTTPStatus.UNAUTHORIZED,
                "Unauthorized",
                "Missing or invalid authentication credentials",
            )
        if api_key in self.expired_keys:
            return _error(HTTPStatus.UNAUTHORIZED, "Unauthorized", "API key has expired")
        if api_key in self.forbidden_keys:
            return _error(
                HTTPStatus.FORBIDDEN, "Forbidden", "Missing required permission: SeriesRead"
            )
        if api_key != self.api_key:
            return _error(HTTPStatus.UNAUTHORIZED, "Unauthorized", "Invalid API key")
        return None

    def _render_series(self, series: dict[str, Any]) -> dict[str, Any]:
        external_ids = []
        for ref in series["externalIds"]:
            rendered = {"source": ref["source"], "externalId": ref["externalId"]}
            if ref["externalUrl"]:
                rendered["externalUrl"] = ref["externalUrl"]
            external_ids.append(rendered)
        # Codex does not promise an order here; shuffling keeps consumers honest.
        with self._lock:
            self._rng.shuffle(external_ids)
        return {
            "id": series["id"],
            "externalIds": external_ids,
            "localMaxVolume": series["localMaxVolume"],
            "localMaxChapter": series["localMaxChapter"],
            "volumesOwned": series["volumesOwned"],
        }

    # -- control routes (not Codex) ---------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> SimulatorResponse:
        try:
            if path == "/__sim__/faults" and method == "GET":
                return _json(HTTPStatus.OK, self.faults.to_dict())
            if path == "/__sim__/faults" and method == "POST":
                self.set_faults(json.loads(body or b"{}"))
                return _json(HTTPStatus.OK, self.faults.to_dict())
            if path == "/__sim__/stats" and method == "GET":
                return _json(HTTPStatus.OK, self.stats)
            if path == "/__sim__/stats" and method == "DELETE":
                self.reset_stats()
                return SimulatorResponse(status=HTTPStatus.NO_CONTENT)
            if path == "/__sim__/library" and method == "PUT":
                entries = json.loads(body or b"[]")
                if not isinstance(entries, list):
                    raise ValueError("the library is a JSON list")
                self.set_library(entries)
                return _json(HTTPStatus.OK, {"series": len(self._library)})
        except (ValueError, TypeError) as exc:
            return _error(HTTPStatus.BAD_REQUEST, "BadRequest", str(exc))
        return _error(HTTPStatus.NOT_FOUND, "NotFound", f"No control route {method} {path}")


# --------------------------------------------------------------------------- helpers


_DIGITS = re.compile(r"[0-9]+")


def _parse_paging(query: str) -> tuple[int, int] | SimulatorResponse:
    """Codex's `page`/`pageSize` query rules; malformed → 400 in plain text.

    The wording follows axum's Query rejection (serde_urlencoded into u64).
    """
    values: dict[str, int] = {}
    for name, raw in parse_qsl(query, keep_blank_values=True):
        if name not in ("page", "pageSize"):
            continue  # page_size, sort, full and unknown keys are ignored
        if name in values:
            return _query_rejection(f"duplicate field `{name}`")
        if raw == "":
            return _query_rejection(f"{name}: cannot parse integer from empty string")
        if not _DIGITS.fullmatch(raw):
            return _query_rejection(f"{name}: invalid digit found in string")
        number = int(raw)
        if number > _U64_MAX:
            return _query_rejection(f"{name}: number too large to fit in target type")
        values[name] = number
    page = values.get("page", 1)
    page_size = values.get("pageSize", DEFAULT_PAGE_SIZE)
    if page < 1:
        return _text(HTTPStatus.BAD_REQUEST, "Invalid query: page must be at least 1")
    if page_size < 1:
        return _text(HTTPStatus.BAD_REQUEST, "Invalid query: pageSize must be at least 1")
    return page, min(page_size, CODEX_MAX_PAGE_SIZE)


def _query_rejection(reason: str) -> SimulatorResponse:
    return _text(HTTPStatus.BAD_REQUEST, f"Failed to deserialize query string: {reason}")


def _pagination_links(page: int, page_size: int, total_pages: int) -> dict[str, str]:
    """HATEOAS links; `prev`/`next` are absent (not null) when not applicable."""

    def link(number: int) -> str:
        return f"{EXTERNAL_INDEX_PATH}?page={number}&pageSize={page_size}"

    links = {"self": link(page), "first": link(1), "last": link(max(total_pages, 1))}
    if page > 1:
        links["prev"] = link(page - 1)
    if page < total_pages:
        links["next"] = link(page + 1)
    return links


def _client_identity(headers: Mapping[str, str], client_ip: str) -> str:
    """Codex's rate-limit key: first X-Forwarded-For hop, X-Real-IP, then the socket."""
    forwarded = headers.get("X-Forwarded-For")
    if forwarded and forwarded.split(",")[0].strip():
        return forwarded.split(",")[0].strip()
    real_ip = headers.get("X-Real-IP")
    if real_ip and real_ip.strip():
        return real_ip.strip()
    return client_ip


def _json(status: int, payload: Any, *, headers: dict[str, str] | None = None) -> SimulatorResponse:
    return SimulatorResponse(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers=headers or {},
    )


def _text(status: int, text: str) -> SimulatorResponse:
    return SimulatorResponse(
        status=status, body=text.encode(), content_type="text/plain; charset=utf-8"
    )


def _error(status: int, error: str, message: str) -> SimulatorResponse:
    """Codex's ErrorResponse body: `{"error": <PascalCase kind>, "message": ...}`."""
    return _json(status, {"error": error, "message": message})


# ----------------------------------------------------------------------------- server


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    simulator: CodexSimulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected in fault tests, not news.
        logger.debug("Codex simulator: connection from %s ended abruptly", client_address)


class _SimulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _SimulatorHTTPServer

    def version_string(self) -> str:
        return "codex-simulator"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.server.simulator.handle(
            self.command, self.path, self.headers, self.client_address[0], body
        )
        if response.close_connection:
            self.close_connection = True
            return
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Codex simulator: " + format, *args)


class SimulatorServer:
    """Run a `CodexSimulator` on a real socket, in a daemon thread or the foreground.

    `with SimulatorServer(library=[...], api_key="k", port=0) as sim:` binds an
    ephemeral port; `sim.base_url` is the Codex base URL to configure. Keyword
    options other than host/port go to `CodexSimulator`.
    """

    def __init__(
        self,
        library: Iterable[Mapping[str, Any]] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.simulator = CodexSimulator(library, **options)
        self._httpd = _SimulatorHTTPServer((host, port), _SimulatorRequestHandler)
        self._httpd.simulator = self.simulator
        self._thread: threading.Thread | None = None
        # socketserver's shutdown() waits forever unless serve_forever is running.
        self._serving = False

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def stats(self) -> dict[str, Any]:
        return self.simulator.stats

    def reset_stats(self) -> None:
        self.simulator.reset_stats()

    def set_faults(self, faults: SimulatorFaults | Mapping[str, Any] | str | None = None) -> None:
        self.simulator.set_faults(faults)

    def set_library(self, library: Iterable[Mapping[str, Any]]) -> None:
        self.simulator.set_library(library)

    def start(self) -> SimulatorServer:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                # A short poll keeps shutdown() quick, which adds up over a test suite.
                kwargs={"poll_interval": 0.05},
                name="codex-simulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()` (from another thread) or Ctrl-C."""
        self._serving = True
        try:
            self._httpd.serve_forever()
        finally:
            self._serving = False
            self.simulator.stop()
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving and release the port; safe to call more than once."""
        self.simulator.stop()
        if self._serving:
            self._serving = False
            self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
