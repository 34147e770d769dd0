"""`/api/v1/series/lookup`: find catalog series by one provider's id."""

from __future__ import annotations

import pytest

LOOKUP = "/api/v1/series/lookup"

pytestmark = pytest.mark.django_db


def test_lookup_finds_the_series_carrying_the_id(api_client, make_series):
    berserk = make_series("Berserk", anilist="30002", mal="2")
    make_series("Monster", anilist="30001")

    body = api_client.get(LOOKUP, {"provider": "anilist", "externalId": "30002"}).json()

    assert body == {
        "matches": [
            {
                "seriesId": berserk.id,
                "provider": "anilist",
                "externalId": "30002",
                "canonicalTitle": "Berserk",
            }
        ]
    }


@pytest.mark.parametrize("provider", ["myanimelist", "MAL", " mal "])
def test_provider_aliases_are_normalised(api_client, make_series, provider):
    berserk = make_series("Berserk", mal="2")

    body = api_client.get(LOOKUP, {"provider": provider, "externalId": "2"}).json()

    assert [match["seriesId"] for match in body["matches"]] == [berserk.id]
    assert body["matches"][0]["provider"] == "mal"


def test_ids_are_compared_verbatim(api_client, make_series):
    make_series(mangadex="A1B2")

    body = api_client.get(LOOKUP, {"provider": "mangadex", "externalId": "a1b2"}).json()

    assert body == {"matches": []}


@pytest.mark.parametrize(
    "params",
    [
        {"provider": "anilist", "externalId": "404"},
        {"provider": "comicvine", "externalId": "30002"},
    ],
    ids=["unknown-id", "unknown-provider"],
)
def test_no_match_is_an_empty_200(api_client, make_series, params):
    make_series(anilist="30002")

    response = api_client.get(LOOKUP, params)

    assert response.status_code == 200
    assert response.json() == {"matches": []}


@pytest.mark.parametrize(
    "params, missing",
    [
        ({"externalId": "1"}, "provider"),
        ({"provider": "anilist"}, "externalId"),
        ({"provider": "", "externalId": "1"}, "provider"),
        ({"provider": "anilist", "externalId": "  "}, "externalId"),
    ],
)
def test_missing_parameters_are_a_400_envelope(api_client, params, missing):
    response = api_client.get(LOOKUP, params)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert missing in body["details"]


def test_lookup_costs_one_query(api_client, make_series, django_assert_num_queries):
    make_series(anilist="30002")

    with django_assert_num_queries(1):
        api_client.get(LOOKUP, {"provider": "anilist", "externalId": "30002"})
