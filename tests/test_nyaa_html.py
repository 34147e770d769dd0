"""Nyaa's HTML pages read into exact values: detail pages, the listing and search results."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feed.sources.nyaa_html import NyaaFile, PageError, parse_detail, parse_listing

NYAA = Path(__file__).resolve().parent / "fixtures" / "nyaa"
MIB = 1024**2
TRACKERS = [
    "http%3A%2F%2Fnyaa.tracker.wf%3A7777%2Fannounce",
    "udp%3A%2F%2Fopen.stealth.si%3A80%2Fannounce",
    "udp%3A%2F%2Ftracker.opentrackr.org%3A1337%2Fannounce",
    "udp%3A%2F%2Fexodus.desync.com%3A6969%2Fannounce",
    "udp%3A%2F%2Ftracker.torrent.eu.org%3A451%2Fannounce",
]


def page(name: str) -> bytes:
    return (NYAA / name).read_bytes()


def test_the_single_file_page_reads_exactly():
    detail = parse_detail(
        page("nyaa_detail_single_file.html"), page_url="https://nyaa.si/view/2111533"
    )

    assert detail.title == (
        "ReZero - Starting Life in Another World - Volume 01 [MTBBooks] | "
        "Re:Zero Kara Hajimeru Isekai Seikatsu | Re Zero"
    )
    assert detail.files == [
        NyaaFile("ReZero - Starting Life in Another World - Volume 01 [MTBBooks].epub", 12163481)
    ]
    assert detail.formats == ["epub"]
    assert detail.information_url == "https://discord.gg/r9gyPwJeqW"
    assert detail.info_hash == "3cce2a1b1dd491be89a5a2461250b1f7ee6700c7"
    assert detail.magnet.startswith(
        "magnet:?xt=urn:btih:3cce2a1b1dd491be89a5a2461250b1f7ee6700c7&dn=ReZero%20-%20Starting"
    )
    assert "&amp;" not in detail.magnet
    assert [part.removeprefix("tr=") for part in detail.magnet.split("&")[2:]] == TRACKERS
    assert detail.torrent_url == "https://nyaa.si/download/2111533.torrent"
    assert detail.size_bytes == 12163481
    assert detail.posted_at == datetime(2026, 5, 18, 23, 34, 56, tzinfo=UTC)
    assert (detail.seeders, detail.leechers, detail.downloads) == (40, 0, 368)
    assert detail.trusted is True
    assert detail.category == "Literature - English-translated"
    assert detail.description.startswith(
        "In preparation for potentially editing S4 of the Re:Zero anime"
    )
    assert detail.comment_count == 12


def test_comment_links_are_hints_and_never_uploader_links():
    detail = parse_detail(
        page("nyaa_detail_single_file.html"), page_url="https://nyaa.si/view/2111533"
    )

    assert any("imgur.com" in url for url in detail.comment_links)
    assert any("rezerodb.com" in url for url in detail.comment_links)
    assert not any("imgur.com" in url for url in detail.description_links)
    assert "imgur" not in detail.information_url


def test_the_multi_file_pack_keeps_leaf_files_and_drops_every_folder():
    detail = parse_detail(
        page("nyaa_detail_multi_file.html"), page_url="https://nyaa.si/view/1505969"
    )

    assert len(detail.files) == 537
    assert not any("Tsundere Service Providers" in file.name for file in detail.files)
    assert detail.files[0] == NyaaFile("[TSP]_#Liked!_Hikaru_Genji-kun_c01.zip", int(21.0 * MIB))
    assert detail.files[-1] == NyaaFile("[TSP]_Weekday_Night_Fever.zip", int(4.8 * MIB))
    assert sum("Karakai_Jouzu_no_Takagi-san" in file.name for file in detail.files) == 161
    names = {file.name for file in detail.files}
    assert "[TSP]_Grün_Bæla.zip" in names
    assert any("[FPS & TSP]_" in name for name in names)
    assert any("Valentine's" in name for name in names)
    sizes = {file.size_bytes for file in detail.files}
    assert {int(82.0 * 1024), int(807.2 * 1024), int(151.1 * 1024), int(205.3 * 1024)} <= sizes
    assert detail.formats == ["rar", "zip"]
    assert detail.information_url == "https://tsundere.services/"
    assert detail.info_hash == "2519ebc4311cb5ee76b5b286163f7c5180b80d98"
    assert detail.torrent_url == "https://nyaa.si/download/1505969.torrent"
    assert detail.size_bytes == int(5.7 * 1024**3)
    assert detail.posted_at == datetime(2022, 3, 24, 0, 43, 39, tzinfo=UTC)
    assert (detail.seeders, detail.leechers, detail.downloads) == (1, 0, 170)
    assert detail.description.startswith(
        "We are sorry, the number you have dialed is not in service in this area code."
    )
    assert detail.comment_count == 2
    assert any("ddl.tsundere.services" in url for url in detail.comment_links)


def test_the_information_row_links_to_mangabaka():
    detail = parse_detail(
        page("nyaa_detail_information_mangabaka.html"), page_url="https://nyaa.si/view/2167316"
    )

    assert detail.title == (
        "A Banished Odd-jobber Starts a New Life 001-058 as v01-10 "
        "(Digital-Compilation) (Anon) [0x1e]"
    )
    assert detail.information_url == (
        "https://mangabaka.org/manga/65050/A-Banished-Odd-jobber-Starts-a-New-Life"
    )
    assert "mangabaka" not in detail.description
    assert "| Volumes |" in detail.description
    assert "https://nyaa.si/?f=0&c=3_1&q=alpha+manga+digital+anon" in detail.description_links
    assert len(detail.files) == 10
    assert detail.files[0] == NyaaFile(
        "A Banished Odd-jobber Starts a New Life v01 (Digital-Compilation) (Anon) [0x1e].cbz",
        int(137.1 * MIB),
    )
    assert detail.files[-1] == NyaaFile(
        "A Banished Odd-jobber Starts a New Life v10 (Digital-Compilation) (Anon) [0x1e].cbz",
        int(101.3 * MIB),
    )
    assert "A Banished Odd-jobber Starts a New Life (Digital) (0x1e)" not in {
        file.name for file in detail.files
    }
    assert detail.formats == ["cbz"]
    assert detail.info_hash == "e6e27081923b3663507aaf6af70f321622aa0ec1"
    assert detail.torrent_url == "https://nyaa.si/download/2167316.torrent"
    assert detail.size_bytes == int(1.1 * 1024**3)
    assert detail.posted_at == datetime(2026, 9, 28, 20, 15, 52, tzinfo=UTC)
    assert (detail.seeders, detail.leechers, detail.downloads) == (66, 19, 205)
    assert detail.trusted is False
    assert (detail.comment_count, detail.comment_links) == (0, [])


def test_the_listing_page_reads_75_rows_with_exact_first_third_and_last():
    listing = parse_listing(
        page("nyaa_listing_page2.html"), page_url="https://nyaa.si/?c=3_1&f=2&p=2"
    )

    assert (len(listing.items), listing.skipped, listing.has_next) == (75, [], True)
    first, third, last = listing.items[0], listing.items[2], listing.items[-1]
    assert first.external_id == "1180952"
    assert first.title == "[Doki] Kabe ni Mary.com - Chapter 11 [0EEBD9D9].zip"
    assert first.post_url == "https://nyaa.si/view/1180952"
    assert first.torrent_url == "https://nyaa.si/download/1180952.torrent"
    assert first.info_hash == "f1feaa5781a34eb29ec8dba5285982f9b337f2d8"
    assert first.size_bytes == 15309209
    assert first.posted_at == datetime.fromtimestamp(1570119440, tz=UTC)
    assert (first.seeders, first.leechers, first.downloads) == (0, 0, 188)
    assert (first.trusted, first.remake) == (True, False)
    assert first.category == "Literature - English-translated"
    assert third.external_id == "1179240"
    assert third.title == "[Doki] Isyuzoku Joshi ni OO Suru Hanashi - Chapter 03 [1A5787C3].zip"
    assert last.external_id == "1074758"
    assert last.title == "[Sean Chuang] The Window   窗"
    assert last.info_hash == "464726d372d4db8d2f67b55385492a3d172092ff"
    assert last.size_bytes == int(55.9 * MIB)
    assert last.posted_at == datetime.fromtimestamp(1536707855, tz=UTC)
    assert all(item.trusted for item in listing.items)


def test_search_results_read_52_untrusted_rows_and_no_next_page():
    listing = parse_listing(
        page("nyaa_search_results.html"), page_url="https://nyaa.si/?q=frieren&c=3_1&f=0"
    )

    assert (len(listing.items), listing.has_next) == (52, False)
    first, second, last = listing.items[0], listing.items[1], listing.items[-1]
    assert first.external_id == "2089638"
    assert first.title == "Frieren - Beyond Journey's End -Prelude- v01 [Yen Press] [Stick]"
    assert first.info_hash == "d0a1feeb383e8bc81731d6b374445cc2224fafbe"
    assert first.size_bytes == int(7.6 * MIB)
    assert first.posted_at == datetime.fromtimestamp(1774317534, tz=UTC)
    assert (first.seeders, first.leechers, first.downloads) == (33, 0, 1353)
    assert second.external_id == "2074579"
    assert second.size_bytes == int(3.1 * 1024**3)
    assert (second.seeders, second.leechers, second.downloads) == (158, 28, 5364)
    assert last.external_id == "1273971"
    assert last.title == "Sousou No Frieren | Frieren at the Funeral Chapter 01-14 (ongoing)"
    assert not any(item.trusted for item in listing.items)


def test_an_empty_search_is_zero_rows_not_an_error():
    listing = parse_listing(
        page("nyaa_search_empty.html"), page_url="https://nyaa.si/?q=zzzqqqxxyynothing"
    )

    assert (listing.items, listing.skipped, listing.has_next) == ([], [], False)


@pytest.mark.parametrize("html", [b"", b"<html><body><p>502 Bad Gateway</p></body></html>"])
def test_a_page_that_is_not_nyaa_is_refused(html):
    with pytest.raises(PageError):
        parse_detail(html, page_url="https://nyaa.si/view/1")
    with pytest.raises(PageError):
        parse_listing(html, page_url="https://nyaa.si/")


def test_a_remake_row_is_flagged_and_an_untrusted_one_is_not_trusted():
    html = page("nyaa_listing_page2.html").replace(
        b'<tr class="success">', b'<tr class="danger">', 1
    )

    listing = parse_listing(html, page_url="https://nyaa.si/?c=3_1&f=2&p=2")

    first, second = listing.items[0], listing.items[1]
    assert (first.external_id, first.remake, first.trusted) == ("1180952", True, False)
    assert (second.remake, second.trusted) == (False, True)


def test_a_row_without_a_post_link_is_skipped_and_named():
    html = page("nyaa_listing_page2.html").replace(
        b'<a href="/view/1180952" title=', b'<a href="/elsewhere" title=', 1
    )

    listing = parse_listing(html, page_url="https://nyaa.si/?c=3_1&f=2&p=2")

    assert len(listing.items) == 74
    assert listing.skipped == ["row 1: no /view/<id> link"]
