"""`setup_schedules` turns configuration into django-q2 CRON schedules, idempotently."""

from __future__ import annotations

import dataclasses
import io

from django.core.management import call_command
from django_q.models import Schedule

from tsundoku.config import SourceConfig


def run() -> str:
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def schedules() -> dict[str, tuple[str, str]]:
    return {row.name: (row.func, row.cron) for row in Schedule.objects.all()}


def test_sync_cron_becomes_a_codex_sweep_schedule_and_sources_get_polls(db, settings):
    settings.TSUNDOKU = dataclasses.replace(
        settings.TSUNDOKU,
        codex={**settings.TSUNDOKU.codex, "sync_cron": "*/15 * * * *"},
        sources=(
            SourceConfig("nyaa", "lit", "https://nyaa.example/rss", "*/30 * * * *", True),
            SourceConfig("nyaa", "off", "https://nyaa.example/rss2", "0 * * * *", False),
        ),
    )
    output = run()
    assert schedules() == {
        "codex-sweep": ("codex_sync.tasks.scheduled_sweep", "*/15 * * * *"),
        "poll-source:lit": ("feed.tasks.poll_source_task", "*/30 * * * *"),
        "exports-cleanup": ("exports.tasks.cleanup_exports_task", "17 3 * * *"),
        "covers-prefetch": ("covers.tasks.prefetch_covers_task", "23 * * * *"),
    }
    assert "Codex sweep: codex-sweep [*/15 * * * *] — created 1" in output
    assert "unchanged 1" in run()  # a second boot changes nothing
    assert len(schedules()) == 4


def test_changing_the_cron_updates_the_row_and_removing_it_deletes_the_schedule(db, settings):
    codex = settings.TSUNDOKU.codex
    settings.TSUNDOKU = dataclasses.replace(
        settings.TSUNDOKU, codex={**codex, "sync_cron": "0 * * * *"}
    )
    run()
    settings.TSUNDOKU = dataclasses.replace(
        settings.TSUNDOKU, codex={**codex, "sync_cron": "30 4 * * *"}
    )
    assert "updated 1" in run()
    row = Schedule.objects.get(name="codex-sweep")
    assert row.cron == "30 4 * * *"
    assert (row.next_run.hour, row.next_run.minute) == (4, 30)  # recomputed, not the old slot
    settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, codex={**codex, "sync_cron": None})
    assert "removed 1" in run()
    assert not Schedule.objects.filter(name="codex-sweep").exists()


def test_the_mangabaka_refresh_cron_becomes_a_schedule(db, settings):
    providers = dict(settings.TSUNDOKU.providers)
    providers["mangabaka"] = {**providers["mangabaka"], "refresh_cron": "30 3 * * *"}
    settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, providers=providers)
    output = run()
    assert schedules()["metadata-refresh:mangabaka"] == (
        "metadata.tasks.scheduled_refresh",
        "30 3 * * *",
    )
    assert "metadata dump refresh: metadata-refresh:mangabaka [30 3 * * *] — created 1" in output
    providers["mangabaka"] = {**providers["mangabaka"], "refresh_cron": None}
    settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, providers=providers)
    assert "removed 1" in run()
    assert "metadata-refresh:mangabaka" not in schedules()
