"""The sweep end to end: `manage.py codex_sync` against the Codex simulator on a real socket.

The catalog and the simulator's library are built to cover every status a
linked series can have; the API then shows what the sweep stored. Each of the
simulator's misbehaviours must leave the stored links exactly as they were.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import urllib3.util.retry
from django.core.management import call_command
from django.core.management.base import CommandError

from codex_sync.client import CodexClient
from codex_sync.models import (
    AuthState,
    CodexLink,
    ConnectionStatus,
    LinkKind,
    SyncOutcome,
    SyncRun,
)
from codex_sync.sweep import run_sweep
from devtools.codex_simulator import SimulatorServer
from tests.helpers import CODEX_KEY, codex_uuid

pytestmark = pytest.mark.e2e


def library_entry(
    number: int,
    title: str,
    *external_ids: tuple[str, str],
    volume: int | None = None,
    chapter: float | None = None,
    owned: int | None = None,
) -> dict:
    return {
        "id": codex_uuid(number),
        "title": title,
        "externalIds": [
            {"source": source, "externalId": external_id} for source, external_id in external_ids
        ],
        "localMaxVolume": volume,
        "localMaxChapter": chapter,
        "volumesOwned": owned,
    }


@pytest.fixture
def catalog(make_series) -> dict[str, int]:
    """Series named after the status each should end with; values are series ids.

    highest_volume/highest_chapter are what coverage derives from releases;
    set directly here, as the releases themselves are not under test.
    """
    rows = {
        "complete": dict(mangabaka="101", highest_volume=10, highest_chapter=100),
        "behind on volumes": dict(anilist="102", highest_volume=12, highest_chapter=100),
        "behind on a fractional chapter": dict(mal="103", highest_chapter=137.5),
        "complete on a fractional chapter": dict(mangadex="abc-104", highest_chapter=20.5),
        "present": dict(kitsu="105", highest_volume=5),
        "complete with nothing tracked": dict(mangabaka="106"),
        "ignored": dict(mangaupdates="107", highest_volume=9, ignore_completion=True),
        "not on codex": dict(mangabaka="108", highest_volume=3),
    }
    return {title: make_series(title, **fields).pk for title, fields in rows.items()}


LIBRARY = [
    library_entry(1, "A", ("plugin:metadata-mangabaka", "101"), volume=10, chapter=100.0, owned=9),
    library_entry(2, "B", ("AniList", "102"), volume=10, chapter=120.0),
    library_entry(3, "C", ("api:myanimelist", "103"), volume=20, chapter=137.0),
    library_entry(4, "D", ("api:mangadex", "abc-104"), chapter=20.5),
    library_entry(5, "E", ("api:kitsu", "105")),
    library_entry(6, "F", ("plugin:mangabaka", "106"), volume=2, chapter=3.0),
    library_entry(7, "G", ("api:mangaupdates", "2z"), volume=1),  # base 36 for 107
    library_entry(8, "H", ("manual", "shelf-8"), volume=4),
]
EXPECTED_STATUS = {
    "complete": "complete",
    "behind on volumes": "behind",
    "behind on a fractional chapter": "behind",
    "complete on a fractional chapter": "complete",
    "present": "present",
    "complete with nothing tracked": "complete",
    "ignored": "ignored",
    "not on codex": None,
}


@pytest.fixture
def codex(tsundoku_config):
    """The simulator serving LIBRARY, configured as tsundoku's Codex (two series a page)."""
    with SimulatorServer(library=LIBRARY, api_key=CODEX_KEY, port=0) as sim:
        tsundoku_config(codex={"base_url": sim.base_url, "api_key": CODEX_KEY, "page_size": 2})
        yield sim


@pytest.fixture
def instant_backoff(monkeypatch):
    """urllib3's retry sleeps become instant (the retries themselves still happen)."""
    monkeypatch.setattr(
        urllib3.util.retry, "time", SimpleNamespace(sleep=lambda seconds: None, time=time.time)
    )


def link_snapshot() -> list[dict]:
    return list(CodexLink.objects.order_by("series_id").values())


def statuses_from_the_api(admin_api) -> dict[str, str | None]:
    response = admin_api.get("/api/v1/series", {"pageSize": 200})
    assert response.status_code == 200
    return {
        item["canonicalTitle"]: (item["codex"] or {}).get("status")
        for item in response.json()["items"]
    }


def test_the_sweep_command_links_every_status_the_api_then_shows(catalog, codex, admin_api, capsys):
    call_command("codex_sync")

    assert "Codex sweep success" in capsys.readouterr().out
    assert statuses_from_the_api(admin_api) == EXPECTED_STATUS
    run = SyncRun.objects.get()
    assert (run.outcome, run.fetched, run.linked, run.unmatched, run.pages) == (
        SyncOutcome.SUCCESS,
        8,
        7,
        1,
        4,
    )
    link = CodexLink.objects.get(series_id=catalog["complete"])
    assert (link.matched_provider, link.local_max_volume, link.volumes_owned) == (
        "mangabaka",
        10,
        9,
    )
    assert CodexLink.objects.get(series_id=catalog["ignored"]).matched_external_id == "2z"


def test_a_sweep_asks_for_each_page_once_plus_info(catalog, codex):
    result = run_sweep()

    assert result.succeeded
    assert result.pages == 4
    stats = codex.stats
    assert stats["total"] == result.pages + 1
    assert stats["routes"] == {"/api/v1/info": 1, "/api/v1/series/external-index": 4}
    assert stats["index_pages"] == [1, 2, 3, 4]
    assert stats["statuses"] == {"200": 5}


def test_a_resweep_after_codex_catches_up_turns_behind_into_complete(catalog, codex, admin_api):
    call_command("codex_sync")
    caught_up = [dict(entry) for entry in LIBRARY]
    caught_up[1]["localMaxVolume"] = 12
    codex.set_library(caught_up)

    call_command("codex_sync")

    assert statuses_from_the_api(admin_api)["behind on volumes"] == "complete"
    assert SyncRun.objects.first().new_links == 0


FAULTS = [
    pytest.param({"mode": "down"}, SyncOutcome.PREFLIGHT_FAILED, id="down"),
    pytest.param(
        {"mode": "down", "close_connection": True},
        SyncOutcome.PREFLIGHT_FAILED,
        id="down-hanging-up",
    ),
    pytest.param({"mode": "error_5xx", "count": None}, SyncOutcome.ERROR, id="error_5xx"),
    pytest.param({"mode": "slow", "delay_seconds": 1.5}, SyncOutcome.PREFLIGHT_FAILED, id="slow"),
    pytest.param({"mode": "truncated", "page": 2}, SyncOutcome.ERROR, id="truncated"),
    pytest.param({"mode": "shrinking_total", "page": 3}, SyncOutcome.ERROR, id="shrinking_total"),
    pytest.param({"mode": "garbage"}, SyncOutcome.ERROR, id="garbage"),
    pytest.param({"mode": "fail_on_page", "page": 3}, SyncOutcome.ERROR, id="fail_on_page"),
    pytest.param({"mode": "legacy"}, SyncOutcome.ERROR, id="legacy"),
]


@pytest.mark.parametrize(("faults", "outcome"), FAULTS)
def test_each_misbehaviour_leaves_the_stored_links_unchanged(
    faults, outcome, catalog, codex, tsundoku_config, instant_backoff
):
    call_command("codex_sync")
    before = link_snapshot()
    assert len(before) == 7
    # A sweep that wrongly applied anything would now store different counts.
    codex.set_library([{**entry, "localMaxVolume": 99} for entry in LIBRARY])
    codex.set_faults(faults)
    tsundoku_config(codex={"timeout_seconds": 0.3})

    with pytest.raises(CommandError) as failed:
        call_command("codex_sync")

    assert outcome in str(failed.value)
    assert link_snapshot() == before
    run = SyncRun.objects.first()
    assert run.outcome == outcome
    assert run.error
    status = ConnectionStatus.get()
    assert status.last_error == run.error
    assert status.linked_count == 7
    assert status.reachable is (outcome != SyncOutcome.PREFLIGHT_FAILED)


def test_a_rejected_key_leaves_the_stored_links_unchanged(catalog, codex, tsundoku_config):
    call_command("codex_sync")
    before = link_snapshot()
    tsundoku_config(codex={"api_key": "codex-key-revoked"})

    with pytest.raises(CommandError):
        call_command("codex_sync")

    assert link_snapshot() == before
    assert SyncRun.objects.first().outcome == SyncOutcome.AUTH_FAILED
    assert ConnectionStatus.get().auth_state == AuthState.UNAUTHORIZED


def test_a_rate_limited_codex_still_completes(catalog, tsundoku_config):
    # Burst 2 at 10/s: most pages are refused once with 429 and Retry-After: 1.
    with SimulatorServer(library=LIBRARY, api_key=CODEX_KEY, port=0, rate_limit=10, burst=2) as sim:
        tsundoku_config(codex={"base_url": sim.base_url, "api_key": CODEX_KEY})
        # A small cap on the Retry-After sleep keeps the test quick; 0.25 s at
        # 10 tokens/s always refills the token the retry needs.
        client = CodexClient(
            sim.base_url, CODEX_KEY, page_size=2, timeout_seconds=5, retry_after_cap=0.25
        )

        result = run_sweep(client=client)

    assert result.outcome == SyncOutcome.SUCCESS
    assert result.linked == 7
    stats = sim.stats
    assert stats["statuses"].get("429", 0) >= 1
    assert stats["statuses"]["200"] == result.pages + 1
    assert stats["index_pages"] == [1, 2, 3, 4]


def test_a_hand_link_made_between_sweeps_is_kept_over_a_real_socket(catalog, codex):
    call_command("codex_sync")
    CodexLink.objects.filter(series_id=catalog["present"]).update(
        link_kind=LinkKind.MANUAL, codex_series_uuid=codex_uuid(8)
    )

    call_command("codex_sync")

    link = CodexLink.objects.get(series_id=catalog["present"])
    assert (link.link_kind, str(link.codex_series_uuid)) == (LinkKind.MANUAL, codex_uuid(8))
    assert link.local_max_volume == 4
