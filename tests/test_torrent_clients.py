"""Torrent clients at the HTTP boundary (`responses`): the requests sent, the errors mapped."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs

import pytest
import responses

from torrents.clients import (
    ClientAuthFailed,
    ClientRejected,
    ClientSettings,
    ClientUnreachable,
    DuplicateTorrent,
    QBittorrent,
    Transmission,
    info_hash_of,
)

HASH = "c9c73e8f6f56af8b4125a57ac33dead6f264bdea"
MAGNET = f"magnet:?xt=urn:btih:{HASH.upper()}&dn=One+Piece"
PASSWORD = "client-password-d41c"
QB = "http://qb.test:8080/api/v2"
TR_URL = re.compile(r"http://(?:[^@/]*@)?tr\.test:9091/transmission/rpc")


def qb_settings(**changes) -> ClientSettings:
    values = {
        "client": "qbittorrent",
        "url": "http://qb.test:8080",
        "username": "admin",
        "password": PASSWORD,
        "category": "manga",
        "save_path": "/srv/manga",
        "timeout_seconds": 5.0,
    }
    return ClientSettings(**{**values, **changes})


def form(call) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else body or "")


@pytest.fixture
def mocked() -> responses.RequestsMock:
    with responses.RequestsMock() as mock:
        yield mock


def test_magnet_info_hashes_are_read_in_lower_case():
    assert info_hash_of(MAGNET) == HASH
    assert info_hash_of("magnet:?dn=nothing") == ""
    assert info_hash_of("") == ""


def test_qbittorrent_add_sends_the_magnet_category_and_save_path(mocked):
    mocked.post(f"{QB}/torrents/info", json=[])
    mocked.get(f"{QB}/app/webapiVersion", body="2.8.19")
    mocked.get(f"{QB}/torrents/categories", json={})
    mocked.post(f"{QB}/torrents/createCategory", body="")
    mocked.post(f"{QB}/torrents/add", body="Ok.")

    added = QBittorrent(qb_settings()).add(MAGNET, HASH)

    assert added.info_hash == HASH
    calls = {call.request.url.split("/api/v2/")[1]: call for call in mocked.calls}
    assert form(calls["torrents/info"]) == {"hashes": [HASH]}
    assert form(calls["torrents/createCategory"]) == {"category": ["manga"]}
    assert form(calls["torrents/add"]) == {
        "urls": [MAGNET],
        "category": ["manga"],
        "savepath": ["/srv/manga"],
    }
    assert all(call.request.url.startswith("http://qb.test:8080/") for call in mocked.calls)


def test_qbittorrent_keeps_an_existing_category(mocked):
    mocked.post(f"{QB}/torrents/info", json=[])
    mocked.get(f"{QB}/app/webapiVersion", body="2.8.19")
    mocked.get(f"{QB}/torrents/categories", json={"manga": {"name": "manga", "savePath": ""}})
    mocked.post(f"{QB}/torrents/add", body="Ok.")

    QBittorrent(qb_settings()).add(MAGNET, HASH)

    assert not any("createCategory" in call.request.url for call in mocked.calls)


def test_qbittorrent_logs_in_when_asked_and_a_refused_login_names_the_keys(mocked):
    mocked.post(f"{QB}/torrents/info", status=403)
    mocked.post(f"{QB}/auth/login", body="Fails.")

    with pytest.raises(ClientAuthFailed) as raised:
        QBittorrent(qb_settings()).add(MAGNET, HASH)

    login = next(call for call in mocked.calls if call.request.url.endswith("/auth/login"))
    assert form(login) == {"username": ["admin"], "password": [PASSWORD]}
    assert "torrents.username, torrents.password" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_qbittorrent_already_listing_the_hash_is_a_duplicate_and_adds_nothing(mocked):
    mocked.post(f"{QB}/torrents/info", json=[{"hash": HASH, "name": "One Piece"}])

    with pytest.raises(DuplicateTorrent):
        QBittorrent(qb_settings(category="")).add(MAGNET, HASH)

    assert [call.request.url for call in mocked.calls] == [f"{QB}/torrents/info"]


def test_qbittorrent_answering_fails_is_a_rejection_unless_it_now_lists_the_hash(mocked):
    mocked.post(f"{QB}/torrents/info", json=[])
    mocked.get(f"{QB}/app/webapiVersion", body="2.8.19")
    mocked.post(f"{QB}/torrents/add", body="Fails.")

    with pytest.raises(ClientRejected, match="Fails"):
        QBittorrent(qb_settings(category="", save_path="")).add(MAGNET, HASH)

    add = next(call for call in mocked.calls if call.request.url.endswith("/torrents/add"))
    assert form(add) == {"urls": [MAGNET]}


def test_qbittorrent_unreachable_names_the_url_not_the_password(mocked, tsundoku_config):
    tsundoku_config(torrents={"password": PASSWORD})

    with pytest.raises(ClientUnreachable) as raised:
        QBittorrent(qb_settings(url=f"http://admin:{PASSWORD}@qb.test:8080")).version()

    assert "qBittorrent did not answer at" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def transmission_daemon(mocked, *, rpc_version: int = 16, listed: list | None = None) -> list:
    """A Transmission RPC endpoint: 409 + session id first, as the real daemon answers."""
    seen: list[dict] = []

    def answer(request):
        if request.headers.get("X-Transmission-Session-Id") != "session-1":
            return 409, {"X-Transmission-Session-Id": "session-1"}, ""
        body = json.loads(request.body)
        seen.append(body)
        arguments = {
            "session-get": {"rpc-version": rpc_version, "version": "3.00 (bb6b5a062e)"},
            "torrent-get": {"torrents": listed or []},
            "torrent-add": {"torrent-added": {"hashString": HASH, "id": 1, "name": "x"}},
        }[body["method"]]
        return 200, {}, json.dumps({"result": "success", "arguments": arguments})

    mocked.add_callback(responses.POST, TR_URL, callback=answer)
    return seen


def tr_settings(**changes) -> ClientSettings:
    values = {
        "client": "transmission",
        "url": "http://tr.test:9091/transmission/rpc",
        "username": "tsundoku",
    }
    return qb_settings(**{**values, **changes})


def test_transmission_add_sends_the_magnet_and_download_dir_with_basic_auth(mocked):
    seen = transmission_daemon(mocked)

    added = Transmission(tr_settings()).add(MAGNET, HASH)

    assert added.info_hash == HASH
    add = next(body for body in seen if body["method"] == "torrent-add")
    # RPC 16 (Transmission 3) has no labels, so none are sent.
    assert add["arguments"] == {"filename": MAGNET, "download-dir": "/srv/manga"}
    expected = "Basic " + base64.b64encode(f"tsundoku:{PASSWORD}".encode()).decode()
    assert all(call.request.headers["Authorization"] == expected for call in mocked.calls)


def test_transmission_4_gets_the_category_as_a_label(mocked):
    seen = transmission_daemon(mocked, rpc_version=17)

    Transmission(tr_settings()).add(MAGNET, HASH)

    add = next(body for body in seen if body["method"] == "torrent-add")
    assert add["arguments"]["labels"] == ["manga"]


def test_transmission_already_listing_the_hash_is_a_duplicate(mocked):
    seen = transmission_daemon(mocked, listed=[{"hashString": HASH, "id": 1, "name": "x"}])

    with pytest.raises(DuplicateTorrent):
        Transmission(tr_settings()).add(MAGNET, HASH)

    assert "torrent-add" not in [body["method"] for body in seen]


def test_transmission_refusing_the_password_says_which_keys(mocked):
    mocked.add(responses.POST, TR_URL, status=401)

    with pytest.raises(ClientAuthFailed) as raised:
        Transmission(tr_settings()).version()

    assert "torrents.username, torrents.password" in str(raised.value)


def test_transmission_unreachable_never_shows_the_password_it_put_in_the_url(
    mocked, tsundoku_config
):
    tsundoku_config(torrents={"password": PASSWORD})

    with pytest.raises(ClientUnreachable) as raised:
        Transmission(tr_settings(url="http://tr-down.test:9091/transmission/rpc")).version()

    assert "Transmission did not answer at http://tr-down.test:9091" in str(raised.value)
    assert PASSWORD not in str(raised.value)
