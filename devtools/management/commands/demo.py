"""`manage.py demo` (what `make run` runs): the demo, every process started and stopped as one.

    python manage.py demo [--host 127.0.0.1] [--port 8000] [--codex-port 8081]

Checks both ports before anything starts (a busy port is one clear error,
not a demo quietly syncing against another instance's simulator), loads the
demo data, starts the Codex simulator on `--codex-port` and points the
demo's Codex URL at it, sweeps once, then runs the worker and the web
server; and, when Debian's transmission-daemon is installed, a local one on
`--torrent-port` for the Wanted page's Send. Ctrl-C stops all of them
(`tsundoku.processes.Supervisor`).
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tsundoku.processes import PortBusy, Supervisor, check_port_free

DEMO_LIBRARY = "fixtures/codex_demo_library.json"
DEMO_CODEX_KEY = "demo-codex-key"


class Command(BaseCommand):
    help = "Run the demo: Codex simulator, worker and web server; Ctrl-C stops them all."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--codex-port", type=int, default=8081)
        parser.add_argument("--torrent-port", type=int, default=9091)

    def handle(self, *args, **options) -> None:
        host, port, codex_port = options["host"], options["port"], options["codex_port"]
        torrent_port = options["torrent_port"]
        transmission = shutil.which("transmission-daemon")
        if len({port, codex_port, torrent_port}) < 3:
            raise CommandError("--port, --codex-port and --torrent-port must differ")
        try:
            check_port_free(host, port, "tsundoku (PORT)")
            check_port_free("127.0.0.1", codex_port, "the demo Codex simulator (CODEX_PORT)")
            if transmission:
                check_port_free("127.0.0.1", torrent_port, "the demo transmission-daemon")
        except PortBusy as exc:
            raise CommandError(str(exc)) from None
        codex_url = f"http://127.0.0.1:{codex_port}"
        # The children read the configuration afresh: the demo's Codex is where we start it.
        env = {
            **os.environ,
            "TSUNDOKU_CODEX__BASE_URL": codex_url,
            "TSUNDOKU_TORRENTS__URL": f"http://127.0.0.1:{torrent_port}/transmission/rpc",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo")
        call_command("setup_schedules")
        supervisor = Supervisor(grace_seconds=10)
        supervisor.handle_signals()
        try:
            supervisor.start(
                "Codex simulator",
                [
                    *manage,
                    "codex_simulator",
                    "--library",
                    str(settings.BASE_DIR / DEMO_LIBRARY),
                    "--port",
                    str(codex_port),
                    "--api-key",
                    DEMO_CODEX_KEY,
                ],
                env,
            )
            if transmission:
                self._start_transmission(supervisor, transmission, torrent_port)
            self._wait_for(codex_url, supervisor)
            sweep = supervisor.start("first sweep", [*manage, "codex_sync"], env)
            sweep.wait()
            supervisor.children.remove(("first sweep", sweep))
            supervisor.start("worker", [*manage, "qcluster"], env)
            supervisor.start(
                "web server", [*manage, "runserver", "--noreload", f"{host}:{port}"], env
            )
            self.stdout.write(
                f"\n  tsundoku demo: http://{host}:{port}/   (admin login: demo / demo-password)\n"
                f"  demo Codex: {codex_url}   Ctrl-C stops everything.\n"
            )
            self.stdout.flush()
            ended = supervisor.wait()
        finally:
            supervisor.stop_all()
        if ended is not None:
            raise CommandError(f"the {ended} stopped; stopped the rest of the demo")

    def _start_transmission(self, supervisor: Supervisor, binary: str, port: int) -> None:
        """A throwaway transmission-daemon under the demo's data dir, paused, no peers."""
        home = settings.DATA_DIR / "transmission"
        (home / "downloads").mkdir(parents=True, exist_ok=True)
        supervisor.start(
            "transmission-daemon",
            [
                binary,
                "--foreground",
                "--config-dir",
                str(home),
                "--port",
                str(port),
                "--rpc-bind-address",
                "127.0.0.1",
                "--no-auth",
                "--download-dir",
                str(home / "downloads"),
                "--no-dht",
                "--no-lpd",
                "--no-portmap",
                "--paused",
                "--log-error",
            ],
        )

    def _wait_for(self, codex_url: str, supervisor: Supervisor) -> None:
        """Until the simulator answers (or exits, or Ctrl-C)."""
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{codex_url}/api/v1/info", timeout=1).close()
                return
            except OSError:
                if supervisor.stopping:
                    raise CommandError("stopped before the demo started") from None
                if supervisor.exited() is not None:
                    raise CommandError("the Codex simulator did not start") from None
                supervisor._stop.wait(0.1)
        raise CommandError("the Codex simulator did not answer within 10 s")
