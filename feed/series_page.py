"""One page of the feed's series, for the feed page and the `/series` API alike.

`series_listing` decides how the page is read; `series_page` reads it.
Mostly that is `feed.queries.series_queryset` counted (or its total from
`feed.queries.count_series`) and sliced, with two exceptions that keep
every plan flat with the catalog:

- The "when followed" sort is read in two parts (`follows.queries.followed_first`),
  counted from the visitor's follows and the listing's plain COUNT.
- A Codex filter is counted from the link table's `(status, series)` index
  (`codex_total`) instead of looking up every matching series, and the
  count then picks the page's plan (`walks_sort_index`): common statuses
  walk the sort's index and test each series for a link, rare ones sort
  their few matches. Same rows, order and totals either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet

from codex_sync import overlay
from feed.models import Series
from feed.pagination import Page, clamp_page, clamp_page_size, paginate
from feed.queries import (
    DISCOVERED,
    FOLLOWED_SORT,
    UNDISCOVERED,
    SeriesFilters,
    count_series,
    for_list_rows,
    overlay_for,
    series_queryset,
)
from follows.queries import count_followed, followed_first


@dataclass(frozen=True)
class SeriesListing:
    """How a page of series is read: `queryset` (then `then`), and their counts when known."""

    queryset: QuerySet[Series]
    then: QuerySet[Series] | None = None
    counts: tuple[int, ...] | None = None


def series_listing(
    filters: SeriesFilters,
    *,
    is_admin: bool,
    follower_id: int | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> SeriesListing:
    """The queries that read page `page` of `filters` (a Codex filter's total is counted here)."""

    def listed(*, codex_walks_sort_index: bool = False) -> QuerySet[Series]:
        queryset = series_queryset(
            filters,
            is_admin=is_admin,
            include_overlay=False,
            follower_id=follower_id,
            codex_walks_sort_index=codex_walks_sort_index,
        )
        return for_list_rows(queryset, is_admin=is_admin)

    queryset = listed()
    if filters.sort == FOLLOWED_SORT and not filters.following:
        first, then = followed_first(queryset, follower_id, descending=filters.order == "desc")
        # The rest's own COUNT would test "not followed" on every listed
        # series; the listing's plain COUNT reads its index alone.
        followed = count_followed(queryset, follower_id)
        total = count_series(filters)
        total = queryset.count() if total is None else total
        return SeriesListing(first, then=then, counts=(followed, total - followed))
    if not (is_admin and filters.codex_statuses):
        total = count_series(filters)
        return SeriesListing(queryset, counts=None if total is None else (total,))
    total, catalog_size = codex_total(filters, queryset)
    rows_needed = clamp_page(page) * clamp_page_size(page_size)
    if walks_sort_index(total, catalog_size, rows_needed):
        queryset = listed(codex_walks_sort_index=True)
    return SeriesListing(queryset, counts=(total,))


def series_page(
    filters: SeriesFilters,
    *,
    is_admin: bool,
    follower_id: int | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> Page:
    """Page `page` of the series `filters` select, decorated for this reader (`overlay_for`)."""
    listing = series_listing(
        filters, is_admin=is_admin, follower_id=follower_id, page=page, page_size=page_size
    )
    return paginate(
        listing.queryset,
        page,
        page_size,
        decorate=overlay_for(is_admin, follower_id),
        then=listing.then,
        counts=listing.counts,
    )


def walks_sort_index(matches: int, catalog_size: int, rows_needed: int) -> bool:
    """Whether a page should walk the sort's index (True) or sort every match (False).

    Walking in sort order reads about `rows_needed × catalog_size / matches`
    series before the page is full; sorting reads all `matches`. Walk when
    that is no more: 5,700 "behind" of 100k series walk ~900 rows for the
    first page, where 20 "tracking off" are cheaper sorted than sought.
    """
    return matches > 0 and rows_needed * catalog_size <= matches * matches


def codex_total(filters: SeriesFilters, listed: QuerySet[Series]) -> tuple[int, int]:
    """How many series `listed` (`filters` with a Codex filter) holds, and the catalog's size.

    Both from one statement. With no other filter than the scope, the total
    is counted from the link table's `(status, series)` index, less the
    linked series the scope leaves out (those `UNDISCOVERED`, few, found by
    the (release_count, origin) index); `missing` is every listed series
    less the linked ones. Otherwise it is a COUNT over `listed` itself.
    The size is the id range, an upper bound that is all `walks_sort_index` needs.
    """
    terms = _scope_only_terms(filters) if _scope_is_the_only_other_filter(filters) else None
    if terms is None:
        terms = [(1, listed)]
    selects, params = [], []
    for _sign, queryset in terms:
        compiler = queryset.order_by().values("pk").query.get_compiler(using=listed.db)
        sql, query_params = compiler.as_sql()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) counted)")
        params += query_params
    connection = connections[listed.db]
    quote = connection.ops.quote_name
    # The id range: MIN and MAX of the primary key, one seek at each end of
    # its b-tree (each alone in its SELECT, or SQLite reads them all).
    for extreme in ("MAX", "MIN"):
        selects.append(f"(SELECT {extreme}({quote('id')}) FROM {quote(Series._meta.db_table)})")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        *counts, highest_id, lowest_id = cursor.fetchone()
    total = sum(sign * count for (sign, _queryset), count in zip(terms, counts, strict=True))
    return total, 0 if highest_id is None else highest_id - lowest_id + 1


def _scope_is_the_only_other_filter(filters: SeriesFilters) -> bool:
    return not filters.narrowed_except_by("codex_statuses")


def _scope_only_terms(filters: SeriesFilters) -> list[tuple[int, QuerySet]]:
    """Signed counts summing to the series in `filters.codex_statuses` within `filters.scope`."""
    discovered_only = filters.scope == "discovered"
    terms: list[tuple[int, QuerySet]] = []
    linked = overlay.links_in_status(filters.codex_statuses)
    if linked is not None:
        terms.append((1, linked))
        if discovered_only:
            terms.append((-1, _undiscovered_with_a_link_among(linked)))
    if overlay.MISSING in filters.codex_statuses:
        every_link = overlay.links_in_status([overlay.ANY])
        listed = Series.objects.filter(DISCOVERED) if discovered_only else Series.objects.all()
        terms += [(1, listed), (-1, every_link)]
        if discovered_only:
            terms.append((1, _undiscovered_with_a_link_among(every_link)))
    return terms


def _undiscovered_with_a_link_among(links: QuerySet) -> QuerySet[Series]:
    """Series outside the default scope linked by one of `links`: read from the scope index."""
    return Series.objects.filter(UNDISCOVERED).filter(Exists(links.filter(series=OuterRef("pk"))))
