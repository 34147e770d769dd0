"""The Codex sweep pipeline (SPEC §5.2): read the whole external index, re-derive the links.

    lock → preflight /info → fetch every page ‖ parse, guard and match each page
    → compare with the stored links → persist → record

The steps live apart: the lock in `codex_sync.lock`, preflight and the
connection's state in `codex_sync.connection`, the client (UUIDs canonical
as it parses them) in `codex_sync.client`, matching in `codex_sync.matching`,
run beside the download by `codex_sync.matching_process`, the set-based
writes in `codex_sync.link_store`. This module runs them.

The pages download on a thread of their own (`IndexDownload`) and go, as
they arrive, to a forked process that parses and matches them, while this
thread reads the catalog and the stored links: pages are independent until
the apply, and Python runs one thread of a process at a time. Network I/O
happens before the transaction opens; nothing is written to the link table
unless the whole index arrived. An outage, a rejected key or a partial
index leaves every stored link exactly as it was. So does a well-formed
index that would remove most automatic links at once (an unmounted
library, the wrong account): that sweep is held back until the admin
applies it anyway.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from codex_sync import link_store
from codex_sync.client import (
    CodexClient,
    CodexError,
    CodexForbidden,
    CodexUnauthorized,
    CodexUnreachable,
    ExternalIndexBody,
    client_from_settings,
)
from codex_sync.connection import (
    last_error,
    preflight,
    record_auth_failure,
    record_error,
    record_reachability,
    record_success,
)
from codex_sync.lock import (
    LOCK_LOST_MESSAGE,
    LockHeartbeat,
    LockLost,
    claim_lock,
    release_lock,
    renew_lock,
)
from codex_sync.matching_process import Matched, MatchingProcess, MatchingProcessLost
from codex_sync.models import (
    CodexLink,
    LinkKind,
    SyncOutcome,
    SyncRun,
    SyncTrigger,
)
from codex_sync.status import refresh_link_status
from feed.models import ExternalId
from tsundoku.db import larger_page_cache, select_lookup_json
from tsundoku.garbage_collection import collector_paused
from tsundoku.logging import redact

logger = logging.getLogger(__name__)

# Progress and lock renewals are written at most this often, so the number of
# queries a sweep makes does not grow with the number of pages.
PROGRESS_INTERVAL_SECONDS = 2.0

# An index that would remove every stored automatic link, or at least this share
# of them once there are HOLD_BACK_MIN_LINKS, is held back, not applied: a
# library that vanished (unmounted, the wrong account) looks exactly like this.
# The floor keeps a small library's ordinary pruning (1 of 2) from being held.
HOLD_BACK_SHARE = 0.5
HOLD_BACK_MIN_LINKS = 10
CRASHED_MESSAGE = "The sweep's process stopped before it finished; nothing was applied."


@dataclass
class SweepResult:
    triggered: bool
    skipped: bool
    run_id: int | None = None
    outcome: str | None = None
    fetched: int = 0
    linked: int = 0
    new_links: int = 0
    removed_links: int = 0
    conflicts: int = 0
    unmatched: int = 0
    pages: int = 0
    duration_ms: int = 0
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.outcome == SyncOutcome.SUCCESS

    @property
    def held_back(self) -> bool:
        return self.outcome == SyncOutcome.HELD_BACK

    def as_dict(self) -> dict:
        return asdict(self)


ProgressCallback = Callable[[int, int], None]


def run_sweep(
    trigger: str = SyncTrigger.MANUAL,
    *,
    lock_token: str | None = None,
    client: CodexClient | None = None,
    on_progress: ProgressCallback | None = None,
    apply_anyway: bool = False,
) -> SweepResult:
    """Run one sweep now. `lock_token` adopts a lock claimed when the sweep was queued.

    `apply_anyway` applies an index even if it would remove most automatic links.
    """
    token = lock_token if lock_token and renew_lock(lock_token) else claim_lock()
    if token is None:
        logger.info("Codex sweep skipped: another sweep is running")
        return SweepResult(triggered=False, skipped=True)
    # We hold the lock, so any run still marked running belongs to a dead process.
    close_orphaned_runs()
    run = SyncRun.objects.create(trigger=trigger)
    started = time.monotonic()
    try:
        # One pause for the whole sweep (see tsundoku.garbage_collection), ended
        # only once `_sweep` has returned and its million objects are freed:
        # switched back on between the fetch and the apply, the collector's
        # first pass walked them all (a third of a second) for nothing.
        with LockHeartbeat(token), collector_paused():
            result = _sweep(run, token, client or client_from_settings(), on_progress, apply_anyway)
    except Exception as exc:  # the run must be recorded whatever happened
        # Not logger.exception: handlers print exc_info verbatim, and text we did
        # not write may quote anything, the API key included.
        logger.error(
            "Codex sweep failed unexpectedly\n%s",
            redact("".join(traceback.format_exception(exc))),
        )
        error = redact(f"Unexpected error: {exc}")
        record_error(error)
        result = _finish(run, started, SyncOutcome.ERROR, error=error)
    finally:
        release_lock(token)
    result.duration_ms = _elapsed_ms(started)
    return result


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def close_orphaned_runs() -> int:
    """Close runs left "running" by a sweep whose process died; call only with no sweep running."""
    return SyncRun.objects.filter(outcome=SyncOutcome.RUNNING).update(
        outcome=SyncOutcome.CRASHED, error=CRASHED_MESSAGE, finished_at=timezone.now()
    )


def would_hold_back(removed: int, stored: int) -> bool:
    """Would removing `removed` of `stored` automatic links look like a vanished library?"""
    if removed <= 0:
        return False
    return removed >= stored or (
        stored >= HOLD_BACK_MIN_LINKS and removed >= stored * HOLD_BACK_SHARE
    )


def held_back_message(removed: int, stored: int) -> str:
    return (
        f"Held back: Codex's index would remove {removed} of {stored} automatic links, "
        "as an unmounted library or the wrong account would. Nothing was changed. "
        "If Codex is right, apply it anyway (the Codex page, or "
        "`manage.py codex_sync --apply-anyway`)."
    )


def _sweep(
    run: SyncRun,
    token: str,
    client: CodexClient,
    on_progress: ProgressCallback | None,
    apply_anyway: bool = False,
) -> SweepResult:
    started = time.monotonic()
    info = preflight(client)
    if info is None:
        return _finish(run, started, SyncOutcome.PREFLIGHT_FAILED, error=last_error())

    try:
        manual, matched = _fetch_and_match(client, token, on_progress, run)
    except (CodexUnauthorized, CodexForbidden) as exc:
        record_auth_failure(exc)
        return _finish(run, started, SyncOutcome.AUTH_FAILED, error=str(exc))
    except CodexUnreachable as exc:
        # Codex went away mid-walk (or stopped answering in time): a change of
        # reachability like any other, so it gets its history row.
        record_reachability(False, error=str(exc), when=timezone.now(), at_preflight=False)
        return _finish(run, started, SyncOutcome.ERROR, error=str(exc))
    except CodexError as exc:
        record_error(str(exc))
        return _finish(run, started, SyncOutcome.ERROR, error=str(exc))
    except (LockLost, MatchingProcessLost) as exc:
        return _finish(run, started, SyncOutcome.ERROR, error=str(exc))

    try:
        return _apply(run, started, matched, manual, token, apply_anyway)
    except LockLost as exc:
        return _finish(run, started, SyncOutcome.ERROR, error=str(exc))


def read_manual_links() -> list[tuple[int, str]]:
    return [
        (series_id, str(codex_uuid))
        for series_id, codex_uuid in CodexLink.objects.filter(
            link_kind=LinkKind.MANUAL
        ).values_list("series_id", "codex_series_uuid")
    ]


class IndexDownload:
    """Codex's external index fetched on a thread of its own, each page delivered as it comes.

    The walk (`CodexClient.iter_external_index_bodies`) runs on the thread
    and only fetches; the thread hands each batch of page bodies to
    `deliver` (the matching process, which parses, guards and matches
    them: `codex_sync.matching_process`) and tells the caller's thread how
    many pages arrived. `arrivals()` yields those counts with the page
    count and re-raises there whatever the walk (or `deliver`) raised,
    after the pages that arrived before it, so the caller sees exactly
    what a walk on its own thread would have shown it. Leaving the `with`
    block stops the walk after the page in flight and waits for the
    thread, so it never outlives the sweep. The thread touches no database.

    Pages are delivered `PAGES_PER_HANDOVER` at a time: each handover wakes
    the caller's thread, and the two threads then trade the GIL, which on a
    busy machine can cost milliseconds each time. Page 1 goes alone, so the
    matching process, the sweep's critical path, starts on it at once
    rather than idle through the first batch's requests.
    """

    PAGES_PER_HANDOVER = 8
    _END = object()

    def __init__(
        self, client: CodexClient, deliver: Callable[[list[ExternalIndexBody]], None]
    ) -> None:
        self._client = client
        self._deliver = deliver
        self._handover: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._walk, name="codex-index", daemon=True)

    def __enter__(self) -> IndexDownload:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _walk(self) -> None:
        batch: list[ExternalIndexBody] = []
        total_pages = 0
        try:
            for body, total_pages in self._client.iter_external_index_bodies():
                batch.append(body)
                if len(batch) >= self.PAGES_PER_HANDOVER or body.page == 1:
                    self._hand_over(batch, total_pages)
                    batch = []
                if self._stop.is_set():
                    return
            self._hand_over(batch, total_pages)
        except BaseException as exc:  # handed to the caller's thread, raised there
            # The pages before the failure still count ("failed after 4 of 5
            # pages"); if delivering is what failed, `exc` says so already.
            with contextlib.suppress(Exception):
                self._hand_over(batch, total_pages)
            self._handover.put(exc)
        else:
            self._handover.put(self._END)

    def _hand_over(self, batch: list[ExternalIndexBody], total_pages: int) -> None:
        if batch:
            self._deliver(batch)
            self._handover.put((len(batch), total_pages))

    def arrivals(self) -> Iterator[tuple[int, int]]:
        """(pages delivered, page count) per batch, until the walk ends."""
        while True:
            handed = self._handover.get()
            if handed is self._END:
                return
            if isinstance(handed, BaseException):
                raise handed
            yield handed


def _fetch_and_match(
    client: CodexClient, token: str, on_progress: ProgressCallback | None, run: SyncRun
) -> tuple[list[tuple[int, str]], Matched]:
    """Download every page while the matching process parses and matches each as it comes.

    Meanwhile this thread reads the catalog, the manual links and the stored
    automatic links, all for the matching process. Returns the manual links
    (for the apply) and what the matching process made of the whole index;
    raises whatever the walk or the matching raised (nothing has been
    written then).
    """
    last_write = 0.0
    pages_seen = 0
    try:
        # The process forks before the download thread starts, so only the lock's
        # heartbeat thread is forked beside; the child takes no lock and opens no
        # database (logging re-creates its own locks after a fork).
        with (
            MatchingProcess(client, link_store.uuid_to_db()) as matching,
            IndexDownload(client, deliver=matching.send_pages) as download,
        ):
            # Read while the first pages download: none of it depends on Codex's answer.
            manual = read_manual_links()
            matching.send_catalog(
                select_lookup_json(
                    "provider", "external_id", "series_id", ExternalId._meta.db_table
                ),
                manual,
            )
            matching.send_stored_links(link_store.auto_links_json())
            for pages, total_pages in download.arrivals():
                for _page in range(pages):
                    pages_seen += 1
                    if on_progress:
                        on_progress(pages_seen, total_pages)
                now = time.monotonic()
                if now - last_write >= PROGRESS_INTERVAL_SECONDS or pages_seen == total_pages:
                    last_write = now
                    if not renew_lock(
                        token, progress_pages=pages_seen, progress_total_pages=total_pages
                    ):
                        raise LockLost(LOCK_LOST_MESSAGE)
                matching.failure_so_far()
            matched = matching.result()
    finally:
        # Also on failure: "failed after 2 of 5 pages" is worth seeing in the run.
        run.pages = pages_seen
    return manual, matched


def _apply(
    run: SyncRun,
    started: float,
    matched: Matched,
    manual: list[tuple[int, str]],
    token: str,
    apply_anyway: bool = False,
) -> SweepResult:
    """Write only what changed, in one transaction of set-based writes.

    The matching process compared the index with the stored auto links, so
    a re-sweep of an unchanged library is a handful of tiny statements, and
    a first sweep one INSERT.
    """
    links = matched.links
    fetched = matched.fetched
    if not apply_anyway and would_hold_back(len(links.remove), links.stored):
        message = held_back_message(len(links.remove), links.stored)
        record_error(message)
        run.fetched = fetched
        run.linked = links.stored + len(manual)
        run.removed_links = 0
        return _finish(run, started, SyncOutcome.HELD_BACK, error=message)
    now = timezone.now()
    with transaction.atomic():
        # Fencing: a sweep that stalled past its lock's expiry (a suspended
        # worker) must not overwrite what the sweep that took over applied.
        if not renew_lock(token):
            raise LockLost(LOCK_LOST_MESSAGE)
        removed = link_store.delete_auto_links(links.remove)
        if links.written:
            # A first sweep writes every link: 90k rows outgrow SQLite's usual cache.
            with larger_page_cache():
                link_store.upsert_auto_links(links.write_json, now)
        link_store.refresh_manual_links(matched.manual_counts, now)
        link_store.replace_unmatched(matched.unmatched, now)
        link_store.replace_conflicts(matched.conflicts, now)
        # The stored status of the manual links whose Codex counts this apply
        # wrote (the auto links it wrote went in with theirs).
        refresh_link_status([series_id for series_id, _ in manual])
        linked = CodexLink.objects.count()
        record_success(now, linked=linked, fetched=fetched)
        run.fetched = fetched
        run.linked = linked
        run.new_links = links.new
        run.removed_links = removed
        run.conflicts = len(matched.conflicts)
        run.unmatched = len(matched.unmatched)
        return _finish(run, started, SyncOutcome.SUCCESS)


def _finish(run: SyncRun, started: float, outcome: str, *, error: str = "") -> SweepResult:
    run.outcome = outcome
    run.error = error
    run.finished_at = timezone.now()
    run.duration_ms = _elapsed_ms(started)
    run.save()
    if outcome != SyncOutcome.SUCCESS:
        logger.warning("Codex sweep %s: %s", outcome, error)
    else:
        logger.info(
            "Codex sweep done: fetched=%s linked=%s new=%s removed=%s conflicts=%s unmatched=%s",
            run.fetched,
            run.linked,
            run.new_links,
            run.removed_links,
            run.conflicts,
            run.unmatched,
        )
    return SweepResult(
        triggered=True,
        skipped=False,
        run_id=run.pk,
        outcome=outcome,
        fetched=run.fetched,
        linked=run.linked,
        new_links=run.new_links,
        removed_links=run.removed_links,
        conflicts=run.conflicts,
        unmatched=run.unmatched,
        pages=run.pages,
        duration_ms=run.duration_ms,
        error=error,
    )
