"""The feed's django-q2 entry points and the function that queues a poll."""

from __future__ import annotations

import dataclasses

import pytest
import responses
from django_q.models import OrmQ

from feed.models import Release
from feed.polling import UnknownSource
from feed.tasks import enqueue_poll, poll_source_task, retry_pending_task
from tsundoku.config import SourceConfig

pytestmark = pytest.mark.django_db

FEED_URL = "https://nyaa.test/rss"


@pytest.fixture
def one_source(settings):
    settings.TSUNDOKU = dataclasses.replace(
        settings.TSUNDOKU,
        sources=(SourceConfig("nyaa", "main", FEED_URL, "*/30 * * * *", True),),
    )


def test_enqueue_poll_queues_a_task_for_a_configured_source(one_source):
    task_id = enqueue_poll("main")

    assert task_id
    assert OrmQ.objects.count() == 1
    task = OrmQ.objects.get().task
    assert (task["func"], task["args"], task["name"]) == (
        "feed.tasks.poll_source_task",
        ("main",),
        "poll-source:main",
    )


def test_enqueue_poll_refuses_an_unknown_source(one_source):
    with pytest.raises(UnknownSource, match="configured sources: main"):
        enqueue_poll("elsewhere")
    assert not OrmQ.objects.exists()


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


def test_the_retry_task_returns_its_summary(make_series):
    result = retry_pending_task()

    assert result == {"examined": 0, "resolved": 0, "queued_for_review": 0, "unresolved": 0}
