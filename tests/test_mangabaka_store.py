"""The installed dump answers by id, by foreign id and by title; merged rows stay out of sight."""

from __future__ import annotations

import pytest

from metadata.mangabaka.refresh import dump_path
from metadata.mangabaka.store import DumpStore
from tests.mangabaka_helpers import fixture, install_dump, row


@pytest.fixture
def store(data_dir):
    chainsaw = fixture("dump-row-1677.json")
    install_dump(
        [
            chainsaw,
            {
                "id": 9999,
                "title": "Chainsaw Man (merged)",
                "type": "manga",
                "state": "merged",
                "merged_with": 1677,
                "source_anilist_id": 105778,
            },
            {"id": 10, "title": "Chainsaw Man Gone", "state": "deleted", "source_kitsu_id": 1},
            row(
                2060,
                "Omniscient Reader",
                titles=[
                    {"title": "Omniscient Reader", "language": "en"},
                    {"title": "Omniscient Reader's Viewpoint", "language": "en"},
                    {"title": "Jeonjijeok Dokja Sijeom", "language": "ko-Latn"},
                ],
            ),
            row(3, "Chainsaw Man Academy"),
            row(4, "The Man Who Sold Chainsaws"),
            row(
                5,
                "One Piece",
                titles=[{"title": f"Alt Title Number {i}", "language": "en"} for i in range(300)],
            ),
            row(6, "Piece of Cake One Shot"),
            row(7, "Gintama"),
        ]
    )
    return DumpStore(dump_path())


def test_get_returns_active_series_and_follows_merged_ids(store):
    assert store.get("1677").title == "Chainsaw Man"
    assert store.get("9999").external_id == "1677"  # merged → its active target
    assert store.get("10") is None  # deleted
    assert store.get("424242") is None
    assert store.get("1677; DROP TABLE series") is None


def test_source_lookup_skips_merged_rows_listed_first(store):
    # 9999 (merged) also carries AniList 105778; the active 1677 must still be found.
    assert store.find_by_source("anilist", "105778").external_id == "1677"
    assert store.find_by_source("mangaupdates", "ylx5wzn").external_id == "1677"
    assert store.find_by_source("kitsu", "1") is None  # only a deleted row has it
    assert store.find_by_source("mangadex", "x") is None


def test_search_finds_a_series_by_an_alternate_title(store):
    found = store.search("omniscient reader's viewpoint", 5)
    assert [series.external_id for series in found][:1] == ["2060"]
    assert store.search("jeonjijeok dokja", 5)[0].external_id == "2060"


def test_search_ranks_the_exact_title_first(store):
    found = store.search("Chainsaw Man", 10)
    assert found[0].external_id == "1677"
    assert {series.external_id for series in found} >= {"1677", "3"}


def test_merged_and_deleted_rows_are_invisible_to_search(store):
    ids = {series.external_id for series in store.search("chainsaw", 20)}
    assert "9999" not in ids and "10" not in ids
    assert "1677" in ids


def test_a_series_with_many_alternates_still_ranks_first_for_its_title(store):
    assert store.search("one piece", 3)[0].external_id == "5"


def test_search_handles_quotes_blank_and_unknown_words(store):
    assert store.search('"chainsaw', 3)[0].title.startswith("Chainsaw")
    assert store.search("   ", 3) == []
    assert store.search("zzqx", 3) == []
    # No series has every word: any-word matching still finds candidates.
    assert store.search("chainsaw zzqx", 3)[0].title.startswith("Chainsaw")


def test_the_store_reopens_after_the_file_is_swapped(store):
    assert store.get("2060") is not None
    install_dump([row(2060, "Omniscient Reader (new dump)")])
    assert store.get("2060").title == "Omniscient Reader (new dump)"
    assert store.get("1677") is None


def test_no_dump_installed_answers_nothing(data_dir):
    store = DumpStore(dump_path())
    assert not store.is_installed()
    assert store.get("1") is None and store.search("x") == []


def test_queries_of_only_common_words_still_find_the_exact_title(data_dir, monkeypatch):
    # Shrink "common" so a handful of rows exercises the path a 585k-row dump takes.
    monkeypatch.setattr("metadata.mangabaka.store.RANKED_MATCH_LIMIT", 2)
    monkeypatch.setattr("metadata.mangabaka.refresh.RANKED_MATCH_LIMIT", 2)
    install_dump(
        [row(index, f"The Boy Who Was Number {index}") for index in range(1, 8)]
        + [row(50, "The Boy", titles=[{"title": "Le Garçon", "language": "fr"}])]
    )
    store = DumpStore(dump_path())

    assert store.search("the boy", 3)[0].external_id == "50"
    assert store.search("le garcon", 3)[0].external_id == "50"  # accents folded by FTS
    assert store.search("The Boy Who Was Number 4", 1)[0].external_id == "4"


def test_words_the_title_joins_are_found_when_the_query_splits_them(store):
    assert store.search("gin tama", 5)[0].title == "Gintama"
    # A query whose own words already find a close title does not widen.
    assert store.search("chainsaw man", 5)[0].title == "Chainsaw Man"
