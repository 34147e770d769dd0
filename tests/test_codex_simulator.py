"""The Codex simulator over a real socket, checked against Codex's own OpenAPI schemas.

Every 200 body is validated against `codex/openapi.json`; error bodies against
its `ErrorResponse`. The last section drives `CodexClient` end to end against
the simulator, including each fault mode. No database is needed.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
import requests
import urllib3.util.retry
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from codex_sync.client import (
    CodexBadPayload,
    CodexClient,
    CodexForbidden,
    CodexIncompleteIndex,
    CodexRateLimited,
    CodexUnauthorized,
    CodexUnexpectedStatus,
    CodexUnreachable,
    CodexUnsupported,
)
from devtools.codex_simulator import (
    CodexSimulator,
    SimulatorFaults,
    SimulatorServer,
    TokenBucketLimiter,
    normalize_library,
)
from devtools.synthetic import generate_library, synthetic_catalog_ids, synthetic_external_ids
from feed.external_ids import to_base36

pytestmark = pytest.mark.e2e

OPENAPI_URI = "urn:codex:openapi"
# Codex's own OpenAPI document, trimmed to the two routes the simulator serves.
OPENAPI = json.loads(
    (Path(__file__).resolve().parent / "fixtures" / "codex" / "openapi.json").read_text(
        encoding="utf-8"
    )
)
REGISTRY = Registry().with_resource(
    OPENAPI_URI, Resource.from_contents(OPENAPI, default_specification=DRAFT202012)
)

API_KEY = "sim-key-3b9f"
EXPIRED_KEY = "sim-expired-key"
NO_READ_KEY = "sim-no-read-key"
INFO = "/api/v1/info"
INDEX = "/api/v1/series/external-index"


def assert_valid(instance: Any, schema_name: str) -> None:
    """Validate against `#/components/schemas/<schema_name>` of Codex's OpenAPI 3.1 doc."""
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"{OPENAPI_URI}#/components/schemas/{schema_name}"},
        registry=REGISTRY,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    validator.validate(instance)


def uuid_for(number: int) -> str:
    return f"00000000-0000-4000-8000-{number:012d}"


LIBRARY = [
    {
        "id": uuid_for(3),
        "title": "banana Fish",
        "externalIds": [
            {
                "source": "plugin:mangabaka",
                "externalId": "12345",
                "externalUrl": "https://mangabaka.dev/12345",
            },
            {"source": "api:anilist", "externalId": "30002", "externalUrl": ""},
            {"source": "api:myanimelist", "externalId": "2", "externalUrl": None},
            {"source": "mangaupdates", "externalId": "hly6oqa"},
            {"source": "manual", "externalId": "shelf-1"},
        ],
        "localMaxVolume": 12,
        "localMaxChapter": 12,
        "volumesOwned": 11,
    },
    {"id": uuid_for(2), "title": "apple", "externalIds": []},
    {
        "id": uuid_for(1),
        "title": "Apple",
        "externalIds": [{"source": "api:anilist", "externalId": "1"}],
        "localMaxVolume": None,
        "localMaxChapter": 137.5,
        "volumesOwned": None,
    },
    {"id": uuid_for(4), "title": "Cherry", "localMaxVolume": 3},
]


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(
        LIBRARY,
        api_key=API_KEY,
        expired_keys=[EXPIRED_KEY],
        forbidden_keys=[NO_READ_KEY],
        shuffle_seed=7,
    ) as server:
        yield server


@pytest.fixture
def big_sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(generate_library(1234, seed=3), api_key=API_KEY) as server:
        yield server


@pytest.fixture
def instant_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record urllib3 Retry sleeps instead of sleeping them."""
    slept: list[float] = []
    monkeypatch.setattr(
        urllib3.util.retry, "time", SimpleNamespace(sleep=slept.append, time=time.time)
    )
    return slept


def get(
    server: SimulatorServer,
    path: str,
    *,
    key: str | None = API_KEY,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> requests.Response:
    sent = {"X-API-Key": key} if key is not None else {}
    sent.update(headers or {})
    return requests.get(f"{server.base_url}{path}", params=params, headers=sent, timeout=10)


def client_for(server: SimulatorServer, **options: Any) -> CodexClient:
    options.setdefault("backoff_factor", 0)
    return CodexClient(server.base_url, options.pop("api_key", API_KEY), **options)


# ------------------------------------------------------------------------------ info


def test_info_is_public_and_matches_app_info_dto(sim):
    response = get(sim, INFO, key=None)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"version": "1.40.0", "name": "codex"}
    assert_valid(response.json(), "AppInfoDto")


def test_info_ignores_credentials_even_bad_ones(sim):
    response = get(sim, INFO, key="wrong", headers={"Authorization": "Bearer junk"})

    assert response.status_code == 200


def test_info_version_is_configurable():
    with SimulatorServer([], version="2.2.0") as server:
        assert get(server, INFO).json()["version"] == "2.2.0"


# ------------------------------------------------------------------------- paging


def test_external_index_page_matches_the_schema(sim):
    response = get(sim, INDEX, page=1, pageSize=10)

    assert response.status_code == 200
    body = response.json()
    assert_valid(body, "PaginatedResponse_SeriesExternalIndexDto")
    for item in body["data"]:
        assert_valid(item, "SeriesExternalIndexDto")
        for ref in item["externalIds"]:
            assert_valid(ref, "SeriesExternalIdRefDto")
    assert_valid(body["links"], "PaginationLinks")


def test_default_page_is_1_and_default_page_size_is_50(big_sim):
    body = get(big_sim, INDEX).json()

    assert (body["page"], body["pageSize"], body["total"], body["totalPages"]) == (1, 50, 1234, 25)
    assert len(body["data"]) == 50
    assert_valid(body, "PaginatedResponse_SeriesExternalIndexDto")


def test_page_size_above_500_is_silently_clamped(big_sim):
    body = get(big_sim, INDEX, page=1, pageSize=5000).json()

    assert body["pageSize"] == 500
    assert len(body["data"]) == 500
    assert body["totalPages"] == 3


def test_snake_case_page_size_is_ignored(big_sim):
    body = get(big_sim, INDEX, page_size=500).json()

    assert body["pageSize"] == 50
    assert len(body["data"]) == 50


def test_pages_are_one_based_and_cover_the_library_exactly_once(big_sim):
    ids = []
    for page in (1, 2, 3):
        body = get(big_sim, INDEX, page=page, pageSize=500).json()
        assert_valid(body, "PaginatedResponse_SeriesExternalIndexDto")
        ids += [item["id"] for item in body["data"]]

    assert len(ids) == len(set(ids)) == 1234


def test_page_past_the_end_is_200_and_empty(big_sim):
    response = get(big_sim, INDEX, page=9, pageSize=500)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == []
    assert body["total"] == 1234
    assert "next" not in body["links"]
    assert_valid(body, "PaginatedResponse_SeriesExternalIndexDto")


def test_links_omit_prev_on_the_first_page_and_next_on_the_last(big_sim):
    first, middle, last = (get(big_sim, INDEX, page=n, pageSize=500).json() for n in (1, 2, 3))

    assert first["links"] == {
        "self": f"{INDEX}?page=1&pageSize=500",
        "first": f"{INDEX}?page=1&pageSize=500",
        "last": f"{INDEX}?page=3&pageSize=500",
        "next": f"{INDEX}?page=2&pageSize=500",
    }
    assert set(middle["links"]) == {"self", "first", "last", "prev", "next"}
    assert last["links"]["prev"] == f"{INDEX}?page=2&pageSize=500"
    assert "next" not in last["links"]


def test_single_page_has_neither_prev_nor_next(sim):
    links = get(sim, INDEX).json()["links"]

    assert set(links) == {"self", "first", "last"}


def test_empty_library_has_zero_pages():
    with SimulatorServer([], api_key=API_KEY) as server:
        body = get(server, INDEX).json()

    assert (body["data"], body["total"], body["totalPages"]) == ([], 0, 0)
    assert_valid(body, "PaginatedResponse_SeriesExternalIndexDto")


# ------------------------------------------------------------------------- items


def test_items_are_ordered_by_title_case_insensitively_then_id(sim):
    data = get(sim, INDEX).json()["data"]

    assert [item["id"] for item in data] == [uuid_for(1), uuid_for(2), uuid_for(3), uuid_for(4)]
    assert all("title" not in item for item in data)


def test_count_keys_are_always_present_even_when_null(sim):
    data = {item["id"]: item for item in get(sim, INDEX).json()["data"]}

    for item in data.values():
        assert {"localMaxVolume", "localMaxChapter", "volumesOwned"} <= set(item)
    assert data[uuid_for(2)]["localMaxVolume"] is None
    assert data[uuid_for(4)] | {"externalIds": None} == {
        "id": uuid_for(4),
        "externalIds": None,
        "localMaxVolume": 3,
        "localMaxChapter": None,
        "volumesOwned": None,
    }


def test_chapters_are_floats_so_whole_chapters_print_as_12_0(sim):
    response = get(sim, INDEX)

    assert '"localMaxChapter": 12.0' in response.text
    assert '"localMaxChapter": 137.5' in response.text
    assert '"localMaxVolume": 12,' in response.text


def test_external_url_is_omitted_when_empty(sim):
    item = next(entry for entry in get(sim, INDEX).json()["data"] if entry["id"] == uuid_for(3))
    refs = {ref["source"]: ref for ref in item["externalIds"]}

    assert refs["plugin:mangabaka"]["externalUrl"] == "https://mangabaka.dev/12345"
    assert "externalUrl" not in refs["api:anilist"]
    assert "externalUrl" not in refs["api:myanimelist"]
    assert "externalUrl" not in refs["mangaupdates"]


def _external_id_orders(server: SimulatorServer, requests_made: int) -> list[tuple[str, ...]]:
    orders = []
    for _ in range(requests_made):
        item = next(
            entry for entry in get(server, INDEX).json()["data"] if entry["id"] == uuid_for(3)
        )
        orders.append(tuple(ref["source"] for ref in item["externalIds"]))
    return orders


def test_external_ids_order_is_shuffled_per_request(sim):
    orders = _external_id_orders(sim, 6)

    assert len(set(orders)) > 1
    assert all(sorted(order) == sorted(orders[0]) for order in orders)


def test_external_ids_shuffle_is_reproducible_with_a_seed():
    def orders_with_seed(seed: int) -> list[tuple[str, ...]]:
        with SimulatorServer(LIBRARY, api_key=API_KEY, shuffle_seed=seed) as server:
            return _external_id_orders(server, 4)

    assert orders_with_seed(11) == orders_with_seed(11)


# ---------------------------------------------------------------------- auth errors


@pytest.mark.parametrize(
    ("key", "headers", "status", "body"),
    [
        (
            None,
            None,
            401,
            {"error": "Unauthorized", "message": "Missing or invalid authentication credentials"},
        ),
        ("nope", None, 401, {"error": "Unauthorized", "message": "Invalid API key"}),
        (EXPIRED_KEY, None, 401, {"error": "Unauthorized", "message": "API key has expired"}),
        (
            NO_READ_KEY,
            None,
            403,
            {"error": "Forbidden", "message": "Missing required permission: SeriesRead"},
        ),
        (
            None,
            {"Authorization": f"Bearer {API_KEY}"},
            401,
            {"error": "Unauthorized", "message": "Invalid JWT token: InvalidToken"},
        ),
        (
            API_KEY,
            {"Authorization": f"Bearer {API_KEY}"},
            401,
            {"error": "Unauthorized", "message": "Invalid JWT token: InvalidToken"},
        ),
    ],
    ids=["missing", "wrong", "expired", "no-permission", "bearer-only", "bearer-wins"],
)
def test_auth_failures_answer_codex_error_bodies(sim, key, headers, status, body):
    response = get(sim, INDEX, key=key, headers=headers)

    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == body
    assert_valid(response.json(), "ErrorResponse")


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=0",
        "page=-1",
        "page=",
        "page=1.5",
        "pageSize=0",
        "pageSize=-5",
        "pageSize=abc",
        "page=1&page=2",
        "page=99999999999999999999999",
    ],
)
def test_malformed_query_is_400_plain_text(sim, query):
    response = requests.get(
        f"{sim.base_url}{INDEX}?{query}", headers={"X-API-Key": API_KEY}, timeout=10
    )

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text


def test_unknown_route_is_404_json(sim):
    response = get(sim, "/api/v1/series/nope/whatever")

    assert response.status_code == 404
    assert_valid(response.json(), "ErrorResponse")


def test_wrong_method_on_a_known_route_is_405(sim):
    response = requests.post(f"{sim.base_url}{INFO}", timeout=10)

    assert response.status_code == 405


# -------------------------------------------------------------------- rate limiting


def test_rate_limit_answers_429_with_retry_after_and_codex_body():
    with SimulatorServer(LIBRARY, api_key=API_KEY, rate_limit=1, burst=2) as server:
        statuses = [get(server, INDEX).status_code for _ in range(2)]
        limited = get(server, INDEX)
        other_client = get(server, INDEX, headers={"X-Forwarded-For": "203.0.113.9"})

    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    body = limited.json()
    assert body["error"] == "rate_limit_exceeded"
    assert body["retry_after"] == 1
    assert "retry after 1 seconds" in body["message"]
    assert_valid(body, "ErrorResponse")
    assert other_client.status_code == 200


def test_token_bucket_refills_at_the_configured_rate():
    limiter = TokenBucketLimiter(rate=10, burst=2)

    assert [limiter.take("ip", now=0.0)[0] for _ in range(3)] == [True, True, False]
    assert limiter.take("ip", now=0.05) == (False, 0, 1)
    assert limiter.take("ip", now=0.2)[0] is True


def test_client_honours_retry_after_from_the_simulator(monkeypatch):
    slept: list[float] = []

    def sleep_briefly(seconds: float) -> None:
        # Record the requested wait but only sleep long enough for a token to refill.
        slept.append(seconds)
        time.sleep(0.1)

    monkeypatch.setattr(
        urllib3.util.retry, "time", SimpleNamespace(sleep=sleep_briefly, time=time.time)
    )
    with SimulatorServer(LIBRARY, api_key=API_KEY, rate_limit=20, burst=1) as server:
        client = client_for(server)
        client.get_app_info()
        page = client.get_series_external_index(1)
        stats = server.stats

    assert len(page.items) == 4
    assert slept == [1.0]
    assert stats["statuses"] == {"200": 2, "429": 1}


def test_rate_limited_forever_is_codex_rate_limited(instant_retries):
    with SimulatorServer(LIBRARY, api_key=API_KEY, rate_limit=0.01, burst=1) as server:
        client = client_for(server)
        client.get_app_info()
        with pytest.raises(CodexRateLimited):
            client.get_series_external_index(1)

    assert len(instant_retries) == client.retries


# ------------------------------------------------------------------- end to end


def test_full_index_of_1234_series_takes_three_pages_and_one_info_call(big_sim):
    client = client_for(big_sim, page_size=500)

    info = client.get_app_info()
    series = client.fetch_full_index()

    assert info.supports_external_index
    assert len(series) == 1234
    assert len({entry.id for entry in series}) == 1234
    assert big_sim.stats["total"] == 4
    assert big_sim.stats["routes"] == {INFO: 1, INDEX: 3}
    assert big_sim.stats["index_pages"] == [1, 2, 3]


def test_client_sees_codex_auth_failures(sim):
    with pytest.raises(CodexUnauthorized, match="API key has expired"):
        client_for(sim, api_key=EXPIRED_KEY).fetch_full_index()
    with pytest.raises(CodexUnauthorized, match="Invalid API key"):
        client_for(sim, api_key="nope").fetch_full_index()
    with pytest.raises(CodexForbidden):
        client_for(sim, api_key=NO_READ_KEY).fetch_full_index()


def test_client_parses_simulator_items_faithfully(sim):
    series = {entry.id: entry for entry in client_for(sim).fetch_full_index()}

    banana = series[uuid_for(3)]
    assert banana.local_max_chapter == 12.0
    assert banana.local_max_volume == 12
    assert {ref.source for ref in banana.external_ids} == {
        "plugin:mangabaka",
        "api:anilist",
        "api:myanimelist",
        "mangaupdates",
        "manual",
    }
    assert series[uuid_for(1)].local_max_chapter == 137.5
    assert series[uuid_for(2)].external_ids == ()


# ---------------------------------------------------------------------- fault modes


def test_down_answers_503_on_every_codex_route(sim, instant_retries):
    sim.set_faults("down")

    assert get(sim, INFO).status_code == 503
    assert get(sim, INDEX).status_code == 503
    with pytest.raises(CodexUnexpectedStatus) as caught:
        client_for(sim).get_app_info()
    assert caught.value.status_code == 503


def test_down_can_drop_the_connection_instead(sim):
    sim.set_faults({"mode": "down", "close_connection": True})

    with pytest.raises(CodexUnreachable, match="closed without a response"):
        client_for(sim).get_app_info()
    # A dropped answer is a read error, which the shared policy does not retry.
    assert sim.stats["statuses"] == {"closed": 1}


def test_nothing_listening_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CodexClient(f"http://127.0.0.1:{port}", API_KEY, retries=0)

    with pytest.raises(CodexUnreachable, match="connection refused"):
        client.get_app_info()


def test_error_5xx_recovers_after_the_configured_count(big_sim, instant_retries):
    big_sim.set_faults({"mode": "error_5xx", "count": 2})

    series = client_for(big_sim).fetch_full_index()

    assert len(series) == 1234
    assert big_sim.stats["statuses"] == {"502": 2, "200": 3}


def test_error_5xx_forever_is_an_unexpected_status(sim, instant_retries):
    sim.set_faults({"mode": "error_5xx", "status": 504})

    with pytest.raises(CodexUnexpectedStatus) as caught:
        client_for(sim).fetch_full_index()

    assert caught.value.status_code == 504
    assert sim.stats["statuses"] == {"504": 4}


def test_slow_codex_times_out_as_unreachable(sim):
    sim.set_faults({"mode": "slow", "delay_seconds": 2})

    with pytest.raises(CodexUnreachable, match=r"within 0\.3s"):
        client_for(sim, timeout_seconds=0.3).get_app_info()


def test_slow_codex_within_the_timeout_still_answers(sim):
    sim.set_faults({"mode": "slow", "delay_seconds": 0.2})

    assert client_for(sim, timeout_seconds=5).get_app_info().version == "1.40.0"


def test_truncated_index_stops_at_the_empty_page(big_sim):
    big_sim.set_faults({"mode": "truncated", "page": 2})

    body = get(big_sim, INDEX, page=2, pageSize=500).json()
    assert (body["data"], body["total"]) == ([], 1234)
    big_sim.reset_stats()
    with pytest.raises(CodexIncompleteIndex, match="page 2 came back empty after 500 of 1234"):
        client_for(big_sim).fetch_full_index()
    assert big_sim.stats["index_pages"] == [1, 2]


def test_shrinking_total_is_an_incomplete_index(big_sim):
    big_sim.set_faults({"mode": "shrinking_total", "page": 2, "shrink_by": 3})

    assert get(big_sim, INDEX, page=2, pageSize=500).json()["total"] == 1231
    with pytest.raises(CodexIncompleteIndex, match="changed from 1234 to 1231"):
        client_for(big_sim).fetch_full_index()


def test_garbage_is_a_bad_payload(sim):
    sim.set_faults("garbage")

    response = get(sim, INDEX)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    with pytest.raises(CodexBadPayload):
        client_for(sim).fetch_full_index()


def test_fail_on_page_answers_500_on_that_page_only(big_sim):
    big_sim.set_faults({"mode": "fail_on_page", "page": 2})

    assert get(big_sim, INDEX, page=1).status_code == 200
    failed = get(big_sim, INDEX, page=2)
    assert failed.status_code == 500
    assert_valid(failed.json(), "ErrorResponse")
    big_sim.reset_stats()
    with pytest.raises(CodexUnexpectedStatus) as caught:
        client_for(big_sim).fetch_full_index()
    assert caught.value.status_code == 500
    assert big_sim.stats["index_pages"] == [1, 2]


def test_legacy_codex_reports_1_31_and_has_no_external_index(sim):
    sim.set_faults("legacy")
    client = client_for(sim)

    info = client.get_app_info()
    response = get(sim, INDEX)

    assert info.version == "1.31.0"
    assert not info.supports_external_index
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    with pytest.raises(CodexUnsupported, match=r"1\.32\.0"):
        client.fetch_full_index()


def test_faults_can_be_switched_over_http(sim):
    control = f"{sim.base_url}/__sim__/faults"

    switched = requests.post(control, json={"mode": "down"}, timeout=10)
    assert switched.json()["mode"] == "down"
    assert get(sim, INFO).status_code == 503
    assert requests.get(control, timeout=10).json()["mode"] == "down"

    requests.post(control, json={"mode": "none"}, timeout=10)
    assert get(sim, INFO).status_code == 200

    assert requests.post(control, json={"mode": "haunted"}, timeout=10).status_code == 400
    assert requests.post(control, json={"mode": "slow", "bogus": 1}, timeout=10).status_code == 400


def test_faults_can_be_set_at_construction():
    with SimulatorServer(LIBRARY, api_key=API_KEY, faults={"mode": "legacy"}) as server:
        assert get(server, INFO).json()["version"] == "1.31.0"


def test_stats_count_requests_per_route_over_http(sim):
    get(sim, INFO)
    get(sim, INDEX)
    get(sim, INDEX, key="nope")
    stats_url = f"{sim.base_url}/__sim__/stats"

    stats = requests.get(stats_url, timeout=10).json()
    assert stats["total"] == 3
    assert stats["routes"] == {INFO: 1, INDEX: 2}
    assert stats["statuses"] == {"200": 2, "401": 1}
    assert stats["index_pages"] == [1]

    assert requests.delete(stats_url, timeout=10).status_code == 204
    assert requests.get(stats_url, timeout=10).json()["total"] == 0


def test_library_can_be_replaced_over_http(sim):
    replaced = requests.put(
        f"{sim.base_url}/__sim__/library", json=[{"id": uuid_for(9), "title": "Z"}], timeout=10
    )

    assert replaced.json() == {"series": 1}
    assert [item["id"] for item in get(sim, INDEX).json()["data"]] == [uuid_for(9)]


# ---------------------------------------------------------------- library helpers


def test_library_validation_names_the_bad_entry():
    with pytest.raises(ValueError, match="library entry 1"):
        normalize_library([{"id": "a"}, {"title": "no id"}])
    with pytest.raises(ValueError, match="repeats id"):
        normalize_library([{"id": "a"}, {"id": "a"}])
    with pytest.raises(ValueError, match="localMaxChapter"):
        normalize_library([{"id": "a", "localMaxChapter": "12"}])


def test_faults_reject_unknown_modes():
    with pytest.raises(ValueError, match="unknown fault mode"):
        SimulatorFaults(mode="haunted")
    with pytest.raises(ValueError):
        CodexSimulator([], faults="haunted")
    with pytest.raises(ValueError, match="5xx"):
        SimulatorFaults(mode="error_5xx", status=200)
    with pytest.raises(ValueError, match="page"):
        SimulatorFaults.from_dict({"mode": "truncated", "page": "2"})


def test_generated_library_is_deterministic_and_realistic():
    library = generate_library(500, seed=5)

    assert library == generate_library(500, seed=5)
    assert library != generate_library(500, seed=6)
    normalize_library(library)
    sources = {ref["source"] for item in library for ref in item["externalIds"]}
    assert {
        "plugin:mangabaka",
        "api:mangabaka",
        "plugin:metadata-mangabaka",
        "api:anilist",
        "AniList",
        "api:myanimelist",
        "api:mangaupdates",
        "mangaupdates",
        "manual",
    } <= sources
    assert any(not item["externalIds"] for item in library)
    assert any(item["localMaxVolume"] is None for item in library)
    assert any(item["localMaxChapter"] is None for item in library)
    assert any((item["localMaxChapter"] or 0) % 1 == 0.5 for item in library)
    assert all(
        item["volumesOwned"] is None or item["volumesOwned"] <= item["localMaxVolume"]
        for item in library
    )


def test_synthetic_catalog_ids_follow_the_documented_scheme():
    assert synthetic_catalog_ids(0) == [
        ("mangabaka", "100000"),
        ("anilist", "200000"),
        ("mal", "300000"),
        ("mangaupdates", "30000000000"),
    ]
    assert synthetic_catalog_ids(9) == []
    assert synthetic_external_ids(9) == []
    assert {"source": "api:mangaupdates", "externalId": to_base36(30_000_000_010)} in (
        synthetic_external_ids(10)
    )
    assert {"source": "mangaupdates", "externalId": "30000000005"} in synthetic_external_ids(5)
    assert to_base36(38332508338) == "hly6oqa"


# ------------------------------------------------------------- the fast (pre-rendered) Codex


def sorted_ids(body: dict) -> list[dict]:
    """A page's items with each `externalIds` in one order (the simulator shuffles it)."""
    return [
        {**item, "externalIds": sorted(item["externalIds"], key=json.dumps)}
        for item in body["data"]
    ]


def test_a_prerendered_codex_serves_the_same_pages_as_the_ordinary_one():
    library = generate_library(1234, seed=3)
    with (
        SimulatorServer(library, api_key=API_KEY) as ordinary,
        SimulatorServer(library, api_key=API_KEY, prerender_page_size=500) as fast,
    ):
        for page in (1, 2, 3, 4):
            expected = get(ordinary, INDEX, page=page, pageSize=500)
            served = get(fast, INDEX, page=page, pageSize=500)

            assert served.status_code == expected.status_code == 200
            assert served.headers["Content-Type"] == "application/json"
            assert sorted_ids(served.json()) == sorted_ids(expected.json())
            assert {**served.json(), "data": []} == {**expected.json(), "data": []}
        assert_valid(
            get(fast, INDEX, page=1, pageSize=500).json(),
            "PaginatedResponse_SeriesExternalIndexDto",
        )
        # Another page size is rendered per request, as ever.
        other = get(fast, INDEX, page=2, pageSize=100).json()
        assert sorted_ids(other) == sorted_ids(get(ordinary, INDEX, page=2, pageSize=100).json())
        assert fast.stats["index_pages"] == [1, 2, 3, 4, 1, 2]


def test_a_prerendered_codex_still_checks_the_key_and_its_faults():
    library = generate_library(30, seed=1)
    with SimulatorServer(library, api_key=API_KEY, prerender_page_size=10) as fast:
        assert get(fast, INDEX, key="wrong", page=1, pageSize=10).status_code == 401

        fast.set_faults({"mode": "truncated", "page": 2})
        assert get(fast, INDEX, page=1, pageSize=10).json()["data"]
        assert get(fast, INDEX, page=2, pageSize=10).json()["data"] == []

        fast.set_faults({"mode": "fail_on_page", "page": 3})
        assert get(fast, INDEX, page=3, pageSize=10).status_code == 500

        fast.set_faults({"mode": "shrinking_total", "page": 2})
        assert get(fast, INDEX, page=2, pageSize=10).json()["total"] == 29


def test_the_whole_index_arrives_from_a_prerendered_codex():
    library = generate_library(1234, seed=3)
    with SimulatorServer(library, api_key=API_KEY, prerender_page_size=500) as fast:
        series = client_for(fast, page_size=500).fetch_full_index()

    assert sorted(entry.id for entry in series) == sorted(entry["id"] for entry in library)


def test_prerender_page_size_must_be_a_page_size_codex_serves():
    with pytest.raises(ValueError, match="between 1 and 500"):
        CodexSimulator([], prerender_page_size=501)


def test_management_command_parses_its_documented_options():
    from devtools.management.commands.codex_simulator import Command

    parser = Command().create_parser("manage.py", "codex_simulator")
    options = parser.parse_args(
        [
            "--library",
            "lib.json",
            "--host",
            "0.0.0.0",
            "--port",
            "9000",
            "--api-key",
            "k",
            "--rate-limit",
            "10",
            "--burst",
            "50",
            "--fault",
            "truncated",
            "--prerender",
        ]
    )

    assert (options.library, options.port, options.rate_limit, options.burst) == (
        "lib.json",
        9000,
        10.0,
        50,
    )
    assert options.fault == "truncated"
    assert options.prerender == 500
