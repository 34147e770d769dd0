"""`manage.py serve`: tsundoku for real — gunicorn (web) and the django-q worker, as one service.

    python manage.py serve [--bind 127.0.0.1:8000] [--workers N] [--timeout 60]

Migrates first (a no-op when up to date), then runs both processes and stops
both together on Ctrl-C or SIGTERM (systemd's stop), or when either dies —
so a supervisor restarting this one command restarts the whole service.
`deploy/tsundoku.service` is a systemd unit that runs it.
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tsundoku.processes import PortBusy, Supervisor, check_port_free

# Longer than SQLite's busy timeout (a write may wait that long for the lock),
# shorter than a person's patience; gunicorn kills a worker stuck past it.
DEFAULT_TIMEOUT = max(60, settings.SQLITE_BUSY_TIMEOUT_S * 3)


def default_workers() -> int:
    """2 × cores + 1 (gunicorn's rule), capped at 4: SQLite has one writer anyway."""
    return min(4, 2 * (os.cpu_count() or 1) + 1)


class Command(BaseCommand):
    help = "Run the web server (gunicorn) and the background worker together, for production."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on")
        parser.add_argument("--workers", type=int, default=default_workers())
        parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT)
        parser.add_argument("--no-migrate", action="store_true", help="skip `migrate`")
        parser.add_argument(
            "--no-worker", action="store_true", help="web only (a worker elsewhere)"
        )

    def handle(self, *args, **options) -> None:
        host, _, port = options["bind"].rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"--bind: expected host:port, got {options['bind']!r}")
        try:
            check_port_free(host, int(port), "web server")
        except PortBusy as exc:
            raise CommandError(str(exc)) from None
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        supervisor = Supervisor()
        supervisor.handle_signals()
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "tsundoku.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--timeout",
            str(options["timeout"]),
            "--graceful-timeout",
            "20",
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            "127.0.0.1,::1",
        ]
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        try:
            supervisor.start("web", web)
            if not options["no_worker"]:
                supervisor.start("worker", [*manage, "qcluster"])
            self.stdout.write(
                f"tsundoku serving on http://{options['bind']}/ "
                f"({options['workers']} web workers{'' if options['no_worker'] else ' + worker'})",
            )
            self.stdout.flush()
            ended = supervisor.wait()
        finally:
            supervisor.stop_all()
        if ended is not None:
            raise CommandError(f"the {ended} process exited; stopped the others")
