"""`manage.py fetch_covers [--limit N]`: warming the cover cache by hand."""

from __future__ import annotations

import pytest
import responses
from django.core.management import call_command
from django.core.management.base import CommandError

from covers import storage
from tests.covers_helpers import tiny_png


@responses.activate
def test_limit_bounds_the_downloads(data_dir, make_series, capsys):
    for n in range(3):
        url = f"https://cdn.test/{n}.png"
        make_series(f"Series {n}", cover_url=url)
        responses.get(url, body=tiny_png())

    call_command("fetch_covers", "--limit", "2")

    assert len(responses.calls) == 2
    out = capsys.readouterr().out
    assert out.startswith("fetched 2, failed 0, already cached 0")
    assert "(stopped: reached the limit of 2 downloads)" in out

    call_command("fetch_covers")
    assert len(responses.calls) == 3
    assert "fetched 1, failed 0, already cached 2" in capsys.readouterr().out
    assert all(
        storage.image_path(storage.cover_key(f"https://cdn.test/{n}.png")).exists()
        for n in range(3)
    )


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_a_limit_that_is_not_a_positive_number_is_refused(db, limit):
    with pytest.raises(CommandError, match="--limit"):
        call_command("fetch_covers", "--limit", limit)


def test_with_covers_disabled_the_command_says_so(db, tsundoku_config):
    tsundoku_config(covers={"enabled": False})
    with pytest.raises(CommandError, match=r"covers\.enabled is false"):
        call_command("fetch_covers")
