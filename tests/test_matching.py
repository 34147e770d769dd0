"""Matching Codex series to catalog series by shared external id (SPEC §5.2 step 4).

Pure functions over plain data: no database, no HTTP.
"""

from __future__ import annotations

import pytest

from codex_sync.client import CodexExternalId, CodexSeries
from codex_sync.matching import (
    IndexMatcher,
    catalog_index,
    match_index,
    normalize_source,
)
from codex_sync.models import ConflictKind
from feed.external_ids import canonical_external_id

MU_SLUG = "hly6oqa"
MU_DECIMAL = str(int(MU_SLUG, 36))


def index_of(rows: list[tuple[int, str, str]]) -> dict:
    """`catalog_index` of (series id, provider, stored id) rows, as the database groups them."""
    stored: dict[str, dict[str, int]] = {}
    for series_id, provider, external_id in rows:
        stored.setdefault(provider, {})[external_id] = series_id
    return catalog_index(stored)


def codex_series(number: int, *external_ids: tuple[str, str]) -> CodexSeries:
    return CodexSeries(
        id=f"00000000-0000-4000-8000-{number:012d}",
        external_ids=tuple(
            CodexExternalId(source=source, external_id=external_id, external_url=None)
            for source, external_id in external_ids
        ),
        local_max_volume=None,
        local_max_chapter=None,
        volumes_owned=None,
    )


@pytest.mark.parametrize(
    ("source", "provider"),
    [
        ("plugin:mangabaka", "mangabaka"),
        ("plugin:metadata-mangabaka", "mangabaka"),
        ("api:mangabaka", "mangabaka"),
        ("mangabaka", "mangabaka"),
        ("api:myanimelist", "mal"),
        ("myanimelist", "mal"),
        ("my_anime_list", "mal"),
        ("api:mal", "mal"),
        ("AniList", "anilist"),
        ("api:anilist", "anilist"),
        ("api:animeplanet", "anime_planet"),
        ("api:animenewsnetwork", "anime_news_network"),
        ("manga_updates", "mangaupdates"),
        ("mangaupdates", "mangaupdates"),
        ("api:mangaupdates", "mangaupdates"),
        ("api:mangadex", "mangadex"),
        ("api:kitsu", "kitsu"),
        ("api:shikimori", "shikimori"),
        ("  API:AniList  ", "anilist"),
        ("\tPlugin:MangaBaka\n", "mangabaka"),
        ("MyAnimeList", "mal"),
    ],
)
def test_known_codex_sources_normalise_to_a_catalog_provider(source, provider):
    assert normalize_source(source) == provider


@pytest.mark.parametrize(
    "source",
    [
        "manual",
        "comicinfo",
        "plugin:comicinfo",
        "api:manual",
        "",
        "   ",
        "plugin:",
        "plugin:api:anilist",  # only one prefix is stripped
        "anilist:plugin",
        "goodreads",
    ],
)
def test_unknown_codex_sources_are_ignored(source):
    assert normalize_source(source) is None


def test_a_mangaupdates_slug_and_its_decimal_form_normalise_alike():
    assert canonical_external_id("mangaupdates", MU_SLUG) == MU_DECIMAL
    assert canonical_external_id("mangaupdates", MU_DECIMAL) == MU_DECIMAL
    assert canonical_external_id("mangaupdates", MU_SLUG.upper()) == MU_DECIMAL
    assert canonical_external_id("mangaupdates", f" {MU_SLUG} ") == MU_DECIMAL


def test_ids_of_other_providers_are_compared_verbatim():
    assert canonical_external_id("anilist", "030002") == "030002"
    assert canonical_external_id("mangadex", "AbC-def") == "AbC-def"
    assert canonical_external_id("mangabaka", MU_SLUG) == MU_SLUG


def test_a_mangaupdates_slug_in_codex_matches_the_decimal_id_in_the_catalog():
    index = index_of([(7, "mangaupdates", MU_DECIMAL)])

    result = match_index([codex_series(1, ("api:mangaupdates", MU_SLUG))], index)

    (match,) = result.matches
    assert (match.series_id, match.provider, match.external_id) == (7, "mangaupdates", MU_SLUG)


def test_a_mangaupdates_decimal_id_in_codex_matches_the_slug_in_the_catalog():
    index = index_of([(7, "mangaupdates", MU_SLUG)])

    result = match_index([codex_series(1, ("mangaupdates", MU_DECIMAL))], index)

    assert [match.series_id for match in result.matches] == [7]


def test_an_id_under_another_provider_does_not_match():
    index = index_of([(7, "anilist", "42")])

    result = match_index([codex_series(1, ("api:myanimelist", "42"))], index)

    assert result.matches == []
    assert [item.id for item in result.unmatched] == [codex_series(1).id]


def test_a_codex_series_with_only_unknown_sources_is_unmatched():
    index = index_of([(7, "mangabaka", "42")])

    result = match_index([codex_series(1, ("manual", "42"), ("comicinfo", "42"))], index)

    assert result.matches == []
    assert len(result.unmatched) == 1


def test_many_claims_on_one_series_are_settled_by_provider_then_lowest_uuid():
    index = index_of([(7, "mangabaka", "1"), (7, "anilist", "2")])
    items = [
        codex_series(9, ("api:anilist", "2")),
        codex_series(8, ("plugin:mangabaka", "1")),
        codex_series(4, ("api:mangabaka", "1")),
    ]

    forward = match_index(items, index)
    backward = match_index(list(reversed(items)), index)

    for result in (forward, backward):
        (match,) = result.matches
        assert match.codex.id == codex_series(4).id
        (conflict,) = result.conflicts
        assert conflict.kind == ConflictKind.MANY_CLAIM_ONE
        assert conflict.chosen_codex_series_uuid == codex_series(4).id
        assert conflict.codex_series_uuids[0] == codex_series(4).id
        assert set(conflict.codex_series_uuids) == {item.id for item in items}
    assert forward.conflicts == backward.conflicts


def test_one_codex_series_matching_many_goes_to_the_best_provider_whatever_the_id_order():
    index = index_of([(3, "mal", "5"), (8, "mangabaka", "6"), (5, "anilist", "7")])
    ids = [("api:myanimelist", "5"), ("plugin:mangabaka", "6"), ("AniList", "7")]

    results = [
        match_index([codex_series(1, *ids)], index),
        match_index([codex_series(1, *reversed(ids))], index),
    ]

    for result in results:
        assert [match.series_id for match in result.matches] == [8]
        (conflict,) = result.conflicts
        assert conflict.kind == ConflictKind.CODEX_MATCHES_MANY
        assert conflict.chosen_series_id == 8
        assert conflict.series_ids == (8, 5, 3)


def test_the_index_keys_ids_by_their_canonical_spelling_and_keeps_every_series_sharing_one():
    index = catalog_index(
        {
            "mangaupdates": {MU_SLUG: 4, MU_DECIMAL: 2, "0012": 6},
            "anilist": {" 42 ": 7, "42": 9, "43": 3},
        }
    )

    assert index == {
        "mangaupdates": {MU_DECIMAL: (2, 4), "12": 6},
        "anilist": {"42": (7, 9), "43": 3},
    }


def test_one_mangaupdates_id_spelled_both_ways_on_two_catalog_series_is_a_conflict():
    index = index_of([(4, "mangaupdates", MU_SLUG), (2, "mangaupdates", MU_DECIMAL)])

    result = match_index([codex_series(1, ("api:mangaupdates", MU_SLUG))], index)

    assert [match.series_id for match in result.matches] == [2]
    (conflict,) = result.conflicts
    assert conflict.kind == ConflictKind.CODEX_MATCHES_MANY
    assert conflict.series_ids == (2, 4)


def test_a_series_linked_by_hand_is_never_auto_linked():
    index = index_of([(7, "mangabaka", "1"), (9, "anilist", "2")])

    result = match_index(
        [codex_series(1, ("plugin:mangabaka", "1"), ("api:anilist", "2"))],
        index,
        manual_series_ids={7},
    )

    assert [match.series_id for match in result.matches] == [9]
    assert result.conflicts == []


def test_a_codex_series_linked_by_hand_only_refreshes_its_manual_link():
    index = index_of([(7, "mangabaka", "1")])
    item = codex_series(1, ("plugin:mangabaka", "1"))

    result = match_index([item], index, manual_codex_uuids={item.id})

    assert result.matches == []
    assert result.unmatched == []
    assert result.manual_refresh == {item.id: item}


@pytest.mark.parametrize("page_size", [1, 2, 3, 100])
def test_matching_page_by_page_decides_exactly_what_matching_at_once_does(page_size):
    """The sweep matches each page as it arrives; how the index was paged must not matter."""
    index = index_of(
        [(7, "mangabaka", "1"), (7, "anilist", "2"), (3, "mal", "5"), (8, "mangabaka", "6")]
    )
    items = [
        codex_series(9, ("api:anilist", "2")),
        codex_series(1, ("api:myanimelist", "5"), ("plugin:mangabaka", "6")),
        codex_series(8, ("plugin:mangabaka", "1")),
        codex_series(5, ("comicinfo", "1")),
        codex_series(4, ("api:mangabaka", "1")),
        codex_series(6, ("api:mangabaka", "6")),
    ]
    at_once = match_index(items, index, manual_codex_uuids={codex_series(6).id})

    matcher = IndexMatcher(index, manual_codex_uuids={codex_series(6).id})
    for start in range(0, len(items), page_size):
        matcher.add(items[start : start + page_size])
    paged = matcher.result()

    assert paged == at_once
    assert [match.series_id for match in paged.matches] == [7, 8]
    assert [conflict.kind for conflict in paged.conflicts] == [
        ConflictKind.CODEX_MATCHES_MANY,
        ConflictKind.MANY_CLAIM_ONE,
    ]
    assert [item.id for item in paged.unmatched] == [codex_series(5).id]
    assert list(paged.manual_refresh) == [codex_series(6).id]


def test_rival_claims_are_reported_in_series_id_order_whatever_order_they_came_in():
    index = index_of([(9, "mangabaka", "9"), (4, "mangabaka", "4")])
    items = [
        codex_series(1, ("plugin:mangabaka", "9")),
        codex_series(2, ("plugin:mangabaka", "4")),
        codex_series(3, ("plugin:mangabaka", "9")),
        codex_series(4, ("plugin:mangabaka", "4")),
    ]

    for order in (items, list(reversed(items))):
        result = match_index(order, index)

        assert [conflict.series_ids for conflict in result.conflicts] == [(4,), (9,)]
        assert [conflict.kind for conflict in result.conflicts] == [ConflictKind.MANY_CLAIM_ONE] * 2
