"""The feed's django-q2 entry point: polling a source by name."""

from __future__ import annotations

import dataclasses

import pytest
import responses

from feed.models import Release
from feed.tasks import poll_source_task
from tsundoku.config import SourceConfig

pytestmark = pytest.mark.django_db

FEED_URL = "https://nyaa.test/rss"


@pytest.fixture
def one_source(settings):
    settings.TSUNDOKU = dataclasses.replace(
        settings.TSUNDOKU,
        sources=(SourceConfig("nyaa", "main", FEED_URL, "*/30 * * * *", True, detail_pages=False),),
    )


@responses.activate
def test_the_poll_task_looks_the_source_up_by_name(one_source, nyaa_sample):
    responses.get(FEED_URL, body=nyaa_sample)

    result = poll_source_task("main")

    assert (result["fetched"], result["new"], result["error"]) == (75, 75, "")
    assert Release.objects.count() == 75


def test_the_poll_task_for_a_removed_source_reports_instead_of_raising(one_source, caplog):
    result = poll_source_task("gone")

    assert result == {"error": "unknown source 'gone' (configured sources: main)"}
    assert "setup_schedules" in caplog.text
