"""Django admin for the catalog: series (with external ids), releases, source state.

Releases are read-only here: linking one to a series must recompute coverage,
which the review queue does (`feed.resolution`); a raw admin edit would not.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from codex_sync import overlay
from feed.models import ExternalId, Release, Series, SourceState
from tsundoku.admin import ReadOnlyAdmin


class ExternalIdInline(admin.TabularInline):
    model = ExternalId
    extra = 0
    fields = ("provider", "external_id")


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = (
        "canonical_title",
        "kind",
        "status",
        "year",
        "release_count",
        "highest_volume",
        "highest_chapter",
        "last_release_at",
        "ignore_completion",
    )
    list_filter = ("kind", "status", "origin", "metadata_locked", "ignore_completion")
    search_fields = ("canonical_title", "search_text")
    search_help_text = "Canonical or alternate title."
    ordering = ("sort_title", "id")
    inlines = (ExternalIdInline,)
    # Derived from the linked releases (feed.coverage); edits would be overwritten.
    readonly_fields = (
        "first_seen_at",
        "last_release_at",
        "updated_at",
        "release_count",
        "highest_volume",
        "highest_chapter",
        "volume_coverage",
        "chapter_coverage",
        "origin",
        "metadata_provider",
        "metadata_hash",
        "metadata_fetched_at",
    )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Deleting would leave its releases "resolved" to nothing; reject them instead.
        return False

    def save_model(self, request: HttpRequest, obj: Series, form, change: bool) -> None:
        # An edit by hand wins over the metadata provider from now on (untick to undo).
        if change and set(form.changed_data) - {"metadata_locked", "ignore_completion"}:
            obj.metadata_locked = True
        super().save_model(request, obj, form, change)
        if change and overlay.SERIES_INPUTS.intersection(form.changed_data):
            overlay.series_numbers_changed([obj.pk])


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "series",
        "resolution",
        "match_method",
        "confidence",
        "source_name",
        "posted_at",
        "observed_at",
    )
    list_filter = ("resolution", "source_name", "match_method")
    search_fields = ("title",)
    list_select_related = ("series",)
    ordering = ("-observed_at", "-id")


@admin.register(SourceState)
class SourceStateAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "last_polled_at", "last_success_at", "last_error")
    ordering = ("name",)
