"""The Wanted page: followed (and, for the admin, behind) series with their best release first."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus
from codex_sync.status import CodexGap
from feed.models import MatchMethod, Release, Resolution, Series
from follows.models import FeedToken, Follow
from follows.wanted import gap_coverage, numbers_in

pytestmark = pytest.mark.django_db


def add_release(
    series: Series, title: str, volumes=(), chapters=(), days_ago=0, **quality
) -> Release:
    return Release.objects.create(
        series=series,
        external_id=str(Release.objects.count() + 5000),
        source_name="nyaa",
        title=title,
        magnet="magnet:?xt=urn:btih:" + f"{Release.objects.count():040x}",
        volume_spans=[list(span) for span in volumes],
        chapter_spans=[list(span) for span in chapters],
        posted_at=timezone.now() - timedelta(days=days_ago),
        resolution=Resolution.RESOLVED,
        match_method=MatchMethod.MANUAL,
        **quality,
    )


@pytest.fixture
def library(make_series):
    """One Piece behind on Codex (not followed), Berserk caught up, Monster not on Codex."""
    ConnectionStatus.objects.update_or_create(
        pk=ConnectionStatus.SINGLETON_ID, defaults={"last_success_at": timezone.now()}
    )
    one_piece = make_series(
        "One Piece",
        highest_volume=111,
        highest_chapter=1176,
        volume_coverage=[[1, 111]],
        chapter_coverage=[[1, 1176]],
        release_count=4,
        last_release_at=timezone.now(),
    )
    CodexLink.objects.create(
        series=one_piece,
        codex_series_uuid=uuid.uuid4(),
        local_max_volume=108,
        local_max_chapter=1134,
        synced_at=timezone.now(),
    )
    # Newest first is not best first: the omnibus fills the whole gap.
    add_release(one_piece, "One Piece c1170-1176", chapters=[(1170, 1176)], days_ago=0)
    add_release(one_piece, "One Piece v001-111 + 1134-1176", [(1, 111)], [(1134, 1176)], 9)
    add_release(one_piece, "One Piece v109-110", [(109, 110)], days_ago=5)
    add_release(one_piece, "One Piece v050", [(50, 50)], days_ago=1)
    berserk = make_series("Berserk", highest_volume=42, volume_coverage=[[1, 42]], release_count=1)
    CodexLink.objects.create(
        series=berserk,
        codex_series_uuid=uuid.uuid4(),
        local_max_volume=42,
        synced_at=timezone.now(),
    )
    add_release(berserk, "Berserk v42", [(42, 42)])
    monster = make_series(
        "Monster", release_count=2, last_release_at=timezone.now() - timedelta(days=1)
    )
    add_release(monster, "Monster v01", [(1, 1)], days_ago=3)
    add_release(monster, "Monster v02", [(2, 2)], days_ago=1)
    return {"one_piece": one_piece, "berserk": berserk, "monster": monster}


def wanted_titles(html: str) -> list[str]:
    return [
        chunk.split(">", 1)[1].split("<", 1)[0]
        for chunk in html.split('<h2 class="wanted__title"><a href=')[1:]
    ]


def release_titles(html: str) -> list[str]:
    return [
        chunk.split('target="_blank">', 1)[1].split("<", 1)[0]
        if 'target="_blank">' in chunk.split("</td>", 1)[0]
        else chunk.split('release-table__title">', 1)[1].split("<", 1)[0].strip()
        for chunk in html.split('data-testid="wanted-release"')[1:]
    ]


def test_the_admin_sees_behind_and_followed_series_with_the_gap(admin_client, staff_user, library):
    Follow.objects.create(user=staff_user, series=library["monster"])

    html = admin_client.get("/wanted/").content.decode()

    assert wanted_titles(html) == ["One Piece", "Monster"]
    assert "Codex: up to vol. 108, ch. 1134 · surfaced since: vol. 109–111, ch. 1135–1176" in html


def test_the_best_release_for_the_gap_comes_first_then_recency(admin_client, library):
    html = admin_client.get("/wanted/").content.decode()

    assert release_titles(html)[:3] == [
        "One Piece v001-111 + 1134-1176",
        "One Piece v109-110",
        "One Piece c1170-1176",
    ]
    assert "fills vol. 109–111, ch. 1135–1176" in html


def test_equal_gap_coverage_goes_to_the_live_trusted_release_before_the_newer(
    admin_client, library
):
    one_piece = library["one_piece"]
    add_release(one_piece, "One Piece v111 (dead)", [(111, 111)], seeders=0, days_ago=0)
    add_release(one_piece, "One Piece v111 (remake)", [(111, 111)], remake=True, seeders=90)
    add_release(
        one_piece, "One Piece v111 (trusted)", [(111, 111)], trusted=True, seeders=3, days_ago=2
    )
    add_release(one_piece, "One Piece v111 (seeded)", [(111, 111)], seeders=40, days_ago=3)

    titles = release_titles(admin_client.get("/wanted/").content.decode())
    singles = [title for title in titles if title.startswith("One Piece v111 (")]

    # The page shows the best few: of four releases filling the same volume,
    # the trusted one makes the cut, not the newer dead one nor the remake.
    assert singles == ["One Piece v111 (trusted)"]


def test_a_reader_sees_only_their_follows_newest_release_first_and_no_codex_data(
    reader_client, reader, staff_user, library
):
    Follow.objects.create(user=reader, series=library["monster"])
    Follow.objects.create(user=staff_user, series=library["berserk"])

    html = reader_client.get("/wanted/").content.decode()

    assert wanted_titles(html) == ["Monster"]
    assert release_titles(html) == ["Monster v02", "Monster v01"]
    for admin_only in ("One Piece", "Berserk", "surfaced since", "fills", "codex-badge"):
        assert admin_only not in html


def test_anonymous_visitors_are_sent_to_log_in(client, library):
    response = client.get("/wanted/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_nothing_wanted_says_how_to_want_something(reader_client, library):
    assert "Nothing wanted yet" in reader_client.get("/wanted/").content.decode()


def test_the_wanted_page_costs_the_same_few_queries_however_many_series(
    admin_client, staff_user, make_series, django_assert_max_num_queries
):
    ConnectionStatus.objects.update_or_create(
        pk=ConnectionStatus.SINGLETON_ID, defaults={"last_success_at": timezone.now()}
    )
    for n in range(25):
        series = make_series(
            f"Series {n}", highest_volume=5, volume_coverage=[[1, 5]], release_count=2
        )
        CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=3)
        add_release(series, f"Series {n} v04-05", [(4, 5)])
        add_release(series, f"Series {n} v01", [(1, 1)], days_ago=1)
    FeedToken.objects.create(user=staff_user)
    # session + user, COUNT + page (with links and followed_at), feed token, releases,
    # sweep time.
    with django_assert_max_num_queries(7):
        html = admin_client.get("/wanted/").content.decode()
    assert html.count('data-testid="wanted-series"') == 25
    assert html.count("fills vol. 4–5") == 25


def test_gap_coverage_is_the_share_of_each_axis_filled():
    gap = CodexGap(volumes=((109.0, 111.0),), chapters=((1135.0, 1176.0),))

    assert gap_coverage(gap, gap) == 2.0
    assert gap_coverage(CodexGap(volumes=((109.0, 110.0),)), gap) == pytest.approx(2 / 3)
    assert gap_coverage(CodexGap(), gap) == 0.0
    assert numbers_in(((10.5, 10.5),)) == 1
    assert numbers_in(((1.0, 3.0), (7.0, 7.0))) == 4


def test_the_wanted_page_offers_send_to_the_admin_only(
    admin_client, reader_client, reader, library, tsundoku_config
):
    tsundoku_config(torrents={"client": "qbittorrent", "url": "http://127.0.0.1:1"})
    Follow.objects.create(user=reader, series=library["monster"])

    admin_html = admin_client.get("/wanted/").content.decode()
    reader_html = reader_client.get("/wanted/").content.decode()

    assert admin_html.count('data-testid="send-button"') == 3  # One Piece's best three
    assert "send-button" not in reader_html
