"""Refresh history and remembered misses in the Django admin, read-only (the app writes them)."""

from __future__ import annotations

from django.contrib import admin

from metadata.models import DumpRefresh, NegativeLookup


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DumpRefresh)
class DumpRefreshAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "provider", "outcome", "records", "version", "error")
    list_filter = ("provider", "outcome")


@admin.register(NegativeLookup)
class NegativeLookupAdmin(ReadOnlyAdmin):
    list_display = ("provider", "key", "expires_at")
    search_fields = ("key",)
