"""Title search: one normal form for what is stored and what is typed.

`q` matches when every word of the query appears in a series' canonical or
alternate titles, ignoring case and accents. Both sides go through
`feed.titles.fold_text`, so "Shingeki" finds "Shingeki no Kyojin" and "pokemon" finds
"Pokémon".

A word is a substring of `search_text`. On SQLite, words of three or more
characters are looked up in an FTS5 trigram index over search_text (migration
0006, kept in step by triggers), which finds exactly the rows a substring test
finds without reading every series. Shorter words, which have no trigram,
words most of the catalog contains (see `_index_is_selective`), and
PostgreSQL use `search_text LIKE '%word%'`. Either way the same series match.

Counting is another matter (`count_in_index`): the index counts the series
containing a common word from its entries alone, where the LIKE scan reads
every series' titles, so a page's total uses it whenever every word is long
enough.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import Count, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL

from feed.titles import fold_text

MAX_WORDS = 8
# The FTS5 table of migration 0006 (rowid = feed_series.id).
SEARCH_INDEX = "feed_series_search"
# The trigram tokenizer indexes runs of three characters; a shorter word has none to look up.
TRIGRAM_LENGTH = 3
# The index pays one table-row fetch per match; the LIKE scan reads a compact
# covering index (migration 0005) at a fraction of that per series. Measured
# at 100k series the scan wins once the words match about a quarter of the
# catalog ("the" matches 62% of the bench's), so the index is asked only
# below 1/COMMON_SHARE of it, and always in a catalog this small (both instant).
COMMON_SHARE = 8
COMMON_FLOOR = 1000


def search_text_for(canonical_title: str, alternate_titles: list[str]) -> str:
    # A separator no query word can contain, so a word never spans two titles.
    return " \u241e ".join(fold_text(t) for t in [canonical_title, *alternate_titles] if t)


def sort_title_for(canonical_title: str) -> str:
    return fold_text(canonical_title)[:500]


def query_words(query: str) -> list[str]:
    """The folded words of a query that a series' titles must all contain.

    NUL separates words: no title holds one, and PostgreSQL refuses the
    character in any text it is sent (SQLite's LIKE ends a pattern there).
    """
    return fold_text(query.replace("\x00", " ")).split()[:MAX_WORDS]


def filter_by_query(queryset: QuerySet, query: str) -> QuerySet:
    """Narrow a Series queryset to titles containing every word of `query`."""
    words = query_words(query)
    indexed = []
    if connections[queryset.db].vendor == "sqlite":
        indexed = [word for word in words if _index_can_find(word)]
        if indexed and not _index_is_selective(indexed, queryset.db):
            indexed = []
    condition = _contains_every(word for word in words if word not in indexed)
    if indexed:
        condition &= Q(pk__in=_indexed_ids(indexed))
    return queryset.filter(condition)


def count_in_index(queryset: QuerySet, query: str, *, leaving_out: Q | None = None) -> int | None:
    """How many series contain every word of `query`, less those `leaving_out` picks; exact.

    `queryset` names the model and database only. The trigram index counts
    the series containing the words from their index entries (a few ms for a
    word 62% of 100k titles contain, where `COUNT(*) ... LIKE` reads every
    series' titles); `leaving_out` (say, the series outside the feed's
    default scope) must pick few series: they are read row by row, with the
    substring test, and subtracted in the same statement.

    None when the index cannot count: not SQLite, no words, or a word it
    cannot look up (shorter than a trigram).
    """
    words = query_words(query)
    if (
        connections[queryset.db].vendor != "sqlite"
        or not words
        or not all(_index_can_find(word) for word in words)
    ):
        return None
    sql = f"SELECT count(*) FROM {SEARCH_INDEX} WHERE {SEARCH_INDEX} MATCH %s"
    params = [_match_expression(words)]
    if leaving_out is None:
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    in_index = RawSQL(sql, params, output_field=IntegerField())
    left_out = queryset.model._default_manager.using(queryset.db).filter(
        leaving_out & _contains_every(words)
    )
    return left_out.aggregate(total=in_index - Count("pk"))["total"]


def _contains_every(words) -> Q:
    """search_text contains each of `words`: the substring test the index stands in for."""
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return condition


def _index_can_find(word: str) -> bool:
    # No word holds a NUL, which FTS5's query parser would end it at: query_words splits there.
    return len(word) >= TRIGRAM_LENGTH


def _match_expression(words: list[str]) -> str:
    # Each word is one FTS5 string: inside double quotes (a quote doubled),
    # user input is text, never an operator (AND, NEAR(, *, ^, -). A quoted
    # string is a phrase of consecutive trigrams, i.e. a substring; strings
    # side by side must all match.
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _index_is_selective(words: list[str], alias: str) -> bool:
    """Whether at most `cap` series contain every word: then the index is the faster path.

    Counts at most cap + 1 matches, so a common word costs a short read of
    its index entries, not all of them. The largest id stands in for the
    catalog's size (a free lookup; deletions only make it generous).
    """
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "WITH cap(n) AS (SELECT max(coalesce(max(id), 0) / %s, %s) FROM feed_series)"
            f" SELECT n, (SELECT count(*) FROM (SELECT 1 FROM {SEARCH_INDEX}"
            f" WHERE {SEARCH_INDEX} MATCH %s LIMIT (SELECT n FROM cap) + 1)) FROM cap",
            [COMMON_SHARE, COMMON_FLOOR, _match_expression(words)],
        )
        cap, matches = cursor.fetchone()
    return matches <= cap


def _indexed_ids(words: list[str]) -> RawSQL:
    """Ids of the series whose search_text contains every one of `words` (SQLite FTS5)."""
    return RawSQL(
        f"SELECT rowid FROM {SEARCH_INDEX} WHERE {SEARCH_INDEX} MATCH %s",
        [_match_expression(words)],
    )
