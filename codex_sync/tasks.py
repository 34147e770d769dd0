"""django-q2 entry points for the Codex sweep, and the public function that queues one.

`request_sweep` claims the single-flight lock *before* queueing, so a second
click (or API call) while a sweep is queued or running is a no-op reported
as `{triggered: false, skipped: true}`, not a second sweep waiting in line.

A task carries when it was queued: django-q re-delivers a task whose worker
died, and a re-delivered task whose sweep already ran must not sweep again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone
from django_q.tasks import async_task

from codex_sync import overlay
from codex_sync.lock import QUEUED_LOCK_TTL, claim_lock, release_lock, renew_lock
from codex_sync.models import SyncRun, SyncTrigger
from codex_sync.sweep import run_sweep

logger = logging.getLogger(__name__)


class CodexDisabled(Exception):
    """The Codex integration is switched off in the configuration."""


def request_sweep(
    trigger: str = SyncTrigger.MANUAL, *, apply_anyway: bool = False
) -> dict[str, bool]:
    """Queue a sweep unless one is queued or running (`apply_anyway`: skip the hold-back guard)."""
    if not overlay.enabled():
        raise CodexDisabled(overlay.DISABLED_MESSAGE)
    token = claim_lock(ttl=QUEUED_LOCK_TTL)
    if token is None:
        return {"triggered": False, "skipped": True}
    try:
        async_task(
            "codex_sync.tasks.sweep_task",
            trigger,
            token,
            apply_anyway=apply_anyway,
            queued_at=timezone.now().isoformat(),
            task_name="codex-sweep",
        )
    except Exception:
        release_lock(token)
        raise
    return {"triggered": True, "skipped": False}


def sweep_task(
    trigger: str = SyncTrigger.MANUAL,
    lock_token: str | None = None,
    *,
    apply_anyway: bool = False,
    queued_at: str | None = None,
) -> dict:
    """Worker entry point: run the sweep (adopting the lock claimed when it was queued).

    If that lock is gone and a sweep has started since this task was queued,
    the sweep it asked for has happened (or this is a re-delivery of a task
    whose worker died): it is skipped, not run a second time.
    """
    if lock_token and not renew_lock(lock_token) and _swept_since(queued_at):
        logger.info("Codex sweep task skipped: a sweep has run since it was queued")
        return {"triggered": False, "skipped": True}
    return run_sweep(trigger, lock_token=lock_token, apply_anyway=apply_anyway).as_dict()


def _swept_since(queued_at: str | None) -> bool:
    if not queued_at:
        return False
    try:
        since = datetime.fromisoformat(queued_at)
    except ValueError:
        return False
    return SyncRun.objects.filter(started_at__gte=since).exists()


def scheduled_sweep() -> dict:
    """The CRON schedule's entry point."""
    if not overlay.enabled():
        return {"triggered": False, "skipped": True}
    return run_sweep(SyncTrigger.CRON).as_dict()
