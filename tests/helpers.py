"""Helpers and fakes the tests share: credentials, a fake Codex, browser steps.

Test modules import from here, never from `conftest` or from one another
(linkding's `bookmarks/tests/helpers.py`); `conftest.py` holds fixtures only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

# The test config's tokens (tests/tsundoku.test.toml); distinctive so a leak shows.
ADMIN_TOKEN = "test-admin-token-7f3a"
READ_KEY = "test-read-key-91bc"
CODEX_KEY = "codex-key-SECRET-d41d8cd9"
# The export columns only the admin gets (the Codex ownership overlay), in catalog order.
OWNERSHIP_FIELDS = [
    "owned",
    "codexStatus",
    "codexLocalMaxVolume",
    "codexLocalMaxChapter",
    "codexVolumesOwned",
    "codexUrl",
]
# The credentials of the `staff_user` fixture.
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-password-1"

BASE_URL = "http://codex.test"
INFO_URL = f"{BASE_URL}/api/v1/info"
INDEX_URL = f"{BASE_URL}/api/v1/series/external-index"
INFO = {"name": "codex", "version": "1.40.0"}

Answer = tuple[int, dict[str, str], str]


def codex_uuid(number: int) -> str:
    """The UUID of Codex series number `number`, readable in a failure message."""
    return f"00000000-0000-4000-8000-{number:012d}"


def codex_item(
    number: int,
    *external_ids: tuple[str, str],
    volume: int | None = None,
    chapter: float | None = None,
    owned: int | None = None,
) -> dict[str, Any]:
    """One external-index row: `codex_item(1, ("plugin:mangabaka", "42"), volume=3)`."""
    return {
        "id": codex_uuid(number),
        "externalIds": [
            {"source": source, "externalId": external_id} for source, external_id in external_ids
        ],
        "localMaxVolume": volume,
        "localMaxChapter": chapter,
        "volumesOwned": owned,
    }


def json_answer(status: int, payload: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(payload)


class FakeCodex:
    """Codex's two routes on `responses`, paging `items` the way each request asks.

    `overrides` replaces the answer for one page number, or for every page
    under the key None (an exception is raised, as a broken connection
    would); `total_for` can make the reported total vary by page.
    """

    def __init__(self, mocked: responses.RequestsMock, items: list[dict] | None = None) -> None:
        self.mocked = mocked
        self.items: list[dict] = list(items or [])
        self.overrides: dict[int | None, Answer | Exception] = {}
        self.total_for: Callable[[int], int] | None = None
        mocked.get(INFO_URL, json=INFO)
        mocked.add_callback(responses.GET, INDEX_URL, callback=self._index)

    def info_fails(self, **answer: Any) -> None:
        self.mocked.replace(responses.GET, INFO_URL, **answer)

    def _index(self, request: requests.PreparedRequest) -> Answer:
        query = parse_qs(urlsplit(request.url).query)
        page, page_size = int(query["page"][0]), int(query["pageSize"][0])
        override = self.overrides.get(page, self.overrides.get(None))
        if isinstance(override, Exception):
            raise override
        if override is not None:
            return override
        total = self.total_for(page) if self.total_for else len(self.items)
        rows = self.items[(page - 1) * page_size : page * page_size]
        return json_answer(
            200,
            {
                "data": rows,
                "page": page,
                "pageSize": page_size,
                "total": total,
                "totalPages": math.ceil(total / page_size),
                "links": {"self": f"/api/v1/series/external-index?page={page}"},
            },
        )

    @property
    def index_calls(self) -> list:
        return [call for call in self.mocked.calls if call.request.url.startswith(INDEX_URL)]

    @property
    def info_calls(self) -> list:
        return [call for call in self.mocked.calls if call.request.url.startswith(INFO_URL)]


@contextmanager
def mocked_codex() -> Iterator[FakeCodex]:
    """A FakeCodex for the length of the block; any other URL raises ConnectionError."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield FakeCodex(mocked)


def query_of(call) -> dict[str, list[str]]:
    """The query string of a recorded `responses` call, parsed."""
    return parse_qs(urlsplit(call.request.url).query)


def page_html(page) -> str:
    """The page's HTML as the browser holds it now, checked for the Codex API key."""
    html = page.content()
    assert CODEX_KEY not in html, "the Codex API key reached a page"
    return html


def log_in(page, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> None:
    """Log in through the real login form and wait until the feed says who is signed in."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.locator(".site-account__user").filter(has_text=username).wait_for()


def nyaa_rss(*items: tuple) -> bytes:
    """A minimal Nyaa RSS document of `(post id, title)` or `(post id, title, size)` items."""
    body = "".join(
        f"<item><title>{item[1]}</title>"
        f"<link>https://nyaa.si/download/{item[0]}.torrent</link>"
        f"<guid>https://nyaa.si/view/{item[0]}</guid>"
        "<pubDate>Mon, 18 May 2026 23:34:56 -0000</pubDate>"
        f"<nyaa:infoHash>{item[0]:0>40}</nyaa:infoHash>"
        f"<nyaa:size>{item[2] if len(item) > 2 else '1.0 GiB'}</nyaa:size></item>"
        for item in items
    )
    return (
        '<rss xmlns:nyaa="https://nyaa.si/xmlns/nyaa" version="2.0"><channel>'
        f"{body}</channel></rss>"
    ).encode()


def assert_envelope(response, status: int, code: str) -> dict:
    """The API's error envelope, with this status and code, and no secret in it."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"error", "message", "details"}
    for secret in (ADMIN_TOKEN, READ_KEY, CODEX_KEY):
        assert secret not in response.content.decode()
    return body
