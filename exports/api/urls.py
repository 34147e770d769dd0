"""Routes of the exports API, mounted at /api/v1/ by tsundoku/urls.py."""

from __future__ import annotations

from django.urls import path

from exports.api import views

urlpatterns = [
    path("exports", views.ExportListView.as_view(), name="api-exports"),
    path("exports/fields", views.ExportFieldsView.as_view(), name="api-export-fields"),
    path("exports/<int:export_id>", views.ExportDetailView.as_view(), name="api-export-detail"),
    path(
        "exports/<int:export_id>/cancel",
        views.ExportCancelView.as_view(),
        name="api-export-cancel",
    ),
    path(
        "exports/<int:export_id>/download",
        views.ExportDownloadView.as_view(),
        name="api-export-download",
    ),
]
