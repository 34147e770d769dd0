"""What becomes a notification event, each recorded once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from codex_sync.models import CodexLink, SyncOutcome, SyncRun
from feed.models import Release, Resolution, SourceState
from follows.models import Follow
from metadata.models import DumpRefresh, RefreshOutcome
from notifications.events import collect_events
from notifications.models import EventKind, NotificationEvent

pytestmark = pytest.mark.django_db


def add_release(series, title: str, **fields) -> Release:
    defaults = {"resolution": Resolution.RESOLVED}
    return Release.objects.create(
        series=series,
        external_id=str(Release.objects.count() + 7000),
        source_name="nyaa",
        title=title,
        **{**defaults, **fields},
    )


def test_the_first_look_starts_from_now(make_series, staff_user):
    series = make_series("Berserk")
    Follow.objects.create(user=staff_user, series=series)
    add_release(series, "Berserk v41")

    assert collect_events().releases == 0
    add_release(series, "Berserk v42")
    assert collect_events().releases == 1
    assert collect_events().releases == 0
    assert list(NotificationEvent.objects.values_list("title", flat=True)) == ["Berserk v42"]


def test_a_behind_series_release_says_what_it_fills(make_series):
    series = make_series("One Piece", volume_coverage=[[1, 111]], highest_volume=111)
    CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=108)
    collect_events()

    add_release(series, "One Piece v109-111", volume_spans=[[109, 111]])
    collect_events()

    event = NotificationEvent.objects.get()
    assert (event.kind, event.detail) == (EventKind.RELEASE, "One Piece · fills vol. 109–111")


def test_unwanted_unresolved_and_tracking_off_releases_are_not_news(make_series, staff_user):
    ignored = make_series("Muted", volume_coverage=[[1, 9]], highest_volume=9)
    ignored.ignore_completion = True
    ignored.save()
    CodexLink.objects.create(series=ignored, codex_series_uuid=uuid.uuid4(), local_max_volume=1)
    plain = make_series("Nobody follows this")
    collect_events()

    add_release(ignored, "Muted v09")
    add_release(plain, "Plain v01")
    add_release(None, "Unknown v01", resolution=Resolution.UNRESOLVED)

    assert collect_events().releases == 0


def sweep(outcome: str, minutes_ago: int, error: str = "") -> SyncRun:
    return SyncRun.objects.create(
        trigger="cron",
        outcome=outcome,
        started_at=timezone.now() - timedelta(minutes=minutes_ago),
        error=error,
    )


def test_a_refused_codex_key_is_one_event_until_a_sweep_succeeds(db):
    sweep(SyncOutcome.SUCCESS, 30)
    sweep(SyncOutcome.AUTH_FAILED, 20, "Codex rejected the API key (401)")
    assert collect_events().codex_auth == 1
    sweep(SyncOutcome.AUTH_FAILED, 10)
    assert collect_events().codex_auth == 0

    sweep(SyncOutcome.SUCCESS, 5)
    assert collect_events().codex_auth == 0
    sweep(SyncOutcome.AUTH_FAILED, 1)
    assert collect_events().codex_auth == 1
    assert NotificationEvent.objects.filter(kind=EventKind.CODEX_AUTH).count() == 2


def poll(state: SourceState, error: str, minutes: int) -> None:
    state.last_polled_at = timezone.now() + timedelta(minutes=minutes)
    state.last_error = error
    state.save()
    collect_events()


def test_a_source_is_reported_once_when_it_fails_three_polls_in_a_row(tsundoku_config):
    tsundoku_config(notifications={"source_failures": 3})
    state = SourceState.objects.create(name="nyaa-en")

    poll(state, "HTTP 503", 1)
    poll(state, "HTTP 503", 2)
    assert not NotificationEvent.objects.exists()
    poll(state, "HTTP 503", 3)
    poll(state, "HTTP 503", 4)
    assert NotificationEvent.objects.filter(kind=EventKind.SOURCE_FAILING).count() == 1
    event = NotificationEvent.objects.get()
    assert event.title == "Release source nyaa-en failed 3 polls in a row"
    assert event.detail == "HTTP 503"

    poll(state, "", 5)  # a success ends the streak
    for minutes in (6, 7, 8):
        poll(state, "timeout", minutes)
    assert NotificationEvent.objects.filter(kind=EventKind.SOURCE_FAILING).count() == 2


def test_a_failed_metadata_refresh_is_one_event(db):
    DumpRefresh.objects.create(provider="mangabaka", outcome=RefreshOutcome.FAILED, error="bad gz")
    DumpRefresh.objects.create(provider="mangabaka", outcome=RefreshOutcome.SUCCEEDED)

    assert collect_events().metadata == 1
    assert collect_events().metadata == 0
    assert NotificationEvent.objects.get().detail == "bad gz"


def test_an_event_detail_never_carries_a_secret(tsundoku_config, db):
    tsundoku_config(codex={"api_key": "codex-key-in-an-error-77"})
    sweep(SyncOutcome.AUTH_FAILED, 1, "Codex said: bad key codex-key-in-an-error-77")

    collect_events()

    assert "codex-key-in-an-error-77" not in NotificationEvent.objects.get().detail
