"""Torrent clients behind one interface: qBittorrent, Transmission and ruTorrent.

qBittorrent (Web API) and Transmission (RPC) go through well-kept libraries
(`qbittorrent-api`, `transmission-rpc`) rather than hand-written HTTP: they
handle qBittorrent's login cookie and version quirks and Transmission's CSRF
session-id dance. ruTorrent is rTorrent's XML-RPC (as upstream tsundoku
hands off), which the standard library's `xmlrpc.client` speaks. What callers see is
`TorrentClient` and a small exception hierarchy that says what the operator
must do: start the client or fix its URL (`ClientUnreachable`), fix the
credentials (`ClientAuthFailed`), nothing — it is already there
(`DuplicateTorrent`), or read the client's answer (`ClientRejected`).

Every message is built without the password and passed through
`tsundoku.logging.redact` before it leaves, because a library's exception
text can carry the URL it was given (Transmission's includes credentials).
"""

from __future__ import annotations

import re
import xmlrpc.client
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import qbittorrentapi
import transmission_rpc
from django.conf import settings

from tsundoku.logging import redact

QBITTORRENT = "qbittorrent"
TRANSMISSION = "transmission"
RUTORRENT = "rutorrent"
CLIENT_LABELS = {QBITTORRENT: "qBittorrent", TRANSMISSION: "Transmission", RUTORRENT: "ruTorrent"}

# `xt=urn:btih:<40 hex>` (or 32 base32) in a magnet link.
_MAGNET_HASH_RE = re.compile(r"xt=urn:btih:([0-9a-fA-F]{40}|[A-Za-z2-7]{32})")


class TorrentClientError(Exception):
    """Sending to the torrent client failed; the message says what to do."""

    outcome = "failed"


class ClientUnreachable(TorrentClientError):
    """The client did not answer at its URL."""


class ClientAuthFailed(TorrentClientError):
    """The client refused the username/password."""


class DuplicateTorrent(TorrentClientError):
    """The client already has this torrent."""

    outcome = "duplicate"


class ClientRejected(TorrentClientError):
    """The client answered but would not add the torrent."""


@dataclass(frozen=True)
class ClientSettings:
    """What `[torrents]` configures, read once per send."""

    client: str
    url: str
    username: str
    password: str | None
    category: str
    save_path: str
    timeout_seconds: float

    @classmethod
    def from_config(cls) -> ClientSettings:
        section = settings.TSUNDOKU.torrents
        return cls(**{field: section[field] for field in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Added:
    """A torrent the client accepted: its info hash (lower-case hex) when known."""

    info_hash: str


class TorrentClient(Protocol):
    """One torrent client: add a torrent, list what it has, say its version."""

    label: str

    def version(self) -> str:
        """The client's version, after logging in (Test connection)."""
        ...

    def add(self, source: str, info_hash: str) -> Added:
        """Add a magnet or .torrent URL with the configured category and save path."""
        ...

    def has(self, info_hash: str) -> bool:
        """Whether the client lists a torrent with this info hash."""
        ...


def info_hash_of(magnet: str) -> str:
    """The info hash a magnet link names (lower-case), or "" when it names none."""
    match = _MAGNET_HASH_RE.search(magnet or "")
    return match.group(1).lower() if match else ""


def _message(text: str) -> str:
    return redact(text)


def display_url(url: str) -> str:
    """The client URL as pages and errors show it: any `user:password@` removed."""
    parts = urlsplit(url)
    if not parts.username and not parts.password:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class QBittorrent:
    """qBittorrent's Web API v2 (4.1+), through `qbittorrent-api`."""

    label = CLIENT_LABELS[QBITTORRENT]

    def __init__(self, config: ClientSettings) -> None:
        self.config = config
        self.api = qbittorrentapi.Client(
            host=config.url,
            username=config.username or None,
            password=config.password or None,
            REQUESTS_ARGS={"timeout": config.timeout_seconds},
            DISABLE_LOGGING_DEBUG_OUTPUT=True,
            # The operator gave a scheme: never probe http vs https with HEAD requests.
            FORCE_SCHEME_FROM_HOST=True,
        )

    def _call(self, operation, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except qbittorrentapi.LoginFailed as exc:
            raise ClientAuthFailed(
                "qBittorrent refused the username/password (torrents.username, torrents.password)."
            ) from exc
        except (qbittorrentapi.Forbidden403Error, qbittorrentapi.Unauthorized401Error) as exc:
            raise ClientAuthFailed(
                "qBittorrent refused the login (wrong credentials, or too many failed "
                "logins and the client banned this address for a while)."
            ) from exc
        except qbittorrentapi.APIConnectionError as exc:
            raise ClientUnreachable(
                _message(f"qBittorrent did not answer at {display_url(self.config.url)}: {exc}")
            ) from exc
        except qbittorrentapi.APIError as exc:
            raise ClientRejected(_message(f"qBittorrent refused: {exc}")) from exc

    def version(self) -> str:
        return str(self._call(lambda: self.api.app.version))

    def has(self, info_hash: str) -> bool:
        if not info_hash:
            return False
        found = self._call(self.api.torrents_info, torrent_hashes=info_hash.lower())
        return any(torrent.hash.lower() == info_hash.lower() for torrent in found)

    def add(self, source: str, info_hash: str) -> Added:
        if self.has(info_hash):
            raise DuplicateTorrent("qBittorrent already has this torrent.")
        category = self.config.category
        if category and category not in self._call(self.api.torrents_categories):
            self._call(self.api.torrents_create_category, name=category)
        answer = self._call(
            self.api.torrents_add,
            urls=source,
            category=category or None,
            save_path=self.config.save_path or None,
        )
        # qBittorrent answers "Ok." or "Fails." (a duplicate is a "Fails." too).
        if str(answer).strip().lower().startswith("fails"):
            if self.has(info_hash):
                raise DuplicateTorrent("qBittorrent already has this torrent.")
            raise ClientRejected("qBittorrent would not add the torrent (it answered “Fails.”).")
        return Added(info_hash=info_hash.lower())


class Transmission:
    """Transmission's RPC (2.40+), through `transmission-rpc`."""

    label = CLIENT_LABELS[TRANSMISSION]
    # Labels arrived in RPC version 17 (Transmission 4.0).
    LABELS_RPC_VERSION = 17

    def __init__(self, config: ClientSettings) -> None:
        self.config = config
        self._api: transmission_rpc.Client | None = None

    @property
    def api(self) -> transmission_rpc.Client:
        """The RPC client; connecting fetches the session, so errors map here too."""
        if self._api is None:
            parts = urlsplit(self.config.url)
            path = parts.path if parts.path not in ("", "/") else "/transmission/rpc"
            self._api = self._call(
                transmission_rpc.Client,
                protocol=parts.scheme,
                host=parts.hostname or "127.0.0.1",
                port=parts.port or (443 if parts.scheme == "https" else 9091),
                path=path,
                username=self.config.username or None,
                password=self.config.password or None,
                timeout=self.config.timeout_seconds,
            )
        return self._api

    def _call(self, operation, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except transmission_rpc.TransmissionAuthError as exc:
            raise ClientAuthFailed(
                "Transmission refused the username/password (torrents.username, torrents.password)."
            ) from exc
        except (
            transmission_rpc.TransmissionConnectError,
            transmission_rpc.TransmissionTimeoutError,
        ) as exc:
            raise ClientUnreachable(
                _message(f"Transmission did not answer at {display_url(self.config.url)}: {exc}")
            ) from exc
        except transmission_rpc.TransmissionError as exc:
            raise ClientRejected(_message(f"Transmission refused: {exc}")) from exc

    def version(self) -> str:
        session = self._call(self.api.get_session)
        return f"{session.version} (RPC {session.rpc_version})"

    def has(self, info_hash: str) -> bool:
        if not info_hash:
            return False
        found = self._call(self.api.get_torrents, ids=[info_hash.lower()])
        return any(torrent.hash_string.lower() == info_hash.lower() for torrent in found)

    def add(self, source: str, info_hash: str) -> Added:
        if self.has(info_hash):
            raise DuplicateTorrent("Transmission already has this torrent.")
        api = self.api
        labels = None
        rpc_version = self._call(api.get_session).rpc_version
        if self.config.category and rpc_version >= self.LABELS_RPC_VERSION:
            labels = [self.config.category]
        torrent = self._call(
            api.add_torrent,
            source,
            download_dir=self.config.save_path or None,
            labels=labels,
        )
        return Added(info_hash=(torrent.hash_string or info_hash).lower())


class _Timeout:
    """A timeout on every XML-RPC call (the standard transports have none)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


class _TimeoutTransport(_Timeout, xmlrpc.client.Transport):
    """HTTP."""


class _SafeTimeoutTransport(_Timeout, xmlrpc.client.SafeTransport):
    """HTTPS."""


class RuTorrent:
    """rTorrent's XML-RPC as ruTorrent installs expose it (e.g. `https://host/RPC2`).

    The label goes to `d.custom1` (where ruTorrent reads labels) and the save
    path to `d.directory`; HTTP basic auth carries the credentials.
    """

    label = CLIENT_LABELS[RUTORRENT]

    def __init__(self, config: ClientSettings) -> None:
        self.config = config
        parts = urlsplit(config.url)
        netloc = parts.netloc.rpartition("@")[2]
        if config.username or config.password:
            credentials = quote(config.username or "", safe="")
            if config.password:
                credentials += ":" + quote(config.password, safe="")
            netloc = f"{credentials}@{netloc}"
        url = urlunsplit((parts.scheme, netloc, parts.path or "/RPC2", parts.query, ""))
        transport_class = _SafeTimeoutTransport if parts.scheme == "https" else _TimeoutTransport
        self.api = xmlrpc.client.ServerProxy(
            url, transport=transport_class(config.timeout_seconds), allow_none=False
        )

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.api, method)(*args)
        except xmlrpc.client.ProtocolError as exc:
            if exc.errcode in (401, 403):
                raise ClientAuthFailed(
                    "ruTorrent refused the username/password (torrents.username, "
                    "torrents.password)."
                ) from exc
            raise ClientRejected(
                f"ruTorrent answered HTTP {exc.errcode} {exc.errmsg} at "
                f"{display_url(self.config.url)}."
            ) from exc
        except xmlrpc.client.Fault as exc:
            raise ClientRejected(_message(f"rTorrent refused: {exc.faultString}")) from exc
        except (OSError, xmlrpc.client.Error) as exc:
            raise ClientUnreachable(
                _message(f"ruTorrent did not answer at {display_url(self.config.url)}: {exc}")
            ) from exc

    def version(self) -> str:
        return f"rTorrent {self._call('system.client_version')}"

    def has(self, info_hash: str) -> bool:
        if not info_hash:
            return False
        hashes = self._call("download_list")
        return info_hash.lower() in {str(listed).lower() for listed in hashes}

    def add(self, source: str, info_hash: str) -> Added:
        if self.has(info_hash):
            raise DuplicateTorrent("ruTorrent already has this torrent.")
        commands = []
        if self.config.save_path:
            commands.append(f"d.directory.set={self.config.save_path}")
        if self.config.category:
            commands.append(f"d.custom1.set={quote(self.config.category)}")
        # rTorrent 0.9+: the first argument is the (empty) target.
        self._call("load.start", "", source, *commands)
        return Added(info_hash=info_hash.lower())


def client_for(config: ClientSettings | None = None) -> TorrentClient | None:
    """The configured client, or None when `torrents.client` is empty."""
    config = config or ClientSettings.from_config()
    if config.client == QBITTORRENT:
        return QBittorrent(config)
    if config.client == TRANSMISSION:
        return Transmission(config)
    if config.client == RUTORRENT:
        return RuTorrent(config)
    return None
