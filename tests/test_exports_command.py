"""`manage.py export_catalog`: the same exports from the command line, as the admin."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from django.core.management import CommandError, call_command

from codex_sync.models import CodexLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(make_series):
    behind = make_series("Berserk", kind="manga", highest_volume=41.0)
    CodexLink.objects.create(series=behind, codex_series_uuid=uuid.uuid4(), local_max_volume=40)
    caught_up = make_series("Monster", kind="manga", highest_volume=9.0)
    CodexLink.objects.create(series=caught_up, codex_series_uuid=uuid.uuid4(), local_max_volume=9)
    make_series("Solo Leveling", kind="manhwa")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_catalog", *args, stdout=out)
    return out.getvalue()


def test_exports_what_is_behind_on_codex_as_csv_with_ownership_columns(library, tmp_path):
    target = tmp_path / "behind.csv"
    output = run(
        "--type=series",
        "--format=csv",
        "--fields=highestVolume,codexStatus,codexLocalMaxVolume",
        "--codex-status=behind",
        "-o",
        str(target),
    )
    assert output == f"Wrote 1 row to {target}.\n"
    with target.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == [
            {
                "canonicalTitle": "Berserk",
                "highestVolume": "41",
                "codexStatus": "behind",
                "codexLocalMaxVolume": "40",
            }
        ]
    assert not (tmp_path / "behind.csv.partial").exists()


def test_feed_filters_and_presets_apply(library, tmp_path):
    target = tmp_path / "manhwa.json"
    run("--kind=manhwa", "--preset=llm", "-o", str(target))
    (series,) = json.loads(target.read_text())["series"]
    assert series["canonicalTitle"] == "Solo Leveling"
    assert "id" not in series
    assert "codexStatus" in series


def test_unknown_fields_stop_the_command_naming_them(library, tmp_path):
    with pytest.raises(CommandError, match="Unknown field for a series export: colour"):
        run("--fields=year,colour", "-o", str(tmp_path / "x.json"))
    assert not any(tmp_path.iterdir())


def test_both_as_csv_is_refused(tmp_path):
    with pytest.raises(CommandError, match="CSV holds a single table"):
        run("--type=both", "--format=csv", "-o", str(tmp_path / "x.csv"))


def test_an_unwritable_target_is_a_clear_error(library, tmp_path):
    with pytest.raises(CommandError, match="Could not write"):
        run("-o", str(tmp_path / "missing-dir" / "x.json"))
