"""The per-user Atom feed of wanted releases, at a secret, regenerable URL."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from codex_sync.models import CodexLink
from feed.models import Release, Resolution
from follows.models import FeedToken, Follow

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user(username="reader", password="pw-reader-1")


def add_release(series, title: str, minutes_ago: int = 0, **fields) -> Release:
    return Release.objects.create(
        series=series,
        external_id=str(Release.objects.count() + 8000),
        source_name="nyaa",
        title=title,
        torrent_url=f"https://nyaa.si/download/{Release.objects.count() + 8000}.torrent",
        magnet="magnet:?xt=urn:btih:" + "b" * 40,
        size_bytes=1024,
        observed_at=timezone.now() - timedelta(minutes=minutes_ago),
        resolution=Resolution.RESOLVED,
        **fields,
    )


def entries(client: Client, user) -> list[dict[str, str]]:
    token = FeedToken.objects.get_or_create(user=user)[0].token
    response = client.get(f"/feeds/{token}/wanted.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "summary": entry.findtext(f"{ATOM}summary"),
            "id": entry.findtext(f"{ATOM}id"),
            "link": entry.find(f"{ATOM}link[@rel='alternate']").get("href"),
            "enclosure": entry.find(f"{ATOM}link[@rel='enclosure']").get("type"),
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


@pytest.fixture
def catalog(make_series, reader, staff_user):
    """Monster followed by the reader, Berserk by the admin, One Piece behind on Codex."""
    monster, berserk = make_series("Monster"), make_series("Berserk")
    one_piece = make_series("One Piece", volume_coverage=[[1, 111]], highest_volume=111)
    CodexLink.objects.create(series=one_piece, codex_series_uuid=uuid.uuid4(), local_max_volume=108)
    Follow.objects.create(user=reader, series=monster)
    Follow.objects.create(user=staff_user, series=berserk)
    add_release(monster, "Monster v02", 1)
    add_release(monster, "Monster v01", 5)
    add_release(berserk, "Berserk v42", 2)
    add_release(one_piece, "One Piece v109-111", 3, volume_spans=[[109, 111]])
    add_release(one_piece, "One Piece v050", 4, volume_spans=[[50, 50]])
    return {"monster": monster}


def test_a_readers_feed_has_only_their_follows_and_nothing_of_codex(client, reader, catalog):
    found = entries(client, reader)

    assert [entry["title"] for entry in found] == ["Monster v02", "Monster v01"]
    assert all(entry["summary"] == "Monster" for entry in found)
    assert found[0]["link"].startswith("https://nyaa.si/download/")
    assert found[0]["enclosure"] == "application/x-bittorrent"
    assert found[0]["id"].startswith("urn:tsundoku:release:")


def test_the_admins_feed_adds_what_fills_codexs_gap(client, staff_user, catalog):
    found = entries(client, staff_user)

    assert [entry["title"] for entry in found] == ["Berserk v42", "One Piece v109-111"]
    assert found[1]["summary"] == "One Piece · fills vol. 109–111"


def test_an_unknown_token_is_a_404(client, catalog):
    assert client.get("/feeds/not-a-token/wanted.atom").status_code == 404


def test_regenerating_retires_the_old_address(client, reader, catalog):
    old = FeedToken.objects.create(user=reader).token
    client.force_login(reader)
    page = client.get("/wanted/").content.decode()
    assert f"/feeds/{old}/wanted.atom" in page

    client.post("/wanted/feed/regenerate")

    new = FeedToken.objects.get(user=reader).token
    assert new != old
    assert client.get(f"/feeds/{old}/wanted.atom").status_code == 404
    assert client.get(f"/feeds/{new}/wanted.atom").status_code == 200


def test_regenerating_needs_a_login(client):
    assert client.post("/wanted/feed/regenerate").status_code == 403


def test_the_feed_answers_its_token_even_when_reading_needs_a_login(
    client, reader, catalog, tsundoku_config
):
    tsundoku_config(auth={"read_requires_auth": True})
    assert client.get("/").status_code == 302
    assert entries(client, reader)[0]["title"] == "Monster v02"


def test_an_inactive_users_feed_is_gone(client, reader, catalog):
    token = FeedToken.objects.create(user=reader).token
    reader.is_active = False
    reader.save()
    assert client.get(f"/feeds/{token}/wanted.atom").status_code == 404


def test_the_feed_costs_a_fixed_number_of_queries(
    client, reader, make_series, django_assert_max_num_queries
):
    for n in range(30):
        series = make_series(f"Series {n}")
        Follow.objects.create(user=reader, series=series)
        add_release(series, f"Series {n} v01", n)
    token = FeedToken.objects.create(user=reader).token
    # token + user, releases with their series.
    with django_assert_max_num_queries(3):
        response = client.get(f"/feeds/{token}/wanted.atom")
    assert response.content.count(b"<entry>") == 30
