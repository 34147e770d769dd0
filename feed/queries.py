"""The feed's one query: filters, search and sort, all in SQL.

The feed page, the `/series` API and exports all call `parse_filters` then
`series_queryset`, so a filter means the same thing everywhere and pagination
and totals are always computed by the database.

The Codex ownership filter is admin-only: `parse_filters` drops it for
everyone else, so it can never be used to probe the library. "Following"
and "sort by when followed" read the visitor's own follows only
(`follower_id`); for an anonymous visitor they find nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet

from codex_sync import overlay
from feed.models import Release, Series, SeriesKind, SeriesOrigin, SeriesStatus
from feed.search import count_in_index, filter_by_query
from follows.queries import only_followed, with_followed_at

# sort key → (column, tie-breaker). Every column has a matching (column, id) index.
SORTS: dict[str, str] = {
    "last_release": "last_release_at",
    "first_seen": "first_seen_at",
    "highest_volume": "highest_volume",
    "highest_chapter": "highest_chapter",
    "title": "sort_title",
}
# Sort by when the visitor followed: pages for a signed-in visitor only (the
# API and exports have no follower), on `follows.queries.with_followed_at`.
FOLLOWED_SORT = "followed"
DEFAULT_ORDER = {"title": "asc"}  # every other sort defaults to newest/largest first
SORT_ALIASES = {
    "lastReleaseAt": "last_release",
    "firstSeenAt": "first_seen",
    "highestVolume": "highest_volume",
    "highestChapter": "highest_chapter",
    "canonicalTitle": "title",
}

MAX_QUERY_LENGTH = 200

# What the feed lists: by default what has surfaced (a release named it) or
# what someone put there on purpose; `scope=all` adds every series a provider
# record created that has no release linked (any more).
SCOPES = ("discovered", "all")
DISCOVERED = Q(release_count__gt=0) | ~Q(origin=SeriesOrigin.PROVIDER)
# Every series DISCOVERED leaves out, as one seek of series_scope_idx (its
# complement: release_count is never negative, neither column is NULL).
UNDISCOVERED = Q(release_count=0, origin=SeriesOrigin.PROVIDER)


class InvalidFilter(ValueError):
    """A filter value outside what its parameter allows (`parse_filters(strict=True)`)."""

    def __init__(self, parameter: str, value: str, allowed: Iterable[str]) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {value!r} is not one of {', '.join(allowed)}.")


def _as_list(params: Mapping, key: str) -> list[str]:
    """Comma-separated and/or repeated parameters, trimmed, in order, without repeats."""
    if hasattr(params, "getlist"):
        raw = params.getlist(key)
    else:
        value = params.get(key)
        raw = value if isinstance(value, list | tuple) else [value] if value else []
    values: list[str] = []
    for chunk in raw:
        for part in str(chunk).split(","):
            part = part.strip()
            if part and part not in values:
                values.append(part)
    return values


def _as_bool(value: object) -> bool | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    return None


@dataclass(frozen=True)
class SeriesFilters:
    """What the reader asked for, already validated. Unknown values are dropped."""

    q: str = ""
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    has_releases: bool | None = None
    sort: str = "last_release"
    order: str = "desc"
    codex_statuses: tuple[str, ...] = field(default=())
    scope: str = "discovered"
    following: bool = False

    def narrowed_except_by(self, *kept: str) -> bool:
        """Whether any filter but the scope, sort and those named in `kept` narrows the list.

        The cheaper counts (`count_series`, `feed.series_page.codex_total`)
        apply only when one kind of filter is set; a filter added here is
        seen by both.
        """
        narrowing = {
            "q": bool(self.q),
            "kinds": bool(self.kinds),
            "statuses": bool(self.statuses),
            "has_releases": self.has_releases is not None,
            "codex_statuses": bool(self.codex_statuses),
            "following": self.following,
        }
        return any(value for name, value in narrowing.items() if name not in kept)

    def as_query_params(self) -> dict[str, str]:
        """The filters back as URL parameters (for pagination links and 'export this view')."""
        params: dict[str, str] = {}
        if self.q:
            params["q"] = self.q
        if self.kinds:
            params["kind"] = ",".join(self.kinds)
        if self.statuses:
            params["status"] = ",".join(self.statuses)
        if self.has_releases is not None:
            params["hasReleases"] = "true" if self.has_releases else "false"
        if self.sort != "last_release":
            params["sort"] = self.sort
        if self.order != DEFAULT_ORDER.get(self.sort, "desc"):
            params["order"] = self.order
        if self.codex_statuses:
            params["codexStatus"] = ",".join(self.codex_statuses)
        if self.scope != "discovered":
            params["scope"] = self.scope
        if self.following:
            params["following"] = "true"
        return params


def overlay_for(
    is_admin: bool, follower_id: int | None = None
) -> Callable[[QuerySet], QuerySet] | None:
    """What a page of series needs added for this reader.

    The Codex overlay for admins only; `followed_at` (the follow buttons) for
    a signed-in visitor, from their own follows.
    """
    if not is_admin and follower_id is None:
        return None

    def decorate(queryset: QuerySet) -> QuerySet:
        if is_admin:
            queryset = overlay.with_codex(queryset)
        if follower_id is not None:
            queryset = with_followed_at(queryset, follower_id)
        return queryset

    return decorate


def _known(
    values: list[str], allowed: Iterable[str], parameter: str, *, strict: bool
) -> tuple[str, ...]:
    """The allowed values; a strict caller gets `InvalidFilter` for the first that is not."""
    allowed = tuple(allowed)
    if strict:
        for value in values:
            if value not in allowed:
                raise InvalidFilter(parameter, value, allowed)
    return tuple(value for value in values if value in allowed)


def parse_filters(
    params: Mapping, *, is_admin: bool, can_follow: bool = False, strict: bool = False
) -> SeriesFilters:
    """Read feed filters from query parameters (camelCase or snake_case).

    `can_follow` (a signed-in visitor on a page) admits "following" and the
    "followed" sort; otherwise they are dropped like an unknown value.

    Lenient by default: pages drop an unknown value, so a stale link never
    fails a person. `strict=True` (the API) raises `InvalidFilter` instead,
    naming the parameter and its allowed values, so a client's typo is an
    answer and not a silently different list.
    """
    kinds = _known(_as_list(params, "kind"), SeriesKind.values, "kind", strict=strict)
    statuses = _known(_as_list(params, "status"), SeriesStatus.values, "status", strict=strict)
    raw_has_releases = params.get("hasReleases", params.get("has_releases"))
    has_releases = _as_bool(raw_has_releases)
    if strict and raw_has_releases not in (None, "") and has_releases is None:
        raise InvalidFilter("hasReleases", str(raw_has_releases), ("true", "false"))
    raw_sort = str(params.get("sort") or "last_release")
    sort = SORT_ALIASES.get(raw_sort, raw_sort)
    if sort not in SORTS and not (can_follow and sort == FOLLOWED_SORT):
        if strict:
            raise InvalidFilter("sort", raw_sort, (*SORTS, *SORT_ALIASES))
        sort = "last_release"
    order = str(params.get("order") or DEFAULT_ORDER.get(sort, "desc")).lower()
    if order not in {"asc", "desc"}:
        if strict:
            raise InvalidFilter("order", str(params.get("order")), ("asc", "desc"))
        order = DEFAULT_ORDER.get(sort, "desc")
    codex_statuses: tuple[str, ...] = ()
    if is_admin:
        # Admin-only: for anyone else the parameter is silently ignored.
        wanted = [value.lower() for value in _as_list(params, "codexStatus")]
        _known(wanted, overlay.FILTER_VALUES, "codexStatus", strict=strict)
        codex_statuses = tuple(overlay.parse_codex_statuses(wanted))
    query = str(params.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    scope = str(params.get("scope") or "discovered")
    if strict and scope not in SCOPES:
        raise InvalidFilter("scope", scope, SCOPES)
    return SeriesFilters(
        q=query,
        kinds=kinds,
        statuses=statuses,
        has_releases=has_releases,
        sort=sort,
        order=order,
        codex_statuses=codex_statuses,
        scope=scope if scope in SCOPES else "discovered",
        following=can_follow and bool(_as_bool(params.get("following"))),
    )


def series_queryset(
    filters: SeriesFilters,
    *,
    is_admin: bool,
    include_overlay: bool = True,
    follower_id: int | None = None,
    codex_walks_sort_index: bool = False,
) -> QuerySet[Series]:
    """Series matching `filters`, sorted; the Codex overlay annotated for admins only.

    `follower_id` is the signed-in visitor: "following" and the "followed"
    sort read their follows alone (none for an anonymous visitor).

    `include_overlay=False` leaves the overlay to the caller (a Codex filter
    reads the link table in a subquery): paginated pages add it to their 50 rows only (see
    `feed.pagination.paginate(decorate=...)`), which is far cheaper than
    joining every row that is counted and sorted.

    `codex_walks_sort_index` writes a Codex filter as a test on each series,
    so a limited page walks the sort's index (`overlay.filter_by_codex_status`;
    `feed.series_page` chooses it when matches are common).
    """
    queryset = Series.objects.all()
    if filters.scope == "discovered":
        queryset = queryset.filter(DISCOVERED)
    if filters.q:
        queryset = filter_by_query(queryset, filters.q)
    if filters.kinds:
        queryset = queryset.filter(kind__in=filters.kinds)
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    if filters.has_releases is True:
        queryset = queryset.filter(release_count__gt=0)
    elif filters.has_releases is False:
        queryset = queryset.filter(release_count=0)
    if is_admin and filters.codex_statuses:
        queryset = overlay.filter_by_codex_status(
            queryset, filters.codex_statuses, walk_sort_index=codex_walks_sort_index
        )
    if is_admin and include_overlay:
        queryset = overlay.with_codex(queryset)
    if filters.following:
        queryset = only_followed(queryset, follower_id)
    if filters.sort == FOLLOWED_SORT:
        queryset = with_followed_at(queryset, follower_id)
        column = F("followed_at")
    else:
        column = F(SORTS[filters.sort])
    if filters.order == "desc":
        ordering = [column.desc(nulls_last=True), F("id").desc()]
    else:
        ordering = [column.asc(nulls_last=True), F("id").asc()]
    return queryset.order_by(*ordering)


def count_series(filters: SeriesFilters) -> int | None:
    """How many series `series_queryset(filters)` lists, when there is a cheaper way than COUNT(*).

    A title search with no other filter is counted in the search index
    (`feed.search.count_in_index`): a word most titles contain otherwise
    costs a read of every series' titles. None when that does not apply;
    the caller counts its queryset.
    """
    if not filters.q or filters.narrowed_except_by("q"):
        return None
    leaving_out = UNDISCOVERED if filters.scope == "discovered" else None
    return count_in_index(Series.objects.all(), filters.q, leaving_out=leaving_out)


# Columns a list row (a feed card, a table row, an API list item) never shows.
# Reading them for a page costs JSON parsing and, on the longest-running
# series (kilobytes of chapter coverage each), enough short-lived objects to
# set off full garbage-collection passes: the p95 spikes of the
# `highest_chapter`/`highest_volume` sorts, which put exactly those series first.
LIST_ROW_UNUSED = (
    "alternate_titles",
    "native_title",
    "romanized_title",
    "search_text",
    "description",
    "genres",
    "tags",
    "metadata_hash",
)
# The coverage is read by the admin's Codex overlay only (the gap in the badge).
COVERAGE = ("volume_coverage", "chapter_coverage")


def for_list_rows(queryset: QuerySet[Series], *, is_admin: bool) -> QuerySet[Series]:
    """`queryset` without the columns a page of list rows never reads."""
    return queryset.defer(*LIST_ROW_UNUSED, *(() if is_admin else COVERAGE))


def releases_by_usefulness(releases: QuerySet[Release]) -> QuerySet[Release]:
    """Order releases the way a reader picks one: alive and trustworthy first, then newest.

    Remakes go last (Nyaa's flag for a re-upload of something already
    there), trusted uploaders first, then the most seeders (unknown counts
    last), then the newest post. One rule for the series page and the API.
    """
    return releases.order_by(
        "remake",
        "-trusted",
        F("seeders").desc(nulls_last=True),
        F("posted_at").desc(nulls_last=True),
        "-id",
    )
