"""Run a few long-lived child processes as one: start them, and stop every one together.

Used by `manage.py serve` (gunicorn + the django-q worker, production) and
`manage.py demo` (simulator + worker + runserver). Whichever way it ends —
Ctrl-C, SIGTERM from systemd, or one child dying — every child is sent
SIGTERM, given a grace period, then killed, and waited for: no orphan keeps
a port or the database busy.
"""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

GRACE_SECONDS = 20.0


class PortBusy(Exception):
    """A port tsundoku needs is taken: say which, before anything starts."""


def check_port_free(host: str, port: int, what: str) -> None:
    """Raise `PortBusy` naming `what` if `host:port` cannot be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves bind: a port left in TIME_WAIT by the last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in {errno.EADDRINUSE, errno.EACCES}:
                raise PortBusy(
                    f"{what}: port {port} on {host} is already in use "
                    f"(another tsundoku, or another program). Pick another port "
                    f"or stop what is using it."
                ) from None
            raise


@dataclass
class Supervisor:
    """Children started in order; `wait()` returns when one exits or a stop is asked for."""

    grace_seconds: float = GRACE_SECONDS
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(
        self, name: str, command: Sequence[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen:
        # Own process group: a terminal's Ctrl-C reaches only us, and we stop
        # the children in order instead of all at once.
        process = subprocess.Popen(list(command), env=env, start_new_session=True)
        self.children.append((name, process))
        return process

    def handle_signals(self) -> None:
        """SIGINT and SIGTERM ask for a stop (main thread only)."""
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: self._stop.set())

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def exited(self) -> str | None:
        """The name of a child that has exited, if any."""
        for name, process in self.children:
            if process.poll() is not None:
                return name
        return None

    def wait(self, poll_seconds: float = 0.5) -> str | None:
        """Block until a stop is asked for (None) or a child exits (its name)."""
        while not self._stop.is_set():
            if (name := self.exited()) is not None:
                return name
            self._stop.wait(poll_seconds)
        return None

    def stop_all(self) -> None:
        """SIGTERM every child (last started first), then SIGKILL what outlives the grace."""
        for _name, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.children):
            try:
                process.wait(timeout=self.grace_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
