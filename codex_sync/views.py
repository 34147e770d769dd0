"""The Codex admin pages: the connection card, its two buttons, and the series-page forms.

`connection_overview()` gathers what the card shows; the status API serves the
same object, so the page and `GET /api/v1/codex/status` can never disagree.
The forms on a series page go through `codex_sync.linking`, the service the
API uses too. Everything here is admin-only (`feed.views.admin_only`).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from codex_sync import linking, overlay
from codex_sync.connection import check_connection
from codex_sync.models import (
    AuthState,
    LinkKind,
    SyncConflict,
    SyncTrigger,
    UnmatchedCodexSeries,
)
from codex_sync.overview import (
    CONFLICTS_SHOWN,
    ENABLE_HINT,
    UNMATCHED_PAGE_SIZE,
    check_result,
    conflict_rows,
    connection_overview,
    format_duration,
    unmatched_rows,
)
from codex_sync.tasks import CodexDisabled, request_sweep
from feed.models import Series
from feed.pagination import int_or_none, paginate
from metadata.providers import active_provider
from tsundoku.access import admin_only


@admin_only
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The connection card: health, last sweeps, conflicts, unmatched Codex series."""
    overview = connection_overview()
    if not overview.enabled:
        return render(
            request, "codex_sync/connection.html", {"overview": overview, "hint": ENABLE_HINT}
        )
    unmatched = paginate(
        UnmatchedCodexSeries.objects.order_by("id"),
        int_or_none(request.GET.get("page")),
        UNMATCHED_PAGE_SIZE,
    )
    conflicts = list(SyncConflict.objects.order_by("id")[:CONFLICTS_SHOWN])
    return render(
        request,
        "codex_sync/connection.html",
        {
            "overview": overview,
            "sweep_rows": [
                (run, format_duration(run.duration_ms)) for run in overview.recent_sweeps
            ],
            "unmatched_params": {},
            "unmatched_page": unmatched,
            # The list follows Codex's own order (title, then id), kept by insertion.
            "unmatched_rows": unmatched_rows(unmatched.items, active_provider()),
            "conflict_rows": conflict_rows(conflicts),
            "conflicts_hidden": max(0, overview.conflicts - len(conflicts)),
        },
    )


@admin_only
@require_POST
def refresh_now(request: HttpRequest) -> HttpResponse:
    """Refresh now (no JavaScript): queue a sweep and come back to the card.

    `apply_anyway=1` (the held-back notice's button) skips the hold-back guard.
    """
    apply_anyway = request.POST.get("apply_anyway") == "1"
    try:
        result = request_sweep(SyncTrigger.MANUAL, apply_anyway=apply_anyway)
    except CodexDisabled:
        messages.error(request, "The Codex integration is disabled; nothing to refresh.")
        return redirect("codex:index")
    if result["triggered"] and apply_anyway:
        messages.success(
            request,
            "Sweep started; it applies Codex's index even if it removes most automatic links.",
        )
    elif result["triggered"]:
        messages.success(request, "Sweep started. Reload this page to follow its progress.")
    else:
        messages.info(request, "A sweep is already running; this refresh was skipped.")
    return redirect("codex:index")


@admin_only
@require_POST
def run_connection_test(request: HttpRequest) -> HttpResponse:
    """Test connection (no JavaScript): probe Codex now and come back with the verdict."""
    if not overlay.enabled():
        messages.error(request, "The Codex integration is disabled; nothing to test.")
        return redirect("codex:index")
    check = check_result(check_connection())
    if not check.reachable:
        messages.error(request, f"Codex is unreachable: {check.message}")
    elif check.auth_state == AuthState.OK:
        messages.success(
            request, f"Connected to {check.codex_name} {check.codex_version}; the API key works."
        )
    else:
        messages.warning(request, f"Codex is reachable, but: {check.message}")
    return redirect("codex:index")


# --- series-page forms -----------------------------------------------------------


@admin_only
@require_POST
def series_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a series to a Codex series by hand (URL or UUID)."""
    series = get_object_or_404(Series, pk=pk)
    try:
        codex_uuid = linking.parse_codex_series_reference(request.POST.get("codex_series_uuid", ""))
    except ValueError as exc:
        messages.error(request, f"Not linked: {exc}")
        return redirect("feed:detail", pk=series.pk)
    linking.link_series(series, codex_uuid)
    messages.success(
        request,
        f"Linked {series.canonical_title} to Codex series {codex_uuid}. "
        "A sweep will not change a link made by hand.",
    )
    return redirect("feed:detail", pk=series.pk)


@admin_only
@require_POST
def series_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a series' Codex link."""
    series = get_object_or_404(Series, pk=pk)
    removed = linking.unlink_series(series)
    if removed is None:
        messages.info(request, f"{series.canonical_title} was not linked to Codex.")
    elif removed == LinkKind.AUTO:
        messages.success(
            request,
            f"Unlinked {series.canonical_title} from Codex. It was linked automatically, so "
            "the next sweep links it again while Codex and tsundoku share an external id.",
        )
    else:
        messages.success(request, f"Unlinked {series.canonical_title} from Codex.")
    return redirect("feed:detail", pk=series.pk)


@admin_only
@require_POST
def series_ignore_completion(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn Codex completion tracking off (`ignore=true`) or back on (`ignore=false`)."""
    series = get_object_or_404(Series, pk=pk)
    choice = request.POST.get("ignore", "").strip().lower()
    if choice not in {"true", "false"}:
        messages.error(request, "Choose whether to track completion (ignore = true or false).")
        return redirect("feed:detail", pk=series.pk)
    linking.set_ignore_completion(series, choice == "true")
    if series.ignore_completion:
        messages.success(request, f"Completion tracking is off for {series.canonical_title}.")
    else:
        messages.success(request, f"Completion tracking is back on for {series.canonical_title}.")
    return redirect("feed:detail", pk=series.pk)
