"""The feed page, the series page and the lookup redirect, for readers and for the admin."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus
from covers.storage import cover_key
from feed.models import ExternalId, MatchMethod, Release, Resolution, Series
from tests.covers_helpers import cache_cover
from tsundoku.urls import urlpatterns as project_urlpatterns


def url_root(*, with_exports: bool) -> type:
    """The project's URL root with or without an `exports` app, for the nav tests."""
    patterns = [p for p in project_urlpatterns if getattr(p, "namespace", None) != "exports"]
    if with_exports:
        exports = ([path("", HttpResponse, name="index")], "exports")
        patterns = [path("exports/", include(exports)), *patterns]
    # A class, not a module: Django only needs a hashable object with `urlpatterns`.
    return type("UrlRoot", (), {"urlpatterns": patterns})


CODEX_UUID = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def swept(db):
    """A Codex sweep has succeeded once, so admin badges may show."""
    ConnectionStatus.objects.update_or_create(
        pk=ConnectionStatus.SINGLETON_ID, defaults={"last_success_at": timezone.now()}
    )


def link_to_codex(series: Series, **counts) -> CodexLink:
    return CodexLink.objects.create(
        series=series,
        codex_series_uuid=counts.pop("uuid", CODEX_UUID),
        synced_at=timezone.now(),
        **counts,
    )


def add_release(series: Series | None, title: str, **fields) -> Release:
    defaults = {
        "external_id": str(Release.objects.count() + 1000),
        "source_name": "nyaa-literature",
        "post_url": "https://nyaa.si/view/1",
        "torrent_url": "https://nyaa.si/download/1.torrent",
        "magnet": "magnet:?xt=urn:btih:abc",
        "size_bytes": 12_163_481,
        "posted_at": timezone.now() - timedelta(days=3),
        "resolution": Resolution.RESOLVED if series else Resolution.UNRESOLVED,
        "match_method": MatchMethod.MANUAL if series else MatchMethod.NONE,
    }
    return Release.objects.create(series=series, title=title, **{**defaults, **fields})


# ---- The feed page ----------------------------------------------------------


def test_the_feed_lists_series_as_cards_by_default(client, make_series):
    make_series("Berserk", kind="manga", status="ongoing", year=1989, highest_volume=41)
    html = page_text(client.get("/"))
    assert "Berserk" in html
    assert 'class="card-grid"' in html
    assert "<table" not in html
    assert "Ongoing" in html
    assert "<strong>1</strong> series" in html


def test_the_list_view_is_chosen_in_the_query_string_and_kept_in_links(client, make_series):
    for n in range(3):
        make_series(f"Series {n}")
    html = page_text(client.get("/", {"view": "list", "pageSize": 2, "kind": "manga"}))
    assert 'class="table series-table"' in html
    assert 'class="card-grid"' not in html
    # Pagination keeps the layout and the filters.
    assert 'href="?kind=manga&amp;view=list&amp;pageSize=2&amp;page=2"' in html
    # The search form carries the layout forward too.
    assert '<input type="hidden" name="view" value="list">' in html


def test_the_layout_toggle_links_keep_the_filters(client, make_series):
    make_series("Berserk")
    html = page_text(client.get("/", {"q": "berserk", "view": "list"}))
    assert 'href="?q=berserk"' in html  # back to cards, same search
    assert 'href="?q=berserk&amp;view=list"' in html


def test_search_narrows_the_feed_to_matching_titles(client, make_series):
    make_series("Berserk", alternate_titles=["ベルセルク"])
    make_series("Vinland Saga")
    html = page_text(client.get("/", {"q": "ベルセルク"}))
    assert "Berserk" in html
    assert "Vinland Saga" not in html
    assert "matching “ベルセルク”" in html


def test_filters_narrow_the_feed_and_show_as_selected(client, make_series):
    make_series("A Manhwa", kind="manhwa", status="completed")
    make_series("A Manga", kind="manga", status="completed")
    make_series("Hiatus Manhwa", kind="manhwa", status="hiatus")
    html = page_text(client.get("/", {"kind": "manhwa", "status": "completed"}))
    assert "A Manhwa" in html
    assert "A Manga" not in html
    assert "Hiatus Manhwa" not in html
    assert '<option value="manhwa" selected>' in html
    assert '<option value="completed" selected>' in html
    assert "Clear all" in html


def test_has_releases_filter(client, make_series):
    make_series("With", release_count=2)
    make_series("Without", release_count=0)
    html = page_text(client.get("/", {"hasReleases": "false"}))
    assert "Without" in html
    assert ">With<" not in html


def test_the_filter_panel_stays_open_on_small_screens_only_while_a_filter_is_set(
    client, make_series
):
    make_series("Berserk")
    assert "data-active" not in page_text(client.get("/", {"q": "berserk"}))
    assert "data-active" in page_text(client.get("/", {"status": "ongoing"}))
    assert "data-active" in page_text(client.get("/", {"sort": "title"}))


def test_styles_and_scripts_are_served_locally(client, db):
    html = page_text(client.get("/"))
    assets = re.findall(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"', html)
    assert assets == ["/static/css/tsundoku.css", "/static/js/tsundoku.js"]


def test_sort_and_order_are_applied(client, make_series):
    make_series("Alpha")
    make_series("Charlie")
    make_series("Bravo")
    html = page_text(client.get("/", {"sort": "title", "order": "desc"}))
    assert html.index("Charlie") < html.index("Bravo") < html.index("Alpha")
    assert '<option value="title" selected>' in html
    assert '<option value="desc" selected>' in html


def test_pages_hold_fifty_series_and_say_where_they_are(client, make_series):
    for n in range(60):
        make_series(f"Series {n:02d}")
    html = page_text(client.get("/", {"page": 2, "sort": "title", "order": "asc"}))
    assert html.count('class="card"') == 10
    assert "Showing <strong>51–60</strong> of" in html
    assert "<strong>60</strong> series" in html
    assert 'aria-current="page" aria-label="Page 2, current"' in html
    assert 'rel="prev"' in html


def test_a_page_past_the_end_says_so(client, make_series):
    make_series("Only one")
    html = page_text(client.get("/", {"page": 7}))
    assert "Nothing on this page" in html


def test_an_empty_catalog_explains_itself(client, db):
    assert "The catalog is empty" in page_text(client.get("/"))


def test_dates_are_relative_with_the_absolute_date_alongside(client, make_series):
    make_series(
        "Berserk", release_count=1, last_release_at=timezone.now() - timedelta(days=3, hours=2)
    )
    html = page_text(client.get("/"))
    assert re.search(
        r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d[^"]*">3\xa0days ago</time>', html
    )


def test_a_series_without_a_cover_gets_an_initials_tile(client, make_series, data_dir):
    make_series("Vinland Saga")
    berserk = make_series("Berserk", cover_url="https://covers.example/berserk.jpg")
    cache_cover(berserk.cover_url)  # covers are served from the local cache (covers app)
    html = page_text(client.get("/"))
    assert '<span class="cover__initials">VS</span>' in html
    assert f'src="/covers/{cover_key(berserk.cover_url)}"' in html
    assert html.count("<img") == 1


def test_the_feed_page_costs_the_same_few_queries_however_many_series(
    admin_client, make_series, swept, django_assert_max_num_queries
):
    for n in range(60):
        series = make_series(
            f"Series {n}",
            anilist=str(10_000 + n),
            mangadex=str(uuid.uuid4()),
            highest_volume=n,
            release_count=1,
        )
        link_to_codex(series, uuid=uuid.uuid4(), local_max_volume=n - 1)
    # session + user, COUNT + page, Codex sweep time: nothing per series.
    with django_assert_max_num_queries(5):
        html = page_text(admin_client.get("/", {"pageSize": 60}))
    assert html.count('class="card"') == 60
    assert html.count("codex-badge--behind") == 60
    with django_assert_max_num_queries(5):
        page_text(admin_client.get("/", {"view": "list", "pageSize": 60}))


# ---- What the public never sees ----------------------------------------------


@pytest.fixture
def linked_series(make_series, swept):
    series = make_series("Berserk", anilist="30002", highest_volume=42, release_count=1)
    link_to_codex(series, local_max_volume=41, volumes_owned=40)
    return series


ADMIN_MARKERS = ("codexStatus", "Review queue", "codex-badge", str(CODEX_UUID), "codex.test")


@pytest.mark.parametrize("view", ["cards", "list"])
def test_the_public_feed_has_no_admin_markup(client, linked_series, view):
    html = page_text(client.get("/", {"view": view}))
    for marker in ADMIN_MARKERS:
        assert marker not in html, marker


@pytest.mark.parametrize("view", ["cards", "list"])
def test_the_admin_feed_has_the_codex_filter_badges_and_review_link(
    admin_client, linked_series, view
):
    html = page_text(admin_client.get("/", {"view": view}))
    assert 'name="codexStatus"' in html
    for label in ("On Codex (any)", "owned", "behind", "owned?", "tracking off"):
        assert label in html
    assert "Not on Codex" in html
    assert "Review queue" in html
    assert f'href="http://codex.test/series/{CODEX_UUID}"' in html
    assert "codex-badge--behind" in html
    assert "~40 owned" in html


def test_the_codex_filter_is_ignored_for_the_public(client, make_series, linked_series):
    make_series("Not on Codex at all")
    html = page_text(client.get("/", {"codexStatus": "behind"}))
    assert "Berserk" in html
    assert "Not on Codex at all" in html


def test_the_codex_filter_narrows_the_feed_for_the_admin(admin_client, make_series, linked_series):
    make_series("Not on Codex at all")
    html = page_text(admin_client.get("/", {"codexStatus": "missing"}))
    assert "Not on Codex at all" in html
    assert ">Berserk<" not in html
    assert 'value="missing" checked' in html


def test_the_public_series_page_has_no_admin_markup(client, linked_series):
    add_release(linked_series, "Berserk v42")
    html = page_text(client.get(f"/series/{linked_series.pk}/"))
    for marker in ADMIN_MARKERS:
        assert marker not in html, marker
    assert "codex-panel" not in html
    assert "/unlink" not in html


def test_the_admin_series_page_has_the_badge_codex_panel_and_unlink(admin_client, linked_series):
    release = add_release(linked_series, "Berserk v42")
    html = page_text(admin_client.get(f"/series/{linked_series.pk}/"))
    assert "codex-badge--behind" in html
    assert 'data-testid="codex-panel"' in html
    assert f'action="/review/{release.pk}/unlink"' in html
    assert "csrfmiddlewaretoken" in html


def test_the_public_header_offers_a_login(client, db):
    public = page_text(client.get("/"))
    assert 'href="/accounts/login/?next=/"' in public
    assert "Log out" not in public


def test_the_admin_header_logs_out_with_a_post_form(admin_client):
    admin = page_text(admin_client.get("/"))
    logout_form = (
        r'<form method="post" action="/accounts/logout/"[^>]*>\s*'
        r'<input type="hidden" name="csrfmiddlewaretoken"'
    )
    assert re.search(logout_form, admin)


def test_the_header_links_to_the_api_docs_and_skips_to_content(client, db):
    html = page_text(client.get("/"))
    assert 'href="/api/v1/docs"' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html


def test_exports_link_is_absent_while_there_is_no_exports_page(client, db, settings):
    settings.ROOT_URLCONF = url_root(with_exports=False)
    assert ">Exports<" not in page_text(client.get("/"))


def test_exports_link_appears_for_signed_in_users_when_there_is_an_exports_page(
    admin_client, db, settings
):
    settings.ROOT_URLCONF = url_root(with_exports=True)
    assert 'href="/exports/">Exports<' in page_text(admin_client.get("/"))
    # Exports belong to a signed-in user; a visitor would only meet a login page.
    assert ">Exports<" not in page_text(Client().get("/"))


def test_the_login_page_renders_a_labelled_form(client, db):
    html = page_text(client.get("/accounts/login/?next=/review/"))
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html
    assert 'name="next" value="/review/"' in html


def test_logging_in_lands_on_the_feed(client, staff_user):
    response = client.post(
        "/accounts/login/", {"username": "admin", "password": "admin-password-1"}
    )
    assert response.status_code == 302
    assert response.url == "/"


# ---- The series page ---------------------------------------------------------


def test_the_series_page_shows_metadata_links_coverage_and_releases(client, make_series):
    series = make_series(
        "Berserk",
        alternate_titles=["ベルセルク"],
        kind="manga",
        status="ongoing",
        year=1989,
        description="A dark fantasy.",
        genres=["Action", "Dark Fantasy"],
        total_volumes=42,
        volume_coverage=[[1, 5], [7, 7]],
        chapter_coverage=[[300, 310.5]],
        highest_volume=7,
        release_count=1,
        anilist="30002",
        mangaupdates="hly6oqa",
    )
    add_release(
        series,
        "Berserk v01-05 (Digital)",
        volume_spans=[[1, 5]],
        post_url="https://nyaa.si/view/123",
        torrent_url="https://nyaa.si/download/123.torrent",
        magnet="magnet:?xt=urn:btih:deadbeef&dn=Berserk",
    )
    html = page_text(client.get(f"/series/{series.pk}/"))
    assert "<h1" in html and "Berserk" in html
    assert "ベルセルク" in html
    assert "A dark fantasy." in html
    assert "Dark Fantasy" in html
    assert 'href="https://anilist.co/manga/30002"' in html
    assert 'href="https://www.mangaupdates.com/series/hly6oqa"' in html
    assert "1–5, 7" in html
    assert "300–310.5" in html
    assert "of 42 published" in html
    assert 'href="https://nyaa.si/view/123"' in html
    assert 'href="https://nyaa.si/download/123.torrent"' in html
    assert 'href="magnet:?xt=urn:btih:deadbeef&amp;dn=Berserk"' in html
    assert "11.6 MiB" in html
    assert "Vol. 1–5" in html
    assert "3\xa0days ago" in html


def test_the_series_page_lists_only_linked_releases_newest_first(client, make_series):
    series = make_series("Berserk")
    add_release(series, "Older one", posted_at=timezone.now() - timedelta(days=9))
    add_release(series, "Newer one", posted_at=timezone.now() - timedelta(days=1))
    add_release(None, "Someone else's")
    html = page_text(client.get(f"/series/{series.pk}/"))
    assert html.index("Newer one") < html.index("Older one")
    assert "Someone else" not in html


def test_the_series_page_costs_the_same_few_queries_however_many_releases(
    admin_client, make_series, swept, django_assert_max_num_queries
):
    series = make_series("Berserk", anilist="1", mal="2", mangadex="3", kitsu="4")
    link_to_codex(series, local_max_volume=3)
    for n in range(80):
        add_release(series, f"Berserk c{n}")
    # session + user, series with its link, external ids, releases COUNT + page, sweep time.
    with django_assert_max_num_queries(7):
        html = page_text(admin_client.get(f"/series/{series.pk}/"))
    assert html.count('class="release-table__title"') == 50
    assert 'href="?page=2#releases"' in html


def test_a_hostile_link_from_a_feed_is_not_rendered_as_a_link(client, make_series):
    series = make_series("Berserk", cover_url="javascript:alert(1)")
    add_release(series, "Berserk v01", post_url="javascript:alert(2)", magnet="data:text/html,x")
    html = page_text(client.get(f"/series/{series.pk}/"))
    assert "javascript:" not in html
    assert "data:text/html" not in html
    assert "Berserk v01" in html


def test_pages_answer_head_requests(client, make_series):
    series = make_series("Berserk")
    assert client.head("/").status_code == 200
    assert client.head(f"/series/{series.pk}/").status_code == 200


def test_an_unknown_series_is_a_404(client, db):
    assert client.get("/series/999999/").status_code == 404


# ---- Lookup and search redirects ---------------------------------------------


def test_lookup_redirects_to_the_series_page(client, make_series):
    series = make_series("Berserk", mangabaka="42")
    response = client.get("/series/lookup", {"source": "mangabaka", "id": "42"})
    assert response.status_code == 302
    assert response.url == f"/series/{series.pk}/"


def test_lookup_of_an_unknown_id_is_a_404_page(client, make_series):
    make_series("Berserk", mangabaka="42")
    response = client.get("/series/lookup", {"source": "mal", "id": "42"})
    assert response.status_code == 404
    assert "No series with that id" in response.content.decode()
    assert "mal:42" in response.content.decode()


@pytest.mark.parametrize("source, external_id", [("mangabaka", "4\x002"), ("manga\x00baka", "42")])
def test_lookup_of_an_id_with_a_nul_is_a_404_page_on_every_database(
    client, make_series, source, external_id
):
    # PostgreSQL refuses a NUL in any text it is sent; no stored id holds one.
    make_series("Berserk", mangabaka="42")
    response = client.get("/series/lookup", {"source": source, "id": external_id})
    assert response.status_code == 404
    assert "No series with that id" in response.content.decode()


def test_lookup_without_parameters_is_a_404_page(client, db):
    response = client.get("/series/lookup")
    assert response.status_code == 404
    assert "needs both a provider" in response.content.decode()


def test_the_search_link_from_codex_lands_on_the_searched_feed(client, db):
    response = client.get("/search", {"q": "Berserk"})
    assert response.status_code == 302
    assert response.url == "/?q=Berserk"


def test_external_ids_are_listed_in_a_stable_order(client, make_series):
    series = make_series("Berserk")
    for provider, external_id in [("mangadex", "x"), ("mal", "2"), ("anilist", "1")]:
        ExternalId.objects.create(series=series, provider=provider, external_id=external_id)
    html = page_text(client.get(f"/series/{series.pk}/"))
    # The catalog's provider order (SPEC §4.1), not alphabetical.
    assert html.index("AniList") < html.index("MyAnimeList") < html.index("MangaDex")
