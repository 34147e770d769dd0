"""The demo, end to end: `load_demo`, the demo Codex library served by the simulator
over a real socket, a real `codex_sync` sweep — and every status the fixtures'
README promises shows up, so `make run` demonstrates the whole overlay.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from codex_sync.overlay import describe_gap, gap_of, with_codex
from devtools.codex_simulator import SimulatorServer, load_library
from feed.models import Series

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO_KEY = "demo-codex-key"


def promised_statuses() -> dict[str, str]:
    """Title → status from the table in fixtures/README.md."""
    rows = re.findall(
        r"^\| ([^|]+?) \| [^|]+ \| `[0-9a-f-]{36}` \|.*\| \*\*(\w+)\*\*",
        (FIXTURES / "README.md").read_text(),
        flags=re.MULTILINE,
    )
    return dict(rows)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_demo_shows_every_codex_status_as_its_readme_says(tsundoku_config, client):
    promised = promised_statuses()
    assert len(promised) == 30  # every linked demo series is in the table
    assert set(promised.values()) == {"complete", "behind", "present", "ignored"}
    library = load_library(FIXTURES / "codex_demo_library.json")
    with SimulatorServer(library=library, api_key=DEMO_KEY) as codex:
        tsundoku_config(codex={"base_url": codex.base_url, "api_key": DEMO_KEY})
        call_command("load_demo", stdout=io.StringIO())
        out = io.StringIO()
        call_command("codex_sync", stdout=out)
    assert "Codex sweep success" in out.getvalue()
    actual = dict(
        with_codex(Series.objects.filter(canonical_title__in=promised)).values_list(
            "canonical_title", "codex_status"
        )
    )
    assert actual == promised
    one_piece = Series.objects.select_related("codex_link").get(canonical_title="One Piece")
    assert describe_gap(gap_of(one_piece)) == "vol. 109–111, ch. 1135–1176"

    # The Wanted page of the demo admin: One Piece with its gap, the omnibus that
    # fills it first and sendable (fixtures/demo.toml configures Transmission).
    tsundoku_config(torrents={"client": "transmission", "url": "http://127.0.0.1:9091"})
    client.login(username="demo", password="demo-password")
    wanted = client.get("/wanted/", {"page": 1}).content.decode()
    assert "Codex: up to vol. 108, ch. 1134 · surfaced since: vol. 109–111, ch. 1135–1176" in wanted
    one_piece_block = wanted.split(">One Piece</a></h2>", 1)[1].split(
        'data-testid="wanted-series"'
    )[0]
    assert one_piece_block.index("One Piece v001-111 + 1134-1176") < one_piece_block.index(
        'data-testid="send-button"'
    )
    assert "fills vol. 109–111, ch. 1135–1176" in one_piece_block
