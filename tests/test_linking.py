"""The hand-link service: reading what the admin pasted, and what linking does to the rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from codex_sync.linking import (
    link_series,
    parse_codex_series_reference,
    set_ignore_completion,
    unlink_series,
)
from codex_sync.models import CodexLink, ConnectionStatus, LinkKind, UnmatchedCodexSeries
from feed.models import Series

CODEX_UUID = uuid.UUID("550e8400-e29b-41d4-a716-446655440002")


@pytest.mark.parametrize(
    "text",
    [
        "550e8400-e29b-41d4-a716-446655440002",
        "  550E8400-E29B-41D4-A716-446655440002\n",
        "550e8400e29b41d4a716446655440002",
        "https://codex.example/series/550e8400-e29b-41d4-a716-446655440002",
        "https://codex.example/series/550e8400-e29b-41d4-a716-446655440002/",
        "http://codex.example:8080/series/550e8400-e29b-41d4-a716-446655440002?tab=books#top",
        "https://home.example/codex/series/550E8400-E29B-41D4-A716-446655440002",
        "codex.example/series/550e8400-e29b-41d4-a716-446655440002",
    ],
)
def test_uuid_and_codex_series_urls_are_accepted(text):
    assert parse_codex_series_reference(text) == CODEX_UUID


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a Codex series URL"),
        ("   ", "Enter a Codex series URL"),
        ("not-a-uuid", "is not a Codex series URL"),
        ("550e8400-e29b-41d4-a716-44665544000", "is not a Codex series URL"),
        ("{550e8400-e29b-41d4-a716-446655440002}", "is not a Codex series URL"),
        ("https://codex.example/books/550e8400-e29b-41d4-a716-446655440002", "is not"),
        ("https://codex.example/series/", "is not a Codex series URL"),
        ("https://codex.example/series/berserk", "is not a Codex series URL"),
        ("ftp://codex.example/series/550e8400-e29b-41d4-a716-446655440002", "is not"),
        ("00000000-0000-0000-0000-000000000000", "nil UUID"),
        ("x" * 3000, "too long"),
    ],
)
def test_anything_else_is_rejected_with_a_message_for_the_admin(text, message):
    with pytest.raises(ValueError, match=message):
        parse_codex_series_reference(text)


def test_a_long_rejected_value_is_shortened_in_the_message():
    text = "https://codex.example/" + "a" * 200
    with pytest.raises(ValueError) as raised:
        parse_codex_series_reference(text)
    assert len(str(raised.value)) < 200


def test_linking_creates_a_manual_link_with_empty_counts_for_an_unseen_uuid(make_series):
    series = make_series("Berserk")

    link = link_series(series, CODEX_UUID)

    stored = CodexLink.objects.get(series=series)
    assert stored.pk == link.pk
    assert stored.codex_series_uuid == CODEX_UUID
    assert stored.link_kind == LinkKind.MANUAL
    assert (stored.local_max_volume, stored.local_max_chapter, stored.volumes_owned) == (
        None,
        None,
        None,
    )
    assert stored.synced_at is None


def test_linking_replaces_an_automatic_link_and_forgets_its_matched_id(make_series):
    series = make_series("Berserk")
    CodexLink.objects.create(
        series=series,
        codex_series_uuid=uuid.uuid4(),
        link_kind=LinkKind.AUTO,
        matched_provider="anilist",
        matched_external_id="30002",
        local_max_volume=40,
        synced_at=timezone.now(),
    )

    link_series(series, CODEX_UUID)

    stored = CodexLink.objects.get(series=series)
    assert CodexLink.objects.count() == 1
    assert stored.codex_series_uuid == CODEX_UUID
    assert stored.link_kind == LinkKind.MANUAL
    assert (stored.matched_provider, stored.matched_external_id) == ("", "")
    # The old counts belonged to another Codex series.
    assert stored.local_max_volume is None
    assert stored.synced_at is None


def last_sweep_succeeded_at(when) -> None:
    ConnectionStatus.get()
    ConnectionStatus.objects.update(last_success_at=when)


def test_making_an_automatic_link_manual_keeps_its_counts(make_series):
    series = make_series("Berserk")
    synced = timezone.now() - timedelta(hours=2)
    last_sweep_succeeded_at(synced)
    CodexLink.objects.create(
        series=series,
        codex_series_uuid=CODEX_UUID,
        link_kind=LinkKind.AUTO,
        local_max_volume=41,
        local_max_chapter=375.5,
        volumes_owned=40,
        synced_at=synced - timedelta(days=3),  # when it last changed
    )

    link_series(series, CODEX_UUID)

    stored = CodexLink.objects.get(series=series)
    assert stored.link_kind == LinkKind.MANUAL
    assert (stored.local_max_volume, stored.local_max_chapter, stored.volumes_owned) == (
        41,
        375.5,
        40,
    )
    assert stored.synced_at == synced


def test_linking_to_a_codex_series_another_series_links_copies_its_counts(make_series):
    other, series = make_series("Berserk"), make_series("Berserk Deluxe")
    synced = timezone.now() - timedelta(hours=1)
    last_sweep_succeeded_at(synced)
    CodexLink.objects.create(
        series=other,
        codex_series_uuid=CODEX_UUID,
        local_max_volume=14,
        volumes_owned=14,
        synced_at=synced - timedelta(days=3),  # when it last changed
    )

    link_series(series, CODEX_UUID)

    stored = CodexLink.objects.get(series=series)
    assert (stored.local_max_volume, stored.volumes_owned, stored.synced_at) == (14, 14, synced)
    assert CodexLink.objects.get(series=other).link_kind == LinkKind.AUTO


def test_linking_an_unmatched_codex_series_takes_its_counts_off_the_unmatched_list(make_series):
    series = make_series("Dorohedoro")
    recorded = timezone.now() - timedelta(days=2)  # unchanged since: later sweeps kept the row
    synced = timezone.now() - timedelta(minutes=30)
    last_sweep_succeeded_at(synced)
    UnmatchedCodexSeries.objects.create(
        codex_series_uuid=CODEX_UUID,
        external_ids=[{"source": "manual", "externalId": "x"}],
        local_max_volume=23,
        local_max_chapter=167.0,
        volumes_owned=23,
        recorded_at=recorded,
    )

    link_series(series, CODEX_UUID)

    stored = CodexLink.objects.get(series=series)
    assert (stored.local_max_volume, stored.local_max_chapter, stored.volumes_owned) == (
        23,
        167.0,
        23,
    )
    assert stored.synced_at == synced
    assert not UnmatchedCodexSeries.objects.exists()


def test_unlinking_removes_the_link_and_reports_its_kind(make_series):
    series = make_series("Berserk")
    CodexLink.objects.create(series=series, codex_series_uuid=CODEX_UUID)

    assert unlink_series(series) == LinkKind.AUTO
    assert not CodexLink.objects.exists()


def test_unlinking_twice_is_harmless(make_series):
    series = make_series("Berserk")
    link_series(series, CODEX_UUID)

    assert unlink_series(series) == LinkKind.MANUAL
    assert unlink_series(series) is None
    assert Series.objects.filter(pk=series.pk).exists()


def test_ignore_completion_is_stored_and_reflected_on_the_instance(make_series):
    series = make_series("Berserk")

    set_ignore_completion(series, True)
    assert series.ignore_completion is True
    assert Series.objects.get(pk=series.pk).ignore_completion is True

    set_ignore_completion(series, False)
    assert Series.objects.get(pk=series.pk).ignore_completion is False
