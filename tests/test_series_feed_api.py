"""`/api/v1/series/feed`: the incremental feed Codex's release plugin walks by cursor."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feed.api.cursor import InvalidCursor, decode_cursor, encode_cursor
from feed.api.serializers import EXTERNAL_ID_REF_PATTERN
from feed.coverage import recompute_coverage
from feed.models import Release, Resolution

FEED = "/api/v1/series/feed"
BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def covered(make_series):
    """A series with coverage, updated `seconds` after BASE."""

    def build(title=None, seconds=0, **fields):
        fields.setdefault("volume_coverage", [[1, 5]])
        fields.setdefault("highest_volume", 5.0)
        fields.setdefault("release_count", 1)
        return make_series(title, updated_at=BASE + timedelta(seconds=seconds), **fields)

    return build


def walk(api_client, limit=2, **body):
    """Follow nextCursor to the end; return every item seen, in order."""
    seen, cursor = [], None
    for _ in range(100):
        response = api_client.post(FEED, {"cursor": cursor, "limit": limit, **body}, format="json")
        assert response.status_code == 200, response.json()
        page = response.json()
        seen.extend(page["items"])
        if not page["hasMore"]:
            assert page["nextCursor"] is None
            return seen, cursor
        cursor = page["nextCursor"]
    pytest.fail("the feed never ended")


def test_feed_item_has_exactly_the_shape_the_codex_plugin_reads(api_client, covered):
    series = covered(
        "Berserk",
        anilist="30002",
        mal="2",
        volume_coverage=[[1, 3], [5, 5]],
        chapter_coverage=[[10.5, 10.5]],
        highest_volume=5.0,
        highest_chapter=10.5,
    )

    page = api_client.post(FEED, {}, format="json").json()

    assert page == {
        "items": [
            {
                "seriesId": series.id,
                "canonicalTitle": "Berserk",
                "externalIds": [
                    {
                        "provider": "anilist",
                        "externalId": "30002",
                        "fetchedAt": int(BASE.timestamp()),
                    },
                    {"provider": "mal", "externalId": "2", "fetchedAt": int(BASE.timestamp())},
                ],
                "volumeCoverage": [{"start": 1, "end": 3}, {"start": 5, "end": 5}],
                "chapterCoverage": [{"start": 10.5, "end": 10.5}],
                "highestVolume": 5,
                "highestChapter": 10.5,
                "updatedAt": int(BASE.timestamp()),
            }
        ],
        "hasMore": False,
        "nextCursor": None,
    }
    assert isinstance(page["items"][0]["highestVolume"], int)


def test_series_without_coverage_are_left_out(api_client, make_series, covered):
    covered("Has volumes")
    covered(
        "Has chapters",
        volume_coverage=[],
        highest_volume=None,
        chapter_coverage=[[1, 9]],
        highest_chapter=9.0,
        release_count=0,
    )
    covered("Releases without spans", volume_coverage=[], highest_volume=None, release_count=2)
    make_series("Nothing yet")

    titles = [item["canonicalTitle"] for item in api_client.get(FEED).json()["items"]]

    assert sorted(titles) == ["Has chapters", "Has volumes", "Releases without spans"]


def test_walking_with_limit_two_sees_every_covered_series_once_in_order(
    api_client, make_series, covered
):
    # Ties on updated_at (one recompute stamps many series with one time) are
    # broken by id, also across page boundaries.
    expected = [
        covered("c", seconds=30).id,
        covered("a", seconds=10).id,
        covered("b", seconds=10).id,
        covered("d", seconds=10).id,
        covered("e", seconds=20).id,
        covered("f", seconds=40).id,
        covered("g", seconds=40).id,
    ]
    make_series("uncovered")

    seen, _ = walk(api_client, limit=2)

    ordered = sorted(seen, key=lambda item: (item["updatedAt"], item["seriesId"]))
    assert [item["seriesId"] for item in seen] == [item["seriesId"] for item in ordered]
    assert sorted(item["seriesId"] for item in seen) == sorted(expected)
    assert len(seen) == len(expected)


def test_series_whose_coverage_changes_after_the_cursor_comes_back(api_client, covered):
    first = covered("first", seconds=1)
    second = covered("second", seconds=2)
    page = api_client.post(FEED, {"limit": 2}, format="json").json()
    assert page["hasMore"] is False
    last_cursor = encode_cursor(second.updated_at, second.id)

    Release.objects.create(
        external_id="1001",
        source_name="nyaa",
        title="first v06",
        series=first,
        resolution=Resolution.RESOLVED,
        volume_spans=[[6, 6]],
    )
    recompute_coverage([first.id])

    again = api_client.post(FEED, {"cursor": last_cursor}, format="json").json()
    assert [item["seriesId"] for item in again["items"]] == [first.id]
    assert again["items"][0]["volumeCoverage"] == [{"start": 6, "end": 6}]


def test_next_cursor_is_given_only_when_there_is_more(api_client, covered):
    for seconds in range(3):
        covered(seconds=seconds)

    first = api_client.post(FEED, {"limit": 2}, format="json").json()
    second = api_client.post(
        FEED, {"limit": 2, "cursor": first["nextCursor"]}, format="json"
    ).json()

    assert first["hasMore"] is True and first["nextCursor"]
    assert len(second["items"]) == 1
    assert second["hasMore"] is False and second["nextCursor"] is None


def test_cursor_is_base64url_of_microsecond_time_and_id():
    cursor = encode_cursor(BASE + timedelta(microseconds=123456), 42)

    padded = cursor + "=" * (-len(cursor) % 4)
    micros = int(BASE.timestamp()) * 1_000_000 + 123456
    assert base64.urlsafe_b64decode(padded).decode() == f"{micros}:42"
    assert "=" not in cursor


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=2**63 - 1),
)
def test_cursor_round_trip_is_exact_to_the_microsecond(updated_at, series_id):
    position = decode_cursor(encode_cursor(updated_at, series_id))

    assert position.updated_at == updated_at
    assert position.series_id == series_id


def test_cursor_position_is_exact_to_the_microsecond_and_the_id(api_client, covered):
    before = covered("before")
    tie = covered("same time, later id")
    after = covered("one microsecond later")
    after.updated_at = before.updated_at + timedelta(microseconds=1)
    after.save(update_fields=["updated_at"])

    cursor = encode_cursor(before.updated_at, before.id)
    page = api_client.post(FEED, {"cursor": cursor}, format="json").json()

    assert [item["seriesId"] for item in page["items"]] == [tie.id, after.id]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"hello").decode(),
        base64.urlsafe_b64encode(b"12:").decode(),
        base64.urlsafe_b64encode(b"-5:3").decode(),
        base64.urlsafe_b64encode(b"1.5:3").decode(),
        base64.urlsafe_b64encode(b"1:2:3").decode(),
        base64.urlsafe_b64encode(b"99999999999999999999:1").decode(),
        base64.urlsafe_b64encode("١٢:٣".encode()).decode(),
        "a",
    ],
)
def test_malformed_cursor_is_a_400_envelope(api_client, cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)

    response = api_client.post(FEED, {"cursor": cursor}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert "cursor" in body["details"]


def test_null_or_empty_cursor_starts_at_the_beginning(api_client, covered):
    covered()

    for cursor in (None, ""):
        page = api_client.post(FEED, {"cursor": cursor}, format="json").json()
        assert len(page["items"]) == 1


def test_external_ids_filter_keeps_series_carrying_any_listed_pair(api_client, covered):
    berserk = covered("Berserk", anilist="30002", mal="2")
    vagabond = covered("Vagabond", mangabaka="656")
    covered("Monster", anilist="30001")

    page = api_client.post(
        FEED,
        {"externalIds": ["mal:2", "mangabaka:656", "mangaupdates:nope"]},
        format="json",
    ).json()

    assert [item["seriesId"] for item in page["items"]] == [berserk.id, vagabond.id]
    # Every external id of a matched series comes back, not only the one asked for:
    # the plugin votes across providers.
    assert {e["provider"] for e in page["items"][0]["externalIds"]} == {"anilist", "mal"}


def test_provider_aliases_are_normalised(api_client, covered):
    series = covered("Berserk", mal="2")

    for name in ("myanimelist", "MyAnimeList", " mal "):
        page = api_client.post(FEED, {"externalIds": [f"{name}:2"]}, format="json").json()
        assert [item["seriesId"] for item in page["items"]] == [series.id], name


def test_only_unknown_providers_match_nothing_rather_than_everything(api_client, covered):
    covered(anilist="30002")

    page = api_client.post(FEED, {"externalIds": ["comicvine:30002"]}, format="json").json()

    assert page == {"items": [], "hasMore": False, "nextCursor": None}


def test_empty_external_ids_list_means_no_filter(api_client, covered):
    covered(anilist="1")
    covered()

    page = api_client.post(FEED, {"externalIds": []}, format="json").json()

    assert len(page["items"]) == 2


@pytest.mark.parametrize("entry", ["anilist", "anilist:", ":30002", "", 42, None])
def test_malformed_external_id_entry_is_a_400(api_client, entry):
    response = api_client.post(FEED, {"externalIds": ["mal:2", entry]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "externalIds" in response.json()["details"]


@pytest.mark.parametrize("limit", [0, 501, -1, "many"])
def test_limit_outside_1_to_500_is_a_400(api_client, limit):
    response = api_client.post(FEED, {"limit": limit}, format="json")

    assert response.status_code == 400
    assert "limit" in response.json()["details"]


def test_limit_defaults_to_100(api_client, covered):
    for seconds in range(101):
        covered(seconds=seconds)

    page = api_client.post(FEED, {}, format="json").json()

    assert len(page["items"]) == 100
    assert page["hasMore"] is True


def test_body_that_is_not_an_object_is_a_400(api_client):
    response = api_client.post(FEED, ["mal:2"], format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


def test_get_takes_the_same_parameters_as_query_string(api_client, covered):
    berserk = covered("Berserk", mal="2", seconds=1)
    vagabond = covered("Vagabond", mangabaka="656", seconds=2)
    monster = covered("Monster", anilist="30001", seconds=3)

    comma = api_client.get(FEED, {"externalIds": "mal:2,mangabaka:656,anilist:30001"}).json()
    repeated = api_client.get(
        f"{FEED}?externalIds=mal:2&externalIds=myanimelist:2,anilist:30001&limit=1"
    ).json()
    rest = api_client.get(FEED, {"cursor": repeated["nextCursor"], "limit": 5}).json()

    assert [i["seriesId"] for i in comma["items"]] == [berserk.id, vagabond.id, monster.id]
    assert [i["seriesId"] for i in repeated["items"]] == [berserk.id]
    assert repeated["hasMore"] is True
    assert [i["seriesId"] for i in rest["items"]] == [vagabond.id, monster.id]
    assert api_client.get(FEED, {"limit": "0"}).status_code == 400
    assert api_client.get(FEED, {"externalIds": "mal"}).status_code == 400


def test_a_page_costs_one_query_plus_one_prefetch(
    api_client, covered, django_assert_max_num_queries
):
    for seconds in range(30):
        covered(seconds=seconds, anilist=str(seconds), mal=str(seconds))

    with django_assert_max_num_queries(2):
        page = api_client.post(
            FEED,
            {"externalIds": [f"anilist:{n}" for n in range(20)], "limit": 10},
            format="json",
        ).json()

    assert len(page["items"]) == 10
    assert all(len(item["externalIds"]) == 2 for item in page["items"])


def test_feed_is_public_and_identical_for_admins(api_client, admin_api, covered):
    covered(anilist="30002")

    assert api_client.post(FEED, {}, format="json").json() == (
        admin_api.post(FEED, {}, format="json").json()
    )


@pytest.mark.parametrize(
    ("entry", "accepted"),
    [
        ("anilist:30002", True),
        (" mal : 2 ", True),
        ("mal", False),
        (":2", False),
        ("mal:", False),
        ("mal:2,anilist:3", False),  # the GET form would split it: refused in the body too
    ],
)
def test_the_external_id_pattern_in_the_schema_is_what_the_body_accepts(
    api_client, entry, accepted
):
    response = api_client.post(FEED, {"externalIds": [entry]}, format="json")

    assert (response.status_code == 200) is accepted, response.content
    assert bool(re.search(EXTERNAL_ID_REF_PATTERN, entry)) is accepted
