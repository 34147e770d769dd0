"""`/api/v1/series` and `/api/v1/series/{id}`: the catalog as JSON."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus

SERIES = "/api/v1/series"
WHEN = datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)

pytestmark = pytest.mark.django_db

ITEM_KEYS = {
    "id",
    "canonicalTitle",
    "coverUrl",
    "kind",
    "status",
    "year",
    "releaseCount",
    "highestVolume",
    "highestChapter",
    "totalVolumes",
    "totalChapters",
    "lastReleaseAt",
    "firstSeenAt",
}
DETAIL_KEYS = ITEM_KEYS | {
    "alternateTitles",
    "description",
    "genres",
    "externalIds",
    "volumeCoverage",
    "chapterCoverage",
}


def test_list_item_has_the_documented_camel_case_keys(api_client, make_series):
    series = make_series(
        "Berserk",
        cover_url="https://covers.example/berserk.jpg",
        kind="manga",
        status="ongoing",
        year=1989,
        release_count=3,
        highest_volume=41.0,
        highest_chapter=364.5,
        total_volumes=42,
        total_chapters=None,
        last_release_at=WHEN,
        first_seen_at=WHEN - timedelta(days=1),
    )

    body = api_client.get(SERIES).json()

    assert body == {
        "items": [
            {
                "id": series.id,
                "canonicalTitle": "Berserk",
                "coverUrl": "https://covers.example/berserk.jpg",
                "kind": "manga",
                "status": "ongoing",
                "year": 1989,
                "releaseCount": 3,
                "highestVolume": 41,
                "highestChapter": 364.5,
                "totalVolumes": 42,
                "totalChapters": None,
                "lastReleaseAt": int(WHEN.timestamp()),
                "firstSeenAt": int(WHEN.timestamp()) - 86400,
            }
        ],
        "page": 1,
        "pageSize": 50,
        "total": 1,
    }


def test_whole_numbers_print_as_integers_and_fractions_stay(api_client, make_series):
    make_series(highest_volume=12.0, highest_chapter=10.5)

    raw = api_client.get(SERIES).content.decode()

    assert '"highestVolume":12,' in raw
    assert '"highestChapter":10.5,' in raw


def test_absent_values_are_null(api_client, make_series):
    make_series(cover_url="", year=None, last_release_at=None)

    item = api_client.get(SERIES).json()["items"][0]

    assert item["coverUrl"] is None
    assert item["year"] is None
    assert item["lastReleaseAt"] is None
    assert item["highestVolume"] is None
    assert isinstance(item["firstSeenAt"], int)


def test_pages_are_one_based_with_total(api_client, make_series):
    for day in range(5):
        make_series(f"S{day}", last_release_at=WHEN + timedelta(days=day))

    first = api_client.get(SERIES, {"pageSize": 2}).json()
    third = api_client.get(SERIES, {"pageSize": 2, "page": 3}).json()
    beyond = api_client.get(SERIES, {"pageSize": 2, "page": 9}).json()

    assert [i["canonicalTitle"] for i in first["items"]] == ["S4", "S3"]
    assert (first["page"], first["pageSize"], first["total"]) == (1, 2, 5)
    assert [i["canonicalTitle"] for i in third["items"]] == ["S0"]
    assert beyond["items"] == [] and beyond["total"] == 5


@pytest.mark.parametrize(
    "params, field",
    [
        ({"pageSize": "201"}, "pageSize"),
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "lots"}, "pageSize"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
    ],
)
def test_bad_paging_values_are_a_400_envelope(api_client, params, field):
    response = api_client.get(SERIES, params)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert field in body["details"]


def test_page_size_up_to_200_is_accepted(api_client, make_series):
    make_series()

    assert api_client.get(SERIES, {"pageSize": "200"}).json()["pageSize"] == 200


def test_filters_search_and_sort_come_from_the_shared_feed_query(api_client, make_series):
    make_series("Berserk", kind="manga", highest_volume=41.0)
    make_series("Solo Leveling", kind="manhwa", highest_volume=8.0)
    make_series("Tower of God", kind="manhwa", highest_volume=3.0)

    by_kind = api_client.get(SERIES, {"kind": "manhwa", "sort": "highest_volume"}).json()
    by_query = api_client.get(SERIES, {"q": "berserk"}).json()
    by_title = api_client.get(SERIES, {"sort": "title"}).json()

    assert [i["canonicalTitle"] for i in by_kind["items"]] == ["Solo Leveling", "Tower of God"]
    assert by_kind["total"] == 2
    assert [i["canonicalTitle"] for i in by_query["items"]] == ["Berserk"]
    assert [i["canonicalTitle"] for i in by_title["items"]] == [
        "Berserk",
        "Solo Leveling",
        "Tower of God",
    ]


def test_detail_adds_metadata_external_ids_and_coverage(api_client, make_series):
    series = make_series(
        "Shingeki no Kyojin",
        alternate_titles=["Attack on Titan"],
        description="Walls.",
        genres=["Action", "Drama"],
        volume_coverage=[[1, 4], [6, 9]],
        chapter_coverage=[[120.5, 120.5]],
        highest_volume=9.0,
        highest_chapter=120.5,
        anilist="53390",
        mal="23390",
    )

    body = api_client.get(f"{SERIES}/{series.id}").json()

    assert set(body) == DETAIL_KEYS
    assert body["alternateTitles"] == ["Attack on Titan"]
    assert body["description"] == "Walls."
    assert body["genres"] == ["Action", "Drama"]
    assert body["externalIds"] == [
        {"provider": "anilist", "externalId": "53390"},
        {"provider": "mal", "externalId": "23390"},
    ]
    assert body["volumeCoverage"] == [{"start": 1, "end": 4}, {"start": 6, "end": 9}]
    assert body["chapterCoverage"] == [{"start": 120.5, "end": 120.5}]
    assert body["highestVolume"] == 9


def test_unknown_series_is_a_404_envelope(api_client):
    response = api_client.get(f"{SERIES}/999999")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "No series with id 999999."}


def _catalog_with_overlay(make_series, count: int) -> None:
    ConnectionStatus.objects.create(pk=ConnectionStatus.SINGLETON_ID, last_success_at=WHEN)
    for number in range(count):
        series = make_series(
            anilist=str(1000 + number), mal=str(2000 + number), highest_volume=float(number)
        )
        if number % 2:
            CodexLink.objects.create(
                series=series,
                codex_series_uuid=uuid.uuid4(),
                local_max_volume=number - 1,
                synced_at=timezone.now(),
            )


@pytest.mark.parametrize("tier, expected_queries", [("anonymous", 2), ("admin", 3)])
def test_listing_sixty_series_costs_a_constant_number_of_queries(
    request, make_series, django_assert_num_queries, tier, expected_queries
):
    client = request.getfixturevalue("api_client" if tier == "anonymous" else "admin_api")
    _catalog_with_overlay(make_series, 60)

    # COUNT + page (+ the last sweep time for admins): never one per series.
    with django_assert_num_queries(expected_queries):
        body = client.get(SERIES, {"pageSize": 100}).json()

    assert len(body["items"]) == 60
    if tier == "admin":
        assert sum(1 for item in body["items"] if item["owned"]) == 30


@pytest.mark.parametrize("tier", ["api_client", "admin_api"])
def test_series_detail_costs_two_queries(request, make_series, django_assert_num_queries, tier):
    client = request.getfixturevalue(tier)
    _catalog_with_overlay(make_series, 2)
    linked = CodexLink.objects.get().series

    with django_assert_num_queries(2):
        body = client.get(f"{SERIES}/{linked.id}").json()

    assert len(body["externalIds"]) == 2
