"""`manage.py codex_sync`: one sweep now, a one-line summary, a telling exit status."""

from __future__ import annotations

import io
import logging
import re

import pytest
import responses
from django.core.management import CommandError, call_command

from codex_sync.lock import claim_lock
from codex_sync.management.commands.codex_sync import PageProgress
from codex_sync.models import CodexLink, SyncOutcome, SyncRun, SyncTrigger
from tests.helpers import CODEX_KEY

CODEX = "http://codex.test"
INFO_URL = f"{CODEX}/api/v1/info"
INDEX_URL = f"{CODEX}/api/v1/series/external-index"
SUMMARY = re.compile(
    r"^Codex sweep success: fetched 2, linked 1, new 1, removed 0, conflicts 0, "
    r"unmatched 1 in \d+\.\ds$"
)


def index_page(page: int, items: list[dict], *, total: int, total_pages: int) -> dict:
    return {
        "data": items,
        "page": page,
        "pageSize": 500,
        "total": total,
        "totalPages": total_pages,
        "links": {"self": "/", "first": "/", "last": "/"},
    }


def item(codex_uuid: str, *external_ids: tuple[str, str], volume: int | None = None) -> dict:
    return {
        "id": codex_uuid,
        "externalIds": [{"source": source, "externalId": value} for source, value in external_ids],
        "localMaxVolume": volume,
        "localMaxChapter": None,
        "volumesOwned": volume,
    }


@pytest.fixture(autouse=True)
def no_log_leak(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    assert CODEX_KEY not in caplog.text


def run_command(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("codex_sync", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@responses.activate
def test_a_successful_sweep_prints_its_summary(make_series):
    series = make_series("Berserk", anilist="30002", highest_volume=41)
    responses.get(INFO_URL, json={"version": "1.32.0", "name": "codex"})
    responses.get(
        INDEX_URL,
        json=index_page(
            1,
            [
                item("550e8400-e29b-41d4-a716-446655440002", ("api:anilist", "30002"), volume=40),
                item("550e8400-e29b-41d4-a716-446655440099"),
            ],
            total=2,
            total_pages=1,
        ),
    )

    stdout, stderr = run_command()

    assert SUMMARY.match(stdout.strip()), stdout
    # No terminal, no progress bar.
    assert stderr == ""
    assert CodexLink.objects.get(series=series).local_max_volume == 40
    run = SyncRun.objects.get()
    assert (run.trigger, run.outcome) == (SyncTrigger.MANUAL, SyncOutcome.SUCCESS)
    index_call = responses.calls[1]
    assert index_call.request.headers["X-API-Key"] == CODEX_KEY
    assert index_call.request.params == {"page": "1", "pageSize": "500"}
    assert CODEX_KEY not in stdout + stderr


@responses.activate
def test_a_rejected_key_exits_non_zero_with_the_reason(db):
    responses.get(INFO_URL, json={"version": "1.32.0", "name": "codex"})
    responses.get(
        INDEX_URL, status=401, json={"error": "unauthorized", "message": "Invalid API key"}
    )
    stdout = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("codex_sync", stdout=stdout)

    message = str(raised.value)
    assert message.startswith("Codex sweep did not succeed (auth_failed): API key rejected (401)")
    assert "Invalid API key" in message
    assert stdout.getvalue().startswith("Codex sweep auth_failed: fetched 0")
    assert CODEX_KEY not in message + stdout.getvalue()
    assert SyncRun.objects.get().outcome == SyncOutcome.AUTH_FAILED


@responses.activate
def test_an_unreachable_codex_exits_non_zero(db):
    responses.get(INFO_URL, status=404, body="not here")

    with pytest.raises(CommandError, match=r"\(preflight_failed\)"):
        run_command()

    assert len(responses.calls) == 1


def test_a_sweep_already_running_is_reported_as_skipped(db):
    claim_lock()

    with pytest.raises(CommandError, match="skipped: another sweep is running"):
        run_command()

    assert not SyncRun.objects.exists()


def test_a_disabled_integration_exits_non_zero(db, tsundoku_config):
    tsundoku_config(codex={"enabled": False})

    with pytest.raises(CommandError, match="disabled"):
        run_command()

    assert not SyncRun.objects.exists()


def test_the_progress_bar_follows_pages_on_a_terminal(monkeypatch):
    drawn = io.StringIO()
    monkeypatch.setattr("sys.stderr", drawn)
    progress = PageProgress(enabled=True)

    for page in (1, 2, 3):
        progress(page, 3)
    progress.close()

    assert progress.bar is not None
    assert (progress.bar.n, progress.bar.total) == (3, 3)
    assert "3/3" in drawn.getvalue()


def test_no_progress_bar_when_nobody_watches(monkeypatch):
    drawn = io.StringIO()
    monkeypatch.setattr("sys.stderr", drawn)
    progress = PageProgress(enabled=False)

    progress(1, 3)
    progress.close()

    assert progress.bar is None
    assert drawn.getvalue() == ""


@responses.activate
def test_a_held_back_sweep_exits_non_zero_and_apply_anyway_applies_it(make_series):
    series = make_series("Berserk", anilist="30002")
    responses.get(INFO_URL, json={"version": "1.32.0", "name": "codex"})
    linked = index_page(
        1,
        [item("550e8400-e29b-41d4-a716-446655440002", ("api:anilist", "30002"))],
        total=1,
        total_pages=1,
    )
    responses.get(INDEX_URL, json=linked)
    run_command()
    assert CodexLink.objects.filter(series=series).exists()
    responses.replace(responses.GET, INDEX_URL, json=index_page(1, [], total=0, total_pages=1))

    with pytest.raises(CommandError, match=r"held_back.*--apply-anyway"):
        run_command()
    assert CodexLink.objects.filter(series=series).exists()

    stdout, _stderr = run_command("--apply-anyway")

    assert "removed 1" in stdout
    assert not CodexLink.objects.exists()
