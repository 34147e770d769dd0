"""Routes of the Codex admin API, mounted at /api/v1/ by tsundoku/urls.py."""

from __future__ import annotations

from django.urls import path

from codex_sync.api import views

urlpatterns = [
    path("codex/status", views.CodexStatusView.as_view(), name="api-codex-status"),
    path("codex/refresh", views.CodexRefreshView.as_view(), name="api-codex-refresh"),
    path("codex/test", views.CodexTestView.as_view(), name="api-codex-test"),
    path(
        "series/<int:series_id>/codex-link",
        views.SeriesCodexLinkView.as_view(),
        name="api-series-codex-link",
    ),
    path(
        "series/<int:series_id>/ignore-completion",
        views.SeriesIgnoreCompletionView.as_view(),
        name="api-series-ignore-completion",
    ),
]
