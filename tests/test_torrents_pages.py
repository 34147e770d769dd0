"""Send buttons, the sent mark, the send log, Test connection: admin only, no secret shown."""

from __future__ import annotations

import pytest

from feed.models import MatchMethod, Release, Resolution
from torrents.models import SendLog, SendOutcome

pytestmark = pytest.mark.django_db

PASSWORD = "torrent-client-password-0b7e"


@pytest.fixture
def client_configured(tsundoku_config):
    return tsundoku_config(
        torrents={
            "client": "qbittorrent",
            "url": "http://127.0.0.1:1",
            "username": "admin",
            "password": PASSWORD,
            "category": "manga",
        }
    )


@pytest.fixture
def release(make_series) -> Release:
    return Release.objects.create(
        series=make_series("One Piece", release_count=1),
        external_id="1",
        source_name="nyaa",
        title="One Piece v108",
        magnet="magnet:?xt=urn:btih:" + "a" * 40,
        resolution=Resolution.RESOLVED,
        match_method=MatchMethod.MANUAL,
    )


def test_release_rows_offer_send_to_the_admin_and_mark_what_was_sent(
    admin_client, client_configured, release
):
    page = f"/series/{release.series_id}/"
    assert 'data-testid="send-button"' in admin_client.get(page).content.decode()
    assert 'data-testid="sent-mark"' not in admin_client.get(page).content.decode()

    SendLog.objects.create(
        release=release, release_title=release.title, client="qbittorrent", outcome="sent"
    )

    assert 'data-testid="sent-mark"' in admin_client.get(page).content.decode()


def test_a_failed_send_leaves_no_sent_mark(admin_client, client_configured, release):
    SendLog.objects.create(
        release=release, release_title=release.title, client="qbittorrent", outcome="failed"
    )
    html = admin_client.get(f"/series/{release.series_id}/").content.decode()
    assert 'data-testid="sent-mark"' not in html


def test_without_a_client_there_is_no_send_button(admin_client, release):
    html = admin_client.get(f"/series/{release.series_id}/").content.decode()
    assert 'data-testid="send-button"' not in html


@pytest.mark.parametrize("visitor", ["anonymous", "reader"])
def test_the_read_tier_gets_no_button_no_mark_no_page_and_no_send(
    client, django_user_model, client_configured, release, visitor
):
    if visitor == "reader":
        client.force_login(django_user_model.objects.create_user("reader", password="pw-rdr-1"))
    SendLog.objects.create(
        release=release, release_title=release.title, client="qbittorrent", outcome="sent"
    )

    html = client.get(f"/series/{release.series_id}/").content.decode()
    assert "send-button" not in html and "sent-mark" not in html
    assert client.get("/torrents/").status_code in (302, 403)
    assert client.post(f"/torrents/send/{release.pk}").status_code == 403
    assert client.post("/torrents/test").status_code == 403
    assert SendLog.objects.count() == 1


def test_send_from_the_page_logs_the_failure_and_goes_back(
    admin_client, client_configured, release
):
    # Port 1 on loopback: nothing listens, so the client is unreachable.
    back = f"/series/{release.series_id}/#releases"
    response = admin_client.post(f"/torrents/send/{release.pk}", {"next": back})

    assert response.status_code == 302 and response["Location"] == back
    log = SendLog.objects.get()
    assert log.outcome == SendOutcome.FAILED
    assert log.message.startswith("qBittorrent did not answer at http://127.0.0.1:1")
    assert PASSWORD not in log.message
    html = admin_client.get("/torrents/").content.decode()
    assert "qBittorrent did not answer" in html


def test_the_page_shows_the_settings_but_never_the_password(admin_client, client_configured):
    html = admin_client.get("/torrents/").content.decode()

    assert "qBittorrent" in html and "http://127.0.0.1:1" in html and "manga" in html
    assert "set (hidden)" in html
    assert PASSWORD not in html
    assert 'data-testid="test-connection"' in html


def test_test_connection_reports_an_unreachable_client(admin_client, client_configured):
    response = admin_client.post("/torrents/test", follow=True)
    html = response.content.decode()
    assert "qBittorrent did not answer at http://127.0.0.1:1" in html
    assert PASSWORD not in html


def test_a_url_with_credentials_is_shown_without_them(admin_client, tsundoku_config):
    tsundoku_config(
        torrents={"client": "transmission", "url": f"http://admin:{PASSWORD}@127.0.0.1:9091"}
    )
    html = admin_client.get("/torrents/").content.decode()
    assert "http://127.0.0.1:9091" in html and PASSWORD not in html


def test_the_send_log_costs_the_same_few_queries_however_long(
    admin_client, staff_user, release, django_assert_max_num_queries
):
    for n in range(60):
        SendLog.objects.create(
            release=release,
            release_title=f"Release {n}",
            client="qbittorrent",
            outcome="sent",
            sent_by=staff_user,
        )
    # session + user, COUNT + page (with who sent).
    with django_assert_max_num_queries(4):
        html = admin_client.get("/torrents/").content.decode()
    assert html.count('data-testid="send-log-row"') == 50


def test_the_series_page_with_send_marks_costs_no_query_per_release(
    admin_client, client_configured, release, django_assert_max_num_queries
):
    for n in range(30):
        Release.objects.create(
            series_id=release.series_id,
            external_id=str(100 + n),
            source_name="nyaa",
            title=f"One Piece c{n}",
            magnet="magnet:?xt=urn:btih:" + f"{n:040x}",
            resolution=Resolution.RESOLVED,
        )
    # session + user, series with its link, external ids, releases COUNT + page (sent is a
    # subquery of the page), last sweep time: what the page cost before Send existed.
    with django_assert_max_num_queries(7):
        html = admin_client.get(f"/series/{release.series_id}/").content.decode()
    assert html.count('data-testid="send-button"') == 31
