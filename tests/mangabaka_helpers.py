"""Helpers for the MangaBaka tests: reference fixtures, config, dumps, a local file server."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devtools import mangabaka_dump
from metadata.mangabaka.refresh import dump_path, prepare_dump
from metadata.providers import reset_provider

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mangabaka"
API = "https://api.mangabaka.org"
API_KEY = "mb-SECRET-key-4c1d9e"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def configure(settings, **values: Any) -> dict[str, Any]:
    """Change `[providers.mangabaka]` for one test (and drop the cached provider)."""
    current = settings.TSUNDOKU
    providers = dict(current.providers)
    providers["mangabaka"] = {**providers["mangabaka"], **values}
    settings.TSUNDOKU = dataclasses.replace(current, providers=providers)
    reset_provider()
    return providers["mangabaka"]


def row(series_id: int, title: str, **columns: Any) -> dict[str, Any]:
    """A minimal active dump row; `columns` override or add dump columns."""
    return {
        "id": series_id,
        "state": "active",
        "title": title,
        "type": "manga",
        "status": "releasing",
        "titles": [{"title": title, "language": "en", "traits": ["official"]}],
        **columns,
    }


def filler_rows(count: int, start: int = 100_000) -> list[dict[str, Any]]:
    """Unremarkable rows, to pass the minimum-row check."""
    return [row(start + index, f"Filler Volume {index}") for index in range(count)]


def install_dump(rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write, index and install a dump at the configured data dir, as a refresh would."""
    target = dump_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name("building.sqlite")
    mangabaka_dump.write_dump(scratch, rows)
    prepare_dump(scratch)
    scratch.replace(target)
    reset_provider()
    return target


def pack(tmp_path: Path, rows: Iterable[Mapping[str, Any]], name: str = "series.sqlite.tar.gz"):
    """A dump archive (+ .sha1) in `tmp_path`; returns the archive path."""
    sqlite_path = tmp_path / f"{name}.src.sqlite"
    mangabaka_dump.write_dump(sqlite_path, rows)
    archive = tmp_path / name
    mangabaka_dump.pack_dump(sqlite_path, archive)
    sqlite_path.unlink()
    return archive


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def file_server(directory: Path) -> Iterator[str]:
    """Serve `directory` over real HTTP on 127.0.0.1; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=directory))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
