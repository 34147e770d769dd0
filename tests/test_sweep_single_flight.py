"""At most one sweep at a time (SPEC §5.2 step 1), and a crashed one cannot hold the lock."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from codex_sync import sweep
from codex_sync.client import CodexClient
from codex_sync.lock import LOCK_TTL, claim_lock, release_lock, renew_lock, sweep_running
from codex_sync.models import CodexLink, ConnectionStatus, SyncOutcome, SyncRun, SyncTrigger
from codex_sync.sweep import SweepResult, run_sweep
from codex_sync.tasks import CodexDisabled, request_sweep, scheduled_sweep, sweep_task
from devtools.codex_simulator import SimulatorServer
from tests.helpers import CODEX_KEY, codex_item


@pytest.fixture
def queue():
    with mock.patch("codex_sync.tasks.async_task") as async_task:
        yield async_task


def test_a_second_claim_while_the_lock_is_held_gets_nothing(db):
    first = claim_lock()

    assert first is not None
    assert claim_lock() is None
    assert sweep_running()


def test_a_released_lock_can_be_claimed_again(db):
    release_lock(claim_lock())

    assert not sweep_running()
    assert claim_lock() is not None


def test_an_expired_lock_left_by_a_crashed_sweep_can_be_claimed(db):
    crashed = claim_lock()
    ConnectionStatus.objects.update(lock_expires_at=timezone.now() - timedelta(seconds=1))

    assert not sweep_running()
    taken_over = claim_lock()

    assert taken_over is not None
    assert taken_over != crashed
    # The crashed sweep, should it wake up, can neither keep nor free the new lock.
    assert renew_lock(crashed) is False
    release_lock(crashed)
    assert ConnectionStatus.get().lock_token == taken_over


def test_renewing_extends_the_lock_and_records_progress(db):
    token = claim_lock(ttl=timedelta(seconds=1))

    assert renew_lock(token, progress_pages=2, progress_total_pages=5)

    status = ConnectionStatus.get()
    # A running sweep's lease: seconds, renewed by the heartbeat (not 15 minutes).
    assert status.lock_expires_at > timezone.now() + timedelta(seconds=30)
    assert status.lock_expires_at <= timezone.now() + LOCK_TTL
    assert (status.progress_pages, status.progress_total_pages) == (2, 5)


def test_a_sweep_triggered_while_another_runs_is_skipped_and_records_no_run(db, codex):
    held = claim_lock()

    result = run_sweep()

    assert (result.triggered, result.skipped) == (False, True)
    assert not SyncRun.objects.exists()
    assert len(codex.mocked.calls) == 0
    assert ConnectionStatus.get().lock_token == held


def test_a_finished_sweep_releases_the_lock(db, codex):
    assert run_sweep().succeeded

    assert not sweep_running()
    assert ConnectionStatus.get().lock_token == ""


def take_the_lock_over() -> None:
    """What a second sweep does once this one's lock has lapsed."""
    ConnectionStatus.objects.update(
        lock_token="the-sweep-that-took-over",
        lock_expires_at=timezone.now() + timedelta(minutes=15),
    )


def test_a_sweep_whose_lock_was_taken_over_while_fetching_applies_nothing(
    db, make_series, codex, tsundoku_config
):
    tsundoku_config(codex={"page_size": 1})
    make_series("One", mangabaka="1")
    codex.items = [codex_item(1, ("plugin:mangabaka", "1")), codex_item(2)]

    result = run_sweep(on_progress=lambda done, total: take_the_lock_over())

    assert result.outcome == SyncOutcome.ERROR
    assert "another sweep took over" in result.error
    assert not CodexLink.objects.exists()
    assert ConnectionStatus.get().lock_token == "the-sweep-that-took-over"
    assert not [thread for thread in threading.enumerate() if thread.name == "codex-index"]


def test_a_sweep_whose_lock_was_taken_over_before_persisting_applies_nothing(
    db, make_series, codex, monkeypatch
):
    make_series("One", mangabaka="1")
    codex.items = [codex_item(1, ("plugin:mangabaka", "1"))]
    real_auto_links_json = sweep.link_store.auto_links_json

    def stall_then_read():
        take_the_lock_over()
        return real_auto_links_json()

    monkeypatch.setattr(sweep.link_store, "auto_links_json", stall_then_read)

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "another sweep took over" in result.error
    assert not CodexLink.objects.exists()
    assert SyncRun.objects.get(pk=result.run_id).outcome == SyncOutcome.ERROR
    assert ConnectionStatus.get().lock_token == "the-sweep-that-took-over"


def test_requesting_a_sweep_twice_queues_only_one(db, queue):
    first = request_sweep()
    second = request_sweep()

    assert first == {"triggered": True, "skipped": False}
    assert second == {"triggered": False, "skipped": True}
    queue.assert_called_once()
    args, kwargs = queue.call_args
    token = ConnectionStatus.get().lock_token
    assert args == ("codex_sync.tasks.sweep_task", SyncTrigger.MANUAL, token)
    assert kwargs["task_name"] == "codex-sweep"
    assert kwargs["apply_anyway"] is False
    assert datetime.fromisoformat(kwargs["queued_at"]) <= timezone.now()


def test_a_queued_sweep_runs_under_the_lock_claimed_when_it_was_requested(db, codex, queue):
    request_sweep(SyncTrigger.CRON)
    _name, trigger, token = queue.call_args.args

    outcome = sweep_task(trigger, token)

    assert outcome["triggered"] is True
    assert outcome["outcome"] == SyncOutcome.SUCCESS
    assert SyncRun.objects.get().trigger == SyncTrigger.CRON
    assert not sweep_running()


def test_a_queued_sweep_whose_lock_lapsed_and_was_taken_is_skipped(db, codex, queue):
    request_sweep()
    _name, trigger, stale = queue.call_args.args
    ConnectionStatus.objects.update(lock_expires_at=timezone.now() - timedelta(seconds=1))
    claim_lock()

    outcome = sweep_task(trigger, stale)

    assert (outcome["triggered"], outcome["skipped"]) == (False, True)
    assert not SyncRun.objects.exists()


def test_a_failure_to_queue_releases_the_lock(db, queue):
    queue.side_effect = RuntimeError("broker down")

    with pytest.raises(RuntimeError):
        request_sweep()

    assert not sweep_running()


def test_requesting_a_sweep_with_the_integration_disabled_is_refused(db, queue, tsundoku_config):
    tsundoku_config(codex={"enabled": False})

    with pytest.raises(CodexDisabled):
        request_sweep()

    queue.assert_not_called()
    assert not sweep_running()


def test_the_schedule_does_nothing_while_the_integration_is_disabled(db, codex, tsundoku_config):
    tsundoku_config(codex={"enabled": False})

    assert scheduled_sweep() == {"triggered": False, "skipped": True}
    assert not SyncRun.objects.exists()


def test_the_schedule_runs_a_cron_sweep(db, codex):
    outcome = scheduled_sweep()

    assert outcome["outcome"] == SyncOutcome.SUCCESS
    assert SyncRun.objects.get().trigger == SyncTrigger.CRON


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_two_threads_triggering_at_once_run_exactly_one_sweep(tsundoku_config, monkeypatch):
    library = [{"id": "00000000-0000-4000-8000-000000000001", "title": "Only"}]
    # The second trigger fires while the first sweep waits on the slow Codex.
    # (Firing both at the same instant would test the test database instead:
    # in-memory shared-cache SQLite answers "table is locked" rather than wait.)
    first_in_flight = threading.Event()
    real_get_app_info = CodexClient.get_app_info

    def signalling_get_app_info(client: CodexClient):
        first_in_flight.set()
        return real_get_app_info(client)

    monkeypatch.setattr(CodexClient, "get_app_info", signalling_get_app_info)
    results: dict[str, SweepResult] = {}
    errors: list[Exception] = []

    def trigger(name: str, after: threading.Event | None) -> None:
        try:
            if after is not None:
                assert after.wait(timeout=10)
            results[name] = run_sweep()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    with SimulatorServer(library=library, api_key=CODEX_KEY, port=0) as sim:
        sim.set_faults({"mode": "slow", "delay_seconds": 0.5})
        tsundoku_config(codex={"base_url": sim.base_url, "api_key": CODEX_KEY})
        threads = [
            threading.Thread(target=trigger, args=("first", None)),
            threading.Thread(target=trigger, args=("second", first_in_flight)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert results["first"].triggered
    assert results["first"].outcome == SyncOutcome.SUCCESS
    assert (results["second"].triggered, results["second"].skipped) == (False, True)
    assert results["second"].run_id is None
    assert SyncRun.objects.count() == 1
    assert sim.stats["routes"] == {"/api/v1/info": 1, "/api/v1/series/external-index": 1}
    assert not sweep_running()
