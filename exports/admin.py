"""Export jobs in the Django admin: every owner's, for the operator to inspect or delete."""

from __future__ import annotations

from django.contrib import admin

from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "by_admin_token",
        "export_type",
        "export_format",
        "status",
        "row_count",
        "file_size",
        "created_at",
        "expires_at",
    )
    list_filter = ("status", "export_type", "export_format", "by_admin_token")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in ExportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        # Jobs are made by the page, the API or the command, which queue the work.
        return False
