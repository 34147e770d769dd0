"""The Exports page: your jobs, the "New export" dialog, and the form actions behind it.

The dialog is a plain form that works without JavaScript; `static/js/exports.js`
adds presets, hides the fields that do not apply to the chosen type, and
refreshes the job table (`table` renders just that fragment) while a job runs.
Logic lives in `exports.jobs`; these views translate its errors into messages.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from codex_sync import overlay
from exports import jobs
from exports.fields import ENTITIES_BY_TYPE, RELEASES, SERIES, UnknownFields, catalog
from exports.models import ExportFormat, ExportJob, ExportType
from exports.pipeline import FILTER_KEYS, InvalidExport
from feed.models import SeriesKind, SeriesStatus
from feed.pagination import int_or_none, paginate
from feed.queries import parse_filters

JOBS_PAGE_SIZE = 25
# The form names each entity's checkboxes apart, so a form submitted without
# JavaScript (every group visible) still sends only the type's own fields.
FIELD_INPUTS = {SERIES: "series_fields", RELEASES: "release_fields"}


def _owner(request: HttpRequest) -> jobs.Owner:
    owner = jobs.Owner.of(request)
    assert owner is not None, "login_required lets only logged-in users through"
    return owner


def _jobs_context(request: HttpRequest, owner: jobs.Owner) -> dict:
    page = paginate(
        owner.jobs().order_by("-created_at", "-id"),
        int_or_none(request.GET.get("page")),
        JOBS_PAGE_SIZE,
    )
    return {
        "page": page,
        "has_active": any(job.is_active for job in page.items),
        "link_params": {},
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Your exports; `?new=1` (plus feed filters) opens the dialog pre-filled."""
    owner = _owner(request)
    field_catalog = catalog(is_admin=owner.is_admin)
    for entity in field_catalog["entities"]:
        entity["input_name"] = FIELD_INPUTS[entity["entity"]]
    context = {
        **_jobs_context(request, owner),
        "catalog": field_catalog,
        "presets": {preset["name"]: preset["fields"] for preset in field_catalog["presets"]},
        "filters": parse_filters(request.GET, is_admin=owner.is_admin),
        "open_dialog": "new" in request.GET,
        "type_choices": ExportType.choices,
        "format_choices": ExportFormat.choices,
        "retention_days": settings.TSUNDOKU.exports["retention_days"],
        "kind_choices": SeriesKind.choices,
        "status_choices": SeriesStatus.choices,
    }
    if owner.is_admin:
        context["codex_choices"] = list(overlay.FILTER_LABELS.items())
    return render(request, "exports/index.html", context)


@login_required
@require_GET
def table(request: HttpRequest) -> HttpResponse:
    """Just the job table, for the page's refresh while an export runs."""
    return render(request, "exports/_jobs_table.html", _jobs_context(request, _owner(request)))


def _posted_filters(request: HttpRequest) -> QueryDict:
    filters = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        values = [value for value in request.POST.getlist(key) if value.strip()]
        if values:
            filters.setlist(key, values)
    return filters


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    """The dialog's submit: queue the export and come back to the list."""
    export_type = request.POST.get("type", "")
    field_keys = [
        key
        for entity in ENTITIES_BY_TYPE.get(export_type, ())
        for key in request.POST.getlist(FIELD_INPUTS[entity])
    ]
    try:
        job = jobs.create_export(
            _owner(request),
            export_type=export_type,
            export_format=request.POST.get("format") or ExportFormat.JSON,
            field_keys=field_keys,
            filters=_posted_filters(request),
        )
    except (InvalidExport, UnknownFields, jobs.TooManyExports) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Export queued: {job.get_export_type_display().lower()} as "
            f"{job.get_export_format_display()}. It appears below when ready.",
        )
    return redirect("exports:index")


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    job = _owner(request).jobs().filter(pk=pk).first()
    if job is None:
        raise Http404("No such export.")
    return job


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        jobs.cancel_export(_own_job(request, pk))
    except jobs.NotCancellable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Export cancelled.")
    return redirect("exports:index")


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    jobs.delete_export(_own_job(request, pk))
    messages.success(request, "Export deleted.")
    return redirect("exports:index")
