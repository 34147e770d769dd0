"""The admin review queue: who may see it, and what its actions do to releases and coverage."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from feed.coverage import recompute_coverage
from feed.models import MatchMethod, Release, Resolution, Series


def make_release(title: str, **fields) -> Release:
    defaults = {
        "external_id": str(Release.objects.count() + 5000),
        "source_name": "nyaa-literature",
        "post_url": "https://nyaa.si/view/5000",
        "posted_at": timezone.now(),
        "resolution": Resolution.REVIEW_PENDING,
    }
    return Release.objects.create(title=title, **{**defaults, **fields})


@pytest.fixture
def berserk(make_series) -> Series:
    return make_series("Berserk", alternate_titles=["ベルセルク"])


@pytest.fixture
def pending(berserk) -> Release:
    return make_release(
        "[Group] Berzerk v01-05 (Digital)",
        volume_spans=[[1, 5]],
        confidence=0.72,
        candidates=[{"seriesId": berserk.pk, "title": "Berserk", "score": 0.72}],
    )


# ---- Who may use it ----------------------------------------------------------


def test_the_public_is_sent_to_log_in(client, pending):
    response = client.get("/review/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/review/"


def test_a_logged_in_reader_who_is_not_staff_is_refused(client, django_user_model, pending):
    reader = django_user_model.objects.create_user(username="reader", password="pw-123456789")
    client.force_login(reader)
    assert client.get("/review/").status_code == 403


@pytest.mark.parametrize("action", ["link", "reject", "unlink"])
def test_the_public_cannot_post_release_actions(client, pending, berserk, action):
    response = client.post(f"/review/{pending.pk}/{action}", {"series": berserk.pk})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.resolution == Resolution.REVIEW_PENDING
    assert pending.series_id is None


def test_the_public_cannot_retry_matching(client, pending):
    assert client.post("/review/retry").status_code == 403


def test_the_public_feed_has_no_review_forms(client, pending):
    html = client.get("/").content.decode()
    assert "/review/" not in html
    assert "Review queue" not in html


def test_review_actions_need_a_csrf_token(staff_user, pending, berserk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(f"/review/{pending.pk}/link", {"series": berserk.pk})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.series_id is None


def test_review_actions_only_accept_post(admin_client, pending):
    assert admin_client.get(f"/review/{pending.pk}/reject").status_code == 405


# ---- The page ----------------------------------------------------------------


def test_the_queue_lists_pending_releases_with_their_candidates(admin_client, pending, berserk):
    html = admin_client.get("/review/").content.decode()
    assert "[Group] Berzerk v01-05 (Digital)" in html
    assert f'href="/series/{berserk.pk}/"' in html
    assert "72%" in html
    assert f'action="/review/{pending.pk}/link"' in html
    assert f'name="series" value="{berserk.pk}"' in html
    assert f'action="/review/{pending.pk}/reject"' in html
    assert 'action="/review/retry"' in html
    assert html.count("csrfmiddlewaretoken") >= 3
    assert "Vol. 1–5" in html


def test_the_tabs_count_each_state_and_switch_lists(admin_client, pending):
    make_release("Unmatched thing", resolution=Resolution.UNRESOLVED)
    make_release("Rejected thing", resolution=Resolution.REJECTED)
    make_release("Another unmatched", resolution=Resolution.UNRESOLVED)
    pending_html = admin_client.get("/review/").content.decode()
    assert "Unmatched thing" not in pending_html
    assert '<span class="count">2</span>' in pending_html
    unmatched_html = admin_client.get("/review/", {"state": "unresolved"}).content.decode()
    assert "Unmatched thing" in unmatched_html
    assert "Berzerk" not in unmatched_html
    rejected_html = admin_client.get("/review/", {"state": "rejected"}).content.decode()
    assert "Rejected thing" in rejected_html
    assert "/reject" not in rejected_html.split('class="review-list"')[1]


def test_an_empty_queue_says_all_caught_up(admin_client, db):
    assert "All caught up" in admin_client.get("/review/").content.decode()


def test_searching_for_another_series_lists_matches_for_that_release(
    admin_client, pending, make_series
):
    other = make_series("Berserk of Gluttony")
    make_series("Vinland Saga")
    html = admin_client.get("/review/", {"release": pending.pk, "q": "berserk"}).content.decode()
    assert "Berserk of Gluttony" in html
    assert f'name="series" value="{other.pk}"' in html
    assert "Vinland Saga" not in html
    assert f'id="release-{pending.pk}"' in html
    assert "<details" in html and " open>" in html


def test_a_search_with_no_match_says_so(admin_client, pending):
    html = admin_client.get("/review/", {"release": pending.pk, "q": "zzz"}).content.decode()
    assert "No series title contains “zzz”" in html


def test_the_queue_page_costs_the_same_few_queries_however_many_releases(
    admin_client, berserk, django_assert_max_num_queries
):
    for n in range(30):
        make_release(
            f"Berzerk c{n}", candidates=[{"seriesId": berserk.pk, "title": "Berserk", "score": 0.7}]
        )
    # session + user, state counts, releases COUNT + page, title search (and the
    # probe that decides whether it reads the title index, feed.search).
    with django_assert_max_num_queries(7):
        response = admin_client.get("/review/", {"release": 1, "q": "berserk"})
    assert response.content.decode().count('class="review-item panel"') == 25


# ---- The actions -------------------------------------------------------------


def test_linking_a_release_resolves_it_and_updates_coverage(admin_client, pending, berserk):
    response = admin_client.post(
        f"/review/{pending.pk}/link", {"series": berserk.pk, "next": "/review/"}
    )
    assert response.status_code == 302
    assert response.url == "/review/"
    pending.refresh_from_db()
    berserk.refresh_from_db()
    assert (pending.series_id, pending.resolution) == (berserk.pk, Resolution.RESOLVED)
    assert pending.match_method == MatchMethod.MANUAL
    assert berserk.volume_coverage == [[1, 5]]
    assert berserk.highest_volume == 5
    follow = admin_client.get(response.url).content.decode()
    assert "Linked “[Group] Berzerk v01-05 (Digital)” to Berserk." in follow


def test_linking_to_a_series_that_no_longer_exists_changes_nothing(admin_client, pending):
    response = admin_client.post(f"/review/{pending.pk}/link", {"series": 987654}, follow=True)
    assert "That series no longer exists" in response.content.decode()
    pending.refresh_from_db()
    assert (pending.series_id, pending.resolution) == (None, Resolution.REVIEW_PENDING)


def test_rejecting_a_release_takes_it_out_of_the_queue(admin_client, pending):
    admin_client.post(f"/review/{pending.pk}/reject")
    pending.refresh_from_db()
    assert pending.resolution == Resolution.REJECTED
    assert pending.candidates == []
    html = admin_client.get("/review/").content.decode()
    assert "Rejected “[Group] Berzerk v01-05 (Digital)”." in html
    assert "All caught up" in html


def test_unlinking_from_the_series_page_recomputes_coverage(admin_client, berserk):
    release = make_release(
        "Berserk v01", series=berserk, resolution=Resolution.RESOLVED, volume_spans=[[1, 1]]
    )
    recompute_coverage([berserk.pk])
    page = f"/series/{berserk.pk}/"
    response = admin_client.post(f"/review/{release.pk}/unlink", {"next": page + "#releases"})
    assert response.url == page + "#releases"
    release.refresh_from_db()
    berserk.refresh_from_db()
    assert (release.series_id, release.resolution) == (None, Resolution.UNRESOLVED)
    assert (berserk.volume_coverage, berserk.highest_volume, berserk.release_count) == ([], None, 0)


def test_retry_matches_waiting_releases_against_the_catalog(admin_client, berserk):
    waiting = make_release("Berserk v07 (Digital)", resolution=Resolution.UNRESOLVED)
    response = admin_client.post("/review/retry", follow=True)
    waiting.refresh_from_db()
    assert (waiting.series_id, waiting.resolution) == (berserk.pk, Resolution.RESOLVED)
    assert "1 waiting release again: 1 linked, 0 need review, 0 still unmatched" in (
        response.content.decode()
    )


def test_an_off_site_next_is_ignored(admin_client, pending):
    response = admin_client.post(f"/review/{pending.pk}/reject", {"next": "https://evil.example/"})
    assert response.url == "/review/"
