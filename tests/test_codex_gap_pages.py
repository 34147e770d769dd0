"""The gap view on the series page: what Codex owns, what surfaced since, what fills it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus
from codex_sync.templatetags.codex_tags import badge_for
from feed.models import MatchMethod, Release, Resolution

pytestmark = pytest.mark.django_db

GAP_LINE = "Codex: up to vol. 108, ch. 1134 · surfaced since: vol. 109–111, ch. 1135–1176"


@pytest.fixture
def one_piece(make_series):
    """A One Piece-like series: Codex owns v108/c1134, releases carry up to v111/c1176."""
    ConnectionStatus.objects.update_or_create(
        pk=ConnectionStatus.SINGLETON_ID, defaults={"last_success_at": timezone.now()}
    )
    series = make_series(
        "One Piece",
        highest_volume=111,
        highest_chapter=1176,
        volume_coverage=[[1, 111]],
        chapter_coverage=[[1, 1176]],
        release_count=2,
    )
    CodexLink.objects.create(
        series=series,
        codex_series_uuid=uuid.uuid4(),
        local_max_volume=108,
        local_max_chapter=1134,
        volumes_owned=108,
        synced_at=timezone.now(),
    )
    for number, (title, volumes, chapters) in enumerate(
        [
            ("One Piece v001-111 + 1134-1176", [[1, 111]], [[1134, 1176]]),
            ("One Piece v050-060", [[50, 60]], []),
        ]
    ):
        Release.objects.create(
            series=series,
            external_id=str(9000 + number),
            source_name="nyaa",
            title=title,
            volume_spans=volumes,
            chapter_spans=chapters,
            posted_at=timezone.now() - timedelta(days=number),
            resolution=Resolution.RESOLVED,
            match_method=MatchMethod.MANUAL,
        )
    return series


def test_the_admin_sees_owned_beside_surfaced_on_the_series_page(admin_client, one_piece):
    html = admin_client.get(f"/series/{one_piece.pk}/").content.decode()

    assert GAP_LINE in html
    assert 'data-testid="codex-gap">vol. 109–111, ch. 1135–1176<' in html


def test_only_the_release_carrying_the_gap_is_marked_as_filling_it(admin_client, one_piece):
    html = admin_client.get(f"/series/{one_piece.pk}/").content.decode()

    assert html.count('data-testid="codex-fills"') == 1
    assert "fills vol. 109–111, ch. 1135–1176" in html


def test_the_badge_tooltip_names_the_gap(admin_client, one_piece):
    html = admin_client.get(f"/series/{one_piece.pk}/").content.decode()

    assert (
        'title="Newer volumes/chapters surfaced than Codex owns · ~108 owned · '
        'surfaced since: vol. 109–111, ch. 1135–1176"'
    ) in html


def test_a_caught_up_badge_has_no_gap_in_its_tooltip():
    badge = badge_for("complete", 5)

    assert badge is not None
    assert badge.tooltip == "On Codex and caught up · ~5 owned"


def test_tracking_off_shows_no_gap_and_marks_no_release(admin_client, one_piece):
    one_piece.ignore_completion = True
    one_piece.save()

    html = admin_client.get(f"/series/{one_piece.pk}/").content.decode()

    assert "surfaced since" not in html
    assert 'data-testid="codex-fills"' not in html


@pytest.mark.parametrize("visitor", ["anonymous", "reader"])
def test_the_read_tier_never_sees_the_gap(client, django_user_model, one_piece, visitor):
    if visitor == "reader":
        client.force_login(django_user_model.objects.create_user("reader", password="pw-reader-1"))

    html = client.get(f"/series/{one_piece.pk}/").content.decode()

    assert "One Piece v001-111" in html
    for admin_only in ("surfaced since", "codex-fills", "fills vol.", "Codex: up to", "codex-gap"):
        assert admin_only not in html


def test_the_gap_costs_no_extra_query(admin_client, one_piece, django_assert_max_num_queries):
    # session + user, series with its link, external ids, releases COUNT + page, sweep time.
    with django_assert_max_num_queries(7):
        html = admin_client.get(f"/series/{one_piece.pk}/").content.decode()
    assert GAP_LINE in html
