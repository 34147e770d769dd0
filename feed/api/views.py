"""The discovery JSON API under /api/v1 (SPEC §4.5).

Views stay thin: filters and sorting come from `feed.queries`, paging from
`feed.pagination`, link changes from `feed.resolution`. Each view names its
permission: `ReadTier` for reads (open unless `auth.read_requires_auth`),
`IsAdmin` for the release list and review actions. Whether a reader is the
admin is asked once, through `tsundoku.access.is_admin`, and decides which
serializer runs, so admin-only keys are never built for anyone else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db.models import Count, Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from codex_sync import overlay
from feed import resolution
from feed.api.cursor import encode_cursor
from feed.api.serializers import (
    AdminSeriesDetailSerializer,
    AdminSeriesItemSerializer,
    ExternalIdRef,
    FeedItemSerializer,
    FeedPageSerializer,
    FeedRequestSerializer,
    LookupMatchSerializer,
    LookupQuerySerializer,
    LookupResponseSerializer,
    ReleaseLinkSerializer,
    ReleaseListQuerySerializer,
    ReleasePageSerializer,
    ReleaseSerializer,
    RetrySummarySerializer,
    SeriesDetailSerializer,
    SeriesItemSerializer,
    SeriesListQuerySerializer,
    SeriesPageSerializer,
    SourceStateSerializer,
    StatsSerializer,
)
from feed.external_ids import normalize_provider
from feed.models import (
    ExternalId,
    Release,
    Resolution,
    Series,
    SeriesKind,
    SeriesStatus,
    SourceState,
)
from feed.pagination import paginate
from feed.queries import (
    MAX_QUERY_LENGTH,
    SCOPES,
    SORT_ALIASES,
    SORTS,
    InvalidFilter,
    parse_filters,
    releases_by_usefulness,
)
from feed.series_page import series_page
from tsundoku.access import IsAdmin, ReadTier, is_admin
from tsundoku.api.errors import BadRequest
from tsundoku.api.responses import (
    ADMIN_ERRORS,
    BAD_REQUEST,
    NOT_FOUND,
    READ_AUTH,
    UNAUTHORIZED,
)
from tsundoku.api.serializers import epoch_seconds
from tsundoku.api.validation import validated

SERIES_FILTER_PARAMETERS = [
    OpenApiParameter(
        "q",
        str,
        description=f"Every word must appear in a title; cut to {MAX_QUERY_LENGTH} characters.",
    ),
    # Lists are comma-separated (`kind=manga,manhwa`); an unknown value is a
    # 400 naming the allowed ones, never a silently different list.
    OpenApiParameter("kind", str, many=True, explode=False, enum=list(SeriesKind.values)),
    OpenApiParameter(
        "status",
        str,
        many=True,
        explode=False,
        enum=list(SeriesStatus.values),
        description="Publication statuses.",
    ),
    OpenApiParameter("hasReleases", bool),
    OpenApiParameter(
        "scope",
        str,
        enum=list(SCOPES),
        description="discovered (default): series that surfaced in a release, were imported "
        "or were added by the admin; all: the whole catalog, including series a metadata "
        "provider described that no release links to any more.",
    ),
    OpenApiParameter(
        "sort",
        str,
        enum=[*SORTS, *SORT_ALIASES],
        description="The camelCase names are aliases of the snake_case ones.",
    ),
    OpenApiParameter("order", str, enum=["asc", "desc"]),
    OpenApiParameter(
        "codexStatus",
        str,
        many=True,
        explode=False,
        enum=list(overlay.FILTER_VALUES),
        description="Admin only (ignored otherwise).",
    ),
]


def _with_external_ids(queryset: QuerySet[Series]) -> QuerySet[Series]:
    return queryset.prefetch_related(
        Prefetch("external_ids", queryset=ExternalId.objects.order_by("provider"))
    )


class SeriesListView(APIView):
    permission_classes = [ReadTier]

    @extend_schema(
        operation_id="series_list",
        auth=READ_AUTH,
        summary="Browse the catalog",
        parameters=[SeriesListQuerySerializer, *SERIES_FILTER_PARAMETERS],
        responses={200: SeriesPageSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        paging = validated(SeriesListQuerySerializer, request.query_params)
        admin = is_admin(request)
        try:
            filters = parse_filters(request.query_params, is_admin=admin, strict=True)
        except InvalidFilter as exc:
            raise BadRequest(str(exc)) from exc
        page = series_page(
            filters, is_admin=admin, page=paging["page"], page_size=paging["pageSize"]
        )
        item_serializer = AdminSeriesItemSerializer if admin else SeriesItemSerializer
        body = {
            "items": item_serializer(page.items, many=True).data,
            "page": page.page,
            "pageSize": page.page_size,
            "total": page.total,
        }
        if admin:
            body["codexSyncedAt"] = epoch_seconds(overlay.last_synced_at())
        return Response(body)


class SeriesDetailView(APIView):
    permission_classes = [ReadTier]

    @extend_schema(
        operation_id="series_retrieve",
        auth=READ_AUTH,
        summary="One series",
        responses={200: AdminSeriesDetailSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
        description="`owned` and `codex` appear for admins only.",
    )
    def get(self, request: Request, series_id: int) -> Response:
        admin = is_admin(request)
        queryset = _with_external_ids(Series.objects.filter(pk=series_id))
        if admin:
            queryset = overlay.with_codex(queryset)
        series = queryset.first()
        if series is None:
            raise exceptions.NotFound(f"No series with id {series_id}.")
        serializer = AdminSeriesDetailSerializer if admin else SeriesDetailSerializer
        return Response(serializer(series).data)


def _has_coverage() -> Q:
    # `highest_*` is non-null exactly when that axis' merged coverage is
    # non-empty (feed.coverage), so this is "has coverage" on plain columns.
    return (
        Q(release_count__gt=0) | Q(highest_volume__isnull=False) | Q(highest_chapter__isnull=False)
    )


def _carrying_external_ids(
    queryset: QuerySet[Series], refs: Iterable[ExternalIdRef]
) -> QuerySet[Series]:
    """Series carrying at least one of `refs`; entries naming unknown providers match nothing."""
    by_provider: dict[str, set[str]] = defaultdict(set)
    for ref in refs:
        if ref.provider is not None:
            by_provider[ref.provider].add(ref.external_id)
    if not by_provider:
        return queryset.none()
    condition = Q()
    for provider, external_ids in by_provider.items():
        condition |= Q(provider=provider, external_id__in=sorted(external_ids))
    return queryset.filter(id__in=ExternalId.objects.filter(condition).values("series_id"))


def _feed_query(params: Mapping) -> dict:
    """The GET form of the feed request, shaped like the POST body."""
    data: dict = {}
    external_ids = [
        part.strip()
        for value in params.getlist("externalIds")
        for part in value.split(",")
        if part.strip()
    ]
    if external_ids:
        data["externalIds"] = external_ids
    for key in ("cursor", "limit"):
        if key in params:
            data[key] = params[key]
    return data


class SeriesFeedView(APIView):
    """The incremental feed Codex's release plugin walks (`@ashdev/codex-plugin-release-tsundoku`).

    Series with coverage, in `(updated_at, id)` order, strictly after the
    cursor. `updated_at` moves only when coverage changes, so a series shows up
    again after the position a client reached exactly when it has news.
    """

    permission_classes = [ReadTier]

    @extend_schema(
        operation_id="series_feed_list",
        auth=READ_AUTH,
        summary="Incremental coverage feed (query parameters)",
        parameters=[FeedRequestSerializer],
        responses={200: FeedPageSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        return self._page(validated(FeedRequestSerializer, _feed_query(request.query_params)))

    @extend_schema(
        operation_id="series_feed",
        auth=READ_AUTH,
        summary="Incremental coverage feed",
        request=FeedRequestSerializer,
        responses={200: FeedPageSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def post(self, request: Request) -> Response:
        return self._page(validated(FeedRequestSerializer, request.data))

    def _page(self, query: dict) -> Response:
        queryset = Series.objects.filter(_has_coverage())
        if query["externalIds"]:
            queryset = _carrying_external_ids(queryset, query["externalIds"])
        if query["cursor"] is not None:
            queryset = queryset.filter(query["cursor"].after())
        limit = query["limit"]
        # One row past the page tells whether there is more, without a COUNT.
        rows = list(_with_external_ids(queryset.order_by("updated_at", "id"))[: limit + 1])
        items, has_more = rows[:limit], len(rows) > limit
        last = items[-1] if has_more else None
        return Response(
            {
                "items": FeedItemSerializer(items, many=True).data,
                "hasMore": has_more,
                "nextCursor": encode_cursor(last.updated_at, last.id) if last else None,
            }
        )


class SeriesLookupView(APIView):
    permission_classes = [ReadTier]

    @extend_schema(
        operation_id="series_lookup",
        auth=READ_AUTH,
        summary="Find series by an external id",
        parameters=[LookupQuerySerializer],
        responses={200: LookupResponseSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        query = validated(LookupQuerySerializer, request.query_params)
        provider = normalize_provider(query["provider"])
        matches = (
            ExternalId.objects.filter(provider=provider, external_id=query["externalId"])
            .select_related("series")
            .order_by("series_id")
            if provider
            else ExternalId.objects.none()
        )
        return Response({"matches": LookupMatchSerializer(matches, many=True).data})


class ReleaseListView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="releases_list",
        summary="Releases, newest observed first (admin)",
        parameters=[
            ReleaseListQuerySerializer,
            # The serializer reads a comma-separated text; say which values it takes.
            OpenApiParameter(
                "status",
                str,
                many=True,
                explode=False,
                enum=list(Resolution.values),
                description="Resolutions; an unknown one is a 400.",
            ),
        ],
        responses={200: ReleasePageSerializer, 400: BAD_REQUEST, **ADMIN_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = validated(ReleaseListQuerySerializer, request.query_params)
        releases = Release.objects.order_by("-observed_at", "-id")
        if query["sort"] == "useful":
            releases = releases_by_usefulness(releases)
        if query.get("status"):
            releases = releases.filter(resolution__in=query["status"])
        if "seriesId" in query:
            releases = releases.filter(series_id=query["seriesId"])
        page = paginate(releases, query["page"], query["pageSize"])
        return Response(
            {
                "items": ReleaseSerializer(page.items, many=True).data,
                "page": page.page,
                "pageSize": page.page_size,
                "total": page.total,
            }
        )


def _release_or_404(release_id: int) -> Release:
    release = Release.objects.filter(pk=release_id).first()
    if release is None:
        raise exceptions.NotFound(f"No release with id {release_id}.")
    return release


class ReleaseLinkView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="release_link",
        summary="Link a release to a series (admin)",
        request=ReleaseLinkSerializer,
        responses={200: ReleaseSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, **ADMIN_ERRORS},
    )
    def post(self, request: Request, release_id: int) -> Response:
        release = _release_or_404(release_id)
        body = validated(ReleaseLinkSerializer, request.data)
        return Response(ReleaseSerializer(resolution.link_release(release, body["seriesId"])).data)


class ReleaseRejectView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="release_reject",
        summary="Reject a release (admin)",
        request=None,
        responses={200: ReleaseSerializer, 404: NOT_FOUND, **ADMIN_ERRORS},
    )
    def post(self, request: Request, release_id: int) -> Response:
        release = _release_or_404(release_id)
        return Response(ReleaseSerializer(resolution.reject_release(release)).data)


class ReleaseUnlinkView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="release_unlink",
        summary="Detach a release from its series (admin)",
        request=None,
        responses={200: ReleaseSerializer, 404: NOT_FOUND, **ADMIN_ERRORS},
    )
    def post(self, request: Request, release_id: int) -> Response:
        release = _release_or_404(release_id)
        return Response(ReleaseSerializer(resolution.unlink_release(release)).data)


class ReleaseRetryView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="releases_retry",
        summary="Re-run resolution for every pending release (admin)",
        request=None,
        responses={200: RetrySummarySerializer, **ADMIN_ERRORS},
    )
    def post(self, request: Request) -> Response:
        return Response(RetrySummarySerializer(resolution.retry_releases()).data)


class StatsView(APIView):
    permission_classes = [ReadTier]

    @extend_schema(
        operation_id="stats",
        auth=READ_AUTH,
        summary="Catalog counts and source health",
        description="`codex` appears for admins only.",
        responses={200: StatsSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        series = Series.objects.aggregate(
            total=Count("id"),
            with_releases=Count("id", filter=Q(release_count__gt=0)),
        )
        by_resolution = dict(
            Release.objects.values_list("resolution").annotate(count=Count("id")).order_by()
        )
        body = {
            "series": {"total": series["total"], "withReleases": series["with_releases"]},
            "releases": {
                "total": sum(by_resolution.values()),
                "unresolved": by_resolution.get(Resolution.UNRESOLVED, 0),
                "reviewPending": by_resolution.get(Resolution.REVIEW_PENDING, 0),
                "resolved": by_resolution.get(Resolution.RESOLVED, 0),
                "rejected": by_resolution.get(Resolution.REJECTED, 0),
            },
            "externalIds": ExternalId.objects.count(),
            "sources": SourceStateSerializer(SourceState.objects.order_by("name"), many=True).data,
        }
        if is_admin(request):
            body["codex"] = {
                "linked": Series.objects.filter(codex_link__isnull=False).count(),
                "lastSyncAt": epoch_seconds(overlay.last_synced_at()),
            }
        return Response(body)
