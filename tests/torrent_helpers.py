"""Real torrent daemons on loopback for end-to-end tests: qbittorrent-nox and transmission-daemon.

Each runs in the foreground with its own temporary profile and download
directory, on free loopback ports, and is stopped (and waited for) on exit.
Readiness is read from the daemon's own log — the line it prints once its
web/RPC server listens — never guessed with a sleep. Without the Debian
package the tests skip and say why; CI sets `TSUNDOKU_REQUIRE_TORRENT_DAEMONS=1`
(`.ci/run`) so there a missing daemon fails instead.
"""

from __future__ import annotations

import base64
import os
import queue
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

import pytest

# Long enough for a loaded 2-core machine; a daemon that prints nothing for
# this long has failed, and the test says so rather than hanging.
READY_TIMEOUT_SECONDS = 60

QBITTORRENT_USERNAME = "admin"
QBITTORRENT_PASSWORD = "adminadmin"  # qBittorrent 4.5's built-in default
TRANSMISSION_USERNAME = "tsundoku"
TRANSMISSION_PASSWORD = "transmission-test-password-7f3a"

# A magnet nobody seeds: clients list it (waiting for metadata) without any peer.
MAGNET_HASH = "c9c73e8f6f56af8b4125a57ac33dead6f264bdea"
MAGNET = f"magnet:?xt=urn:btih:{MAGNET_HASH}&dn=One+Piece+v108-109"


@dataclass(frozen=True)
class Daemon:
    url: str
    download_dir: Path


def require_binary(name: str) -> str:
    """The daemon's path; skip (or fail in CI) when Debian's package is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install qbittorrent-nox transmission-daemon)"
        if os.environ.get("TSUNDOKU_REQUIRE_TORRENT_DAEMONS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _running(command: list[str], ready_marker: str, log: list[str]) -> Iterator[None]:
    """Start `command`, wait for `ready_marker` in its output, stop it on exit."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        # Keep reading to the end, so a chatty daemon never blocks on a full pipe.
        for line in process.stdout:
            log.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        while True:
            try:
                line = lines.get(timeout=READY_TIMEOUT_SECONDS)
            except queue.Empty:
                pytest.fail(f"{command[0]} printed nothing for {READY_TIMEOUT_SECONDS}s")
            if line is None:
                pytest.fail(f"{command[0]} exited before it was ready:\n{''.join(log)}")
            if ready_marker in line:
                break
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=READY_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def qbittorrent(tmp_path: Path) -> Iterator[Daemon]:
    """qbittorrent-nox on 127.0.0.1 with a fresh profile (legal notice accepted)."""
    binary = require_binary("qbittorrent-nox")
    port, peer_port = free_port(), free_port()
    profile, downloads = tmp_path / "qbittorrent-profile", tmp_path / "qbittorrent-downloads"
    config_dir = profile / "qBittorrent" / "config"
    config_dir.mkdir(parents=True)
    downloads.mkdir()
    (config_dir / "qBittorrent.conf").write_text(
        "[LegalNotice]\nAccepted=true\n\n"
        "[BitTorrent]\nSession\\DHTEnabled=false\nSession\\LSDEnabled=false\n"
        "Session\\PeXEnabled=false\n"
        f"Session\\Port={peer_port}\nSession\\DefaultSavePath={downloads}\n\n"
        "[Preferences]\nWebUI\\Address=127.0.0.1\n"
        f"WebUI\\Port={port}\nWebUI\\LocalHostAuth=true\nWebUI\\HostHeaderValidation=false\n"
        "Connection\\UPnP=false\n"
    )
    log: list[str] = []
    # qbittorrent-nox block-buffers stdout into a pipe: line-buffer it so the
    # readiness line arrives when it is printed (stdbuf is in coreutils).
    command = ["stdbuf", "-oL", binary, f"--profile={profile}", f"--webui-port={port}"]
    with _running(command, "To control qBittorrent", log):
        yield Daemon(url=f"http://127.0.0.1:{port}", download_dir=downloads)


@contextmanager
def transmission(tmp_path: Path) -> Iterator[Daemon]:
    """transmission-daemon on 127.0.0.1 with a fresh config dir and RPC authentication."""
    binary = require_binary("transmission-daemon")
    port, peer_port = free_port(), free_port()
    config_dir, downloads = tmp_path / "transmission-config", tmp_path / "transmission-downloads"
    config_dir.mkdir()
    downloads.mkdir()
    command = [
        binary,
        "--foreground",
        f"--config-dir={config_dir}",
        f"--download-dir={downloads}",
        f"--port={port}",
        "--rpc-bind-address=127.0.0.1",
        f"--peerport={peer_port}",
        "--auth",
        f"--username={TRANSMISSION_USERNAME}",
        f"--password={TRANSMISSION_PASSWORD}",
        "--no-dht",
        "--no-lpd",
        "--no-portmap",
        # Debug level: "Started listening" is logged once the RPC socket is bound.
        "--log-debug",
    ]
    log: list[str] = []
    with _running(command, "Started listening", log):
        yield Daemon(url=f"http://127.0.0.1:{port}/transmission/rpc", download_dir=downloads)


@dataclass
class FakeRTorrent:
    """What a fake rTorrent XML-RPC endpoint was asked, and what it holds."""

    url: str = ""
    hashes: list[str] = field(default_factory=list)
    loads: list[tuple] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)


@contextmanager
def fake_rtorrent(username: str, password: str) -> Iterator[FakeRTorrent]:
    """rTorrent's XML-RPC methods tsundoku calls, served by the standard library on 127.0.0.1.

    A stand-in, not rTorrent: Debian's rtorrent speaks XML-RPC over SCGI only,
    behind a web server. It checks HTTP basic auth like ruTorrent's web server.
    """
    fake = FakeRTorrent()
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    class Handler(SimpleXMLRPCRequestHandler):
        rpc_paths = ("/RPC2",)

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            fake.authorizations.append(self.headers.get("Authorization", ""))
            if self.headers.get("Authorization") != expected:
                self.send_error(401, "Unauthorized")
                return False
            return True

        def log_message(self, format: str, *args) -> None:
            """Quiet."""

    server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, logRequests=False)

    def load_start(target: str, source: str, *commands: str) -> int:
        fake.loads.append((target, source, *commands))
        fake.hashes.append(source.split("btih:")[1][:40].upper())
        return 0

    server.register_function(lambda: list(fake.hashes), "download_list")
    server.register_function(load_start, "load.start")
    server.register_function(lambda: "0.9.8", "system.client_version")
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/RPC2"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
