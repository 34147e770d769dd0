"""The template helpers (the feed's and the shared ones), called directly as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from feed.templatetags.feed_tags import cover, external_url, initials, safe_url, tile_hue
from tsundoku.templatetags.tsundoku_tags import (
    filesize,
    format_number,
    format_spans,
    page_window,
    progress,
    querystring,
    relative_time,
    time_ago,
)


def test_format_spans_writes_ranges_and_single_numbers():
    assert format_spans([[1, 5], [7, 7]]) == "1–5, 7"
    assert format_spans([[1.0, 4.0], [6, 9], [10.5, 10.5]]) == "1–4, 6–9, 10.5"


def test_format_spans_of_nothing_is_empty():
    assert format_spans([]) == ""
    assert format_spans(None) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12.0, "12"), (10.5, "10.5"), (137.25, "137.25"), (0, "0"), (7, "7"), (None, "")],
)
def test_format_number_drops_a_trailing_zero_fraction(value, expected):
    assert format_number(value) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (None, ""),
        (0, "0 B"),
        (512, "512 B"),
        (1536, "1.5 KiB"),
        (12_163_481, "11.6 MiB"),
        (3 * 1024**3, "3.0 GiB"),
        (2 * 1024**6, "2048.0 PiB"),
    ],
)
def test_filesize_uses_binary_units_like_nyaa(size, expected):
    assert filesize(size) == expected


@pytest.mark.parametrize(
    ("provider", "external_id", "expected"),
    [
        ("mangabaka", "123", "https://mangabaka.dev/123"),
        ("anilist", "30002", "https://anilist.co/manga/30002"),
        ("mal", "2", "https://myanimelist.net/manga/2"),
        ("mangaupdates", "hly6oqa", "https://www.mangaupdates.com/series/hly6oqa"),
        ("mangaupdates", "38103460850", "https://www.mangaupdates.com/series/38103460850"),
        (
            "mangadex",
            "801513ba-a712-498c-8f57-cae55b38cc92",
            "https://mangadex.org/title/801513ba-a712-498c-8f57-cae55b38cc92",
        ),
        ("kitsu", "25", "https://kitsu.app/manga/25"),
        ("shikimori", "2", "https://shikimori.one/mangas/2"),
        ("anime_planet", "berserk", "https://www.anime-planet.com/manga/berserk"),
        (
            "anime_news_network",
            "1234",
            "https://www.animenewsnetwork.com/encyclopedia/manga.php?id=1234",
        ),
    ],
)
def test_external_url_points_at_the_provider_page(provider, external_id, expected):
    assert external_url(provider, external_id) == expected


def test_external_url_escapes_the_id_so_it_cannot_change_the_path():
    assert external_url("anilist", "1/../../evil?x=1") == (
        "https://anilist.co/manga/1%2F..%2F..%2Fevil%3Fx%3D1"
    )


def test_external_url_is_empty_for_an_unknown_provider_or_blank_id():
    assert external_url("comicinfo", "12") == ""
    assert external_url("anilist", "  ") == ""


@pytest.mark.parametrize(
    "url",
    ["https://nyaa.si/view/1", "http://example.com/a.jpg", "magnet:?xt=urn:btih:abc"],
)
def test_safe_url_keeps_web_and_magnet_links(url):
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "/relative", "", None],
)
def test_safe_url_drops_every_other_scheme(url):
    assert safe_url(url) == ""


def test_querystring_applies_changes_and_drops_empty_values_and_the_first_page():
    params = {"q": "berserk", "kind": "manga", "view": "list"}
    assert querystring(params, page=3) == "?q=berserk&kind=manga&view=list&page=3"
    assert querystring(params, page=1, view=None, kind="") == "?q=berserk"


def test_querystring_escapes_values():
    assert querystring({"q": "a&b c"}) == "?q=a%26b+c"


def test_querystring_of_nothing_is_a_bare_question_mark():
    # "?" (not "") so a link clears the current query instead of repeating it.
    assert querystring({}, page=1) == "?"


@pytest.mark.parametrize(
    ("page", "pages", "expected"),
    [
        (1, 1, [1]),
        (1, 5, [1, 2, 3, 4, 5]),
        (1, 20, [1, 2, 3, None, 20]),
        (10, 20, [1, None, 8, 9, 10, 11, 12, None, 20]),
        (4, 20, [1, 2, 3, 4, 5, 6, None, 20]),
        (20, 20, [1, None, 18, 19, 20]),
    ],
)
def test_page_window_shows_neighbours_ends_and_gaps(page, pages, expected):
    assert page_window(page, pages) == expected


def test_page_window_past_the_end_still_offers_the_real_pages():
    assert page_window(9, 3) == [1, 2, 3]


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=5), "5\xa0minutes ago"),
        (timedelta(days=3, hours=7), "3\xa0days ago"),
        (timedelta(days=400), "1\xa0year ago"),
        (-timedelta(hours=2), "in 2\xa0hours"),
    ],
)
def test_relative_time_names_the_largest_unit_only(delta, expected):
    assert relative_time(NOW - delta, now=NOW) == expected


def test_time_ago_wraps_the_relative_time_in_a_time_element_with_the_absolute_date(settings):
    settings.TIME_ZONE = "UTC"
    html = time_ago(datetime(2024, 1, 2, 3, 4, tzinfo=UTC))
    assert html.startswith(
        '<time datetime="2024-01-02T03:04:00+00:00" title="2024-01-02 03:04 UTC">'
    )
    assert html.endswith(" ago</time>")


def test_time_ago_of_nothing_is_the_placeholder():
    assert time_ago(None) == "—"
    assert time_ago(None, empty="None yet") == "None yet"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Vinland Saga", "VS"),
        ("Berserk", "BE"),
        ("[Oshi no Ko]", "ON"),
        ("進撃の巨人", "進撃"),
        ("", "?"),
        ("!!!", "?"),
    ],
)
def test_initials_for_the_placeholder_cover(title, expected):
    assert initials(title) == expected


def test_tile_hue_is_stable_per_title_and_a_valid_hue():
    assert tile_hue("Berserk") == tile_hue("Berserk")
    assert tile_hue("Berserk") != tile_hue("Vinland Saga")
    assert all(0 <= tile_hue(f"Series {n}") < 360 for n in range(50))


def test_progress_shows_the_highest_number_and_the_known_total_muted():
    assert progress(12.0, 20) == (
        '12<span class="muted"><span aria-hidden="true"> / </span>'
        '<span class="visually-hidden"> of </span>20</span>'
    )
    assert progress(10.5, None) == "10.5"


def test_progress_without_a_number_is_a_dash_saying_none_was_seen():
    assert progress(None, 0) == '<span class="muted" title="None seen yet">—</span>'


def test_cover_is_the_initials_tile_on_the_title_hue_until_the_image_is_cached():
    series = SimpleNamespace(canonical_title="Vinland <Saga>", cover_url="javascript:alert(1)")
    html = cover(series, "card")
    assert html == (
        f'<div class="cover cover--card" style="--hue: {tile_hue("Vinland <Saga>")}"'
        ' aria-hidden="true"><span class="cover__initials">VS</span></div>'
    )
