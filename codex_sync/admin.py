"""Django admin for the Codex integration: links, sweeps, checks, conflicts, unmatched.

Everything is read-only except deleting a link (the same as unlinking): the
sweep and `codex_sync.linking` are the only writers, so their rules hold.
The Codex API key is in no model, and no screen here shows settings; free
texts that came from elsewhere (errors) are redacted on the way out anyway.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from codex_sync import linking, models, overlay
from codex_sync.status import CodexStatus, codex_status
from feed.models import Series
from tsundoku.admin import ReadOnlyAdmin, redacted


class CodexStatusFilter(admin.SimpleListFilter):
    """Filter links by the status rule, evaluated in SQL (`overlay.filter_by_codex_status`)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(status, overlay.FILTER_LABELS[status]) for status in CodexStatus.ALL]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() not in CodexStatus.ALL:
            return queryset
        series = overlay.filter_by_codex_status(Series.objects.all(), [self.value()])
        return queryset.filter(series__in=series.values("pk"))


def _search_by_codex_uuid(queryset: QuerySet, search_term: str) -> QuerySet | None:
    """Rows with the Codex UUID in `search_term` (a UUID or a Codex URL); None if it has none."""
    try:
        codex_uuid = linking.parse_codex_series_reference(search_term)
    except ValueError:
        return None
    return queryset.filter(codex_series_uuid=codex_uuid)


@admin.register(models.CodexLink)
class CodexLinkAdmin(admin.ModelAdmin):
    list_display = (
        "series_title",
        "codex_series_uuid",
        "open_in_codex",
        "link_kind",
        "status",
        "local_max_volume",
        "local_max_chapter",
        "volumes_owned",
        "last_synced",
    )
    list_filter = ("link_kind", CodexStatusFilter)
    list_select_related = ("series",)
    search_fields = ("series__canonical_title",)
    search_help_text = "Series title, or a Codex series UUID or URL."
    ordering = ("series__sort_title", "series_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Hand-links go through the series page or the API (codex_sync.linking).
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        by_uuid = _search_by_codex_uuid(queryset, search_term)
        if by_uuid is not None:
            return by_uuid, False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Series", ordering="series__sort_title")
    def series_title(self, link: models.CodexLink) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("feed:detail", args=[link.series_id]),
            link.series.canonical_title,
        )

    @admin.display(description="Codex")
    def open_in_codex(self, link: models.CodexLink) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">open in Codex</a>',
            overlay.series_url(link.codex_series_uuid),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The last sweep's time rides along in the same query (see `last_synced`).
        return (
            super()
            .get_queryset(request)
            .annotate(last_sweep_at=overlay.last_synced_at_expression())
        )

    @admin.display(description="Synced at")
    def last_synced(self, link: models.CodexLink):
        return overlay.synced_at_of(link, link.last_sweep_at)

    @admin.display(description="Status")
    def status(self, link: models.CodexLink) -> str:
        return codex_status(
            highest_volume=link.series.highest_volume,
            highest_chapter=link.series.highest_chapter,
            local_max_volume=link.local_max_volume,
            local_max_chapter=link.local_max_chapter,
            ignore_completion=link.series.ignore_completion,
        )


# What a sweep counted, in the order the connection page shows it.
SWEEP_COUNTS = (
    "pages",
    "fetched",
    "linked",
    "new_links",
    "removed_links",
    "conflicts",
    "unmatched",
)


@admin.register(models.SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "trigger", "outcome", *SWEEP_COUNTS, "duration_ms", "error_text")
    list_filter = ("trigger", "outcome")
    ordering = ("-started_at", "-id")
    fields = (
        "trigger",
        "outcome",
        "started_at",
        "finished_at",
        "duration_ms",
        *SWEEP_COUNTS,
        "error_text",
    )
    readonly_fields = ("error_text",)
    error_text = redacted("error")


@admin.register(models.HealthCheck)
class HealthCheckAdmin(ReadOnlyAdmin):
    list_display = (
        "checked_at",
        "reachable",
        "codex_name",
        "codex_version",
        "auth_state",
        "error_text",
    )
    list_filter = ("reachable", "auth_state")
    ordering = ("-checked_at", "-id")
    fields = ("checked_at", "reachable", "codex_name", "codex_version", "auth_state", "error_text")
    readonly_fields = ("error_text",)
    error_text = redacted("error")


@admin.register(models.ConnectionStatus)
class ConnectionStatusAdmin(ReadOnlyAdmin):
    # The sweep lock (lock_token, lock_expires_at) is machinery, not status.
    list_display = ("__str__", "reachable", "auth_state", "last_success_at", "linked_count")
    fields = (
        "reachable",
        "codex_name",
        "codex_version",
        "auth_state",
        "last_preflight_at",
        "last_success_at",
        "last_error_text",
        "last_error_at",
        "linked_count",
        "fetched_count",
        "progress_pages",
        "progress_total_pages",
    )
    readonly_fields = ("last_error_text",)
    last_error_text = redacted("last_error", "Last error")


@admin.register(models.SyncConflict)
class SyncConflictAdmin(ReadOnlyAdmin):
    list_display = (
        "kind",
        "series_ids",
        "codex_series_uuids",
        "chosen_series_id",
        "chosen_codex_series_uuid",
        "detail",
        "recorded_at",
    )
    list_filter = ("kind",)
    ordering = ("id",)


@admin.register(models.UnmatchedCodexSeries)
class UnmatchedCodexSeriesAdmin(ReadOnlyAdmin):
    list_display = (
        "codex_series_uuid",
        "external_id_list",
        "local_max_volume",
        "local_max_chapter",
        "volumes_owned",
        "recorded_at",
    )
    search_fields = ("codex_series_uuid",)
    search_help_text = "A Codex series UUID or URL."
    # Insertion order is Codex's own order (title, then id).
    ordering = ("id",)

    def get_search_results(self, request, queryset, search_term):
        by_uuid = _search_by_codex_uuid(queryset, search_term)
        if by_uuid is not None:
            return by_uuid, False
        return queryset.none() if search_term.strip() else queryset, False

    @admin.display(description="External ids")
    def external_id_list(self, row: models.UnmatchedCodexSeries) -> str:
        return ", ".join(
            f"{ref.get('source', '')}:{ref.get('externalId', '')}"
            for ref in row.external_ids
            if isinstance(ref, dict)
        )
