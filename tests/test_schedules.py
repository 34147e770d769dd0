"""Applying django-q2 CRON schedules idempotently, and the feed's one schedule per source."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from croniter import croniter
from django.utils import timezone
from django_q.models import Schedule

from feed.schedules import source_schedules
from tsundoku.config import SourceConfig
from tsundoku.schedules import ScheduleSpec, apply_schedules

pytestmark = pytest.mark.django_db

PREFIX = "poll-source:"


def spec(name: str = "main", cron: str = "*/30 * * * *") -> ScheduleSpec:
    return ScheduleSpec(
        name=f"{PREFIX}{name}", func="feed.tasks.poll_source_task", args=(name,), cron=cron
    )


def test_applying_creates_cron_schedules_that_repeat_forever():
    counts = apply_schedules([spec("a"), spec("b")], PREFIX)

    assert counts == {"created": 2, "updated": 0, "removed": 0, "unchanged": 0}
    row = Schedule.objects.get(name="poll-source:a")
    assert (row.func, row.args, row.cron) == (
        "feed.tasks.poll_source_task",
        "('a',)",
        "*/30 * * * *",
    )
    assert (row.schedule_type, row.repeats) == (Schedule.CRON, -1)
    assert row.next_run > timezone.now()


def test_applying_twice_changes_nothing():
    apply_schedules([spec()], PREFIX)
    before = list(Schedule.objects.values())

    counts = apply_schedules([spec()], PREFIX)

    assert counts == {"created": 0, "updated": 0, "removed": 0, "unchanged": 1}
    assert list(Schedule.objects.values()) == before


def test_changing_the_cron_recomputes_next_run():
    apply_schedules([spec(cron="0 3 * * *")], PREFIX)

    counts = apply_schedules([spec(cron="*/5 * * * *")], PREFIX)

    assert counts["updated"] == 1
    row = Schedule.objects.get()
    assert row.cron == "*/5 * * * *"
    expected = croniter("*/5 * * * *", timezone.localtime()).get_next(datetime)
    assert abs((row.next_run - expected).total_seconds()) < 60


def test_schedules_no_longer_wanted_are_removed_and_others_left_alone():
    apply_schedules([spec("a"), spec("b")], PREFIX)
    Schedule.objects.create(
        name="codex-sweep", func="x.y", schedule_type=Schedule.CRON, cron="* * * * *"
    )

    counts = apply_schedules([spec("a")], PREFIX)

    assert counts["removed"] == 1
    assert set(Schedule.objects.values_list("name", flat=True)) == {"poll-source:a", "codex-sweep"}


def test_duplicate_rows_of_one_name_are_collapsed_to_one():
    apply_schedules([spec()], PREFIX)
    Schedule.objects.create(name="poll-source:main", func="stale", schedule_type=Schedule.ONCE)

    counts = apply_schedules([spec()], PREFIX)

    assert counts == {"created": 0, "updated": 0, "removed": 1, "unchanged": 1}
    assert Schedule.objects.get().func == "feed.tasks.poll_source_task"


def test_a_spec_outside_the_prefix_is_refused():
    with pytest.raises(ValueError, match="does not start with"):
        apply_schedules([ScheduleSpec("other", "f", (), "* * * * *")], PREFIX)


def test_each_enabled_source_with_a_cron_gets_a_poll_schedule(settings):
    settings.TSUNDOKU = dataclasses.replace(
        settings.TSUNDOKU,
        sources=(
            SourceConfig("nyaa", "hourly", "https://nyaa.si/?page=rss", "0 * * * *", True),
            SourceConfig("nyaa", "manual-only", "https://nyaa.si/?page=rss", None, True),
            SourceConfig("nyaa", "paused", "https://nyaa.si/?page=rss", "0 * * * *", False),
        ),
    )

    assert source_schedules() == [
        ScheduleSpec("poll-source:hourly", "feed.tasks.poll_source_task", ("hourly",), "0 * * * *")
    ]
