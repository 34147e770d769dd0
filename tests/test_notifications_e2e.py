"""Notifications end to end: real polls, a real Apprise `json://` URL, a webhook on 127.0.0.1."""

from __future__ import annotations

import dataclasses

import pytest
import responses

from feed.models import Release, Resolution
from feed.tasks import poll_source_task
from follows.models import FeedToken, Follow
from notifications.models import NotificationEvent, NotificationTarget
from notifications.tasks import digest_task
from tests.helpers import nyaa_rss
from tests.notification_helpers import json_webhook
from tsundoku.config import SourceConfig

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

FEED_URL = "https://nyaa.test/?page=rss&c=3_1"


@pytest.fixture
def polls(tsundoku_config, settings, monkeypatch):
    """One configured source whose feed `responses` serves; the queued digest runs inline."""
    source = SourceConfig(kind="nyaa", name="nyaa-test", feed_url=FEED_URL, cron=None, enabled=True)
    settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, sources=(source,))
    monkeypatch.setattr("notifications.tasks.async_task", lambda func, **options: digest_task())
    with responses.RequestsMock() as mocked:
        # Apprise's webhook call goes to the real server on loopback.
        mocked.add_passthru("http://127.0.0.1")
        yield mocked


def serve_feed(mocked: responses.RequestsMock, *items: tuple[str, str]) -> None:
    """Every poll of the source reads this document."""
    mocked.get(FEED_URL, body=nyaa_rss(*items))


def atom_entries(client, user) -> int:
    token = FeedToken.objects.get_or_create(user=user)[0].token
    return client.get(f"/feeds/{token}/wanted.atom").content.count(b"<entry>")


def test_a_poll_with_a_followed_release_sends_one_digest_and_a_second_poll_none(
    polls, client, tsundoku_config, make_series, staff_user
):
    series = make_series("Sakura Trick", release_count=0)
    Follow.objects.create(user=staff_user, series=series)
    with json_webhook() as webhook:
        tsundoku_config(notifications={"urls": [webhook.apprise_url]})
        digest_task()  # the digest has looked once: history is not news
        serve_feed(polls, ("1706640", "[Lazy Lily] Sakura Trick Volume 03.zip"))
        entries_before = atom_entries(client, staff_user)

        poll_source_task("nyaa-test")
        assert Release.objects.get().resolution == Resolution.RESOLVED
        after_first = list(webhook.received)
        entries_after_first = atom_entries(client, staff_user)
        poll_source_task("nyaa-test")
        after_second = list(webhook.received)
        entries_after_second = atom_entries(client, staff_user)

    assert (entries_before, entries_after_first, entries_after_second) == (0, 1, 1)
    assert len(after_first) == 1
    (message,) = after_first
    assert message["title"] == "tsundoku: 1 new event"
    assert (
        "New release: [Lazy Lily] Sakura Trick Volume 03.zip — Sakura Trick" in message["message"]
    )
    assert webhook.paths == ["/hook"]
    assert after_second == after_first
    assert NotificationEvent.objects.count() == 1


def test_events_are_sent_once_across_a_restart(polls, tsundoku_config, make_series, staff_user):
    series = make_series("Sakura Trick")
    Follow.objects.create(user=staff_user, series=series)
    with json_webhook() as webhook:
        tsundoku_config(notifications={"urls": [webhook.apprise_url]})
        digest_task()
        serve_feed(polls, ("1706640", "[Lazy Lily] Sakura Trick Volume 03.zip"))
        poll_source_task("nyaa-test")
        # A restart forgets everything in memory; only the database remains.
        digest_task()
        digest_task()

    assert len(webhook.received) == 1


def test_a_reader_follow_is_not_the_operators_news(
    polls, tsundoku_config, make_series, django_user_model
):
    reader = django_user_model.objects.create_user("reader", password="pw-reader-1")
    Follow.objects.create(user=reader, series=make_series("Sakura Trick"))
    with json_webhook() as webhook:
        tsundoku_config(notifications={"urls": [webhook.apprise_url]})
        digest_task()
        serve_feed(polls, ("1706640", "[Lazy Lily] Sakura Trick Volume 03.zip"))
        poll_source_task("nyaa-test")

    assert webhook.received == []


def test_a_failing_target_backs_off_keeps_its_events_and_delivers_them_later(
    polls, tsundoku_config, make_series, staff_user
):
    series = make_series("Sakura Trick")
    Follow.objects.create(user=staff_user, series=series)
    with json_webhook() as webhook:
        tsundoku_config(notifications={"urls": [webhook.apprise_url], "retry_base_seconds": 60})
        digest_task()
        webhook.fail_with = 500
        serve_feed(polls, ("1706640", "[Lazy Lily] Sakura Trick Volume 03.zip"))

        summary = poll_source_task("nyaa-test")

        target = NotificationTarget.objects.get()
        assert summary["new"] == 1  # the poll itself went through
        assert target.failures == 1 and target.last_error
        first_wait = target.next_attempt_at - target.last_attempt_at
        assert first_wait.total_seconds() == 60
        assert webhook.received == []

        # Before the wait is over nothing is tried; after it, the digest arrives whole.
        webhook.fail_with = None
        digest_task()
        assert webhook.received == []
        NotificationTarget.objects.update(next_attempt_at=target.last_attempt_at)
        digest_task()

    assert len(webhook.received) == 1
    assert "Sakura Trick Volume 03" in webhook.received[0]["message"]
    target.refresh_from_db()
    assert (target.failures, target.last_error, target.next_attempt_at) == (0, "", None)
