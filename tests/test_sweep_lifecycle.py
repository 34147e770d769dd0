"""A sweep that dies mid-run (issue 11): a short heartbeat lease, its run closed, no re-run.

A killed worker stops renewing its lease, so the next trigger can run within a
minute; the run it left "running" is closed as crashed; and django-q's
re-delivery of its task does not start a second, unrequested sweep.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from codex_sync.lock import LOCK_TTL, LockHeartbeat, claim_lock, renew_lock, sweep_running
from codex_sync.models import ConnectionStatus, SyncOutcome, SyncRun, SyncTrigger
from codex_sync.overview import connection_overview
from codex_sync.sweep import CRASHED_MESSAGE, run_sweep
from codex_sync.tasks import request_sweep, sweep_task
from tests.helpers import codex_item


@pytest.fixture
def queue():
    with mock.patch("codex_sync.tasks.async_task") as async_task:
        yield async_task


def test_the_running_lease_is_about_a_minute_not_a_quarter_hour():
    assert timedelta(seconds=20) <= LOCK_TTL <= timedelta(minutes=1)


def test_a_queued_sweep_holds_a_longer_lease_until_the_worker_adopts_it(db, codex, queue):
    request_sweep()
    queued_expiry = ConnectionStatus.get().lock_expires_at
    assert queued_expiry > timezone.now() + timedelta(minutes=10)

    _name, _trigger, token = queue.call_args.args
    assert renew_lock(token)
    assert ConnectionStatus.get().lock_expires_at <= timezone.now() + LOCK_TTL


def test_a_heartbeat_beat_extends_the_lease(db):
    token = claim_lock(ttl=timedelta(seconds=1))
    heartbeat = LockHeartbeat(token)

    heartbeat.beat()

    assert heartbeat.beats == 1 and not heartbeat.lost
    assert ConnectionStatus.get().lock_expires_at > timezone.now() + timedelta(seconds=30)


def test_a_heartbeat_whose_lock_was_taken_over_stops_and_says_so(db):
    stale = claim_lock()
    ConnectionStatus.objects.update(lock_expires_at=timezone.now() - timedelta(seconds=1))
    claim_lock()
    heartbeat = LockHeartbeat(stale)

    heartbeat.beat()

    assert heartbeat.lost


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_renews_while_the_sweep_works():
    token = claim_lock(ttl=timedelta(seconds=1))
    two_beats = threading.Event()

    class CountingHeartbeat(LockHeartbeat):
        def beat(self) -> None:
            super().beat()
            if self.beats >= 2:
                two_beats.set()

    with CountingHeartbeat(token, interval=0.01) as heartbeat:
        assert two_beats.wait(timeout=10)

    assert heartbeat.beats >= 2 and not heartbeat.lost
    assert ConnectionStatus.get().lock_expires_at > timezone.now() + timedelta(seconds=30)
    assert heartbeat._thread is not None and not heartbeat._thread.is_alive()


def test_a_crashed_sweep_frees_the_lock_once_its_lease_lapses(db):
    crashed = claim_lock()
    assert renew_lock(crashed)  # the last heartbeat before the process died
    # One lease later (nothing renewed it), the next trigger may run.
    ConnectionStatus.objects.update(lock_expires_at=timezone.now() - timedelta(seconds=1))

    assert not sweep_running()
    assert claim_lock() is not None


def test_the_next_sweep_closes_a_run_left_running_as_crashed(db, codex):
    orphan = SyncRun.objects.create(trigger=SyncTrigger.CRON)

    result = run_sweep()

    orphan.refresh_from_db()
    assert (orphan.outcome, orphan.error) == (SyncOutcome.CRASHED, CRASHED_MESSAGE)
    assert orphan.finished_at is not None
    assert result.succeeded


def test_the_codex_page_closes_an_orphan_when_no_sweep_holds_the_lock(db):
    orphan = SyncRun.objects.create(trigger=SyncTrigger.CRON)

    overview = connection_overview()

    assert overview.recent_sweeps[0].outcome == SyncOutcome.CRASHED
    orphan.refresh_from_db()
    assert orphan.outcome == SyncOutcome.CRASHED


def test_a_run_of_a_sweep_still_holding_its_lock_is_left_running(db):
    claim_lock()
    live = SyncRun.objects.create(trigger=SyncTrigger.MANUAL)

    connection_overview()

    live.refresh_from_db()
    assert live.outcome == SyncOutcome.RUNNING


def test_a_redelivered_task_whose_sweep_already_ran_does_not_sweep_again(db, codex, queue):
    request_sweep()
    args, kwargs = queue.call_args.args, queue.call_args.kwargs
    kwargs = {key: value for key, value in kwargs.items() if key != "task_name"}
    first = sweep_task(*args[1:], **kwargs)
    assert first["outcome"] == SyncOutcome.SUCCESS
    codex.mocked.calls.reset()

    # django-q hands the same task out again (its worker was killed mid-run).
    again = sweep_task(*args[1:], **kwargs)

    assert (again["triggered"], again["skipped"]) == (False, True)
    assert SyncRun.objects.count() == 1
    assert len(codex.mocked.calls) == 0


def test_a_queued_task_whose_lock_lapsed_unswept_still_runs(db, codex, queue):
    request_sweep()
    args, kwargs = queue.call_args.args, queue.call_args.kwargs
    # The worker was down for longer than the queued lease; no sweep ran meanwhile.
    ConnectionStatus.objects.update(lock_token="", lock_expires_at=None)

    outcome = sweep_task(args[1], args[2], queued_at=kwargs["queued_at"])

    assert outcome["outcome"] == SyncOutcome.SUCCESS
    assert SyncRun.objects.count() == 1


def test_an_apply_anyway_task_applies_what_the_guard_held_back(db, codex, queue, make_series):
    make_series("Linked", mangabaka="1")
    codex.items = [codex_item(1, ("plugin:mangabaka", "1"))]
    assert run_sweep().succeeded
    codex.items = []
    assert run_sweep().held_back

    request_sweep(apply_anyway=True)
    args, kwargs = queue.call_args.args, queue.call_args.kwargs

    assert kwargs["apply_anyway"] is True
    outcome = sweep_task(args[1], args[2], apply_anyway=True, queued_at=kwargs["queued_at"])
    assert (outcome["outcome"], outcome["removed_links"]) == (SyncOutcome.SUCCESS, 1)
