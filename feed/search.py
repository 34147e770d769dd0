"""Title search: one normal form for what is stored and what is typed.

`q` matches when every word of the query appears in a series' canonical or
alternate titles, ignoring case and accents. Both sides go through
`feed.titles.fold_text`, so "Shingeki" finds "Shingeki no Kyojin" and "pokemon" finds
"Pokémon".
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from feed.titles import fold_text


def search_text_for(canonical_title: str, alternate_titles: list[str]) -> str:
    # A separator no query word can contain, so a word never spans two titles.
    return " \u241e ".join(fold_text(t) for t in [canonical_title, *alternate_titles] if t)


def sort_title_for(canonical_title: str) -> str:
    return fold_text(canonical_title)[:500]


def filter_by_query(queryset: QuerySet, query: str) -> QuerySet:
    """Narrow a Series queryset to titles containing every word of `query`."""
    condition = Q()
    for word in fold_text(query).split()[:8]:
        condition &= Q(search_text__contains=word)
    return queryset.filter(condition)
