"""Codex admin pages, mounted at /codex/ by tsundoku/urls.py (namespace "codex")."""

from __future__ import annotations

from django.urls import path

from codex_sync import views

app_name = "codex"
urlpatterns = [
    path("", views.index, name="index"),
    path("refresh", views.refresh_now, name="refresh"),
    path("test", views.run_connection_test, name="test"),
    path("series/<int:pk>/link", views.series_link, name="series-link"),
    path("series/<int:pk>/unlink", views.series_unlink, name="series-unlink"),
    path(
        "series/<int:pk>/ignore-completion",
        views.series_ignore_completion,
        name="series-ignore-completion",
    ),
]
