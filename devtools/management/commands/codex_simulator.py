"""`manage.py codex_simulator`: serve a fake Codex for development and end-to-end tests."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from devtools.codex_simulator import (
    DEFAULT_API_KEY,
    DEFAULT_VERSION,
    FAULT_MODES,
    SimulatorFaults,
    SimulatorServer,
    load_library,
)
from devtools.synthetic import generate_library
from tsundoku.config import CODEX_MAX_PAGE_SIZE


class Command(BaseCommand):
    help = (
        "Serve a Codex simulator (GET /api/v1/info and /api/v1/series/external-index) "
        "from a JSON library file until Ctrl-C. Faults can also be switched at runtime "
        "with POST /__sim__/faults; request counts are at GET /__sim__/stats."
    )

    # The simulator needs no database, models or settings checks.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: Any) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--library", metavar="FILE", help="JSON library file to serve")
        source.add_argument(
            "--generate",
            type=int,
            metavar="N",
            help="serve a synthetic library of N series instead (see devtools.synthetic)",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed for --generate")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the one valid X-API-Key")
        parser.add_argument(
            "--expired-key", action="append", default=[], help="a key answering 401 expired"
        )
        parser.add_argument(
            "--forbidden-key",
            action="append",
            default=[],
            help="a key answering 403 (no series read permission)",
        )
        parser.add_argument("--codex-version", default=DEFAULT_VERSION)
        parser.add_argument(
            "--rate-limit", type=float, metavar="N", help="requests per second per client IP"
        )
        parser.add_argument("--burst", type=int, metavar="B", help="token bucket size")
        parser.add_argument("--fault", choices=FAULT_MODES, default="none")
        parser.add_argument(
            "--fault-options",
            default="{}",
            metavar="JSON",
            help='extra fault settings, e.g. \'{"page": 3}\' or \'{"count": 2, "status": 503}\'',
        )
        parser.add_argument(
            "--shuffle-seed", type=int, help="make the externalIds shuffle reproducible"
        )
        parser.add_argument(
            "--prerender",
            type=int,
            nargs="?",
            const=CODEX_MAX_PAGE_SIZE,
            metavar="PAGE_SIZE",
            help=(
                "a fast Codex: render every page of this size (default "
                f"{CODEX_MAX_PAGE_SIZE}) once at start-up and serve it from memory"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["library"]:
                library = load_library(options["library"])
            else:
                library = generate_library(options["generate"], seed=options["seed"])
            fault_options = json.loads(options["fault_options"])
            if not isinstance(fault_options, dict):
                raise ValueError("--fault-options must be a JSON object")
            faults = SimulatorFaults.from_dict({**fault_options, "mode": options["fault"]})
            server = SimulatorServer(
                library,
                host=options["host"],
                port=options["port"],
                api_key=options["api_key"],
                expired_keys=options["expired_key"],
                forbidden_keys=options["forbidden_key"],
                version=options["codex_version"],
                rate_limit=options["rate_limit"],
                burst=options["burst"],
                faults=faults,
                shuffle_seed=options["shuffle_seed"],
                prerender_page_size=options["prerender"],
            )
        except (OSError, ValueError, TypeError) as exc:
            raise CommandError(str(exc)) from exc

        key_hint = (
            f"X-API-Key: {DEFAULT_API_KEY}"
            if options["api_key"] == DEFAULT_API_KEY
            else "X-API-Key: the value of --api-key"
        )
        self.stdout.write(
            f"Codex simulator serving {len(library)} series at {server.base_url} "
            f"({key_hint}; fault mode: {faults.mode}). Ctrl-C to stop."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Codex simulator stopped.")
