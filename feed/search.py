"""Title search: one normal form for what is stored and what is typed.

`q` matches when every word of the query appears in a series' canonical or
alternate titles, ignoring case and accents. Both sides go through
`feed.titles.fold_text`, so "Shingeki" finds "Shingeki no Kyojin" and "pokemon" finds
"Pokémon".

A word is a substring of `search_text`. On SQLite, words of three or more
characters are looked up in an FTS5 trigram index over search_text (migration
0006, kept in step by triggers), which finds exactly the rows a substring test
finds without reading every series; shorter words, which have no trigram, and
PostgreSQL use `search_text LIKE '%word%'`.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from feed.titles import fold_text

MAX_WORDS = 8
# The FTS5 table of migration 0006 (rowid = feed_series.id).
SEARCH_INDEX = "feed_series_search"
# The trigram tokenizer indexes runs of three characters; a shorter word has none to look up.
TRIGRAM_LENGTH = 3


def search_text_for(canonical_title: str, alternate_titles: list[str]) -> str:
    # A separator no query word can contain, so a word never spans two titles.
    return " \u241e ".join(fold_text(t) for t in [canonical_title, *alternate_titles] if t)


def sort_title_for(canonical_title: str) -> str:
    return fold_text(canonical_title)[:500]


def query_words(query: str) -> list[str]:
    """The folded words of a query that a series' titles must all contain."""
    return fold_text(query).split()[:MAX_WORDS]


def filter_by_query(queryset: QuerySet, query: str) -> QuerySet:
    """Narrow a Series queryset to titles containing every word of `query`."""
    words = query_words(query)
    indexed = []
    if connections[queryset.db].vendor == "sqlite":
        indexed = [word for word in words if _index_can_find(word)]
    condition = Q()
    for word in words:
        if word not in indexed:
            condition &= Q(search_text__contains=word)
    if indexed:
        condition &= Q(pk__in=_indexed_ids(indexed))
    return queryset.filter(condition)


def _index_can_find(word: str) -> bool:
    # FTS5's query parser ends a string at NUL; such a word stays a LIKE.
    return len(word) >= TRIGRAM_LENGTH and "\x00" not in word


def _indexed_ids(words: list[str]) -> RawSQL:
    """Ids of the series whose search_text contains every one of `words` (SQLite FTS5)."""
    # Each word is one FTS5 string: inside double quotes (a quote doubled),
    # user input is text, never an operator (AND, NEAR(, *, ^, -). A quoted
    # string is a phrase of consecutive trigrams, i.e. a substring; strings
    # side by side must all match.
    match = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    return RawSQL(f"SELECT rowid FROM {SEARCH_INDEX} WHERE {SEARCH_INDEX} MATCH %s", [match])
