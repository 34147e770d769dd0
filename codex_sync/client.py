"""HTTP client for the two Codex routes tsundoku uses: app info and the external index.

Responses are parsed into frozen dataclasses at the edge, so callers never see
raw dicts, and every failure becomes a `CodexError` subclass whose message says
what the operator has to do. Retries (429 with Retry-After, 502/503/504 with
backoff) come from the shared policy in `tsundoku.http`; this module only
classifies what is left once that policy has given up.

The API key is a secret: it is only ever placed in the `X-API-Key` header of
external-index requests. It never appears in a URL, a log line, a repr or an
exception message, and any excerpt of a response body is scrubbed of it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from tsundoku.config import CODEX_MAX_PAGE_SIZE
from tsundoku.garbage_collection import collector_paused
from tsundoku.http import build_session
from tsundoku.logging import redact_values

logger = logging.getLogger(__name__)

INFO_PATH = "/api/v1/info"
EXTERNAL_INDEX_PATH = "/api/v1/series/external-index"

# The external-index route first shipped in Codex 1.32.0.
MIN_EXTERNAL_INDEX_VERSION = (1, 32, 0)

_EXCERPT_LIMIT = 160
_VERSION_PATTERN = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+.~ ].*)?\s*$")
# RFC 9110 field-value characters: visible ASCII, space and tab (no CR/LF/controls).
_HEADER_SAFE_PATTERN = re.compile(r"^[\x20-\x7e\t]+$")
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CodexInfo:
    """What `GET /api/v1/info` says about the Codex server."""

    name: str
    version: str

    @property
    def version_tuple(self) -> tuple[int, int, int] | None:
        """The version as `(major, minor, patch)`, or None when it cannot be parsed.

        Pre-release and build suffixes are dropped (`1.32.0-beta.1` → `(1, 32, 0)`).
        """
        match = _VERSION_PATTERN.match(self.version)
        if match is None:
            return None
        major, minor, patch = (int(part) if part else 0 for part in match.groups())
        return (major, minor, patch)

    @property
    def supports_external_index(self) -> bool:
        """Whether this Codex is new enough (>= 1.32.0) to serve the external index.

        An unparseable version gets the benefit of the doubt: the fetch itself
        will say `CodexUnsupported` if the route is really missing.
        """
        version = self.version_tuple
        return version is None or version >= MIN_EXTERNAL_INDEX_VERSION


@dataclass(frozen=True, slots=True)
class CodexExternalId:
    """One external id Codex has linked to a series, with its source verbatim."""

    source: str
    external_id: str
    external_url: str | None


@dataclass(frozen=True, slots=True)
class CodexSeries:
    """One row of Codex's external index: a series UUID, its ids and owned counts."""

    id: str
    external_ids: tuple[CodexExternalId, ...]
    local_max_volume: int | None
    local_max_chapter: float | None
    volumes_owned: int | None


@dataclass(frozen=True, slots=True)
class ExternalIndexBody:
    """One page of the external index as it arrived (status checked, not yet parsed)."""

    page: int
    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class ExternalIndexPage:
    """One page of `GET /api/v1/series/external-index`."""

    items: tuple[CodexSeries, ...]
    page: int
    page_size: int
    total: int
    total_pages: int


# ------------------------------------------------------------------------ exceptions


class CodexError(Exception):
    """Base of every Codex failure; `str(exc)` is a short operator-facing message.

    `message` is the headline (for 401/403 exactly the wording the admin screens
    use), `detail` an optional short, key-free excerpt of what Codex said, and
    `status_code` the HTTP status when there was one.
    """

    default_message = "Codex request failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        detail: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.detail = detail or None
        self.status_code = status_code
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message}: {self.detail}" if self.detail else self.message

    def __reduce__(self):
        # Whole, not just `args`: the sweep's matching process hands failures back pickled.
        return (type(self), (self.message,), self.__dict__)


class CodexUnreachable(CodexError):
    """Codex could not be reached: DNS, refused or dropped connection, or a timeout."""

    default_message = "Codex is unreachable"


class CodexUnauthorized(CodexError):
    """Codex rejected the API key (401): it is wrong, expired or revoked."""

    default_message = "API key rejected (401)"


class CodexForbidden(CodexError):
    """The API key is valid but its account lacks the series:read permission (403)."""

    default_message = "API key lacks series:read (403)"


class CodexUnsupported(CodexError):
    """This Codex predates the external-index route (added in 1.32.0)."""

    default_message = (
        "This Codex has no external-index route (HTTP 400); upgrade Codex to 1.32.0 or newer"
    )


class CodexRateLimited(CodexError):
    """Codex kept answering 429 after every retry the policy allows."""

    default_message = "Codex is rate limiting tsundoku (429) even after retrying; try again later"

    def __init__(
        self,
        message: str | None = None,
        *,
        detail: str | None = None,
        status_code: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, detail=detail, status_code=status_code)
        self.retry_after = retry_after


class CodexUnexpectedStatus(CodexError):
    """Codex answered with a status we cannot act on (5xx after retries, 404, redirects…)."""

    default_message = "Codex answered with an unexpected HTTP status"


class CodexBadPayload(CodexError):
    """Codex answered 200 but the body is not JSON or lacks what tsundoku needs."""

    default_message = "Codex sent a response tsundoku cannot use"


class CodexIncompleteIndex(CodexError):
    """The external-index walk did not add up to `total` rows; never apply it."""

    default_message = "Codex's external index came back incomplete"


# ---------------------------------------------------------------------------- client


def without_credentials(url: str) -> str:
    """The URL without any `user:password@` part: fit for messages, pages and links."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class CodexClient:
    """Talks to one Codex server; one method per upstream operation.

    The key is sent only on the external-index route and only as `X-API-Key`:
    Codex treats any `Authorization: Bearer` as a JWT, so a key there is
    rejected, and `/api/v1/info` is public, so the key has no business there.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_seconds: float = 30,
        page_size: int = CODEX_MAX_PAGE_SIZE,
        retries: int = 3,
        backoff_factor: float = 0.5,
        retry_after_cap: float = 30,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.strip().rstrip("/")
        if not self.base_url:
            raise ValueError("Codex base_url is blank")
        api_key = api_key.strip()
        if not api_key:
            raise ValueError("Codex api_key is blank")
        # requests would otherwise raise InvalidHeader quoting the value, i.e. the key.
        if not _HEADER_SAFE_PATTERN.match(api_key):
            raise ValueError("Codex api_key contains characters that cannot go in an HTTP header")
        if page_size < 1:
            raise ValueError("Codex page_size must be at least 1")
        self._api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.page_size = min(page_size, CODEX_MAX_PAGE_SIZE)
        self.retries = retries
        self._session = session or build_session(
            retries=retries, backoff_factor=backoff_factor, retry_after_cap=retry_after_cap
        )

    def __repr__(self) -> str:
        return f"CodexClient(base_url={self._display_base_url!r}, page_size={self.page_size})"

    # -- operations ---------------------------------------------------------------

    def get_app_info(self) -> CodexInfo:
        """Call `get_app_info` (`GET /api/v1/info`): Codex's name and version.

        Public route: success proves Codex is reachable, not that the key works.
        """
        operation = "GET /api/v1/info"
        response = self._get(INFO_PATH, operation=operation, send_key=False)
        self._raise_for_status(response, operation=operation)
        payload = self._decode_json(
            response.content,
            response.headers.get("Content-Type", "no content type"),
            operation=operation,
        )
        if not isinstance(payload, dict):
            raise CodexBadPayload(f"{operation} did not return a JSON object")
        version = payload.get("version")
        name = payload.get("name")
        if not isinstance(version, str) or not version.strip():
            raise CodexBadPayload(f"{operation} has no 'version'")
        if not isinstance(name, str) or not name.strip():
            raise CodexBadPayload(f"{operation} has no 'name'")
        return CodexInfo(name=name.strip(), version=version.strip())

    def get_series_external_index(self, page: int) -> ExternalIndexPage:
        """Call `list_series_external_index` for one 1-based page.

        `GET /api/v1/series/external-index?page=N&pageSize=S` with `X-API-Key`.
        """
        return self.parse_external_index(self.fetch_external_index(page))

    def fetch_external_index(self, page: int) -> ExternalIndexBody:
        """Call `list_series_external_index` for one 1-based page, unparsed.

        The transport half of `get_series_external_index`: every failure but
        a bad payload raises here; `parse_external_index` is the other half
        (the sweep runs it in another process, see `codex_sync.matching_process`).
        """
        if page < 1:
            raise ValueError("Codex external-index pages are 1-based")
        operation = _index_operation(page)
        response = self._get(
            EXTERNAL_INDEX_PATH,
            operation=operation,
            send_key=True,
            # camelCase on purpose: Codex ignores snake-case page_size.
            params={"page": page, "pageSize": self.page_size},
        )
        self._raise_for_status(response, operation=operation, route_may_be_missing=True)
        return ExternalIndexBody(
            page=page,
            content=response.content,
            content_type=response.headers.get("Content-Type", "no content type"),
        )

    def parse_external_index(self, body: ExternalIndexBody) -> ExternalIndexPage:
        """The page a `fetch_external_index` body holds; `CodexBadPayload` if it holds none."""
        operation = _index_operation(body.page)
        payload = self._decode_json(body.content, body.content_type, operation=operation)
        parsed = self._parse_index_page(payload, requested_page=body.page, operation=operation)
        logger.debug(
            "Fetched Codex external-index page %d/%d: %d series (total %d)",
            parsed.page,
            parsed.total_pages,
            len(parsed.items),
            parsed.total,
        )
        return parsed

    def iter_external_index(
        self, on_page: Callable[[ExternalIndexPage], None] | None = None
    ) -> Iterator[ExternalIndexPage]:
        """Yield pages 1..totalPages, where totalPages is what page 1 announced.

        Bounded by the first page so a misbehaving server cannot keep us paging
        forever. This is the raw walk; `fetch_full_index` adds the guard that the
        pages actually add up to `total`.
        """
        first = self.get_series_external_index(1)
        if on_page is not None:
            on_page(first)
        yield first
        for page_number in range(2, first.total_pages + 1):
            page = self.get_series_external_index(page_number)
            if on_page is not None:
                on_page(page)
            yield page

    def iter_external_index_bodies(self) -> Iterator[tuple[ExternalIndexBody, int]]:
        """`iter_external_index` unparsed: each page's body, with the page count page 1 announced.

        For a caller that parses elsewhere (the sweep, see
        `codex_sync.matching_process`); page 1 alone is parsed here, to learn
        how many pages to fetch.
        """
        first = self.fetch_external_index(1)
        total_pages = self.parse_external_index(first).total_pages
        yield first, total_pages
        for page_number in range(2, total_pages + 1):
            yield self.fetch_external_index(page_number), total_pages

    def iter_full_index(
        self, on_page: Callable[[ExternalIndexPage], None] | None = None
    ) -> Iterator[ExternalIndexPage]:
        """Yield each page as it arrives, holding only series not seen on an earlier page.

        The walk behind `FullIndexGuard`: it raises `CodexIncompleteIndex` as
        soon as the pages cannot add up to the whole index, and after the last
        one when they did not, so a caller may work on each page as it comes
        but must act on nothing until the walk has ended without raising.
        `on_page` is called for each page that passed those checks (progress
        reporting).
        """
        guard = FullIndexGuard()
        for page in self.iter_external_index():
            page = guard.admit(page)
            if on_page is not None:
                on_page(page)
            yield page
        guard.finish()

    def fetch_full_index(
        self, on_page: Callable[[ExternalIndexPage], None] | None = None
    ) -> list[CodexSeries]:
        """Fetch every page and return all series, or raise; never a partial index.

        `iter_full_index` is the walk and its guard; this collects what it yields,
        with the cyclic garbage collector paused (see `tsundoku.garbage_collection`).
        """
        with collector_paused():
            return [item for page in self.iter_full_index(on_page) for item in page.items]

    # -- transport ------------------------------------------------------------------

    @property
    def _display_base_url(self) -> str:
        return without_credentials(self.base_url)

    def _get(
        self,
        path: str,
        *,
        operation: str,
        send_key: bool,
        params: dict[str, int] | None = None,
    ) -> requests.Response:
        """One GET with a timeout; transport failures become `CodexUnreachable`."""
        # A None value removes a header a caller-supplied session might carry, so
        # the key reaches only the route that needs it and no Bearer ever goes out.
        headers: dict[str, str | None] = {
            "X-API-Key": self._api_key if send_key else None,
            "Authorization": None,
        }
        url = f"{self.base_url}{path}"
        logger.debug("Codex request: %s", operation)
        try:
            return self._session.get(
                url,
                params=params,
                headers=headers,
                timeout=self.timeout_seconds,
                # requests keeps custom headers across redirects, even to another
                # host; following one could hand the key to whoever is at the end.
                allow_redirects=False,
            )
        except requests.ConnectionError as exc:
            # With a Retry on the adapter, requests reports a read timeout as a
            # ConnectionError wrapping urllib3's ReadTimeoutError, not as Timeout.
            if isinstance(exc, requests.Timeout) or _is_read_timeout(exc):
                raise CodexUnreachable(
                    f"Codex at {self._display_base_url} did not answer {operation} "
                    f"within {self.timeout_seconds:g}s"
                ) from exc
            raise CodexUnreachable(
                f"Cannot reach Codex at {self._display_base_url} "
                f"({_connection_failure_reason(exc)})"
            ) from exc
        except requests.Timeout as exc:
            raise CodexUnreachable(
                f"Codex at {self._display_base_url} did not answer {operation} "
                f"within {self.timeout_seconds:g}s"
            ) from exc
        except requests.exceptions.InvalidHeader:
            # Its message quotes the header value; never chain it.
            raise CodexError("A request header for Codex is not valid HTTP") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise CodexError(
                f"Codex base_url {self._display_base_url!r} is not a valid http(s) URL"
            ) from exc
        except requests.RequestException as exc:
            raise CodexUnreachable(
                f"Request to Codex at {self._display_base_url} failed ({type(exc).__name__})"
            ) from exc

    def _raise_for_status(
        self,
        response: requests.Response,
        *,
        operation: str,
        route_may_be_missing: bool = False,
    ) -> None:
        """Turn any non-200 answer into the matching `CodexError`."""
        status = response.status_code
        if status == 200:
            return
        if status == 401:
            raise CodexUnauthorized(detail=self._codex_error_message(response), status_code=401)
        if status == 403:
            raise CodexForbidden(detail=self._codex_error_message(response), status_code=403)
        if status == 429:
            retry_after = _retry_after_seconds(response)
            raise CodexRateLimited(
                f"Codex is still rate limiting tsundoku (429) after {self.retries} retries; "
                "try again later",
                detail=f"Retry-After {retry_after:g}s" if retry_after is not None else None,
                retry_after=retry_after,
            )
        # Codex < 1.32.0 routes /series/external-index to /series/{id}, whose
        # UUID parse fails with a plain-text 400 (Codex's own errors are JSON).
        if status == 400 and route_may_be_missing and not _is_json(response):
            raise CodexUnsupported(detail=self._body_excerpt(response), status_code=400)
        if 300 <= status < 400:
            location = self._scrub(response.headers.get("Location", "")) or "elsewhere"
            raise CodexUnexpectedStatus(
                f"Codex redirected {operation} (HTTP {status}) to {location}; "
                "set base_url to the address Codex answers on directly",
                status_code=status,
            )
        raise CodexUnexpectedStatus(
            f"Codex answered HTTP {status} to {operation}",
            detail=self._codex_error_message(response) or self._body_excerpt(response),
            status_code=status,
        )

    def _decode_json(self, content: bytes, content_type: str, *, operation: str) -> Any:
        """Decode a 200 body as JSON, rejecting NaN/Infinity which JSON does not have."""
        try:
            return json.loads(content, parse_constant=_reject_json_constant)
        except (ValueError, UnicodeDecodeError):
            raise CodexBadPayload(
                f"{operation} answered 200 but not with valid JSON ({content_type}); "
                "is base_url pointing at Codex itself?",
                detail=self._excerpt(content.decode("utf-8", errors="replace")),
                status_code=200,
            ) from None

    # -- parsing ------------------------------------------------------------------------

    def _parse_index_page(
        self, payload: Any, *, requested_page: int, operation: str
    ) -> ExternalIndexPage:
        """Strict about `data`, `total` and item ids; tolerant of everything else."""
        if not isinstance(payload, dict):
            raise CodexBadPayload(f"{operation} did not return a JSON object")
        data = payload.get("data")
        if not isinstance(data, list):
            raise CodexBadPayload(f"{operation} has no 'data' list")
        total = payload.get("total")
        if not _is_int(total) or total < 0:
            raise CodexBadPayload(f"{operation} has no valid 'total'")
        page = payload.get("page")
        if not _is_int(page):
            page = requested_page
        page_size = payload.get("pageSize")
        if not _is_int(page_size) or page_size < 1:
            page_size = self.page_size
        total_pages = payload.get("totalPages")
        if not _is_int(total_pages) or total_pages < 0:
            total_pages = math.ceil(total / page_size)
        items = tuple(
            _parse_series(item, position=position, operation=operation, scrub=self._scrub)
            for position, item in enumerate(data)
        )
        return ExternalIndexPage(
            items=items, page=page, page_size=page_size, total=total, total_pages=total_pages
        )

    # -- message hygiene ----------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """Remove this client's API key (configured or not) from text that came from elsewhere."""
        return redact_values(text, [self._api_key]) if text else text

    def _body_excerpt(self, response: requests.Response) -> str | None:
        """A short, single-line, key-free excerpt of the response body."""
        try:
            text = response.text
        except (UnicodeDecodeError, LookupError):
            return None
        return self._excerpt(text)

    def _excerpt(self, text: str) -> str | None:
        """A short, single-line, key-free excerpt of text Codex sent."""
        text = " ".join(self._scrub(text).split())
        if len(text) > _EXCERPT_LIMIT:
            text = text[: _EXCERPT_LIMIT - 1] + "…"
        return text or None

    def _codex_error_message(self, response: requests.Response) -> str | None:
        """Codex's own `message` from an `{"error", "message"}` body, if there is one."""
        try:
            payload = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("message"), str):
            return None
        message = " ".join(self._scrub(payload["message"]).split())
        if len(message) > _EXCERPT_LIMIT:
            message = message[: _EXCERPT_LIMIT - 1] + "…"
        return message or None


def _index_operation(page: int) -> str:
    return f"GET /api/v1/series/external-index (page {page})"


class FullIndexGuard:
    """The checks that a walk of the external index saw the whole index, a page at a time.

    `admit` each page in order: it raises `CodexIncompleteIndex` as soon as
    a page is empty before `total` rows were seen or `total` changes between
    pages (the library changed mid-walk, so rows may have shifted between
    pages), and returns the page holding only series not seen on an earlier
    page. `finish` after the last page raises when the distinct series seen
    do not add up to `total`. Whoever works on admitted pages must act on
    nothing until `finish` has returned.
    """

    def __init__(self) -> None:
        self._seen_ids: set[str] = set()
        self._expected_total: int | None = None

    def admit(self, page: ExternalIndexPage) -> ExternalIndexPage:
        seen_ids = self._seen_ids
        if self._expected_total is None:
            self._expected_total = page.total
        elif page.total != self._expected_total:
            raise CodexIncompleteIndex(
                f"Codex's series count changed from {self._expected_total} to {page.total} "
                f"while paging (page {page.page}); the library changed mid-sweep, "
                "try again"
            )
        if not page.items and len(seen_ids) < self._expected_total:
            raise CodexIncompleteIndex(
                f"Codex's external-index page {page.page} came back empty after "
                f"{len(seen_ids)} of {self._expected_total} series"
            )
        fresh = [item for item in page.items if _first_sighting(item, seen_ids, page)]
        if len(fresh) != len(page.items):
            page = replace(page, items=tuple(fresh))
        return page

    def finish(self) -> None:
        seen = len(self._seen_ids)
        if self._expected_total is not None and seen != self._expected_total:
            raise CodexIncompleteIndex(
                f"Codex's external index listed {seen} distinct series "
                f"but reported a total of {self._expected_total}"
            )


def client_from_settings(*, page_size: int | None = None) -> CodexClient:
    """The client for the configured Codex (`[codex]` in the config)."""
    codex = settings.TSUNDOKU.codex
    return CodexClient(
        codex["base_url"],
        codex["api_key"],
        timeout_seconds=codex["timeout_seconds"],
        page_size=page_size or codex["page_size"],
    )


# --------------------------------------------------------------------------- helpers


def _parse_series(
    item: Any, *, position: int, operation: str, scrub: Callable[[str], str]
) -> CodexSeries:
    """Parse one external-index item; only a missing or non-UUID id makes it unusable.

    This runs 100k times a sweep, on the sweep's critical path against a fast
    Codex (see `codex_sync.matching_process`): the usual values (a whole
    number or null) are taken as they are, and only the others go through
    the checks that say what was wrong with them.
    """
    if not isinstance(item, dict):
        raise CodexBadPayload(f"{operation}: item {position} is not an object")
    series_id = item.get("id")
    if isinstance(series_id, str):
        series_id = series_id.strip()
    if not isinstance(series_id, str) or not series_id:
        raise CodexBadPayload(f"{operation}: item {position} has no 'id'")
    series_id = _canonical_uuid(series_id, scrub=scrub)
    volume = item.get("localMaxVolume")
    if volume is not None and type(volume) is not int:
        volume = _whole_number(volume, "localMaxVolume", series_id)
    chapter = item.get("localMaxChapter")
    if chapter is not None and not (type(chapter) is float and math.isfinite(chapter)):
        chapter = _chapter_number(chapter, series_id)
    owned = item.get("volumesOwned")
    if owned is not None and type(owned) is not int:
        owned = _whole_number(owned, "volumesOwned", series_id)
    return CodexSeries(
        series_id, _parse_external_ids(item.get("externalIds"), series_id), volume, chapter, owned
    )


def _canonical_uuid(series_id: str, *, scrub: Callable[[str], str]) -> str:
    """Codex's series id in canonical UUID form (lower case, hyphenated).

    Codex's ids are UUIDs; manual links and the database compare them as
    UUIDs, so one that is not a UUID means the index is not usable.
    """
    if CANONICAL_UUID.fullmatch(series_id):
        return series_id  # the usual case; parsing 100k UUIDs is a measurable cost
    try:
        return str(uuid.UUID(series_id))
    except ValueError:
        raise CodexBadPayload(
            "Codex's external index listed a series id that is not a UUID",
            detail=scrub(series_id[:40]),
        ) from None


def _parse_external_ids(raw: Any, series_id: str) -> tuple[CodexExternalId, ...]:
    """Keep the well-formed entries; a bad entry costs that entry, not the series.

    The usual entry (text source and id, text or no URL) is taken in one
    pass; any other goes through `_parse_external_id`, which says why it is
    skipped. ~2 entries a series, 100k series a sweep: the fast pass is most
    of what parsing a page costs beyond JSON.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        logger.warning("Codex series %s: 'externalIds' is not a list; ignoring it", series_id)
        return ()
    external_ids = []
    for entry in raw:
        if type(entry) is dict:
            source = entry.get("source")
            external_id = entry.get("externalId")
            external_url = entry.get("externalUrl")
            if (
                type(source) is str
                and type(external_id) is str
                and (external_url is None or type(external_url) is str)
            ):
                source = source.strip()
                external_id = external_id.strip()
                if source and external_id:
                    external_ids.append(
                        CodexExternalId(
                            source,
                            external_id,
                            external_url.strip() or None if external_url else None,
                        )
                    )
                    continue
        parsed = _parse_external_id(entry, series_id)
        if parsed is not None:
            external_ids.append(parsed)
    return tuple(external_ids)


def _parse_external_id(entry: Any, series_id: str) -> CodexExternalId | None:
    """One entry of `externalIds` with every check spelt out; None (logged) when unusable."""
    if not isinstance(entry, dict):
        logger.debug("Codex series %s: skipping a non-object external id", series_id)
        return None
    source = entry.get("source")
    external_id = entry.get("externalId")
    if _is_int(external_id):
        external_id = str(external_id)
    if not isinstance(source, str) or not source.strip():
        logger.debug("Codex series %s: skipping an external id without source", series_id)
        return None
    if not isinstance(external_id, str) or not external_id.strip():
        logger.debug("Codex series %s: skipping a %s id without a value", series_id, source)
        return None
    external_url = entry.get("externalUrl")
    if not isinstance(external_url, str) or not external_url.strip():
        external_url = None
    return CodexExternalId(
        source=source.strip(),
        external_id=external_id.strip(),
        external_url=external_url.strip() if external_url else None,
    )


def _first_sighting(item: CodexSeries, seen_ids: set[str], page: ExternalIndexPage) -> bool:
    """Note the series as seen; False (and a warning) when an earlier row listed it."""
    if item.id in seen_ids:
        logger.warning(
            "Codex listed series %s twice (page %d); counting it once", item.id, page.page
        )
        return False
    seen_ids.add(item.id)
    return True


def _whole_number(value: Any, field: str, series_id: str) -> int | None:
    """An int count; `12.0` is accepted as 12, anything else odd becomes unknown."""
    if value is None:
        return None
    if _is_int(value):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    logger.warning(
        "Codex series %s: %s=%r is not a whole number; ignoring it", series_id, field, value
    )
    return None


def _chapter_number(value: Any, series_id: str) -> float | None:
    """A chapter keeps its fraction (137.5); whole chapters become floats (12.0)."""
    if value is None:
        return None
    if _is_int(value) or (isinstance(value, float) and math.isfinite(value)):
        return float(value)
    logger.warning(
        "Codex series %s: localMaxChapter=%r is not a number; ignoring it", series_id, value
    )
    return None


def _is_int(value: Any) -> bool:
    """True for JSON integers (Python bools are ints, JSON booleans are not numbers)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_json(response: requests.Response) -> bool:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After in seconds when it is the delta-seconds form Codex sends."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _reject_json_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not valid JSON")


def _underlying_cause(exc: requests.ConnectionError) -> Any:
    """The urllib3 error behind a requests ConnectionError, unwrapping MaxRetryError."""
    cause: Any = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return cause


def _is_read_timeout(exc: requests.ConnectionError) -> bool:
    return isinstance(_underlying_cause(exc), ReadTimeoutError | TimeoutError)


def _connection_failure_reason(exc: requests.ConnectionError) -> str:
    """A few words on why the connection failed, without urllib3's wall of text."""
    cause = _underlying_cause(exc)
    if isinstance(cause, NameResolutionError):
        return "DNS lookup failed"
    if isinstance(cause, NewConnectionError):
        return "connection refused or no route to host"
    if isinstance(cause, ProtocolError):
        return "connection closed without a response"
    return "connection failed"
