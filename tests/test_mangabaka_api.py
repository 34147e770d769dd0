"""The MangaBaka live API client: paths, query, headers, errors, merges; the key never leaks."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from responses import matchers

from metadata.mangabaka.api import (
    MangaBakaApi,
    MangaBakaBadResponse,
    MangaBakaKeyRejected,
    MangaBakaRateLimited,
    MangaBakaUnreachable,
)
from metadata.providers import ProviderError
from tests.mangabaka_helpers import API, API_KEY, fixture
from tsundoku.http import HostRateLimiter


@pytest.fixture
def slept() -> list[float]:
    return []


def make_api(slept: list[float], *, api_key: str | None = None) -> MangaBakaApi:
    return MangaBakaApi(
        API, api_key=api_key, min_request_gap_ms=0, limiter=HostRateLimiter(), sleep=slept.append
    )


@pytest.fixture
def api(slept) -> MangaBakaApi:
    return make_api(slept)


@pytest.fixture
def keyed_api(slept) -> MangaBakaApi:
    return make_api(slept, api_key=API_KEY)


@responses.activate
def test_get_series_calls_v1_series_with_json_accept_and_no_key_when_unset(api):
    responses.get(f"{API}/v1/series/2060", json=fixture("series-2060.json"))

    record = api.get_series("2060")

    assert record.metadata.title == "Omniscient Reader"
    request = responses.calls[0].request
    assert request.method == "GET"
    assert request.url == f"{API}/v1/series/2060"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("tsundoku/")
    assert "x-api-key" not in request.headers


@responses.activate
def test_the_key_is_sent_as_x_api_key_when_configured(keyed_api):
    responses.get(f"{API}/v1/series/2060", json=fixture("series-2060.json"))
    keyed_api.get_series("2060")
    assert responses.calls[0].request.headers["x-api-key"] == API_KEY
    assert API_KEY not in repr(keyed_api)


@responses.activate
def test_search_sends_q_page_1_and_a_limit_of_at_most_50(api):
    responses.get(
        f"{API}/v1/series/search",
        json=fixture("search-solo-leveling.json"),
        match=[matchers.query_param_matcher({"q": "solo leveling", "page": "1", "limit": "50"})],
    )

    found = api.search("  solo leveling ", limit=500)

    assert [record.metadata.external_id for record in found] == ["3397"]
    assert found[0].metadata.total_chapters == 201
    assert found[0].metadata.kind == "manhwa"


@responses.activate
def test_source_lookup_uses_the_hyphenated_slug_and_reads_data_series(api):
    responses.get(
        f"{API}/v1/source/manga-updates/6z1uqw7", json=fixture("source-manga-updates-6z1uqw7.json")
    )
    responses.get(
        f"{API}/v1/source/my-anime-list/121496", json=fixture("source-manga-updates-6z1uqw7.json")
    )
    responses.get(
        f"{API}/v1/source/anime-planet/nothing", json={"status": 200, "data": {"series": []}}
    )

    assert api.by_source("mangaupdates", "6z1uqw7").metadata.external_id == "3397"
    assert api.by_source("mal", "121496").metadata.title == "Solo Leveling"
    assert api.by_source("anime_planet", "nothing") is None  # empty list → not found
    assert api.by_source("shikimori", "1") is None  # no documented path: no request
    assert [call.request.path_url for call in responses.calls] == [
        "/v1/source/manga-updates/6z1uqw7",
        "/v1/source/my-anime-list/121496",
        "/v1/source/anime-planet/nothing",
    ]


@responses.activate
def test_source_lookup_skips_inactive_series_and_takes_the_first_active(api):
    active = fixture("series-1677.json")["data"]
    merged = {**active, "id": 9999, "state": "merged", "merged_with": 1677}
    responses.get(
        f"{API}/v1/source/anilist/105778",
        json={"status": 200, "data": {"series": [merged, active], "source_response": None}},
    )
    assert api.by_source("anilist", "105778").metadata.external_id == "1677"


@responses.activate
def test_a_merged_series_is_followed_to_its_target(api):
    target = fixture("series-1677.json")
    responses.get(
        f"{API}/v1/series/9999",
        json={
            "status": 200,
            "data": {
                **target["data"],
                "id": 9999,
                "state": "merged",
                "merged_with": 1677,
                "title": "Chainsaw Man (merged)",
            },
        },
    )
    responses.get(f"{API}/v1/series/1677", json=target)

    record = api.get_series("9999")

    assert record.metadata.external_id == "1677"
    assert [call.request.path_url for call in responses.calls] == [
        "/v1/series/9999",
        "/v1/series/1677",
    ]


@responses.activate
def test_a_deleted_series_and_a_404_are_none(api):
    responses.get(
        f"{API}/v1/series/5",
        json={"status": 200, "data": {"id": 5, "title": "X", "state": "deleted"}},
    )
    responses.get(f"{API}/v1/series/6", status=404, json=fixture("error-404.json"))
    assert api.get_series("5") is None
    assert api.get_series("6") is None


@responses.activate
def test_a_merge_loop_ends(api):
    responses.get(
        f"{API}/v1/series/1",
        json={"status": 200, "data": {"id": 1, "title": "A", "state": "merged", "merged_with": 2}},
    )
    responses.get(
        f"{API}/v1/series/2",
        json={"status": 200, "data": {"id": 2, "title": "B", "state": "merged", "merged_with": 1}},
    )
    assert api.get_series("1") is None
    assert len(responses.calls) == 5


class RateLimitedApi(BaseHTTPRequestHandler):
    """A local MangaBaka that answers 429 (Retry-After: 7) `server.limited` times, then 2060."""

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.server.limited > 0:
            self.server.limited -= 1
            status, body = 429, json.dumps({"status": 429, "message": "slow down"})
        else:
            status, body = 200, json.dumps(fixture("series-2060.json"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "7")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def rate_limited_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RateLimitedApi)
    server.paths, server.limited = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def local_api(server, slept: list[float]) -> MangaBakaApi:
    return MangaBakaApi(
        f"http://127.0.0.1:{server.server_address[1]}",
        min_request_gap_ms=0,
        limiter=HostRateLimiter(),
        sleep=slept.append,
    )


def test_429_is_retried_after_retry_after_without_sleeping_then_succeeds(rate_limited_api):
    rate_limited_api.limited = 1
    slept: list[float] = []

    assert local_api(rate_limited_api, slept).get_series("2060").metadata.external_id == "2060"
    assert slept == [7.0]
    assert rate_limited_api.paths == ["/v1/series/2060", "/v1/series/2060"]


def test_429_that_persists_is_a_rate_limited_provider_error(rate_limited_api):
    rate_limited_api.limited = 100
    slept: list[float] = []

    with pytest.raises(MangaBakaRateLimited, match="rate limited") as caught:
        local_api(rate_limited_api, slept).get_series("2060")

    assert isinstance(caught.value, ProviderError)
    assert len(rate_limited_api.paths) == 4  # the first try + 3 bounded retries
    assert slept == [7.0, 7.0, 7.0]


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_a_rejected_key_is_said_without_the_key(keyed_api, status, caplog):
    responses.get(
        f"{API}/v1/series/1",
        status=status,
        json={"status": status, "message": f"bad key {API_KEY}"},
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(MangaBakaKeyRejected) as caught:
        keyed_api.get_series("1")

    assert "rejected the API key" in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert API_KEY not in caplog.text


@responses.activate
def test_bad_json_and_wrong_shapes_are_provider_errors(api):
    responses.get(f"{API}/v1/series/1", body="<html>oops</html>", content_type="text/html")
    responses.get(f"{API}/v1/series/2", json={"status": 200, "data": {"no": "id"}})
    responses.get(f"{API}/v1/series/search", json={"status": 200, "data": {"not": "a list"}})
    responses.get(f"{API}/v1/series/3", status=500, json={"status": 500, "message": "boom"})
    with pytest.raises(MangaBakaBadResponse, match="not JSON"):
        api.get_series("1")
    with pytest.raises(MangaBakaBadResponse):
        api.get_series("2")
    with pytest.raises(MangaBakaBadResponse):
        api.search("x")
    with pytest.raises(MangaBakaBadResponse, match="HTTP 500"):
        api.get_series("3")


@responses.activate
def test_unreachable_api_is_a_provider_error_that_never_carries_the_key(keyed_api, caplog):
    import requests

    responses.get(f"{API}/v1/series/1", body=requests.ConnectionError(f"refused {API_KEY}"))
    with caplog.at_level(logging.DEBUG), pytest.raises(MangaBakaUnreachable) as caught:
        keyed_api.get_series("1")
    assert API_KEY not in str(caught.value)
    assert API_KEY not in caplog.text


def test_a_non_numeric_id_asks_nothing(api):
    with responses.RequestsMock() as mocked:
        assert api.get_series("../admin") is None
        assert len(mocked.calls) == 0
