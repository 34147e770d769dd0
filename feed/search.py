"""Title search: one normal form for what is stored and what is typed.

`q` matches when every word of the query appears in a series' canonical or
alternate titles, ignoring case and accents. Both sides go through
`normalize_text`, so "Shingeki" finds "Shingeki no Kyojin" and "pokemon" finds
"Pokémon".
"""

from __future__ import annotations

import unicodedata

from django.db.models import Q, QuerySet


def normalize_text(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(without_accents.casefold().split())


def search_text_for(canonical_title: str, alternate_titles: list[str]) -> str:
    # A separator no query word can contain, so a word never spans two titles.
    return " \u241e ".join(normalize_text(t) for t in [canonical_title, *alternate_titles] if t)


def sort_title_for(canonical_title: str) -> str:
    return normalize_text(canonical_title)[:500]


def filter_by_query(queryset: QuerySet, query: str) -> QuerySet:
    """Narrow a Series queryset to titles containing every word of `query`."""
    condition = Q()
    for word in normalize_text(query).split()[:8]:
        condition &= Q(search_text__contains=word)
    return queryset.filter(condition)
