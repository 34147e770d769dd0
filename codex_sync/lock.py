"""The sweep lock (SPEC §5.2 step 1): at most one sweep at a time, and a crashed one lapses.

The lock lives on the `ConnectionStatus` row: a token and an expiry, claimed
with a conditional UPDATE whose row count says who won (healthchecks'
`sendalerts` idiom), so it works alike on SQLite and PostgreSQL.

A running sweep holds a short lease that a heartbeat thread renews
(`LockHeartbeat`), so a sweep killed mid-run frees the way within a minute;
a sweep waiting in the task queue holds a longer one, since nothing renews it there.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import timedelta
from types import TracebackType

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from codex_sync.models import ConnectionStatus

logger = logging.getLogger(__name__)

# A running sweep's lease: renewed every HEARTBEAT_SECONDS, so a sweep whose
# process died lets the next trigger run after at most this long.
LOCK_TTL = timedelta(seconds=60)
HEARTBEAT_SECONDS = 10.0
# A sweep queued for the worker holds the lock this long before it starts:
# nothing renews it while it waits behind other tasks.
QUEUED_LOCK_TTL = timedelta(minutes=15)
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


class LockHeartbeat:
    """Renew a sweep's lease from a background thread while the sweep runs.

    The sweep's own steps (matching, the apply transaction) can each take
    longer than a beat, so the lease is kept alive beside them rather than
    between them. Inside a caller's transaction (tests, mostly) another
    connection could not write the row, so there no thread starts and the
    sweep's own renewals carry the lease.
    """

    def __init__(self, token: str, interval: float = HEARTBEAT_SECONDS) -> None:
        self.token = token
        self.interval = interval
        self.beats = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LockHeartbeat:
        if not connection.in_atomic_block:
            self._thread = threading.Thread(
                target=self._run, name="codex-lock-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.beat()
        finally:
            connection.close()  # this thread's own connection

    def beat(self) -> None:
        """Renew once; a busy database only skips this beat (the lease outlasts several)."""
        try:
            renewed = renew_lock(self.token)
        except DatabaseError as exc:
            logger.warning("Codex sweep lock heartbeat skipped: %s", exc)
            return
        self.beats += 1
        if not renewed:
            # The sweep's fencing check before it applies refuses to write.
            self.lost = True
            self._stop.set()


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
