"""Send to real torrent daemons on loopback, and read the torrent back from their own APIs."""

from __future__ import annotations

import base64

import pytest
import qbittorrentapi
import transmission_rpc

from feed.models import Release, Resolution
from tests.torrent_helpers import (
    MAGNET,
    MAGNET_HASH,
    QBITTORRENT_PASSWORD,
    QBITTORRENT_USERNAME,
    TRANSMISSION_PASSWORD,
    TRANSMISSION_USERNAME,
    fake_rtorrent,
    free_port,
    qbittorrent,
    transmission,
)
from torrents.models import SendLog, SendOutcome
from torrents.sending import check_connection, send_release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture
def release(make_series) -> Release:
    return Release.objects.create(
        series=make_series("One Piece"),
        external_id="2021815",
        source_name="nyaa",
        title="One Piece v108-109 (2025) (Digital) (1r0n)",
        magnet=MAGNET,
        info_hash=MAGNET_HASH.upper(),
        resolution=Resolution.RESOLVED,
    )


def assert_secret_absent(secret: str) -> None:
    for log in SendLog.objects.all():
        assert secret not in log.message


def test_send_to_qbittorrent_lists_it_with_category_and_save_path(
    tmp_path, tsundoku_config, release, staff_user
):
    with qbittorrent(tmp_path) as daemon:
        save_path = str(tmp_path / "manga")
        tsundoku_config(
            torrents={
                "client": "qbittorrent",
                "url": daemon.url,
                "username": QBITTORRENT_USERNAME,
                "password": QBITTORRENT_PASSWORD,
                "category": "manga",
                "save_path": save_path,
            }
        )
        check = check_connection()
        first = send_release(release, user_id=staff_user.pk)
        second = send_release(release, user_id=staff_user.pk)

        own_api = qbittorrentapi.Client(
            host=daemon.url, username=QBITTORRENT_USERNAME, password=QBITTORRENT_PASSWORD
        )
        listed = {torrent.hash: torrent for torrent in own_api.torrents_info()}

    assert check.ok and check.message.startswith("Connected to qBittorrent v")
    assert (first.outcome, first.message) == (SendOutcome.SENT, "Added to qBittorrent.")
    assert first.info_hash == MAGNET_HASH and first.sent_by_id == staff_user.pk
    assert second.outcome == SendOutcome.DUPLICATE
    assert second.message == "qBittorrent already has this torrent."
    assert list(listed) == [MAGNET_HASH]
    assert listed[MAGNET_HASH].category == "manga"
    assert listed[MAGNET_HASH].save_path.rstrip("/") == save_path
    assert_secret_absent(QBITTORRENT_PASSWORD)


def test_qbittorrent_with_a_wrong_password_says_so_and_adds_nothing(
    tmp_path, tsundoku_config, release
):
    wrong = "not-the-password-91c2"
    with qbittorrent(tmp_path) as daemon:
        tsundoku_config(
            torrents={
                "client": "qbittorrent",
                "url": daemon.url,
                "username": QBITTORRENT_USERNAME,
                "password": wrong,
            }
        )
        check = check_connection()
        log = send_release(release)
        own_api = qbittorrentapi.Client(
            host=daemon.url, username=QBITTORRENT_USERNAME, password=QBITTORRENT_PASSWORD
        )
        listed = own_api.torrents_info()

    assert not check.ok and "refused the username/password" in check.message
    assert log.outcome == SendOutcome.FAILED and "refused the username/password" in log.message
    assert list(listed) == []
    assert wrong not in check.message
    assert_secret_absent(wrong)


def test_send_to_transmission_lists_it_in_the_download_dir(
    tmp_path, tsundoku_config, release, staff_user
):
    with transmission(tmp_path) as daemon:
        save_path = str(tmp_path / "manga")
        tsundoku_config(
            torrents={
                "client": "transmission",
                "url": daemon.url,
                "username": TRANSMISSION_USERNAME,
                "password": TRANSMISSION_PASSWORD,
                "category": "manga",
                "save_path": save_path,
            }
        )
        check = check_connection()
        first = send_release(release, user_id=staff_user.pk)
        second = send_release(release)

        port = int(daemon.url.split(":")[2].split("/")[0])
        own_api = transmission_rpc.Client(
            port=port, username=TRANSMISSION_USERNAME, password=TRANSMISSION_PASSWORD
        )
        listed = {torrent.hash_string: torrent for torrent in own_api.get_torrents()}

    assert check.ok and check.message.startswith("Connected to Transmission 3.")
    assert (first.outcome, first.message) == (SendOutcome.SENT, "Added to Transmission.")
    assert second.outcome == SendOutcome.DUPLICATE
    assert list(listed) == [MAGNET_HASH]
    assert listed[MAGNET_HASH].download_dir.rstrip("/") == save_path
    assert_secret_absent(TRANSMISSION_PASSWORD)


def test_transmission_with_a_wrong_password_says_so_without_the_password(
    tmp_path, tsundoku_config, release
):
    wrong = "not-the-password-5e0d"
    with transmission(tmp_path) as daemon:
        tsundoku_config(
            torrents={
                "client": "transmission",
                "url": daemon.url,
                "username": TRANSMISSION_USERNAME,
                "password": wrong,
            }
        )
        log = send_release(release)

    assert log.outcome == SendOutcome.FAILED
    assert "Transmission refused the username/password" in log.message
    assert_secret_absent(wrong)


@pytest.mark.parametrize("client", ["qbittorrent", "transmission", "rutorrent"])
def test_a_client_that_is_not_running_is_reported_unreachable(tsundoku_config, release, client):
    secret = "password-for-a-dead-port-44"
    tsundoku_config(
        torrents={
            "client": client,
            "url": f"http://tsundoku:{secret}@127.0.0.1:{free_port()}",
            "username": "tsundoku",
            "password": secret,
        }
    )

    log = send_release(release)

    assert log.outcome == SendOutcome.FAILED
    assert "did not answer at" in log.message
    assert secret not in log.message
    assert Release.objects.get(pk=release.pk).resolution == Resolution.RESOLVED


def test_send_to_rutorrent_over_xml_rpc_with_label_save_path_and_basic_auth(
    tsundoku_config, release
):
    password = "rutorrent-pass word/1"
    with fake_rtorrent("tsundoku", password) as rtorrent:
        tsundoku_config(
            torrents={
                "client": "rutorrent",
                "url": rtorrent.url,
                "username": "tsundoku",
                "password": password,
                "category": "manga",
                "save_path": "/srv/manga",
            }
        )
        check = check_connection()
        first = send_release(release)
        second = send_release(release)

    assert (check.ok, check.message) == (True, "Connected to ruTorrent rTorrent 0.9.8.")
    assert (first.outcome, second.outcome) == (SendOutcome.SENT, SendOutcome.DUPLICATE)
    assert rtorrent.loads == [("", MAGNET, "d.directory.set=/srv/manga", "d.custom1.set=manga")]
    expected = "Basic " + base64.b64encode(f"tsundoku:{password}".encode()).decode()
    assert set(rtorrent.authorizations) == {expected}


def test_rutorrent_with_a_wrong_password_says_so(tsundoku_config, release):
    with fake_rtorrent("tsundoku", "right-password") as rtorrent:
        tsundoku_config(
            torrents={
                "client": "rutorrent",
                "url": rtorrent.url,
                "username": "tsundoku",
                "password": "wrong-password-8d",
            }
        )
        log = send_release(release)

    assert log.outcome == SendOutcome.FAILED
    assert log.message == (
        "ruTorrent refused the username/password (torrents.username, torrents.password)."
    )
    assert rtorrent.loads == []
