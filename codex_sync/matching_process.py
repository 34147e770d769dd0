"""The sweep's parsing and matching, in a process of its own beside the download.

Against a fast Codex the sweep's floor is the client's own CPU (HTTP and
JSON), and Python runs one thread at a time: parsing 100k series and
matching them on the downloading process's other thread took as long again.
So the sweep's process only fetches pages (`CodexClient.fetch_external_index`)
and reads the database, and hands each page's body, as it arrived, to this
process: it parses the pages (`CodexClient.parse_external_index`), guards
them as a whole index (`FullIndexGuard`), matches them against the catalog
(`IndexMatcher`), compares the links it asks for with the stored ones
(`link_store.link_changes`) and hands back only what the apply writes —
the link rows that changed and the links to remove, conflicts, unmatched
rows, manual links' counts. On a re-sweep of an unchanged library that is
a handful of rows: the 90k it compared never cross the pipe.

The process is forked (it starts in a millisecond and inherits the client
and the configuration, not a copy rebuilt from settings) and touches no
database: the sweep's process sends it the catalog's ids and the stored
automatic links as the database's JSON text. It stops when the sweep's
process closes its end of the pipe, after the sweep or when the sweep
fails, and is waited for either way, so it never outlives the sweep. If it
dies (killed, out of memory) the sweep fails with `MatchingProcessLost` and
nothing is applied.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codex_sync import link_store
from codex_sync.client import (
    CodexClient,
    CodexError,
    CodexSeries,
    ExternalIndexBody,
    FullIndexGuard,
)
from codex_sync.matching import Conflict, IndexMatcher, catalog_index
from tsundoku.logging import redact

logger = logging.getLogger(__name__)

# How long the sweep waits for the process to end once told to, before
# stopping it: it ends as soon as it reads the end of the pipe.
STOP_SECONDS = 10.0

# What the process's last sweep worked on, left for its exit to free (see `_match`).
_KEPT_UNTIL_EXIT: list[tuple] = []


class MatchingProcessLost(Exception):
    """The matching process ended without an answer (killed, out of memory)."""

    def __init__(self) -> None:
        super().__init__(
            "The sweep's matching process stopped unexpectedly (killed or out of memory); "
            "nothing was applied."
        )


@dataclass
class Matched:
    """What the matching process hands back: all the apply needs, as plain rows."""

    links: link_store.LinkChanges
    conflicts: list[Conflict]
    unmatched: link_store.UnmatchedRows
    manual_counts: list[link_store.CountRow]
    fetched: int


class MatchingProcess:
    """A forked process matching the index pages it is sent; use as a context manager.

    `send_pages` as they arrive (from the download's thread: the process
    parses them at once), `send_catalog` (the catalog's ids as
    `select_lookup_json`'s text, and the manual links) and
    `send_stored_links` as soon as each has been read; then `result()`. A
    failure in the process (a page that is not JSON, an incomplete index)
    is raised by `failure_so_far` or `result`, in this process.
    """

    def __init__(self, client: CodexClient, db_uuid: Callable[[str], str]) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child_end, self._connection, client, db_uuid),
            name="codex-matching",
            daemon=True,  # multiprocessing ends it should this process exit first
        )
        self._child_end = child_end
        self._early_failure: BaseException | None = None
        self._sending = threading.Lock()  # two threads send: the download's and the sweep's
        # The download thread reads a failure too (`_send`), beside the sweep's own reads.
        self._receiving = threading.Lock()

    def __enter__(self) -> MatchingProcess:
        self._process.start()
        # Only the child reads this end: closed here, the child's read sees
        # the end of the pipe once ours is closed, and ours sees the child's death.
        self._child_end.close()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._connection.close()
        self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._process.close()

    def send_catalog(self, catalog_json: str, manual: Sequence[tuple[int, str]]) -> None:
        self._send(("catalog", catalog_json, list(manual)))

    def send_stored_links(self, auto_links_json: str) -> None:
        """The stored automatic links (`link_store.auto_links_json`'s text), after the catalog.

        Apart from the catalog so matching starts while they are read.
        """
        self._send(("stored", auto_links_json))

    def send_pages(self, bodies: list[ExternalIndexBody]) -> None:
        self._send(("pages", bodies))

    def failure_so_far(self) -> None:
        """Raise what the process failed with, if it has failed already (does not wait)."""
        with self._receiving:
            if self._early_failure is None and self._connection.poll():
                self._early_failure = self._receive()
        if self._early_failure is not None:
            raise self._early_failure

    def result(self) -> Matched:
        """Tell the process the last page has been sent, and wait for its answer."""
        self.failure_so_far()
        self._send(("end",))
        with self._receiving:
            answer = self._receive()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def _send(self, message: tuple) -> None:
        try:
            with self._sending:
                self._connection.send(message)
        except (BrokenPipeError, ConnectionResetError):
            self.failure_so_far()  # it failed and left: say why, if it could
            raise MatchingProcessLost() from None

    def _receive(self) -> Matched | BaseException:
        try:
            return self._connection.recv()
        except (EOFError, ConnectionResetError):
            raise MatchingProcessLost() from None


def _serve(connection, parent_end, client: CodexClient, db_uuid: Callable[[str], str]) -> None:
    """The process: match what arrives, answer once, and end."""
    parent_end.close()  # or the parent closing its end would never reach us as EOF
    try:
        answer: Matched | Exception = _match(connection, client, db_uuid)
    except EOFError:  # the sweep ended (failed) before the last page: nothing to say
        return
    except CodexError as exc:  # the index is unusable: the sweep records why
        answer = exc
    except Exception as exc:  # a bug: its traceback is only here
        logger.error(
            "Codex sweep's matching process failed\n%s",
            redact("".join(traceback.format_exception(exc))),
        )
        answer = RuntimeError(f"{type(exc).__name__}: {exc}")
    try:
        connection.send(answer)
        if isinstance(answer, Exception):
            _drain(connection)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        return


def _match(connection, client: CodexClient, db_uuid: Callable[[str], str]) -> Matched:
    guard = FullIndexGuard()
    matcher: IndexMatcher | None = None
    # Pages parsed before the catalog arrived, matched once it has.
    waiting: list[tuple[CodexSeries, ...]] = []
    fetched = 0
    stored: dict[int, link_store.LinkRow] | None = None
    while (message := connection.recv())[0] != "end":
        if message[0] == "catalog":
            _kind, catalog_json, manual = message
            matcher = IndexMatcher(
                catalog_index(json.loads(catalog_json)),
                manual_series_ids={series_id for series_id, _ in manual},
                manual_codex_uuids={codex_uuid for _, codex_uuid in manual},
            )
            for items in waiting:
                matcher.add(items)
            waiting = []
            continue
        if message[0] == "stored":
            # Decoded now, while pages still download, not after the last one.
            stored = link_store.stored_links(message[1])
            continue
        for body in message[1]:
            page = guard.admit(client.parse_external_index(body))
            fetched += len(page.items)
            if matcher is None:
                waiting.append(page.items)
            else:
                matcher.add(page.items)
    guard.finish()
    if matcher is None:
        raise RuntimeError("the sweep sent no catalog to match against")
    if stored is None:
        raise RuntimeError("the sweep sent no stored links to compare with")
    result = matcher.result()
    wanted = [link_store.link_row(match, db_uuid) for match in result.matches]
    # Nothing of the sweep is freed here: this process ends with `os._exit`
    # as soon as it has answered (multiprocessing's fork start does), which
    # hands its memory back at once. Freed one by one on the way out of this
    # function, its million objects (the catalog, every parsed series, the
    # stored links) took a fifth of a second before the answer could leave.
    _KEPT_UNTIL_EXIT.append((guard, matcher, stored, wanted))
    return Matched(
        links=link_store.link_changes(wanted, stored),
        conflicts=result.conflicts,
        unmatched=link_store.unmatched_rows(result.unmatched, db_uuid),
        manual_counts=[
            link_store.count_row(item, db_uuid) for item in result.manual_refresh.values()
        ],
        fetched=fetched,
    )


def _drain(connection) -> None:
    """Read and drop what the sweep still sends, so it never blocks on a full pipe."""
    while connection.recv()[0] != "end":
        pass
