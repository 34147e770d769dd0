"""django-q2 entry points for the Codex sweep, and the public function that queues one.

`request_sweep` claims the single-flight lock *before* queueing, so a second
click (or API call) while a sweep is queued or running is a no-op reported
as `{triggered: false, skipped: true}`, not a second sweep waiting in line.
"""

from __future__ import annotations

from django_q.tasks import async_task

from codex_sync import overlay
from codex_sync.lock import claim_lock, release_lock
from codex_sync.models import SyncTrigger
from codex_sync.sweep import run_sweep


class CodexDisabled(Exception):
    """The Codex integration is switched off in the configuration."""


def request_sweep(trigger: str = SyncTrigger.MANUAL) -> dict[str, bool]:
    """Queue a sweep unless one is queued or running."""
    if not overlay.enabled():
        raise CodexDisabled(overlay.DISABLED_MESSAGE)
    token = claim_lock()
    if token is None:
        return {"triggered": False, "skipped": True}
    try:
        async_task("codex_sync.tasks.sweep_task", trigger, token, task_name="codex-sweep")
    except Exception:
        release_lock(token)
        raise
    return {"triggered": True, "skipped": False}


def sweep_task(trigger: str = SyncTrigger.MANUAL, lock_token: str | None = None) -> dict:
    """Worker entry point: run the sweep (adopting the lock claimed when it was queued)."""
    return run_sweep(trigger, lock_token=lock_token).as_dict()


def scheduled_sweep() -> dict:
    """The CRON schedule's entry point."""
    if not overlay.enabled():
        return {"triggered": False, "skipped": True}
    return run_sweep(SyncTrigger.CRON).as_dict()
