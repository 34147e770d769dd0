"""`/api/v1/releases` and the review actions: admin only, and every link change moves coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from rest_framework.test import APIClient

from feed.models import MatchMethod, Release, Resolution

RELEASES = "/api/v1/releases"
POSTED = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)

pytestmark = pytest.mark.django_db

_post_ids = count(5000)


@pytest.fixture
def make_release(db):
    def build(title="Some Series v01", **fields):
        number = next(_post_ids)
        fields.setdefault("observed_at", POSTED + timedelta(minutes=number))
        return Release.objects.create(
            external_id=str(number),
            source_name="Nyaa English",
            title=title,
            **fields,
        )

    return build


def test_release_item_has_the_documented_shape(admin_api, make_series, make_release):
    series = make_series("Berserk")
    release = make_release(
        "Berserk v01-03 c001.5 (Digital)",
        post_url="https://nyaa.si/view/1234",
        torrent_url="https://nyaa.si/download/1234.torrent",
        magnet="magnet:?xt=urn:btih:abc",
        info_hash="abc",
        size_bytes=12_345_678,
        posted_at=POSTED,
        observed_at=POSTED + timedelta(minutes=1),
        series=series,
        resolution=Resolution.REVIEW_PENDING,
        confidence=0.7,
        candidates=[{"seriesId": series.id, "title": "Berserk", "score": 0.7}],
        volume_spans=[[1, 3]],
        chapter_spans=[[1.5, 1.5]],
        seeders=12,
        leechers=3,
        downloads=480,
        trusted=True,
        files=[{"name": "Berserk v01.cbz", "size_bytes": 4_000_000}],
        formats=["cbz"],
        information_url="https://mangabaka.org/1234",
        detail_fetched_at=POSTED + timedelta(minutes=2),
    )

    body = admin_api.get(RELEASES).json()

    assert body == {
        "items": [
            {
                "id": release.id,
                "title": "Berserk v01-03 c001.5 (Digital)",
                "postUrl": "https://nyaa.si/view/1234",
                "torrentUrl": "https://nyaa.si/download/1234.torrent",
                "magnet": "magnet:?xt=urn:btih:abc",
                "infoHash": "abc",
                "sizeBytes": 12_345_678,
                "postedAt": int(POSTED.timestamp()),
                "observedAt": int(POSTED.timestamp()) + 60,
                "sourceName": "Nyaa English",
                "seriesId": series.id,
                "resolution": "review_pending",
                "confidence": 0.7,
                "matchMethod": None,
                "candidates": [{"seriesId": series.id, "title": "Berserk", "score": 0.7}],
                "volumeSpans": [{"start": 1, "end": 3}],
                "chapterSpans": [{"start": 1.5, "end": 1.5}],
                "seeders": 12,
                "leechers": 3,
                "downloads": 480,
                "trusted": True,
                "remake": False,
                "files": [{"name": "Berserk v01.cbz", "sizeBytes": 4_000_000}],
                "formats": ["cbz"],
                "informationUrl": "https://mangabaka.org/1234",
                "detailFetchedAt": int(POSTED.timestamp()) + 120,
            }
        ],
        "page": 1,
        "pageSize": 50,
        "total": 1,
    }


def test_releases_list_newest_observed_first_and_filters(admin_api, make_series, make_release):
    series = make_series()
    old = make_release(resolution=Resolution.UNRESOLVED)
    pending = make_release(resolution=Resolution.REVIEW_PENDING)
    linked = make_release(resolution=Resolution.RESOLVED, series=series)
    rejected = make_release(resolution=Resolution.REJECTED)

    def ids(**params):
        return [item["id"] for item in admin_api.get(RELEASES, params).json()["items"]]

    assert ids() == [rejected.id, linked.id, pending.id, old.id]
    assert ids(status="unresolved") == [old.id]
    assert ids(status="unresolved, review_pending") == [pending.id, old.id]
    assert ids(seriesId=series.id) == [linked.id]
    assert ids(status="rejected", seriesId=series.id) == []
    assert ids(pageSize=1, page=2) == [linked.id]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "pending"}, "status"),
        ({"seriesId": "x"}, "seriesId"),
        ({"pageSize": "500"}, "pageSize"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_release_filters_are_a_400(admin_api, params, field):
    response = admin_api.get(RELEASES, params)

    assert response.status_code == 400
    assert field in response.json()["details"]


def test_release_list_costs_two_queries(admin_api, make_release, django_assert_num_queries):
    for _ in range(30):
        make_release()

    with django_assert_num_queries(2):
        assert len(admin_api.get(RELEASES).json()["items"]) == 30


def test_linking_a_release_resolves_it_and_recomputes_coverage(
    admin_api, make_series, make_release
):
    series = make_series("Berserk")
    release = make_release(
        "Berserk v05", resolution=Resolution.REVIEW_PENDING, volume_spans=[[5, 5]]
    )

    response = admin_api.post(
        f"{RELEASES}/{release.id}/link", {"seriesId": series.id}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["seriesId"] == series.id
    assert response.json()["resolution"] == "resolved"
    assert response.json()["matchMethod"] == MatchMethod.MANUAL
    series.refresh_from_db()
    assert series.volume_coverage == [[5, 5]]
    assert series.release_count == 1


def test_unlinking_and_rejecting_take_the_release_off_its_series(
    admin_api, make_series, make_release
):
    series = make_series("Berserk")
    first = make_release("Berserk v01", volume_spans=[[1, 1]])
    second = make_release("Berserk v02", volume_spans=[[2, 2]])
    for release in (first, second):
        admin_api.post(f"{RELEASES}/{release.id}/link", {"seriesId": series.id}, format="json")

    unlinked = admin_api.post(f"{RELEASES}/{first.id}/unlink").json()
    series.refresh_from_db()
    assert (unlinked["resolution"], unlinked["seriesId"]) == ("unresolved", None)
    assert series.highest_volume == 2

    rejected = admin_api.post(f"{RELEASES}/{second.id}/reject").json()
    series.refresh_from_db()
    assert (rejected["resolution"], rejected["seriesId"]) == ("rejected", None)
    assert series.highest_volume is None
    assert series.release_count == 0


def test_retry_resolves_pending_releases_and_reports_a_summary(
    admin_api, make_series, make_release
):
    series = make_series("Vinland Saga")
    make_release("Vinland Saga v01-03 (Digital)", volume_spans=[[1, 3]])
    make_release("Completely Unrelated Thing v01", volume_spans=[[1, 1]])
    make_release("Vinland Saga v09", resolution=Resolution.REJECTED, volume_spans=[[9, 9]])

    response = admin_api.post(f"{RELEASES}/retry")

    assert response.status_code == 200
    assert response.json() == {
        "examined": 2,
        "resolved": 1,
        "queuedForReview": 0,
        "unresolved": 1,
    }
    series.refresh_from_db()
    assert series.volume_coverage == [[1, 3]]


def test_unknown_release_is_a_404(admin_api, make_series):
    series = make_series()

    for action in ("link", "reject", "unlink"):
        response = admin_api.post(
            f"{RELEASES}/999999/{action}", {"seriesId": series.id}, format="json"
        )
        assert response.status_code == 404, action
        assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("body", [{}, {"seriesId": 999999}, {"seriesId": "x"}])
def test_link_needs_an_existing_series(admin_api, make_release, body):
    release = make_release()

    response = admin_api.post(f"{RELEASES}/{release.id}/link", body, format="json")

    assert response.status_code == 400
    assert "seriesId" in response.json()["details"]
    release.refresh_from_db()
    assert release.resolution == Resolution.UNRESOLVED


def test_releases_and_actions_are_401_for_the_read_tier(api_client, make_series, make_release):
    series = make_series()
    release = make_release()
    calls = [
        ("get", RELEASES),
        ("post", f"{RELEASES}/{release.id}/link"),
        ("post", f"{RELEASES}/{release.id}/reject"),
        ("post", f"{RELEASES}/{release.id}/unlink"),
        ("post", f"{RELEASES}/retry"),
    ]

    for method, path in calls:
        response = getattr(api_client, method)(path, {"seriesId": series.id}, format="json")
        assert response.status_code == 401, path
        assert response.json()["error"] == "unauthorized"
    release.refresh_from_db()
    assert release.resolution == Resolution.UNRESOLVED


def test_bearer_without_a_configured_admin_token_is_503_but_sessions_still_work(
    tsundoku_config, staff_user, make_release
):
    tsundoku_config(auth={"admin_token": ""})
    make_release()
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION="Bearer anything")
    session = APIClient()
    session.force_login(staff_user)

    response = bearer.get(RELEASES)

    assert response.status_code == 503
    assert response.json()["error"] == "misconfigured"
    assert session.get(RELEASES).status_code == 200


def test_sort_useful_puts_live_trusted_releases_first_and_remakes_last(admin_api, make_release):
    remake = make_release("Remade v01", trusted=True, seeders=90, remake=True)
    dead = make_release("Dead v01", trusted=True, seeders=0)
    unknown = make_release("Unknown v01", trusted=True, seeders=None)
    seeded = make_release("Seeded v01", trusted=True, seeders=40)
    untrusted = make_release("Untrusted v01", trusted=False, seeders=500)

    body = admin_api.get(RELEASES, {"sort": "useful"}).json()

    assert [item["id"] for item in body["items"]] == [
        seeded.id,
        dead.id,
        unknown.id,
        untrusted.id,
        remake.id,
    ]
    assert admin_api.get(RELEASES, {"sort": "best"}).status_code == 400
