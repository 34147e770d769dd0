"""CodexClient against mocked HTTP: what it sends, and what it makes of every answer.

No database and no network: `responses` stands in for Codex at the requests
boundary, and each test asserts the outgoing request as well as the result.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import urllib3.util.retry
from urllib3.exceptions import MaxRetryError, NameResolutionError, ReadTimeoutError

from codex_sync.client import (
    CodexBadPayload,
    CodexClient,
    CodexError,
    CodexExternalId,
    CodexForbidden,
    CodexIncompleteIndex,
    CodexInfo,
    CodexRateLimited,
    CodexUnauthorized,
    CodexUnexpectedStatus,
    CodexUnreachable,
    CodexUnsupported,
    ExternalIndexPage,
    _parse_external_id,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "codex"

BASE_URL = "https://codex.example.test"
INFO_URL = f"{BASE_URL}/api/v1/info"
INDEX_URL = f"{BASE_URL}/api/v1/series/external-index"
# Distinctive enough that any leak into a message or log is unmistakable.
API_KEY = "codex_LEAKCHECK_7c1e9b0a4f_secret"
TIMEOUT = 7.5


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make urllib3's Retry sleeps instant, recording what it would have slept."""
    slept: list[float] = []
    monkeypatch.setattr(
        urllib3.util.retry, "time", SimpleNamespace(sleep=slept.append, time=time.time)
    )
    return slept


@pytest.fixture
def mocked() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client() -> CodexClient:
    return CodexClient(BASE_URL, API_KEY, timeout_seconds=TIMEOUT, backoff_factor=0)


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def index_page(
    items: list[dict[str, Any]], *, page: int, page_size: int, total: int
) -> dict[str, Any]:
    """An external-index body shaped like Codex's."""
    total_pages = -(-total // page_size)
    link = "/api/v1/series/external-index?page={}&pageSize=" + str(page_size)
    links = {"self": link.format(page), "first": link.format(1), "last": link.format(total_pages)}
    if page > 1:
        links["prev"] = link.format(page - 1)
    if page < total_pages:
        links["next"] = link.format(page + 1)
    return {
        "data": items,
        "page": page,
        "pageSize": page_size,
        "total": total,
        "totalPages": total_pages,
        "links": links,
    }


def series_item(number: int, **overrides: Any) -> dict[str, Any]:
    item = {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "externalIds": [{"source": "plugin:mangabaka", "externalId": str(100000 + number)}],
        "localMaxVolume": number,
        "localMaxChapter": float(number * 10),
        "volumesOwned": number,
    }
    item.update(overrides)
    return item


def page_matcher(page: int, page_size: int = 500) -> Any:
    return responses.matchers.query_param_matcher({"page": str(page), "pageSize": str(page_size)})


def query_of(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# ----------------------------------------------------------------------- the requests


def test_app_info_is_fetched_without_any_credentials(mocked, client):
    mocked.get(INFO_URL, json=load_fixture("info_response.json"))

    info = client.get_app_info()

    assert info == CodexInfo(name="codex", version="1.4.2")
    request = mocked.calls[0].request
    assert "X-API-Key" not in request.headers
    assert "Authorization" not in request.headers
    assert request.headers["User-Agent"].startswith("tsundoku/")
    assert request.req_kwargs["timeout"] == TIMEOUT


def test_external_index_sends_the_key_only_as_x_api_key(mocked, client):
    mocked.get(INDEX_URL, json=load_fixture("external_index_page.json"))

    client.get_series_external_index(1)

    request = mocked.calls[0].request
    assert request.headers["X-API-Key"] == API_KEY
    assert "Authorization" not in request.headers
    assert request.headers["User-Agent"].startswith("tsundoku/")
    assert request.req_kwargs["timeout"] == TIMEOUT
    assert query_of(mocked.calls[0]) == {"page": ["1"], "pageSize": ["500"]}
    assert urlsplit(request.url).path == "/api/v1/series/external-index"


def test_session_level_credentials_never_reach_codex(mocked):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer something-else"
    session.headers["X-API-Key"] = "session-level-key"
    codex = CodexClient(BASE_URL, API_KEY, session=session)
    mocked.get(INFO_URL, json={"name": "codex", "version": "1.40.0"})
    mocked.get(INDEX_URL, json=index_page([], page=1, page_size=500, total=0))

    codex.get_app_info()
    codex.get_series_external_index(1)

    info_request, index_request = (call.request for call in mocked.calls)
    assert "X-API-Key" not in info_request.headers
    assert "Authorization" not in info_request.headers
    assert index_request.headers["X-API-Key"] == API_KEY
    assert "Authorization" not in index_request.headers


def test_base_url_trailing_slash_is_stripped(mocked):
    codex = CodexClient(f"{BASE_URL}//", API_KEY)
    mocked.get(INFO_URL, json={"name": "codex", "version": "1.40.0"})

    codex.get_app_info()

    assert codex.base_url == BASE_URL
    assert mocked.calls[0].request.url == INFO_URL


def test_page_size_above_codex_maximum_is_clamped_to_500(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2000)
    mocked.get(INDEX_URL, json=index_page([], page=1, page_size=500, total=0))

    codex.get_series_external_index(1)

    assert query_of(mocked.calls[0])["pageSize"] == ["500"]


def test_redirects_are_not_followed_so_the_key_stays_home(mocked, client):
    mocked.get(INDEX_URL, status=302, headers={"Location": "https://elsewhere.test/login"})
    mocked.get("https://elsewhere.test/login", body="login page")

    with pytest.raises(CodexUnexpectedStatus) as caught:
        client.get_series_external_index(1)

    assert len(mocked.calls) == 1
    assert "elsewhere.test" in str(caught.value)
    assert "base_url" in str(caught.value)


# ---------------------------------------------------------------------- successes


def test_external_index_fixture_parses_into_dataclasses(mocked, client):
    mocked.get(INDEX_URL, json=load_fixture("external_index_page.json"))

    page = client.get_series_external_index(1)

    assert isinstance(page, ExternalIndexPage)
    assert (page.page, page.page_size, page.total, page.total_pages) == (1, 100, 2, 1)
    owned, bare = page.items
    assert owned.id == "550e8400-e29b-41d4-a716-446655440002"
    assert owned.external_ids == (
        CodexExternalId("plugin:mangabaka", "12345", "https://mangabaka.dev/manga/12345"),
    )
    assert owned.local_max_volume == 12
    assert isinstance(owned.local_max_volume, int)
    assert owned.local_max_chapter == 130.5
    assert owned.volumes_owned == 12
    assert bare.external_ids == ()
    assert (bare.local_max_volume, bare.local_max_chapter, bare.volumes_owned) == (None, None, None)


def test_series_ids_come_back_as_canonical_uuids_whatever_codex_spells(mocked, client):
    upper = series_item(1, id="00000000-0000-4000-8000-00000000000A".upper())
    braced = series_item(2, id="{00000000-0000-4000-8000-000000000002}")
    bare = series_item(3, id="00000000000040008000000000000003")
    mocked.get(INDEX_URL, json=index_page([upper, braced, bare], page=1, page_size=500, total=3))

    page = client.get_series_external_index(1)

    assert [item.id for item in page.items] == [
        "00000000-0000-4000-8000-00000000000a",
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003",
    ]


def test_a_series_id_that_is_not_a_uuid_is_a_bad_payload_without_the_key(mocked, client):
    item = series_item(1, id=f"not-a-uuid-{API_KEY}")
    mocked.get(INDEX_URL, json=index_page([item], page=1, page_size=500, total=1))

    with pytest.raises(CodexBadPayload, match="not a UUID") as raised:
        client.get_series_external_index(1)

    assert API_KEY not in str(raised.value)
    assert str(raised.value).startswith(
        "Codex's external index listed a series id that is not a UUID: not-a-uuid-"
    )


def test_the_same_series_in_two_spellings_counts_once_against_the_total(mocked):
    client = CodexClient(BASE_URL, API_KEY, page_size=2, backoff_factor=0)
    first = series_item(1)
    again = series_item(1, id=first["id"].upper())
    mocked.get(
        INDEX_URL,
        json=index_page([first, again], page=1, page_size=2, total=2),
        match=[page_matcher(1, 2)],
    )

    with pytest.raises(CodexIncompleteIndex, match="1 distinct series"):
        client.fetch_full_index()


def test_fetch_full_index_walks_every_page_in_order(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    items = [series_item(number) for number in range(1, 6)]
    for page in (1, 2, 3):
        body = index_page(items[(page - 1) * 2 : page * 2], page=page, page_size=2, total=5)
        mocked.get(INDEX_URL, json=body, match=[page_matcher(page, 2)])
    seen_pages: list[int] = []

    series = codex.fetch_full_index(on_page=lambda page: seen_pages.append(page.page))

    assert [entry.id for entry in series] == [item["id"] for item in items]
    assert seen_pages == [1, 2, 3]
    assert [query_of(call)["page"] for call in mocked.calls] == [["1"], ["2"], ["3"]]
    assert all(call.request.headers["X-API-Key"] == API_KEY for call in mocked.calls)


def test_iter_full_index_yields_each_page_and_holds_a_repeated_series_back(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    items = [series_item(number) for number in range(1, 4)]
    pages = [[items[0], items[1]], [items[1].copy(), items[2]]]  # item 2 listed on both pages
    for number, rows in enumerate(pages, start=1):
        body = index_page(rows, page=number, page_size=2, total=3)
        mocked.get(INDEX_URL, json=body, match=[page_matcher(number, 2)])

    walk = codex.iter_full_index()
    first = next(walk)
    assert len(mocked.calls) == 1  # a page is handed over before the next is asked for
    rest = list(walk)

    assert [entry.id for entry in first.items] == [items[0]["id"], items[1]["id"]]
    assert [[entry.id for entry in page.items] for page in rest] == [[items[2]["id"]]]


def test_iter_full_index_raises_after_the_last_page_when_the_total_does_not_add_up(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    body = index_page([series_item(1), series_item(1)], page=1, page_size=2, total=2)
    mocked.get(INDEX_URL, json=body, match=[page_matcher(1, 2)])
    walk = codex.iter_full_index()

    assert [entry.id for entry in next(walk).items] == [series_item(1)["id"]]
    with pytest.raises(CodexIncompleteIndex, match="1 distinct series"):
        next(walk)


def test_empty_library_is_a_complete_index(mocked, client):
    mocked.get(INDEX_URL, json=index_page([], page=1, page_size=500, total=0) | {"totalPages": 0})

    assert client.fetch_full_index() == []
    assert len(mocked.calls) == 1


def test_unknown_keys_are_tolerated_everywhere(mocked, client):
    item = series_item(1, coverUrl="https://x.test/c.jpg", extra={"nested": True})
    item["externalIds"][0]["syncedAt"] = "2026-01-01T00:00:00Z"
    body = index_page([item], page=1, page_size=500, total=1) | {"meta": {"took": 3}}
    mocked.get(INDEX_URL, json=body)

    (series,) = client.fetch_full_index()

    assert series.external_ids == (CodexExternalId("plugin:mangabaka", "100001", None),)


def test_chapters_keep_fractions_and_whole_chapters_are_floats(mocked, client):
    items = [
        series_item(1, localMaxChapter=137.5),
        series_item(2, localMaxChapter=12.0, localMaxVolume=12.0),
        series_item(3, localMaxChapter=12),
    ]
    mocked.get(INDEX_URL, json=index_page(items, page=1, page_size=500, total=3))

    fractional, whole_float, whole_int = client.fetch_full_index()

    assert fractional.local_max_chapter == 137.5
    assert whole_float.local_max_chapter == 12.0
    assert isinstance(whole_float.local_max_chapter, float)
    assert whole_float.local_max_volume == 12
    assert isinstance(whole_float.local_max_volume, int)
    assert isinstance(whole_int.local_max_chapter, float)


def test_malformed_external_id_entries_are_skipped_not_the_series(mocked, client):
    item = series_item(
        1,
        externalIds=[
            {"source": "api:anilist", "externalId": "30002"},
            {"source": "api:mal"},
            {"externalId": "999"},
            {"source": "", "externalId": "1"},
            "not-an-object",
            {"source": "api:mangaupdates", "externalId": 15, "externalUrl": ""},
        ],
    )
    mocked.get(INDEX_URL, json=index_page([item], page=1, page_size=500, total=1))

    (series,) = client.fetch_full_index()

    assert series.external_ids == (
        CodexExternalId("api:anilist", "30002", None),
        CodexExternalId("api:mangaupdates", "15", None),
    )


# Entries the parser's fast pass takes or hands to the careful one (`_parse_external_id`).
ODD_EXTERNAL_IDS = [
    {"source": " api:anilist ", "externalId": " 30002 ", "externalUrl": " https://a.test/1 "},
    {"source": "api:anilist", "externalId": "30003", "externalUrl": "   "},
    {"source": "api:anilist", "externalId": "30004", "externalUrl": None},
    {"source": "api:anilist", "externalId": "30005", "externalUrl": 7},
    {"source": "api:mal", "externalId": "   "},
    {"source": "  ", "externalId": "1"},
    {"source": 3, "externalId": "1"},
    {"source": "api:mangaupdates", "externalId": 15},
    {"source": "api:mangaupdates", "externalId": True},
    {"source": "api:mangaupdates", "externalId": 1.5},
    ["api:mal", "1"],
    None,
]


def test_the_fast_pass_over_external_ids_keeps_what_the_careful_checks_keep(mocked, client):
    item = series_item(1, externalIds=ODD_EXTERNAL_IDS)
    mocked.get(INDEX_URL, json=index_page([item], page=1, page_size=500, total=1))

    (series,) = client.fetch_full_index()

    assert series.external_ids == (
        CodexExternalId("api:anilist", "30002", "https://a.test/1"),
        CodexExternalId("api:anilist", "30003", None),
        CodexExternalId("api:anilist", "30004", None),
        CodexExternalId("api:anilist", "30005", None),
        CodexExternalId("api:mangaupdates", "15", None),
    )
    careful = [_parse_external_id(entry, series.id) for entry in ODD_EXTERNAL_IDS]
    assert series.external_ids == tuple(entry for entry in careful if entry is not None)


def test_counts_outside_the_usual_shapes_go_through_the_checks(mocked, client):
    item = series_item(1, localMaxVolume=True, localMaxChapter="HUGE", volumesOwned=-0.0)
    item["id"] = "  " + item["id"] + " "
    body = json.dumps(index_page([item], page=1, page_size=500, total=1))
    # 1e400 decodes as infinity: JSON has no Infinity, but its number syntax reaches it.
    body = body.replace('"HUGE"', "1e400")
    mocked.get(INDEX_URL, body=body, content_type="application/json")

    (series,) = client.fetch_full_index()

    assert series.id == series_item(1)["id"]
    assert (series.local_max_volume, series.local_max_chapter, series.volumes_owned) == (
        None,
        None,
        0,
    )
    assert isinstance(series.volumes_owned, int)


def test_odd_counts_become_unknown_instead_of_failing_the_sweep(mocked, client):
    item = series_item(1, localMaxVolume="12", localMaxChapter=True, volumesOwned=2.5)
    mocked.get(INDEX_URL, json=index_page([item], page=1, page_size=500, total=1))

    (series,) = client.fetch_full_index()

    assert (series.local_max_volume, series.local_max_chapter, series.volumes_owned) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("version", "parsed", "supported"),
    [
        ("1.40.0", (1, 40, 0), True),
        ("1.32.0", (1, 32, 0), True),
        ("1.31.9", (1, 31, 9), False),
        ("1.4.2", (1, 4, 2), False),
        ("v2.0", (2, 0, 0), True),
        ("1.32.0-beta.1", (1, 32, 0), True),
        ("nightly-abc123", None, True),
    ],
)
def test_codex_version_decides_external_index_support(version, parsed, supported):
    info = CodexInfo(name="codex", version=version)

    assert info.version_tuple == parsed
    assert info.supports_external_index is supported
    assert info.version == version


# ------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "codex_message",
    ["Missing or invalid authentication credentials", "Invalid API key", "API key has expired"],
)
def test_401_means_the_key_was_rejected(mocked, client, codex_message):
    mocked.get(INDEX_URL, status=401, json={"error": "Unauthorized", "message": codex_message})

    with pytest.raises(CodexUnauthorized) as caught:
        client.get_series_external_index(1)

    assert caught.value.message == "API key rejected (401)"
    assert caught.value.detail == codex_message
    assert str(caught.value) == f"API key rejected (401): {codex_message}"
    assert caught.value.status_code == 401
    assert len(mocked.calls) == 1


def test_403_means_the_key_lacks_series_read(mocked, client):
    mocked.get(
        INDEX_URL,
        status=403,
        json={"error": "Forbidden", "message": "Missing required permission: SeriesRead"},
    )

    with pytest.raises(CodexForbidden) as caught:
        client.get_series_external_index(1)

    assert caught.value.message == "API key lacks series:read (403)"
    assert caught.value.detail == "Missing required permission: SeriesRead"


def test_plain_text_400_means_codex_is_too_old(mocked, client):
    mocked.get(
        INDEX_URL,
        status=400,
        body="Invalid URL: UUID parsing failed: invalid character",
        content_type="text/plain; charset=utf-8",
    )

    with pytest.raises(CodexUnsupported) as caught:
        client.get_series_external_index(1)

    assert "upgrade Codex to 1.32.0 or newer" in str(caught.value)


def test_json_400_is_not_mistaken_for_an_old_codex(mocked, client):
    mocked.get(INDEX_URL, status=400, json={"error": "BadRequest", "message": "bad page"})

    with pytest.raises(CodexUnexpectedStatus) as caught:
        client.get_series_external_index(1)

    assert not isinstance(caught.value, CodexUnsupported)
    assert caught.value.status_code == 400


def test_429_with_retry_after_is_retried_then_succeeds(mocked, client):
    mocked.get(
        INDEX_URL,
        status=429,
        headers={"Retry-After": "2"},
        json={"error": "rate_limit_exceeded", "message": "slow down", "retry_after": 2},
    )
    mocked.get(INDEX_URL, json=index_page([series_item(1)], page=1, page_size=500, total=1))

    page = client.get_series_external_index(1)

    assert len(page.items) == 1
    assert [call.response.status_code for call in mocked.calls] == [429, 200]
    assert all(call.request.headers["X-API-Key"] == API_KEY for call in mocked.calls)


def test_429_that_never_ends_is_rate_limited(mocked, client):
    mocked.get(
        INDEX_URL,
        status=429,
        headers={"Retry-After": "1"},
        json={"error": "rate_limit_exceeded", "message": "slow down", "retry_after": 1},
    )

    with pytest.raises(CodexRateLimited) as caught:
        client.get_series_external_index(1)

    assert len(mocked.calls) == 1 + client.retries
    assert caught.value.retry_after == 1
    assert caught.value.status_code == 429


def test_503_is_retried_then_succeeds(mocked, client):
    mocked.get(INDEX_URL, status=503, body="Service Unavailable")
    mocked.get(INDEX_URL, status=502, body="<html>Bad Gateway</html>")
    mocked.get(INDEX_URL, json=index_page([], page=1, page_size=500, total=0))

    client.get_series_external_index(1)

    assert [call.response.status_code for call in mocked.calls] == [503, 502, 200]


def test_503_that_never_ends_is_an_unexpected_status(mocked, client):
    mocked.get(INDEX_URL, status=503, body="Service Unavailable")

    with pytest.raises(CodexUnexpectedStatus) as caught:
        client.get_series_external_index(1)

    assert caught.value.status_code == 503
    assert "503" in str(caught.value)
    assert len(mocked.calls) == 1 + client.retries


def test_500_is_not_retried(mocked, client):
    mocked.get(
        INDEX_URL,
        status=500,
        json={"error": "InternalServerError", "message": "An internal error occurred"},
    )

    with pytest.raises(CodexUnexpectedStatus) as caught:
        client.get_series_external_index(1)

    assert len(mocked.calls) == 1
    assert caught.value.detail == "An internal error occurred"


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("Connection refused"),
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
    ],
    ids=["refused", "connect-timeout", "read-timeout"],
)
def test_transport_failures_mean_codex_is_unreachable(mocked, client, failure):
    mocked.get(INFO_URL, body=failure)

    with pytest.raises(CodexUnreachable) as caught:
        client.get_app_info()

    assert BASE_URL in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        requests.ReadTimeout("read timed out"),
        # What requests raises for a read timeout when the adapter carries a Retry.
        requests.ConnectionError(
            MaxRetryError(None, "/", ReadTimeoutError(None, "/", "read timed out"))
        ),
    ],
    ids=["plain", "through-retry"],
)
def test_timeout_message_names_the_limit(mocked, client, failure):
    mocked.get(INDEX_URL, body=failure)

    with pytest.raises(CodexUnreachable, match=r"within 7\.5s"):
        client.get_series_external_index(1)


def test_dns_failure_says_so(mocked, client):
    failure = requests.ConnectionError(
        MaxRetryError(None, "/", NameResolutionError("codex.example.test", None, OSError()))
    )
    mocked.get(INFO_URL, body=failure)

    with pytest.raises(CodexUnreachable, match="DNS lookup failed"):
        client.get_app_info()


def test_invalid_json_is_a_bad_payload(mocked, client):
    mocked.get(INDEX_URL, body='{"data": [{"id": "550e', content_type="application/json")

    with pytest.raises(CodexBadPayload):
        client.get_series_external_index(1)


def test_html_login_page_is_a_bad_payload_that_suggests_checking_base_url(mocked, client):
    mocked.get(INFO_URL, body="<html><title>Sign in</title></html>", content_type="text/html")

    with pytest.raises(CodexBadPayload, match="base_url"):
        client.get_app_info()


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"page": 1, "total": 0}, "'data'"),
        ({"data": {"id": "x"}, "total": 1}, "'data'"),
        ({"data": []}, "'total'"),
        ({"data": [], "total": "3"}, "'total'"),
        ({"data": [{"externalIds": []}], "total": 1}, "'id'"),
        ({"data": [None], "total": 1}, "not an object"),
        ([], "JSON object"),
    ],
    ids=[
        "no-data",
        "data-not-list",
        "no-total",
        "total-not-int",
        "item-no-id",
        "item-null",
        "not-object",
    ],
)
def test_missing_required_fields_are_a_bad_payload(mocked, client, body, complaint):
    mocked.get(INDEX_URL, json=body)

    with pytest.raises(CodexBadPayload, match=complaint):
        client.get_series_external_index(1)


def test_info_without_version_is_a_bad_payload(mocked, client):
    mocked.get(INFO_URL, json={"name": "codex"})

    with pytest.raises(CodexBadPayload, match="'version'"):
        client.get_app_info()


# ------------------------------------------------------------- completeness guard


def test_early_empty_page_stops_the_walk_as_incomplete(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    first = index_page([series_item(1), series_item(2)], page=1, page_size=2, total=6)
    mocked.get(INDEX_URL, json=first, match=[page_matcher(1, 2)])
    mocked.get(
        INDEX_URL, json=index_page([], page=2, page_size=2, total=6), match=[page_matcher(2, 2)]
    )
    third = index_page([series_item(5), series_item(6)], page=3, page_size=2, total=6)
    mocked.get(INDEX_URL, json=third, match=[page_matcher(3, 2)])

    with pytest.raises(CodexIncompleteIndex, match="page 2 came back empty after 2 of 6"):
        codex.fetch_full_index()

    assert len(mocked.calls) == 2


def test_shrinking_total_is_incomplete(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    first = index_page([series_item(1), series_item(2)], page=1, page_size=2, total=5)
    second = index_page([series_item(4), series_item(5)], page=2, page_size=2, total=4)
    mocked.get(INDEX_URL, json=first, match=[page_matcher(1, 2)])
    mocked.get(INDEX_URL, json=second, match=[page_matcher(2, 2)])

    with pytest.raises(CodexIncompleteIndex, match="changed from 5 to 4"):
        codex.fetch_full_index()


def test_short_last_page_is_incomplete(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    first = index_page([series_item(1), series_item(2)], page=1, page_size=2, total=4)
    second = index_page([series_item(3)], page=2, page_size=2, total=4)
    mocked.get(INDEX_URL, json=first, match=[page_matcher(1, 2)])
    mocked.get(INDEX_URL, json=second, match=[page_matcher(2, 2)])

    with pytest.raises(CodexIncompleteIndex, match="3 distinct series but reported a total of 4"):
        codex.fetch_full_index()


def test_a_series_seen_twice_does_not_make_up_for_one_missed(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    first = index_page([series_item(1), series_item(2)], page=1, page_size=2, total=4)
    second = index_page([series_item(2), series_item(4)], page=2, page_size=2, total=4)
    mocked.get(INDEX_URL, json=first, match=[page_matcher(1, 2)])
    mocked.get(INDEX_URL, json=second, match=[page_matcher(2, 2)])

    with pytest.raises(CodexIncompleteIndex):
        codex.fetch_full_index()


def test_a_failing_page_aborts_the_whole_fetch(mocked):
    codex = CodexClient(BASE_URL, API_KEY, page_size=2)
    first = index_page([series_item(1), series_item(2)], page=1, page_size=2, total=4)
    mocked.get(INDEX_URL, json=first, match=[page_matcher(1, 2)])
    mocked.get(INDEX_URL, status=500, body="boom", match=[page_matcher(2, 2)])
    pages: list[int] = []

    with pytest.raises(CodexUnexpectedStatus):
        codex.fetch_full_index(on_page=lambda page: pages.append(page.page))

    assert pages == [1]


# ------------------------------------------------------------------ secret hygiene


def _echoing_500(request: Any) -> tuple[int, dict[str, str], str]:
    # A hostile or buggy server echoing the request headers back in its error page.
    return 500, {"Content-Type": "text/plain"}, f"boom: {dict(request.headers)}"


LEAK_SCENARIOS = {
    "401": dict(status=401, json={"error": "Unauthorized", "message": "Invalid API key"}),
    "403": dict(status=403, json={"error": "Forbidden", "message": "Missing permission"}),
    "400-legacy": dict(status=400, body="Invalid URL", content_type="text/plain"),
    "429": dict(status=429, headers={"Retry-After": "1"}, json={"error": "rate_limit_exceeded"}),
    "503": dict(status=503, body="Service Unavailable"),
    "404": dict(status=404, json={"error": "NotFound", "message": f"no {API_KEY}"}),
    "302": dict(status=302, headers={"Location": f"https://x.test/?k={API_KEY}"}),
    "garbage": dict(body=f"<html>{API_KEY}</html>", content_type="text/html"),
    "no-data": dict(json={"total": 1}),
    "connection": dict(body=requests.ConnectionError("refused")),
    "timeout": dict(body=requests.ReadTimeout("timed out")),
}


@pytest.mark.parametrize("scenario", [*LEAK_SCENARIOS, "echo", "incomplete"])
def test_the_api_key_never_appears_in_errors_or_logs(mocked, client, caplog, scenario):
    caplog.set_level(logging.DEBUG)
    if scenario == "echo":
        mocked.add_callback(responses.GET, INDEX_URL, callback=_echoing_500)
    elif scenario == "incomplete":
        mocked.get(INDEX_URL, json=index_page([], page=1, page_size=500, total=3))
    else:
        mocked.get(INDEX_URL, **copy.deepcopy(LEAK_SCENARIOS[scenario]))

    with pytest.raises(CodexError) as caught:
        client.fetch_full_index()

    error = caught.value
    for text in (str(error), repr(error), error.message, error.detail or "", caplog.text):
        assert API_KEY not in text
    assert mocked.calls[0].request.headers["X-API-Key"] == API_KEY


def test_client_repr_hides_the_key(client):
    assert API_KEY not in repr(client)
    assert API_KEY not in str(vars(client).get("base_url"))


def test_a_key_that_cannot_be_a_header_is_refused_without_echoing_it():
    with pytest.raises(ValueError) as caught:
        CodexClient(BASE_URL, "codex_abc\r\nX-Evil: 1")

    assert "codex_abc" not in str(caught.value)


def test_blank_key_is_refused():
    with pytest.raises(ValueError, match="blank"):
        CodexClient(BASE_URL, "   ")


@pytest.mark.parametrize(
    "error",
    [
        CodexBadPayload("page 3 is not JSON", detail="<html>", status_code=200),
        CodexIncompleteIndex("Codex's external index came back incomplete"),
        CodexRateLimited(detail="Retry-After 5s", retry_after=5.0),
    ],
)
def test_a_codex_error_survives_pickling_whole(error):
    """The sweep's matching process hands its failures back pickled."""
    copied = pickle.loads(pickle.dumps(error))

    assert type(copied) is type(error)
    assert str(copied) == str(error)
    assert vars(copied) == vars(error)
