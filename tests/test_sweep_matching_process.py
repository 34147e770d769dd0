"""The sweep's matching process: it ends with the sweep, and its failures fail the sweep.

Pages are parsed and matched in a forked process (`codex_sync.matching_process`).
Whatever becomes of that process, the sweep applies nothing unless it
answered for the whole index, says what happened, and leaves no process
behind. A function patched here is patched in the process too: it is forked.
"""

from __future__ import annotations

import multiprocessing
import os

import pytest

from codex_sync.matching import IndexMatcher
from codex_sync.models import CodexLink, SyncOutcome, SyncRun
from codex_sync.sweep import run_sweep
from tests.helpers import codex_item


@pytest.fixture
def two_linked(db, make_series, codex, tsundoku_config):
    """Two catalog series matched by a three-page index; a first sweep stored their links."""
    tsundoku_config(codex={"page_size": 1})
    for k in range(2):
        make_series(f"Series {k}", mangabaka=str(100 + k))
    codex.items = [codex_item(k, ("plugin:mangabaka", str(100 + k)), volume=k) for k in range(2)]
    codex.items.append(codex_item(2, ("plugin:anilist", "999")))
    assert run_sweep().succeeded
    for item in codex.items:
        item["localMaxVolume"] = 99  # what a sweep that wrongly applied would store
    return codex


def link_snapshot() -> list[dict]:
    return list(CodexLink.objects.order_by("series_id").values())


def matching_processes() -> list:
    return [child for child in multiprocessing.active_children() if child.name == "codex-matching"]


def test_the_matching_process_ends_with_a_successful_sweep(two_linked):
    result = run_sweep()

    assert result.succeeded
    assert CodexLink.objects.filter(local_max_volume=99).count() == 2
    assert not matching_processes()


def test_a_matching_process_that_dies_applies_nothing_and_the_run_says_why(two_linked, monkeypatch):
    before = link_snapshot()

    def die(self, items):
        os._exit(9)  # as the kernel's OOM killer would end it: no answer, no cleanup

    monkeypatch.setattr(IndexMatcher, "add", die)

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "matching process stopped unexpectedly" in result.error
    assert "nothing was applied" in result.error
    assert SyncRun.objects.get(pk=result.run_id).error == result.error
    assert link_snapshot() == before
    assert not matching_processes()


def test_a_bug_in_the_matching_process_fails_the_sweep_with_its_message(two_linked, monkeypatch):
    before = link_snapshot()

    def fail(self, items):
        raise ValueError("matching went wrong")

    monkeypatch.setattr(IndexMatcher, "add", fail)

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "ValueError: matching went wrong" in result.error
    assert link_snapshot() == before
    assert not matching_processes()


def test_a_page_the_matching_process_rejects_stops_the_download_and_applies_nothing(two_linked):
    before = link_snapshot()
    two_linked.overrides[2] = (200, {"Content-Type": "application/json"}, "not json")

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "page 2" in result.error and "not with valid JSON" in result.error
    assert link_snapshot() == before
    assert not matching_processes()
