"""Send a release to the configured torrent client and log what came of it.

The client is called outside any database transaction, and a failure
changes nothing but the log: the release, its links and its resolution are
never touched, so a failed send loses nothing and can simply be retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from feed.models import Release
from torrents.clients import (
    CLIENT_LABELS,
    ClientSettings,
    TorrentClientError,
    client_for,
    info_hash_of,
)
from torrents.models import SendLog, SendOutcome
from tsundoku.logging import redact

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "No torrent client is configured: set torrents.client (qbittorrent, transmission or "
    "rutorrent) and torrents.url."
)


class NothingToSend(Exception):
    """The release has neither a magnet link nor a .torrent URL."""


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer to Test connection."""

    ok: bool
    message: str


def enabled() -> bool:
    """Is a torrent client configured?"""
    return bool(ClientSettings.from_config().client)


def client_label() -> str:
    return CLIENT_LABELS.get(ClientSettings.from_config().client, "")


def with_sent(queryset: QuerySet[Release]) -> QuerySet[Release]:
    """Annotate `sent`: whether the release was ever handed to the client (admin pages)."""
    return queryset.annotate(
        sent=Exists(
            SendLog.objects.filter(
                release=OuterRef("pk"),
                outcome__in=[SendOutcome.SENT, SendOutcome.DUPLICATE],
            )
        )
    )


def source_of(release: Release) -> str:
    """What to hand the client: the magnet link, else the .torrent URL."""
    for candidate in (release.magnet, release.torrent_url):
        if candidate and candidate.startswith(("magnet:", "http://", "https://")):
            return candidate
    raise NothingToSend(f"“{release.title}” has no magnet link or .torrent URL to send.")


def send_release(release: Release, *, user_id: int | None = None) -> SendLog:
    """Hand one release to the client; the returned log row says what happened."""
    config = ClientSettings.from_config()
    client = client_for(config)
    info_hash = (release.info_hash or info_hash_of(release.magnet)).lower()
    log = SendLog(
        release=release,
        release_title=release.title,
        info_hash=info_hash,
        client=config.client,
        sent_by_id=user_id,
    )
    try:
        if client is None:
            raise TorrentClientError(NOT_CONFIGURED)
        client.add(source_of(release), info_hash)
    except TorrentClientError as exc:
        log.outcome, log.message = exc.outcome, redact(str(exc))
    except NothingToSend as exc:
        log.outcome, log.message = SendOutcome.FAILED, str(exc)
    else:
        log.outcome = SendOutcome.SENT
        log.message = f"Added to {client.label}."
    log.save()
    if log.outcome == SendOutcome.FAILED:
        logger.warning("Sending release %s failed: %s", release.pk, log.message)
    return log


def check_connection() -> ConnectionCheck:
    """Log in to the configured client and read its version (Test connection)."""
    client = client_for()
    if client is None:
        return ConnectionCheck(ok=False, message=NOT_CONFIGURED)
    try:
        version = client.version()
    except TorrentClientError as exc:
        return ConnectionCheck(ok=False, message=redact(str(exc)))
    return ConnectionCheck(ok=True, message=f"Connected to {client.label} {version}.")
