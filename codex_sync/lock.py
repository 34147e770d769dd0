"""The sweep lock (SPEC §5.2 step 1): at most one sweep at a time, and a crashed one lapses.

The lock lives on the `ConnectionStatus` row: a token and an expiry, claimed
with a conditional UPDATE whose row count says who won (healthchecks'
`sendalerts` idiom), so it works alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from codex_sync.models import ConnectionStatus

# A sweep renews its lock as it goes; one that crashed stops renewing and
# the lock lapses after this long, so the next trigger can run.
LOCK_TTL = timedelta(minutes=15)
LOCK_LOST_MESSAGE = (
    "This sweep stalled past its lock's expiry and another sweep took over; nothing was applied"
)


class LockLost(Exception):
    """This sweep's lock lapsed and another sweep claimed it; this one must not apply."""


def claim_lock(ttl: timedelta = LOCK_TTL) -> str | None:
    """Claim the sweep lock with a conditional UPDATE; None if another sweep holds it."""
    now = timezone.now()
    token = secrets.token_hex(16)
    free = ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID).filter(
        Q(lock_token="") | Q(lock_expires_at__lt=now) | Q(lock_expires_at__isnull=True)
    )
    fields = {
        "lock_token": token,
        "lock_expires_at": now + ttl,
        "progress_pages": 0,
        "progress_total_pages": 0,
    }
    if free.update(**fields) == 1:
        return token
    if ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID).exists():
        return None
    # The very first claim creates the row. Two first claims at once both get
    # here; ignoring the conflict (rather than get_or_create's transaction and
    # IntegrityError) keeps it to one statement, and the UPDATE decides.
    ConnectionStatus.objects.bulk_create(
        [ConnectionStatus(pk=ConnectionStatus.SINGLETON_ID)], ignore_conflicts=True
    )
    return token if free.update(**fields) == 1 else None


def renew_lock(token: str, **progress: int) -> bool:
    """Extend our lock (and record progress); False if it is no longer ours."""
    return (
        ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID, lock_token=token).update(
            lock_expires_at=timezone.now() + LOCK_TTL, **progress
        )
        == 1
    )


def release_lock(token: str) -> None:
    """Give the lock up, if it is still ours."""
    ConnectionStatus.objects.filter(pk=ConnectionStatus.SINGLETON_ID, lock_token=token).update(
        lock_token="", lock_expires_at=None
    )


def sweep_running() -> bool:
    """Does some sweep hold an unexpired lock right now?"""
    return (
        ConnectionStatus.objects.filter(
            pk=ConnectionStatus.SINGLETON_ID, lock_expires_at__gt=timezone.now()
        )
        .exclude(lock_token="")
        .exists()
    )
