"""Title search through the trigram index finds exactly what a substring test finds.

On SQLite, `filter_by_query` looks words of three or more characters up in the
FTS5 trigram index of migration 0006; today's rule, the reference here, is
"every folded word is a substring of search_text" (`search_text LIKE '%word%'`).
The index is kept in step by triggers, so writes that bypass `Series.save`
(`tsundoku.db.update_values`, `import_series`) are searched correctly too.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed import search
from feed.importer import import_series
from feed.models import Series
from feed.search import SEARCH_INDEX, filter_by_query, query_words, search_text_for
from tsundoku.db import update_values

pytestmark = pytest.mark.django_db

# A varied catalog: accents, case, CJK, punctuation, FTS5 syntax, short words,
# and the separator between titles.
CATALOG = [
    ("The Promised Neverland", ["Yakusoku no Neverland"]),
    ("Shingeki no Kyojin", ["Attack on Titan", "進撃の巨人"]),
    ("Pokémon Adventures", ["Pocket Monsters SPECIAL", "ポケットモンスター"]),
    ("Café Ōtaku", ["CAFE OTAKU", "Çà et là"]),
    ("NEAR(the) AND -x ^start*", ['He said "hi"', "a*b OR c"]),
    ("Re:Zero − Starting Life in Another World", ["Re:ゼロから始める異世界生活"]),
    ("Ao no Exorcist", ["青の祓魔師", "Blue Exorcist"]),
    ("100% Perfect Girl", ["100%パーフェクトガール", "under_score"]),
    ("D.Gray-man", ["Dグレ"]),
    ("x", []),
    ("Ｆｕｌｌｗｉｄｔｈ Ｔｉｔｌｅ", ["ﬁ ligature"]),
    ("Straße", ["STRASSE", "ΣΊΣΥΦΟΣ"]),
    ("Theatre of the Absurd", ["Thé"]),
    ("Berserk", ["Kenpuu Denki Berserk", "ベルセルク"]),
]

# Hostile or tricky input: FTS5 operators and quotes must be text, never syntax.
QUERIES = [
    "The",
    "the neverland",
    "THE PROMISED",
    "pokemon",
    "Pokémon adv",
    "cafe",
    "ça",
    "ōtaku cafe",
    "進撃",
    "進撃の巨人",
    "巨",
    "ポケット",
    '"',
    '""',
    '"hi"',
    'said "hi',
    "*",
    "a*b",
    "start*",
    "^start",
    "AND",
    "and the",
    "OR",
    "NEAR(",
    "near(the)",
    "-x",
    "x",
    "-",
    "^",
    ":",
    "re:zero",
    "100%",
    "%",
    "_",
    "under_score",
    "d.gray",
    "\u241e",
    "titan \u241e",
    "kyojin \u241e attack",
    "o a",
    "ao no",
    "fullwidth",
    "ｆｕｌｌ",
    "fi lig",
    "strasse",
    "straße",
    "σίσυφος",
    "σισυφοσ",
    "berserk denki kenpuu",
    "abc\x00def",
    "the\x00",
    "zzz",
    "",
    "   ",
    "a b c d e f g h i j",
]


@pytest.fixture(params=["index", "scan"])
def catalog(request, monkeypatch) -> list[Series]:
    """The catalog, searched through the index or (every word "common") by the LIKE scan."""
    if request.param == "scan":
        # A cap of 14 // 8 = 1 match: any word two series contain counts as common.
        monkeypatch.setattr(search, "COMMON_FLOOR", 0)
    return [
        Series.objects.create(canonical_title=title, alternate_titles=alternates)
        for title, alternates in CATALOG
    ]


def substring_ids(query: str) -> set[int]:
    """The rule in Python: every folded word is a substring of search_text."""
    words = query_words(query)
    return {
        pk
        for pk, text in Series.objects.values_list("pk", "search_text")
        if all(word in text for word in words)
    }


def like_ids(query: str) -> set[int]:
    """Today's SQL, the reference: one `search_text LIKE '%word%'` per word.

    A NUL in the query separates words (`query_words`), so no pattern holds
    one: SQLite's LIKE would end it there, and PostgreSQL refuses it.
    """
    queryset = Series.objects.all()
    for word in query_words(query):
        queryset = queryset.filter(search_text__contains=word)
    return set(queryset.values_list("pk", flat=True))


def search_ids(query: str) -> set[int]:
    return set(filter_by_query(Series.objects.all(), query).values_list("pk", flat=True))


@pytest.mark.parametrize("query", QUERIES)
def test_search_finds_exactly_the_series_whose_titles_contain_every_word(catalog, query):
    expected = like_ids(query)
    assert search_ids(query) == expected
    assert expected == substring_ids(query)


def test_the_varied_catalog_exercises_matches_and_misses(catalog):
    # The equivalence above is not vacuous: words of every length find series.
    assert len(search_ids("the")) == 4  # "another" too
    assert search_ids("進撃の巨人") == {catalog[1].pk}
    assert search_ids('"hi"') == {catalog[4].pk}
    assert search_ids("near(the)") == {catalog[4].pk}
    assert search_ids("x") >= {catalog[4].pk, catalog[9].pk}
    assert search_ids("zzz") == set()


def search_sql(query: str) -> str:
    return str(filter_by_query(Series.objects.all(), query).query)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")
def test_words_of_three_characters_or_more_are_looked_up_in_the_index(catalog):
    sql = search_sql("berserk x")
    assert f"FROM {SEARCH_INDEX} WHERE {SEARCH_INDEX} MATCH" in sql
    assert "LIKE %x%" in sql  # one character has no trigram: still a substring test
    assert SEARCH_INDEX not in search_sql("x ao")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")
def test_words_most_of_the_catalog_contains_are_scanned_not_looked_up(db, monkeypatch):
    monkeypatch.setattr(search, "COMMON_FLOOR", 0)
    for number in range(16):  # cap: 16 // 8 = 2 matches
        title = "Common Rare" if number == 0 else f"Common {number}"
        Series.objects.create(canonical_title=title)
    assert SEARCH_INDEX not in search_sql("common")  # 16 matches: the scan is cheaper
    assert "LIKE %common%" in search_sql("common")
    assert SEARCH_INDEX in search_sql("rare")  # 1 match
    assert SEARCH_INDEX in search_sql("common rare")  # the words together: 1 match
    assert len(search_ids("common")) == 16
    assert len(search_ids("common rare")) == 1


# Text drawn from the catalog's own alphabet, so random words often hit.
ALPHABET = st.sampled_from(
    sorted({c for t, alts in CATALOG for c in t + "".join(alts)} | set('"*^()-:\u241e '))
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(ALPHABET, max_size=12) | st.text(max_size=8))
def test_any_query_finds_what_a_substring_test_finds(catalog, query):
    assert search_ids(query) == like_ids(query)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_piece_of_a_stored_title_finds_its_series(catalog, data):
    series = data.draw(st.sampled_from(catalog))
    start = data.draw(st.integers(0, len(series.search_text)))
    piece = series.search_text[start : start + data.draw(st.integers(1, 10))]
    assert search_ids(piece) == like_ids(piece)
    if query_words(piece):
        assert series.pk in search_ids(piece)


def test_a_renamed_series_is_found_by_its_new_title_only(catalog):
    series = catalog[0]
    series.canonical_title = "Brand New Name"
    series.save()
    assert search_ids("brand new") == {series.pk}
    assert series.pk not in search_ids("promised")
    assert series.pk in search_ids("yakusoku")


def test_a_deleted_series_is_no_longer_found(catalog):
    catalog[13].delete()
    assert search_ids("berserk") == set()


def test_titles_rewritten_by_a_bulk_update_are_searched_by_their_new_text(catalog):
    berserk = catalog[13]
    update_values(
        Series,
        ["canonical_title", "alternate_titles", "search_text"],
        [
            (
                berserk.pk,
                "Vinland Saga",
                ["ヴィンランド・サガ"],
                search_text_for("Vinland Saga", ["ヴィンランド・サガ"]),
            )
        ],
    )
    assert search_ids("vinland") == {berserk.pk}
    assert search_ids("ヴィンランド") == {berserk.pk}
    assert search_ids("berserk") == set()


def test_a_bulk_update_of_other_columns_leaves_the_titles_searchable(catalog):
    berserk = catalog[13]
    update_values(Series, ["release_count"], [(berserk.pk, 12)])
    assert search_ids("berserk") == {berserk.pk}


def test_imported_series_are_searchable_and_a_reimport_rename_moves_them(tmp_path, catalog):
    path = tmp_path / "series.json"

    def import_titles(title: str) -> None:
        record = {
            "canonicalTitle": title,
            "alternateTitles": ["Dōbutsu no Mori"],
            "externalIds": {"mangabaka": "4242"},
        }
        path.write_text(json.dumps([record]), encoding="utf-8")
        report = import_series(path)
        assert not report.errors

    import_titles("Animal Crossing: New Horizons")
    imported = Series.objects.get(canonical_title="Animal Crossing: New Horizons")
    assert search_ids("crossing dobutsu") == {imported.pk}

    import_titles("Animal Forest")
    assert search_ids("forest") == {imported.pk}
    assert search_ids("crossing") == set()
    assert search_ids("dobutsu") == {imported.pk}
