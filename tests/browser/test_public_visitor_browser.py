"""A public visitor in a real browser sees the catalog, and nothing of the Codex overlay.

Nor anything personal or admin-only that came with follows, the gap view and
torrent sends: no follow state, no gap, no "fills", no Send, no "sent".
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus
from feed.models import Release, Resolution
from follows.models import Follow
from tests.helpers import page_html
from torrents.models import SendLog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODEX_HOST = "codex.test"
BEHIND_UUID = "6f1c2a9e-0b7d-4c3e-9a51-2d8e4b7f0c11"
OWNED_UUID = "0d4e8f2a-7c19-4b6e-8e3a-5f9b1c7d2e40"


@pytest.fixture
def catalog(make_series, staff_user, tsundoku_config) -> dict[str, int]:
    """Two series on Codex after a successful sweep, one not; values are series ids.

    The admin follows the behind one, whose release fills the gap and was sent
    to the (configured) torrent client.
    """
    tsundoku_config(torrents={"client": "qbittorrent", "url": "http://127.0.0.1:1"})
    behind = make_series("Lagging Chronicle", highest_volume=12, volume_coverage=[[1, 12]])
    owned = make_series("Caught Up Saga", highest_volume=10)
    elsewhere = make_series("Stranger Story", highest_volume=3)
    CodexLink.objects.create(
        series=behind, codex_series_uuid=BEHIND_UUID, local_max_volume=10, volumes_owned=8
    )
    CodexLink.objects.create(series=owned, codex_series_uuid=OWNED_UUID, local_max_volume=10)
    ConnectionStatus.objects.create(
        pk=ConnectionStatus.SINGLETON_ID, reachable=True, last_success_at=timezone.now()
    )
    Follow.objects.create(user=staff_user, series=behind)
    release = Release.objects.create(
        series=behind,
        external_id="1",
        source_name="nyaa",
        title="Lagging Chronicle v11-12",
        volume_spans=[[11, 12]],
        resolution=Resolution.RESOLVED,
    )
    SendLog.objects.create(
        release=release, release_title=release.title, client="qbittorrent", outcome="sent"
    )
    return {series.canonical_title: series.pk for series in (behind, owned, elsewhere)}


def assert_no_overlay(page) -> None:
    """No badge, no Codex filter, no Codex link, UUID or host anywhere in the page."""
    html = page_html(page)
    assert page.locator(".codex-badge, [data-codex-status]").count() == 0
    assert page.locator("[name=codexStatus]").count() == 0
    assert page.get_by_test_id("codex-panel").count() == 0
    assert page.get_by_role("link", name="Codex", exact=True).count() == 0
    for secret in (BEHIND_UUID, OWNED_UUID, CODEX_HOST):
        assert secret not in html
    for test_id in ("follow-button", "codex-gap-line", "codex-fills", "send-button", "sent-mark"):
        assert page.get_by_test_id(test_id).count() == 0, test_id
    for text in ("surfaced since", "fills vol.", "Following"):
        assert text not in html, text
    assert page.get_by_role("link", name="Wanted", exact=True).count() == 0


def test_feed_cards_and_rows_carry_no_badge_and_no_codex_filter(page, catalog):
    for path in ["/", "/?view=list"]:
        page.goto(path)
        for title in catalog:
            assert page.get_by_role("link", name=title, exact=True).is_visible()
        assert page.get_by_role("columnheader", name="Codex").count() == 0
        assert_no_overlay(page)


def test_series_pages_carry_no_badge_and_no_codex_panel(page, catalog):
    for series_id in catalog.values():
        page.goto(f"/series/{series_id}")
        assert page.get_by_role("heading", level=1).is_visible()
        assert_no_overlay(page)


def test_codex_status_in_the_address_is_ignored(page, catalog):
    page.goto("/?codexStatus=behind")
    assert page.locator(".results-bar__count").inner_text().endswith(f"of {len(catalog)} series")
    assert set(page.locator("li.card .card__title a").all_inner_texts()) == set(catalog)
    assert_no_overlay(page)


def test_codex_page_sends_the_visitor_to_the_login_form(page, catalog):
    page.goto("/codex/")
    assert page.url.endswith("/accounts/login/?next=/codex/")
    assert page.get_by_role("heading", name="Log in").is_visible()
    assert_no_overlay(page)


@pytest.mark.parametrize("path", ["/wanted/", "/torrents/", "/notifications/"])
def test_personal_and_admin_pages_send_the_visitor_to_the_login_form(page, catalog, path):
    page.goto(path)
    assert page.url.endswith(f"/accounts/login/?next={path}")
    assert_no_overlay(page)
