"""`build_mangabaka_dump` writes real-schema dumps; `refresh_metadata` fails loudly on a bad one."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from metadata.mangabaka.store import REQUIRED_COLUMNS
from tests.mangabaka_helpers import fixture

REPO = Path(__file__).resolve().parent.parent


def extract(archive: Path, tmp_path: Path) -> Path:
    with tarfile.open(archive) as tar:
        member = tar.getmembers()[0]
        assert member.name == "series.sqlite" and member.isreg()
        target = tmp_path / "out.sqlite"
        target.write_bytes(tar.extractfile(member).read())
    return target


def test_synthetic_rows_are_written_in_the_real_schema(tmp_path):
    archive = tmp_path / "dump.tar.gz"
    call_command("build_mangabaka_dump", "--rows", "300", "--out", str(archive))

    database = extract(archive, tmp_path)
    with sqlite3.connect(database) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(series)")}
        states = dict(connection.execute("SELECT state, COUNT(*) FROM series GROUP BY state"))
        (titles, volume) = connection.execute(
            "SELECT titles, final_volume FROM series WHERE final_volume IS NOT NULL LIMIT 1"
        ).fetchone()
    assert set(REQUIRED_COLUMNS) | {"merged_with", "secondary_titles_en", "links"} <= columns
    assert states["active"] > 250 and states.get("merged", 0) > 0
    assert isinstance(json.loads(titles), list) and isinstance(volume, str)
    sidecar = Path(f"{archive}.sha1").read_text().split()
    assert sidecar[1] == "dump.tar.gz" and len(sidecar[0]) == 40


def test_rows_from_json_keep_their_values(tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([fixture("dump-row-1677.json")]))
    archive = tmp_path / "demo.tar.gz"
    call_command("build_mangabaka_dump", "--from-json", str(rows), "--out", str(archive))
    with sqlite3.connect(extract(archive, tmp_path)) as connection:
        connection.row_factory = sqlite3.Row
        stored = dict(connection.execute("SELECT * FROM series").fetchone())
    assert stored["title"] == "Chainsaw Man" and stored["source_manga_updates_id"] == "ylx5wzn"
    assert json.loads(stored["genres"]) == ["Action", "Horror"]


def test_bad_json_rows_are_refused_clearly(tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"id": 1, "title": "x", "titel": "typo"}]))
    with pytest.raises(CommandError, match=r"unknown dump column.*titel"):
        call_command("build_mangabaka_dump", "--from-json", str(rows), "--out", str(tmp_path / "o"))
    rows.write_text('{"not": "a list"}')
    with pytest.raises(CommandError, match="expected a JSON list"):
        call_command("build_mangabaka_dump", "--from-json", str(rows), "--out", str(tmp_path / "o"))


def test_refresh_metadata_exits_non_zero_with_one_line_on_a_bad_dump(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not an archive")
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["TSUNDOKU_STORAGE__DATA_DIR"] = str(tmp_path / "data")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=REPO,
        env=environment,
        check=True,
        timeout=120,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "refresh_metadata", "--file", str(bad)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    # (The test config's Codex URL draws a system-check warning first.)
    assert result.stderr.strip().splitlines()[-1] == (
        "CommandError: MangaBaka dump not installed: not a valid tar.gz archive (ReadError)"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "metadata" / "mangabaka" / "series.sqlite").exists()
