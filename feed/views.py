"""Feed pages: the catalog, one series, the web lookup, and the admin review queue.

Views stay thin: filtering and sorting belong to `feed.queries`, paging to
`feed.pagination`, link changes to `feed.resolution`. Whether the visitor is
the admin is decided once per request (`request.is_admin`); admin-only markup
is left out of the templates for everyone else.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from codex_sync import overlay
from feed import resolution
from feed.catalog import NotLookupable, provider_label, search_provider, upsert_from_metadata
from feed.forms import LinkReleaseForm, ProviderSeriesForm
from feed.listing import MAX_BACKFILL_PAGES, series_search_titles
from feed.models import (
    ExternalId,
    Provider,
    Release,
    Resolution,
    Series,
    SeriesKind,
    SeriesOrigin,
    SeriesStatus,
)
from feed.pagination import clamp_page_size, int_or_none, paginate
from feed.polling import UnknownSource
from feed.queries import (
    FOLLOWED_SORT,
    MAX_QUERY_LENGTH,
    overlay_for,
    parse_filters,
    releases_by_usefulness,
)
from feed.search import filter_by_query
from feed.series_page import series_page
from feed.source_overview import source_rows
from feed.tasks import DEFAULT_BACKFILL_PAGES, RUN_ACTIONS, request_run, request_series_search
from follows.queries import follow
from metadata.providers import MetadataProvider, ProviderError, active_provider
from metadata.records import SeriesMetadata
from torrents.sending import with_sent
from tsundoku.access import admin_only
from tsundoku.templatetags.tsundoku_tags import querystring

LAYOUTS = ("cards", "list")

# External ids show in the order the catalog lists providers (SPEC §4.1).
PROVIDER_ORDER = {provider: position for position, provider in enumerate(Provider.values)}

SORT_LABELS = {
    "last_release": "Last release",
    "first_seen": "First seen",
    "highest_volume": "Highest volume",
    "highest_chapter": "Highest chapter",
    "title": "Title",
}

RELEASES_PAGE_SIZE = 50
REVIEW_PAGE_SIZE = 25
REVIEW_SEARCH_LIMIT = 12
ADD_RESULTS_LIMIT = 20

# Review queue tabs → the releases each one lists.
REVIEW_STATES = {
    "pending": Resolution.REVIEW_PENDING,
    "unresolved": Resolution.UNRESOLVED,
    "rejected": Resolution.REJECTED,
}


def _page_number(request: HttpRequest) -> int | None:
    return int_or_none(request.GET.get("page"))


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The catalog as cards or list rows, with search, filters, sort and pages."""
    follower_id = request.user.pk if request.user.is_authenticated else None
    filters = parse_filters(
        request.GET, is_admin=request.is_admin, can_follow=follower_id is not None
    )
    layout = request.GET.get("view") if request.GET.get("view") in LAYOUTS else "cards"
    requested_size = int_or_none(request.GET.get("pageSize"))
    page = series_page(
        filters,
        is_admin=request.is_admin,
        follower_id=follower_id,
        page=_page_number(request),
        page_size=requested_size,
    )
    # What every link on the page carries forward (pagination, layout toggle).
    link_params: dict[str, object] = {**filters.as_query_params()}
    if layout != "cards":
        link_params["view"] = layout
    if requested_size is not None:
        link_params["pageSize"] = clamp_page_size(requested_size)
    panel_in_use = bool(
        filters.kinds
        or filters.statuses
        or filters.has_releases is not None
        or filters.scope != "discovered"
        or filters.codex_statuses
        or filters.following
    )
    context = {
        "filters": filters,
        "page": page,
        "layout": layout,
        "link_params": link_params,
        "narrowed": bool(filters.q) or panel_in_use,
        # Small screens fold the filter panel away unless something in it is set.
        "keep_filters_open": panel_in_use or "sort" in link_params or "order" in link_params,
        "kind_choices": SeriesKind.choices,
        "status_choices": SeriesStatus.choices,
        "sort_choices": list(SORT_LABELS.items())
        + ([(FOLLOWED_SORT, "When followed")] if follower_id is not None else []),
    }
    if request.is_admin:
        context["codex_choices"] = list(overlay.FILTER_LABELS.items())
    return render(request, "feed/index.html", context)


@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One series: metadata, external ids, coverage and its releases (paged)."""
    queryset = Series.objects.prefetch_related("external_ids")
    decorate = overlay_for(
        request.is_admin, request.user.pk if request.user.is_authenticated else None
    )
    if decorate is not None:
        queryset = decorate(queryset)
    series = get_object_or_404(queryset, pk=pk)
    releases = releases_by_usefulness(series.releases.filter(resolution=Resolution.RESOLVED))
    if request.is_admin:
        releases = with_sent(releases)
    return render(
        request,
        "feed/detail.html",
        {
            "series": series,
            "external_ids": sorted(
                series.external_ids.all(), key=lambda ext: PROVIDER_ORDER.get(ext.provider, 99)
            ),
            "releases": paginate(releases, _page_number(request), RELEASES_PAGE_SIZE),
        },
    )


@require_safe
def lookup(request: HttpRequest) -> HttpResponse:
    """`/series/lookup?source=<provider>&id=<id>` → that series' page, or a 404 page.

    Codex's release plugin builds these links from the external ids it holds,
    so the provider token and id are compared the way the catalog stores them.
    """
    provider = request.GET.get("source", "").strip().lower()
    external_id = request.GET.get("id", "").strip()
    series_id = (
        ExternalId.objects.filter(provider=provider, external_id=external_id)
        .values_list("series_id", flat=True)
        .first()
        # PostgreSQL refuses a NUL in any text it is sent, and no stored id holds one.
        if provider and external_id and "\x00" not in provider + external_id
        else None
    )
    if series_id is None:
        context = {"provider": provider, "external_id": external_id}
        return render(request, "feed/lookup_missing.html", context, status=404)
    return redirect("feed:detail", pk=series_id)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """`/search?q=<title>` (the search link Codex's plugin builds) → the feed, searched."""
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    target = reverse("feed:index")
    return redirect(f"{target}?{request.GET.urlencode()}" if query else target)


@admin_only
@require_safe
def review(request: HttpRequest) -> HttpResponse:
    """Releases the matcher was unsure about, with candidates and a title search to link."""
    state = request.GET.get("state")
    if state not in REVIEW_STATES:
        state = "pending"
    counts = Release.objects.aggregate(
        **{
            name: Count("id", filter=Q(resolution=resolution_value))
            for name, resolution_value in REVIEW_STATES.items()
        }
    )
    releases = Release.objects.filter(resolution=REVIEW_STATES[state]).order_by(
        "-observed_at", "-id"
    )
    # The "link to another series" search is for one release at a time.
    searching = int_or_none(request.GET.get("release"))
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    matches: list[Series] = []
    provider = active_provider()
    provider_results, provider_error = [], ""
    if searching and query:
        found = filter_by_query(Series.objects.all(), query).order_by("sort_title")
        matches = list(found[:REVIEW_SEARCH_LIMIT])
        if provider is not None:
            provider_results, provider_error = _provider_answers(
                provider, query, REVIEW_SEARCH_LIMIT
            )
    page = paginate(releases, _page_number(request), REVIEW_PAGE_SIZE)
    link_params = {"state": state} if state != "pending" else {}
    # Where actions return: this tab and page, without the open search.
    back_url = reverse("feed:review") + querystring(link_params, page=page.page)
    return render(
        request,
        "feed/review.html",
        {
            "state": state,
            "states": [(name, counts[name]) for name in REVIEW_STATES],
            "page": page,
            "link_params": link_params,
            "back_url": back_url.rstrip("?"),
            "searching": searching,
            "query": query,
            "matches": matches,
            "provider": provider,
            "provider_label": provider_label(provider),
            "provider_results": provider_results,
            "provider_error": provider_error,
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    """Redirect to the page the form came from (`next`), if it is ours; else the queue."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("feed:review")
    return redirect(target)


@admin_only
@require_POST
def review_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a release to the chosen series (its coverage is recomputed)."""
    release = get_object_or_404(Release, pk=pk)
    if "external_id" in request.POST:
        series = _series_from_provider(request, SeriesOrigin.PROVIDER)
        if series is None:
            return _back(request)
    else:
        form = LinkReleaseForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That series no longer exists; pick another one.")
            return _back(request)
        series = form.cleaned_data["series"]
    resolution.link_release(release, series)
    messages.success(request, f"Linked “{release.title}” to {series.canonical_title}.")
    return _back(request)


@admin_only
@require_POST
def review_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a release as not belonging to any series."""
    release = get_object_or_404(Release, pk=pk)
    resolution.reject_release(release)
    messages.success(request, f"Rejected “{release.title}”.")
    return _back(request)


@admin_only
@require_POST
def review_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a release off its series (from the series page); it goes back to unresolved."""
    release = get_object_or_404(Release, pk=pk)
    resolution.unlink_release(release)
    messages.success(request, f"Unlinked “{release.title}”.")
    return _back(request)


@admin_only
@require_POST
def review_retry(request: HttpRequest) -> HttpResponse:
    """Run the matcher again over every release still waiting for a series."""
    summary = resolution.retry_releases()
    messages.success(
        request,
        f"Matched {summary.examined} waiting release{pluralize(summary.examined)} again: "
        f"{summary.resolved} linked, {summary.queued_for_review} need review, "
        f"{summary.unresolved} still unmatched.",
    )
    return _back(request)


@admin_only
@require_http_methods(["GET", "HEAD", "POST"])
def add_series(request: HttpRequest) -> HttpResponse:
    """Add a series from the metadata provider: search by title or paste a series URL."""
    if request.method == "POST":
        series = _series_from_provider(request, SeriesOrigin.ADDED)
        if series is None:
            return redirect("feed:add")
        wants_follow = request.user.is_authenticated and request.POST.get("follow")
        if wants_follow and follow(request.user.pk, series):
            messages.success(request, f"Following {series.canonical_title}.")
        return redirect("feed:detail", pk=series.pk)
    provider = active_provider()
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    results, error = [], ""
    if query and provider is not None:
        results, error = _provider_answers(provider, query, ADD_RESULTS_LIMIT)
    return render(
        request,
        "feed/add.html",
        {
            "provider": provider,
            "provider_label": provider_label(provider),
            "query": query,
            "results": results,
            "error": error,
        },
    )


def _provider_answers(provider: MetadataProvider, query: str, limit: int) -> tuple[list, str]:
    """The provider's results for what the admin typed, or why there are none."""
    try:
        return search_provider(provider, query, limit=limit), ""
    except (NotLookupable, ProviderError) as exc:
        return [], str(exc)


def _series_from_provider(request: HttpRequest, origin: str) -> Series | None:
    """The catalog series for the provider id in the POST, created if new; None on error."""
    provider = active_provider()
    form = ProviderSeriesForm(request.POST)
    if provider is None:
        messages.error(request, "No metadata provider is configured, so nothing can be added.")
        return None
    if not form.is_valid() or form.cleaned_data["provider"] != provider.name:
        messages.error(request, "That is not a series the metadata provider offered.")
        return None
    try:
        record: SeriesMetadata | None = provider.get(form.cleaned_data["external_id"])
    except ProviderError as exc:
        messages.error(request, f"Could not reach the metadata provider: {exc}")
        return None
    if record is None:
        messages.error(request, "The metadata provider no longer knows that series.")
        return None
    upsert = upsert_from_metadata(record, origin=origin)
    if upsert.created:
        messages.success(request, f"Added {upsert.series.canonical_title} to the catalog.")
    elif origin == SeriesOrigin.ADDED:
        messages.info(request, f"{upsert.series.canonical_title} was already in the catalog.")
    return upsert.series


@admin_only
@require_safe
def sources(request: HttpRequest) -> HttpResponse:
    """Every configured source: last poll, outcome, counts, next run, Poll now, backfill, runs."""
    return render(
        request,
        "feed/sources.html",
        {
            "rows": source_rows(),
            "backfill_pages": DEFAULT_BACKFILL_PAGES,
            "max_backfill_pages": MAX_BACKFILL_PAGES,
        },
    )


@admin_only
@require_safe
def sources_status(request: HttpRequest) -> JsonResponse:
    """The Sources page's rows as JSON, which the page polls while a run is in flight."""
    return JsonResponse({"sources": [row.as_json() for row in source_rows()]})


@admin_only
@require_POST
def source_run(request: HttpRequest, name: str) -> HttpResponse:
    """Queue "Poll now" or a backfill of one source, unless one is already queued or running."""
    action = request.POST.get("action", "")
    raw_pages = request.POST.get("pages", "").strip()
    pages = int_or_none(raw_pages) if raw_pages else DEFAULT_BACKFILL_PAGES
    if action not in RUN_ACTIONS:
        messages.error(request, f"Unknown action {action!r}; use poll or backfill.")
        return redirect("feed:sources")
    if pages is None or not 1 <= pages <= MAX_BACKFILL_PAGES:
        messages.error(request, f"Pages must be between 1 and {MAX_BACKFILL_PAGES}.")
        return redirect("feed:sources")
    try:
        queued = request_run(name, action, pages=pages)
    except UnknownSource as exc:
        messages.error(request, str(exc))
        return redirect("feed:sources")
    what = "Poll" if action == "poll" else f"Backfill of {pages} page{pluralize(pages)}"
    if queued:
        messages.success(request, f"{what} of {name} queued. This page follows its progress.")
    else:
        messages.info(request, f"{name} is already being polled or backfilled; skipped.")
    return redirect("feed:sources")


@admin_only
@require_POST
def series_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Search the sources for this series' titles now; hits are ingested and resolved."""
    series = get_object_or_404(Series, pk=pk)
    count = request_series_search(series.pk)
    if count:
        titles = ", ".join(f"“{title}”" for title in series_search_titles(series))
        messages.success(
            request,
            f"Searching {count} source{pluralize(count)} for {titles}. "
            "New releases appear here once they are matched.",
        )
    else:
        messages.error(request, "No enabled sources to search ([[sources]] in the config).")
    return redirect("feed:detail", pk=series.pk)
