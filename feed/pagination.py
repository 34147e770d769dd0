"""Page-number pagination shared by the feed page and the JSON API.

Framework-neutral on purpose: it takes a queryset and two integers and costs
at most one COUNT and one LIMIT/OFFSET query, whoever calls it. Reading the
numbers from a request (lenient for pages, strict for the API) is the caller's
business; `clamp_page` and `clamp_page_size` are the shared bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any

from django.db.models import QuerySet, Subquery

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    """One page of results and where it sits in the whole."""

    items: list[Any]
    page: int
    page_size: int
    total: int
    pages: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item on this page (0 when the page is empty)."""
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.items else 0


def clamp_page(page: int | None) -> int:
    """Pages are 1-based; anything below 1 (or missing) is the first page."""
    return max(1, page or 1)


def clamp_page_size(page_size: int | None) -> int:
    """Default 50, at least 1, at most 200."""
    if page_size is None:
        return DEFAULT_PAGE_SIZE
    return min(MAX_PAGE_SIZE, max(1, page_size))


def paginate(
    queryset: QuerySet,
    page: int | None,
    page_size: int | None = None,
    *,
    decorate: Callable[[QuerySet], QuerySet] | None = None,
    then: QuerySet | None = None,
    counts: Sequence[int] | None = None,
) -> Page:
    """Slice `queryset` to one page: one COUNT, one SELECT.

    A page past the end is empty rather than an error, with `total` and
    `pages` still right, so a client that paged while rows vanished can see why.

    `decorate` adds what only the shown rows need (joins, annotations). It is
    applied to this page's rows alone — `pk IN (the page's ids, sorted and
    limited in a subquery)` — so counting and sorting 100k rows never carry
    a join that 50 rows need. The outer query keeps the sort and the columns
    but not the filters: the subquery applied them, and a filter that reads
    another table (a Codex status, the visitor's follows) would otherwise be
    evaluated a second time.

    `then` lists more rows after every row of `queryset`, each part in its
    own order (the "when followed" sort: the followed series, then the rest
    by id). Two parts each read in index order cost one more COUNT (and a
    second SELECT on the page where they meet); one ORDER BY over both
    would sort every row of the catalog to show fifty.

    `counts` are the caller's own counts of each part, when it has a
    cheaper way to them than a COUNT over each query (a title search counts
    its index, `feed.queries.count_series`; the Codex filter its links, the
    "when followed" sort the visitor's follows: `feed.series_page`); they
    stand in for the COUNTs.
    """
    page = clamp_page(page)
    page_size = clamp_page_size(page_size)
    parts = [queryset] if then is None else [queryset, then]
    if counts is None:
        counts = [part.count() for part in parts]
    elif len(counts) != len(parts):
        raise ValueError(f"{len(counts)} counts for {len(parts)} parts")
    total = sum(counts)
    offset = (page - 1) * page_size
    items: list[Any] = []
    for part, count in zip(parts, counts, strict=True):
        wanted = page_size - len(items)
        if wanted and offset < count:
            items += _rows(part, offset, offset + wanted, decorate)
        offset = max(0, offset - count)
    return Page(
        items=items,
        page=page,
        page_size=page_size,
        total=total,
        pages=max(1, ceil(total / page_size)),
    )


def _rows(
    queryset: QuerySet, start: int, stop: int, decorate: Callable[[QuerySet], QuerySet] | None
) -> list[Any]:
    """Rows `start:stop` of `queryset`, decorated (see `paginate`)."""
    if decorate is None:
        return list(queryset[start:stop])
    window = queryset.values("pk")[start:stop]
    rows = decorate(queryset.model._default_manager.filter(pk__in=Subquery(window)))
    rows.query.deferred_loading = queryset.query.deferred_loading
    # After `decorate`: the order may name what it annotates (`followed_at`).
    return list(rows.order_by(*queryset.query.order_by))


def int_or_none(value: object) -> int | None:
    """A query-string number, or None when it is missing or not an integer."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
