"""The Metadata admin page (`/metadata/`): the MangaBaka dump, its refreshes, Refresh now.

Admin-only (`tsundoku.access.admin_only`), like the Codex page. The page and
`status.json` (which the page polls while a refresh runs) both read
`metadata.overview.dump_overview()`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from metadata.overview import dump_overview, recent_refreshes
from metadata.tasks import MetadataDisabled, request_refresh
from tsundoku.access import admin_only


@admin_only
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The dump card, the refresh history and the Refresh now button."""
    return render(
        request,
        "metadata/index.html",
        {"overview": dump_overview(), "refreshes": recent_refreshes()},
    )


@admin_only
@require_GET
def status(request: HttpRequest) -> JsonResponse:
    """The same overview as JSON, for the page to follow a refresh."""
    return JsonResponse(dump_overview().as_json())


@admin_only
@require_POST
def refresh_now(request: HttpRequest) -> HttpResponse:
    """Queue a dump refresh and come back to the page."""
    try:
        result = request_refresh()
    except MetadataDisabled as exc:
        messages.error(request, str(exc))
        return redirect("metadata:index")
    if result["triggered"]:
        messages.success(request, "Refresh queued. This page follows its progress.")
    else:
        messages.info(request, "A refresh is already queued or running; this one was skipped.")
    return redirect("metadata:index")
